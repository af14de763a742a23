"""Subscriber lists as CSV: import (validate every row, report bad ones by line) and export.

Columns (header row required, any order, any may be missing except that a row needs an address):
    email      an email address
    phone      a phone number, E.164 (+15551234567) or national for --region (default US)
    language   a language code from newsroom.toml; default: the site's default language
    topics     topic ids from newsroom.toml separated by ";"; empty: everything
    frequency  immediate | daily | weekly; default: immediate
    channel    email | sms | email;sms; default: every channel the row has an address for

Imported people are active (the office collected their consent elsewhere) and each import is in the
consent log with source "import". Re-importing the same file changes nothing. People who have
unsubscribed, bounced or complained are never re-added by an import: only they can subscribe again.
Export writes the same columns, one row per subscriber (one per channel, each with both addresses,
when the channels differ in topics or frequency), so an export imports back to the same list.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TextIO

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from sqlalchemy.engine import Connection

from newsroom.config import Settings
from newsroom.diagnostics import Diagnostic, Severity
from newsroom.subscribers import actions, store
from newsroom.subscribers.store import Subscriber, Subscription

COLUMNS = ("email", "phone", "language", "topics", "frequency", "channel")


@dataclass(frozen=True)
class ImportRow:
    line: int
    email: str | None
    phone: str | None
    language: str
    subscriptions: tuple[Subscription, ...]


@dataclass
class ImportReport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    problems: list[Diagnostic] = field(default_factory=list)  # bad rows: not imported
    notes: list[Diagnostic] = field(default_factory=list)  # rows deliberately left alone

    def summary(self) -> str:
        return (
            f"{self.added} added, {self.updated} updated, {self.unchanged} unchanged, "
            f"{len(self.notes)} left alone, {len(self.problems)} bad row(s) skipped"
        )


def parse_email(text: str) -> str:
    """A normalised email address, or ValueError saying what is wrong with it."""
    try:
        return store.normalise_email(validate_email(text, check_deliverability=False).normalized)
    except EmailNotValidError as exc:
        raise ValueError(f"email {text!r} is not valid: {exc}") from exc


def parse_phone(text: str, region: str = "US") -> str:
    """An E.164 number ("+15551234567"), or ValueError saying what is wrong with it."""
    try:
        number = phonenumbers.parse(text, None if text.strip().startswith("+") else region)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"phone {text!r} is not a phone number: {exc}") from exc
    if not phonenumbers.is_valid_number(number):
        raise ValueError(f"phone {text!r} is not a valid number (write it as +15551234567)")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def read_rows(
    stream: TextIO, name: str, settings: Settings, region: str = "US"
) -> tuple[list[ImportRow], list[Diagnostic]]:
    """Every valid row of a subscriber CSV, and a diagnostic for every bad one."""
    reader = csv.DictReader(stream)
    header = [column.strip().lower() for column in reader.fieldnames or []]
    unknown = [column for column in header if column not in COLUMNS]
    if not header or unknown or not {"email", "phone"} & set(header):
        message = f"unknown column(s) {unknown}" if unknown else "no email or phone column"
        hint = f"the header row names some of: {', '.join(COLUMNS)}"
        return [], [Diagnostic(name, 1, Severity.ERROR, message, hint)]
    reader.fieldnames = header
    rows: list[ImportRow] = []
    problems: list[Diagnostic] = []
    for record in reader:
        line = reader.line_num
        try:
            rows.append(parse_record(record, line, settings, region))
        except ValueError as exc:
            problems.append(Diagnostic(name, line, Severity.ERROR, str(exc), _HINT))
    return rows, problems


_HINT = "correct the row and import the file again; rows already imported stay as they are"


def parse_record(
    record: Mapping[str, str | None], line: int, settings: Settings, region: str = "US"
) -> ImportRow:
    """One CSV record (or the same fields from `subscribers add`) as a valid row, or ValueError."""

    def cell(column: str) -> str:
        return (record.get(column) or "").strip()

    email = parse_email(cell("email")) if cell("email") else None
    phone = parse_phone(cell("phone"), region) if cell("phone") else None
    if not email and not phone:
        raise ValueError("the row has neither an email nor a phone number")
    language = cell("language") or settings.site.default_language
    if language not in settings.language_codes:
        raise ValueError(f"language {language!r} is not one of {', '.join(settings.language_codes)}")
    topics = tuple(sorted({t.strip() for t in cell("topics").split(";") if t.strip()}))
    unknown = [t for t in topics if t not in settings.topics]
    if unknown:
        raise ValueError(f"unknown topic(s) {', '.join(unknown)}; known: {', '.join(settings.topics)}")
    frequency = cell("frequency").lower() or "immediate"
    if frequency not in store.FREQUENCIES:
        raise ValueError(f"frequency {frequency!r} is not one of {', '.join(store.FREQUENCIES)}")
    channels = _channels(cell("channel"), email, phone)
    subscriptions = tuple(Subscription(channel, frequency, topics) for channel in channels)
    return ImportRow(line, email, phone, language, subscriptions)


def _channels(text: str, email: str | None, phone: str | None) -> list[store.Channel]:
    if not text:
        return [c for c, a in (("email", email), ("sms", phone)) if a]  # type: ignore[misc]
    channels: list[store.Channel] = []
    for name in (part.strip().lower() for part in text.split(";") if part.strip()):
        if name not in store.CHANNELS:
            raise ValueError(f"channel {name!r} is not email, sms or email;sms")
        if (name == "email" and not email) or (name == "sms" and not phone):
            missing = "an email address" if name == "email" else "a phone number"
            raise ValueError(f"channel {name} needs {missing}")
        channels.append(name)
    return channels


def import_rows(conn: Connection, rows: Iterable[ImportRow], name: str, now: datetime) -> ImportReport:
    """Add or update each row as an active subscriber (consent source "import")."""
    report = ImportReport()
    for row in rows:
        try:
            _import_row(conn, row, name, now, report)
        except actions.AddressTaken as exc:
            report.problems.append(Diagnostic(name, row.line, Severity.ERROR, str(exc), _HINT))
    return report


def _import_row(conn: Connection, row: ImportRow, name: str, now: datetime, report: ImportReport) -> None:
    existing = actions.find_existing(conn, row.email, row.phone)
    if existing is not None and existing.status == "unsubscribed":
        report.notes.append(_note(name, row, f"{existing.email or existing.phone} unsubscribed"))
        return
    subscriptions = []
    for subscription in row.subscriptions:
        address = row.email if subscription.channel == "email" else row.phone
        reason = store.suppression_of(conn, address or "")
        if reason:
            report.notes.append(_note(name, row, f"{address} is suppressed ({reason})"))
        else:
            subscriptions.append(subscription)
    if not subscriptions:
        return
    result = actions.subscribe(
        conn,
        email=row.email,
        phone=row.phone,
        language=row.language,
        subscriptions=subscriptions,
        source="import",
        now=now,
        confirmed=True,
        detail={"file": name, "line": row.line},
    )
    if result.created:
        report.added += 1
    elif result.changed:
        report.updated += 1
    else:
        report.unchanged += 1


def _note(name: str, row: ImportRow, why: str) -> Diagnostic:
    return Diagnostic(
        name, row.line, Severity.WARNING, f"{why}: not re-added", "only they can subscribe again"
    )


def import_file(
    conn: Connection, path: Path, settings: Settings, now: datetime, region: str = "US"
) -> ImportReport:
    """Validate and import a subscriber CSV file (UTF-8, with or without a byte-order mark)."""
    with path.open(encoding="utf-8-sig", newline="") as stream:
        rows, problems = read_rows(stream, str(path), settings, region)
    report = import_rows(conn, rows, str(path), now)
    report.problems[:0] = problems
    report.problems.sort()
    return report


def export_rows(subscribers: Iterable[Subscriber]) -> Iterator[dict[str, str]]:
    """CSV rows for subscribers: one per subscriber, or one per channel when channels differ."""
    for subscriber in subscribers:
        groups: dict[tuple[str, tuple[str, ...]], list[str]] = {}
        for subscription in subscriber.subscriptions:
            groups.setdefault((subscription.frequency, subscription.topics), []).append(subscription.channel)
        for (frequency, topics), channels in groups.items() or {("", ()): []}.items():
            yield {
                "email": subscriber.email or "",
                "phone": subscriber.phone or "",
                "language": subscriber.language,
                "topics": ";".join(topics),
                "frequency": frequency,
                "channel": ";".join(sorted(channels)),
            }


def export_csv(conn: Connection, stream: TextIO, status: str | None = "active") -> int:
    """Write subscribers (by default the active ones) as CSV; returns how many rows were written."""
    writer = csv.DictWriter(stream, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    written, after = 0, 0
    while page := store.list_subscribers(conn, status=status, after_id=after, limit=1000):
        for row in export_rows(page):
            writer.writerow({k: v or "" for k, v in row.items()})
            written += 1
        after = page[-1].id
    return written


def export_text(conn: Connection, status: str | None = "active") -> str:
    """The export as a string (for tests and small lists)."""
    buffer = io.StringIO()
    export_csv(conn, buffer, status)
    return buffer.getvalue()
