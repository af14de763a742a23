"""Helpers for the web app tests: a newsroom on SQLite or a private PostgreSQL database, a client, a clock.

PostgreSQL tests need NEWSROOM_TEST_DATABASE_URL (e.g. postgresql://postgres@127.0.0.1:5432/test);
each test gets a database of its own, created on that server and dropped afterwards, so runs by
other people or other tests on the same server never meet.
"""

from __future__ import annotations

import email
import email.policy
import os
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from newsroom.config import Settings, load_settings
from newsroom.delivery.worker import DeliveryReport, deliver
from newsroom.subscribers import store
from newsroom.web.app import create_app
from newsroom.web.security import Limits

BASE_URL = "https://news.example.gov"


class Clock:
    """A clock tests move by hand."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh, empty database on the test server; its URL. Dropped afterwards."""
    server = os.environ["NEWSROOM_TEST_DATABASE_URL"]
    name = f"newsroom_web_{secrets.token_hex(6)}"
    admin = create_engine(make_url(server).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@dataclass
class WebRig:
    """A running app (in-process) over one database, with its settings and clock."""

    settings: Settings
    client: TestClient
    clock: Clock
    engine: Engine

    def deliver(self) -> DeliveryReport:
        return deliver(self.settings, self.clock(), engine=self.engine)

    def consent(self, address: str) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return store.consent_history(conn, address=address)

    def subscriber(self, address: str) -> store.Subscriber | None:
        with self.engine.connect() as conn:
            return store.find_subscriber(conn, address)

    def outbox_emails(self) -> list[EmailMessage]:
        folder = self.settings.outbox_dir / "email" / "new"
        files = sorted(folder.glob("*.eml")) if folder.is_dir() else []
        return [_parse(path) for path in files]

    def outbox_texts(self) -> list[str]:
        folder = self.settings.outbox_dir / "sms"
        return (
            [p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.json"))] if folder.is_dir() else []
        )

    def csrf(self, path: str = "/subscribe") -> str:
        """Visit a form page (which sets the cookie) and return the form's token."""
        return csrf_of(self.client.get(path).text)

    def subscribe(self, address: str, language: str = "en", **fields: Any) -> Any:
        data = {"address": address, "language": language, "scope": "all", "frequency": "immediate",
                "lang": "en", "csrf_token": self.csrf(), **fields}  # fmt: skip
        return self.client.post("/subscribe", data=data)


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the page has no CSRF field"
    return found.group(1)


def _parse(path: Path) -> EmailMessage:
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def body_text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())  # type: ignore[attr-defined]


def link_in(message: EmailMessage, purpose: str) -> str:
    """The path of the first personal link of `purpose` (confirm, preferences, unsubscribe) in an email."""
    found = re.search(rf"{re.escape(BASE_URL)}(/{purpose}/[A-Za-z0-9._-]+)", body_text(message))
    assert found, f"no {purpose} link in:\n{body_text(message)}"
    return found.group(1)


def make_settings(root: Path, database_url: str) -> Settings:
    return load_settings(root, environ={"NEWSROOM_DATABASE_URL": database_url, "NEWSROOM_BASE_URL": BASE_URL})


def make_rig(root: Path, database_url: str, start: datetime, limits: Limits | None = None) -> WebRig:
    settings = make_settings(root, database_url)
    clock = Clock(start)
    app = create_app(settings, clock=clock, limits=limits or Limits())
    engine: Engine = app.state.web.engine
    return WebRig(settings, TestClient(app), clock, engine)
