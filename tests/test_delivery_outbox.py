"""The outbox transport and the built-in messages: what staff see when they open outbox/."""

from __future__ import annotations

import json
import mailbox
import re
from datetime import timedelta
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from sqlalchemy import Engine

from newsroom.config import Settings
from newsroom.delivery import messages, queue
from newsroom.delivery.base import OutgoingEmail, OutgoingSms, Sent
from newsroom.delivery.messages import DOMAIN, MESSAGE_BUILDERS
from newsroom.delivery.outbox import OutboxTransport
from newsroom.delivery.worker import deliver
from newsroom.errors import DeliveryError
from newsroom.render.i18n import LOCALE_DIR
from newsroom.subscribers import actions, store
from newsroom.subscribers.store import Subscription
from tests.conftest import SAMPLE_NOW

pytest_plugins = ["tests.support.delivery_fixtures"]

NOW = SAMPLE_NOW


def test_emails_land_in_maildir_new_and_sms_as_json(tmp_path: Path) -> None:
    outbox = OutboxTransport(tmp_path / "outbox")
    outbox.open()
    data = b"From: a@example.org\r\nTo: b@example.org\r\nSubject: Hello\r\n\r\nBody\r\n"
    email_outcome = outbox.send(OutgoingEmail("a@example.org", "b@example.org", data), "7-alert:nyx:en-email")
    sms_outcome = outbox.send(OutgoingSms("+12125550134", "СТОП: тест", "12345"), "8-alert:nyx:ru-sms")
    assert email_outcome == Sent("email/new/7-alert-nyx-en-email.eml")
    assert sms_outcome == Sent("sms/8-alert-nyx-ru-sms.json")
    maildir = mailbox.Maildir(tmp_path / "outbox" / "email", create=False)
    [message] = list(maildir)
    assert message["Subject"] == "Hello"
    assert not list((tmp_path / "outbox" / "email" / "tmp").iterdir())
    record = json.loads((tmp_path / "outbox" / "sms" / "8-alert-nyx-ru-sms.json").read_text(encoding="utf-8"))
    assert record == {
        "to": "+12125550134",
        "from": "12345",
        "text": "СТОП: тест",
        "reference": "8-alert:nyx:ru-sms",
    }


def test_sending_a_delivery_again_replaces_its_file(tmp_path: Path) -> None:
    outbox = OutboxTransport(tmp_path)
    outbox.open()
    for body in (b"first", b"second"):
        outbox.send(
            OutgoingEmail("a@example.org", "b@example.org", b"Subject: x\r\n\r\n" + body), "42-x-email"
        )
    [file] = (tmp_path / "email" / "new").iterdir()
    assert file.read_bytes().endswith(b"second")


def test_confirmation_email_is_in_the_readers_language_with_their_link(
    db_settings: Settings, engine: Engine
) -> None:
    with engine.begin() as conn:
        person = actions.subscribe(
            conn,
            email="amal@example.org",
            phone=None,
            language="ar",
            subscriptions=[Subscription("email", "daily")],
            source="web",
            now=NOW,
            confirmed=False,
        ).subscriber_id
        notification = store.ensure_notification(
            conn,
            kind="confirmation",
            key=f"confirmation:{person}:1",
            payload={"confirm_url": "https://news.example.gov/ar/subscribe/confirm?t=signed"},
            now=NOW,
        )
        queue.plan(conn, notification, [person], "email", NOW)
    report = deliver(db_settings, NOW + timedelta(seconds=1), engine=engine)
    assert report.sent == 1
    [path] = (db_settings.outbox_dir / "email" / "new").iterdir()
    message = message_from_bytes(path.read_bytes(), policy=policy.default)
    assert message["Content-Language"] == "ar"
    assert str(message["Subject"]).startswith("يرجى تأكيد اشتراكك")
    body = message.get_content()
    assert "https://news.example.gov/ar/subscribe/confirm?t=signed" in body
    assert "Albany, NY" in body  # the postal address every message carries
    assert message["Message-ID"] == f"<confirmation.{person}.1.{person}@news.example.gov>"
    assert path.read_bytes().isascii(), "7-bit safe for relays without 8BITMIME"


def test_sms_outbox_through_the_queue(db_settings: Settings, engine: Engine) -> None:
    with engine.begin() as conn:
        person = actions.subscribe(
            conn,
            email=None,
            phone="+12125550134",
            language="ht",
            subscriptions=[Subscription("sms")],
            source="sms",
            now=NOW,
            confirmed=True,
        ).subscriber_id
        notification = store.ensure_notification(conn, kind="test", key="test:sms", payload={}, now=NOW)
        queue.plan(conn, notification, [person], "sms", NOW)
    deliver(db_settings, NOW, engine=engine)
    [path] = (db_settings.outbox_dir / "sms").glob("*.json")
    record = json.loads(path.read_text(encoding="utf-8"))
    assert record["to"] == "+12125550134" and record["from"] == "12345"
    assert "mesaj tès" in record["text"]


def test_a_kind_without_a_builder_stops_with_the_fix_and_keeps_the_queue(
    db_settings: Settings, engine: Engine
) -> None:
    with engine.begin() as conn:
        person = actions.subscribe(
            conn,
            email="a@example.org",
            phone=None,
            language="en",
            subscriptions=[Subscription("email")],
            source="cli",
            now=NOW,
            confirmed=True,
        ).subscriber_id
        notification = store.ensure_notification(conn, kind="postcard", key="postcard:1", payload={}, now=NOW)
        queue.plan(conn, notification, [person], "email", NOW)
    with pytest.raises(DeliveryError, match=r"no message builder for 'postcard'.*register_builder"):
        deliver(db_settings, NOW, engine=engine)
    with engine.begin() as conn:
        [row] = queue.delivery_rows(conn, notification)
    assert (row["status"], row["attempts"]) == ("pending", 0)


@pytest.mark.parametrize("language", ["es", "ru", "zh", "ar", "ht"])
def test_every_builtin_message_is_translated(language: str) -> None:
    with (LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po").open("rb") as po:
        catalog = read_po(po)
    translated = {m.id for m in catalog if m.id and m.string}
    source = Path(messages.__file__).read_text(encoding="utf-8")
    used = set(re.findall(r'_\(\s*"((?:[^"\\]|\\.)*)"', source))
    assert len(used) == 8
    assert used - translated == set()
    assert {("test", "email"), ("test", "sms"), ("confirmation", "email")} <= set(MESSAGE_BUILDERS)
