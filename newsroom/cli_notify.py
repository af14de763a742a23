"""`newsroom notify` and `newsroom digest daily|weekly`: queue alerts and digests (send with `deliver`)."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from newsroom.config import Settings, find_root, load_settings
from newsroom.content.times import resolve_now
from newsroom.errors import NewsroomError
from newsroom.lazy import LazyConsole, lazy_module

if TYPE_CHECKING:
    from newsroom.delivery import notify as planning
else:  # the database stack loads when the command runs
    planning = lazy_module("newsroom.delivery.notify")

console = LazyConsole(highlight=False, soft_wrap=True)
RootOption = Annotated[Path | None, typer.Option("--root", help="The newsroom folder (holds newsroom.toml).")]
NowOption = Annotated[
    str | None,
    typer.Option("--now", envvar="NEWSROOM_NOW", help="Run as if it were this time; default: the clock."),
]


def _settings(root: Path | None) -> Settings:
    return load_settings(find_root(root or Path.cwd()))


def notify(root: RootOption = None, now: NowOption = None) -> None:
    """Queue alerts for releases that became public since the last run (run `newsroom deliver` after)."""
    settings = _settings(root)
    report = planning.notify(settings, _now(now))
    console.print(f"notify: {report.summary()}", markup=False)


def digest(
    frequency: Annotated[str, typer.Argument(help="daily or weekly.")],
    period: Annotated[
        str | None,
        typer.Option(
            "--period",
            help="A day (YYYY-MM-DD) of the period; default: yesterday / last week, in the site's time zone.",
        ),
    ] = None,
    root: RootOption = None,
    now: NowOption = None,
) -> None:
    """Queue one digest per daily or weekly subscriber with what became public in the period."""
    if frequency not in ("daily", "weekly"):
        raise NewsroomError(
            f"digest {frequency!r}: write `newsroom digest daily` or `newsroom digest weekly`"
        )
    day = None
    if period is not None:
        try:
            day = date.fromisoformat(period)
        except ValueError as exc:
            raise NewsroomError(f"--period {period!r}: write a day like 2024-12-19") from exc
    settings = _settings(root)
    report = planning.digest(settings, "daily" if frequency == "daily" else "weekly", _now(now), day=day)
    console.print(f"digest: {report.summary()}", markup=False)


def _now(option: str | None) -> datetime:
    try:
        return resolve_now(option)
    except ValueError as exc:
        raise NewsroomError(f"--now / NEWSROOM_NOW: {exc}") from exc


def register(app: typer.Typer) -> None:
    app.command("notify")(notify)
    app.command("digest")(digest)
