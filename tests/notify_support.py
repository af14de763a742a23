"""Helpers for the alert and digest tests: fresh releases written into the sample newsroom, subscribers,
and the emails the outbox received."""

from __future__ import annotations

import email
from datetime import UTC, datetime, timedelta
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import cast

from sqlalchemy import Engine

from newsroom.config import Settings, load_settings
from newsroom.content.loader import revision_of
from newsroom.subscribers import actions
from newsroom.subscribers.store import Subscription

# Translated titles of the fresh release `write_release` makes (the original is English).
TITLES = {
    "en": "State Opens Free Winter Health Checkups at Libraries",
    "es": "El estado abre chequeos de salud de invierno gratuitos en las bibliotecas",
    "ru": "Штат открывает бесплатные зимние медосмотры в библиотеках",
    "zh": "州政府在图书馆开设免费冬季健康检查",
    "ar": "الولاية تفتح فحوصات صحية شتوية مجانية في المكتبات",
    "ht": "Eta a louvri egzamen sante gratis pou sezon fredi nan bibliyotèk yo",
}


def write_release(
    root: Path,
    slug: str,
    when: datetime,
    *,
    topics: tuple[str, ...] = ("health",),
    languages: tuple[str, ...] = ("ru", "es"),
    status: str = "published",
    title: str | None = None,
    corrections: str = "",
) -> Path:
    """A release folder with its English original and translations in `languages`; returns the folder."""
    folder = root / "releases" / str(when.year) / f"{when:%Y-%m-%d}-{slug}"
    folder.mkdir(parents=True, exist_ok=True)
    original = (
        "---\n"
        f"title: {title or TITLES['en']}\n"
        "kind: press-release\n"
        f"release: {when.strftime('%Y-%m-%d %H:%M')} UTC\n"
        "dateline: ALBANY, N.Y.\n"
        "office: health\n"
        f"topics: [{', '.join(topics)}]\n"
        "summary: Free checkups at 40 public libraries this winter, no appointment needed.\n"
        f"status: {status}\n"
        f"slug: {slug}\n"
        f"{corrections}"
        "---\n"
        "Nurses will check blood pressure and answer questions at 40 libraries every Saturday.\n"
    ).encode()
    (folder / "en.md").write_bytes(original)
    for language in languages:
        add_translation(folder, language)
    return folder


def add_translation(folder: Path, language: str) -> None:
    revision = revision_of((folder / "en.md").read_bytes())
    (folder / f"{language}.md").write_text(
        f'---\nrevision: "{revision}"\ntitle: {TITLES[language]}\n---\n{TITLES[language]}.\n',
        encoding="utf-8",
    )


def correction(when: datetime, realert: bool) -> str:
    return (
        "corrections:\n"
        f"  - date: {when.strftime('%Y-%m-%d %H:%M')} UTC\n"
        "    note: The checkups run on Saturdays, not Sundays.\n"
        f"    realert: {'true' if realert else 'false'}\n"
    )


def subscribe(
    engine: Engine,
    address: str,
    language: str,
    topics: tuple[str, ...] = ("health",),
    frequency: str = "immediate",
    channel: str = "email",
    now: datetime | None = None,
) -> int:
    """An active subscriber (consent collected elsewhere); returns the id."""
    moment = now or datetime(2024, 12, 1, tzinfo=UTC)
    with engine.begin() as conn:
        result = actions.subscribe(
            conn,
            email=address if channel == "email" else None,
            phone=address if channel == "sms" else None,
            language=language,
            subscriptions=[Subscription(channel, frequency, topics)],  # type: ignore[arg-type]
            source="import",
            now=moment - timedelta(days=1),
            confirmed=True,
        )
    return int(result.subscriber_id)


def with_email(settings: Settings, **changes: object) -> Settings:
    """The same settings with some [email] fields changed (e.g. translation_policy="wait")."""
    section = settings.file.email.model_copy(update=changes)
    return Settings(settings.root, settings.file.model_copy(update={"email": section}))


def reload(settings: Settings, database_url: str) -> Settings:
    return load_settings(settings.root, environ={"NEWSROOM_DATABASE_URL": database_url})


def outbox_emails(settings: Settings) -> dict[str, list[EmailMessage]]:
    """Every email in outbox/email/new, parsed, by recipient (To), in file name order."""
    found: dict[str, list[EmailMessage]] = {}
    folder = settings.outbox_dir / "email" / "new"
    for path in sorted(folder.glob("*")) if folder.is_dir() else []:
        message = cast(EmailMessage, email.message_from_bytes(path.read_bytes(), policy=policy.default))
        found.setdefault(str(message["To"]), []).append(message)
    return found


def bodies(message: EmailMessage) -> tuple[str, str]:
    """The decoded text/plain and text/html parts."""
    text, html = message.get_body(("plain",)), message.get_body(("html",))
    assert text is not None and html is not None
    return str(text.get_content()), str(html.get_content())  # type: ignore[attr-defined]
