"""Helpers for the email tests: the sample newsroom's public releases and parsed messages."""

from __future__ import annotations

import email
import re
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import cast

from newsroom.config import Settings
from newsroom.content.loader import load_newsroom
from newsroom.gate import Published, gate
from newsroom.render.email import Content, Interest, Kind, prepare_message

LINK = re.compile(r"https://news\.example\.gov/(unsubscribe|preferences|confirm)/([A-Za-z0-9_.-]+)")


def published(settings: Settings, now: datetime) -> Published:
    return gate(load_newsroom(settings), now)


def content_for(kind: Kind, view: Published, slug: str = "new-york-experience") -> Content:
    """Typical content for each kind, taken from the sample releases."""
    if kind == "alert":
        release = view.by_slug(slug)
        return Content(Interest("immediate", tuple(release.meta.topics)), releases=(release,))
    if kind in ("daily", "weekly"):
        days = 1 if kind == "daily" else 7
        end = datetime(2024, 12, 13, 5, 0, tzinfo=view.now.tzinfo)  # midnight in New York
        start = end - timedelta(days=days)
        inside = tuple(r for r in view.releases if start <= r.release_time < end)
        return Content(Interest(kind, tuple(view.settings.topics)), releases=inside, period=(start, end))
    if kind in ("confirm", "preferences"):
        return Content(Interest("daily", ("health", "technology")))
    return Content()


def prepare(kind: Kind, language: str, view: Published, slug: str = "new-york-experience") -> object:
    return prepare_message(kind, language, content_for(kind, view, slug), view.settings, view.now)


def parse(data: bytes) -> EmailMessage:
    from email import policy

    return cast(EmailMessage, email.message_from_bytes(data, policy=policy.default))


def parts(message: EmailMessage) -> tuple[str, str]:
    """The decoded text/plain and text/html bodies."""
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    # the parser keeps the wire's CRLF line ends; readers see lines
    return str(text.get_content()).replace("\r\n", "\n"), str(html.get_content()).replace("\r\n", "\n")


def links(message: EmailMessage) -> dict[str, set[str]]:
    """Every personal token in the message (headers, text, html), by purpose."""
    text, html = parts(message)
    found: dict[str, set[str]] = {}
    for where in (str(message["List-Unsubscribe"] or ""), text, html):
        for purpose, token in LINK.findall(where):
            found.setdefault(purpose, set()).add(token)
    return found
