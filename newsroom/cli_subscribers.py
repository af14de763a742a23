"""Staff CLI: `newsroom subscribers add|import|export|list|remove|stats|send-test` and `newsroom deliver`.

Registered on the main app by `register(app, NewsroomTyper)` from newsroom/cli.py. Thin: parse
options, call the subscribers/delivery API, print. Staff-facing output is English like the rest of
the CLI; what residents receive goes through the message catalogs.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from newsroom.config import Settings, find_root, load_settings
from newsroom.content.times import resolve_now
from newsroom.errors import NewsroomError
from newsroom.lazy import LazyConsole, lazy_module

if TYPE_CHECKING:
    from newsroom.delivery import queue
    from newsroom.delivery import worker as delivery
    from newsroom.subscribers import actions, csvio, db, store
else:  # the database stack loads when a subscriber command runs, not for every CLI call
    queue = lazy_module("newsroom.delivery.queue")
    delivery = lazy_module("newsroom.delivery.worker")
    actions = lazy_module("newsroom.subscribers.actions")
    csvio = lazy_module("newsroom.subscribers.csvio")
    db = lazy_module("newsroom.subscribers.db")
    store = lazy_module("newsroom.subscribers.store")

console = LazyConsole(highlight=False, soft_wrap=True)
errors = LazyConsole(stderr=True, highlight=False, soft_wrap=True)

RootOption = Annotated[
    Path | None,
    typer.Option("--root", help="The newsroom folder (holds newsroom.toml); default: here or a parent."),
]
NowOption = Annotated[
    str | None,
    typer.Option("--now", envvar="NEWSROOM_NOW", help="Run as if it were this time; default: the clock."),
]
RegionOption = Annotated[
    str, typer.Option("--region", help="Country for phone numbers written without +, e.g. US, MX.")
]
FormatOption = Annotated[str, typer.Option("--format", help="text or json.")]


def _settings(root: Path | None) -> Settings:
    return load_settings(find_root(root or Path.cwd()))


def _now(option: str | None) -> datetime:
    try:
        return resolve_now(option)
    except ValueError as exc:
        raise NewsroomError(f"--now / NEWSROOM_NOW: {exc}") from exc


def add(
    email: Annotated[str | None, typer.Option(help="Email address.")] = None,
    phone: Annotated[str | None, typer.Option(help="Phone number (E.164, or national for --region).")] = None,
    language: Annotated[str | None, typer.Option(help="Language code; default: the site's.")] = None,
    topic: Annotated[list[str] | None, typer.Option(help="Topic id (repeat); none: everything.")] = None,
    frequency: Annotated[str, typer.Option(help="immediate, daily or weekly.")] = "immediate",
    channel: Annotated[
        list[str] | None, typer.Option(help="email or sms (repeat); default: both given.")
    ] = None,
    region: RegionOption = "US",
    root: RootOption = None,
    now: NowOption = None,
) -> None:
    """Add one subscriber as active (you have their consent); the consent log records source "cli"."""
    settings = _settings(root)
    row = {
        "email": email or "",
        "phone": phone or "",
        "language": language or "",
        "topics": ";".join(topic or []),
        "frequency": frequency,
        "channel": ";".join(channel or []),
    }
    try:
        parsed = csvio.parse_record(row, 0, settings, region)
    except ValueError as exc:
        raise NewsroomError(f"{exc} (fix: correct the option and run again)") from exc
    with db.open_database(settings).begin() as conn:
        result = actions.subscribe(
            conn,
            email=parsed.email,
            phone=parsed.phone,
            language=parsed.language,
            subscriptions=parsed.subscriptions,
            source="cli",
            now=_now(now),
            confirmed=True,
        )
    what = "added" if result.created else "updated" if result.changed else "unchanged:"
    console.print(f"{what} subscriber {result.subscriber_id} ({parsed.email or parsed.phone})", markup=False)


def import_(
    file: Annotated[
        Path, typer.Argument(help="CSV with columns email, phone, language, topics, frequency, channel.")
    ],
    region: RegionOption = "US",
    root: RootOption = None,
    now: NowOption = None,
) -> None:
    """Import a subscriber list as active subscribers; bad rows are listed by line and skipped."""
    settings = _settings(root)
    if not file.is_file():
        raise NewsroomError(f"{file}: no such file (fix: give the path to a .csv file)")
    with db.open_database(settings).begin() as conn:
        report = csvio.import_file(conn, file, settings, _now(now), region)
    for diagnostic in report.notes:
        errors.print(diagnostic.format(), style="yellow", markup=False)
    for diagnostic in report.problems:
        errors.print(diagnostic.format(), style="red", markup=False)
    console.print(f"{file}: {report.summary()}", markup=False)
    if report.problems:
        raise typer.Exit(1)


def export(
    file: Annotated[Path | None, typer.Argument(help="Where to write; default: standard output.")] = None,
    status: Annotated[str, typer.Option(help="active, pending, unsubscribed or all.")] = "active",
    root: RootOption = None,
) -> None:
    """Write subscribers as CSV in the import format (re-importing it changes nothing)."""
    settings = _settings(root)
    wanted = None if status == "all" else _status(status)
    with db.open_database(settings).connect() as conn:
        if file is None:
            csvio.export_csv(conn, sys.stdout, wanted)
            return
        with file.open("w", encoding="utf-8", newline="") as stream:
            written = csvio.export_csv(conn, stream, wanted)
    console.print(f"wrote {written} row(s) to {file}", markup=False)


def list_(
    status: Annotated[str, typer.Option(help="active, pending, unsubscribed or all.")] = "all",
    limit: Annotated[int, typer.Option(help="At most this many.")] = 50,
    output: FormatOption = "text",
    root: RootOption = None,
) -> None:
    """Show subscribers with their channels, topics and frequency."""
    settings = _settings(root)
    with db.open_database(settings).connect() as conn:
        people = store.list_subscribers(
            conn, status=None if status == "all" else _status(status), limit=limit
        )
    if output == "json":
        typer.echo(json.dumps([_as_dict(p) for p in people], ensure_ascii=False, indent=2))
        return
    from rich.table import Table

    table = Table(title=f"Subscribers ({status}, first {limit})", title_justify="left")
    for column in ("Id", "Email", "Phone", "Lang", "Status", "Subscriptions"):
        table.add_column(column)
    for person in people:
        subs = "; ".join(
            f"{s.channel} {s.frequency} {','.join(s.topics) or 'all topics'}" for s in person.subscriptions
        )
        table.add_row(
            str(person.id),
            person.email or "-",
            person.phone or "-",
            person.language,
            person.status,
            subs or "-",
        )
    console.print(table)


def _as_dict(person: store.Subscriber) -> dict[str, Any]:
    return {
        "id": person.id,
        "email": person.email,
        "phone": person.phone,
        "language": person.language,
        "status": person.status,
        "created_at": person.created_at.isoformat(),
        "subscriptions": [
            {"channel": s.channel, "frequency": s.frequency, "topics": list(s.topics)}
            for s in person.subscriptions
        ],
    }


def _status(value: str) -> str:
    if value not in store.STATUSES:
        raise NewsroomError(f"--status {value!r}: use one of {', '.join(store.STATUSES)} or all")
    return value


def remove(
    address: Annotated[str, typer.Argument(help="The subscriber's email or phone number.")],
    erase: Annotated[
        bool, typer.Option("--erase", help="Also delete their record (the consent log is kept).")
    ] = False,
    region: RegionOption = "US",
    root: RootOption = None,
    now: NowOption = None,
) -> None:
    """Unsubscribe someone from everything at once (and suppress their addresses)."""
    settings = _settings(root)
    try:
        key = csvio.parse_email(address) if "@" in address else csvio.parse_phone(address, region)
    except ValueError as exc:
        raise NewsroomError(f"{exc} (fix: give the email or phone number as subscribed)") from exc
    with db.open_database(settings).begin() as conn:
        person = store.find_subscriber(conn, key)
        if person is None:
            raise NewsroomError(f"no subscriber with {key} (fix: check `newsroom subscribers list`)")
        actions.unsubscribe(conn, person.id, source="cli", now=_now(now), detail={"by": "staff"})
        if erase:
            store.delete_subscriber(conn, person.id)
    console.print(f"{'erased' if erase else 'unsubscribed'} subscriber {person.id} ({key})", markup=False)


def stats(output: FormatOption = "text", root: RootOption = None, now: NowOption = None) -> None:
    """Counts: subscribers, subscriptions, languages, topics, suppressions, deliveries, consent events."""
    settings = _settings(root)
    with db.open_database(settings).connect() as conn:
        figures = {
            "subscribers": store.count_subscribers(conn),
            "subscriptions": {f"{c} {f}": n for (c, f), n in store.count_subscriptions(conn).items()},
            "languages": store.count_by_language(conn),
            "topics": store.count_by_topic(conn),
            "suppressions": store.count_suppressions(conn),
            "deliveries": queue.count_deliveries(conn),
            "due_now": {"pending": queue.count_due(conn, _now(now))},
            "consent_log": store.count_consent_actions(conn),
        }
    if output == "json":
        typer.echo(json.dumps(figures, ensure_ascii=False, indent=2, sort_keys=True))
        return
    for section, counts in figures.items():
        listing = ", ".join(f"{key}: {value:,}" for key, value in sorted(counts.items())) or "none"
        console.print(f"{section.replace('_', ' ')}: {listing}", markup=False)


def send_test(
    channel: Annotated[str, typer.Option(help="email or sms.")] = "email",
    to: Annotated[str | None, typer.Option(help="Only this subscriber (email or phone).")] = None,
    region: RegionOption = "US",
    root: RootOption = None,
    now: NowOption = None,
) -> None:
    """Queue a short test message for active subscribers (or one); `newsroom deliver` sends it."""
    settings = _settings(root)
    moment = _now(now)
    if channel not in store.CHANNELS:
        raise NewsroomError(f"--channel {channel!r}: use email or sms")
    with db.open_database(settings).begin() as conn:
        notification = store.ensure_notification(
            conn, kind="test", key=f"test:{channel}:{moment.isoformat()}", payload={}, now=moment
        )
        if to:
            key = csvio.parse_email(to) if "@" in to else csvio.parse_phone(to, region)
            person = store.find_subscriber(conn, key)
            if person is None:
                raise NewsroomError(f"no subscriber with {key} (fix: add them first)")
            planned = queue.plan(conn, notification, [person.id], channel, moment)
        else:
            planned = queue.plan_audience(conn, notification, channel, moment)
    console.print(f"queued {planned} test message(s); run `newsroom deliver` to send them", markup=False)


def deliver(
    root: RootOption = None,
    now: NowOption = None,
    limit: Annotated[int | None, typer.Option(help="Send at most this many, then stop.")] = None,
    worker: Annotated[
        str | None, typer.Option(help="Name of this worker in claims; default host:pid.")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bar, only the summary.")] = False,
) -> None:
    """Send everything due in the delivery queue: claim batches, send, record. Ctrl-C stops cleanly."""
    settings = _settings(root)
    report = delivery.deliver(
        settings,
        _now(now),
        limit=limit,
        worker=worker,
        progress=not quiet and console.is_terminal,
        console=console.made(),
    )
    console.print(f"deliver: {report.summary()}", markup=False)
    if report.interrupted:
        raise typer.Exit(130)


def register(app: typer.Typer, typer_class: type[typer.Typer]) -> None:
    """Add `subscribers ...` and `deliver` to the main app (typer_class reports NewsroomError cleanly)."""
    group = typer_class(
        help="Manage subscribers: add, import or export a CSV list, list, remove, stats, send a test.",
        no_args_is_help=True,
    )
    for name, function in (
        ("add", add),
        ("import", import_),
        ("export", export),
        ("list", list_),
        ("remove", remove),
        ("stats", stats),
        ("send-test", send_test),
    ):
        group.command(name)(function)
    app.add_typer(group, name="subscribers")
    app.command("deliver")(deliver)
