"""`newsroom sms ...`: see alerts and keyword replies exactly as phones will get them."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from newsroom.config import Settings, find_root, load_settings
from newsroom.content.loader import load_newsroom
from newsroom.errors import NewsroomError
from newsroom.lazy import LazyConsole, lazy_module

if TYPE_CHECKING:
    from newsroom.delivery import sms_keywords as keywords
    from newsroom.render import sms as alerts
else:  # they load Babel and the catalogs, which `newsroom build` would pay for before it can start
    keywords = lazy_module("newsroom.delivery.sms_keywords")
    alerts = lazy_module("newsroom.render.sms")

console = LazyConsole(highlight=False, soft_wrap=True)
RootOption = Annotated[Path | None, typer.Option("--root", help="The newsroom folder (holds newsroom.toml).")]


def _settings(root: Path | None) -> Settings:
    return load_settings(find_root(root or Path.cwd()))


def preview(
    slug: Annotated[
        str, typer.Argument(help="The release's slug (embargoed releases too: this sends nothing).")
    ],
    language: Annotated[list[str] | None, typer.Option("--language", help="Only these languages.")] = None,
    root: RootOption = None,
) -> None:
    """Print a release's SMS alert in every language, with its encoding and segment count."""
    settings = _settings(root)
    try:
        release = load_newsroom(settings).by_slug(slug)
    except KeyError as exc:
        raise NewsroomError(f"no valid release with slug {slug!r} (fix: see `newsroom status`)") from exc
    for code in language or settings.language_codes:
        if code not in settings.language_codes:
            raise NewsroomError(
                f"--language {code!r}: not in newsroom.toml ({', '.join(settings.language_codes)})"
            )
        alert = alerts.compose_alert(release, code, settings)
        cut = ", text cut to fit" if alert.shortened else ""
        budget = settings.sms.segment_budget
        console.print(
            f"── {code}: {alert.count.segments}/{budget} {alert.count.encoding} segment(s), "
            f"{alert.count.units} units{cut}",
            markup=False,
        )
        console.print(alert.text, markup=False)


def reply(
    text: Annotated[str, typer.Argument(help="A text as a resident would send it, e.g. 'СТОП'.")],
    language: Annotated[str | None, typer.Option("--language", help="The subscriber's language.")] = None,
    root: RootOption = None,
) -> None:
    """Show how an inbound text is understood and the reply it gets."""
    settings = _settings(root)
    inbound = keywords.parse_inbound(text, settings)
    console.print(f"intent: {inbound.intent.value}", markup=False)
    console.print(keywords.reply_for(inbound, language, settings), markup=False)


def register(app: typer.Typer, typer_class: type[typer.Typer]) -> None:
    """Add `sms preview` and `sms reply` to the main app (typer_class reports NewsroomError cleanly)."""
    group = typer_class(help="SMS alerts and keyword replies, as phones get them.", no_args_is_help=True)
    group.command("preview")(preview)
    group.command("reply")(reply)
    app.add_typer(group, name="sms")
