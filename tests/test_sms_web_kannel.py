"""Residents' phones, a real Kannel and the real web app: keywords, alerts and delivery reports end to end.

fakesmsc (the phone network) -> bearerbox -> smsbox -> GET /sms/inbound on the web app under uvicorn
(127.0.0.1, a free port, no shared secret: Kannel calls from this machine) -> the reply back to the
phone; alerts go out through `newsroom deliver` with the kannel transport, and Kannel reports their
fate to /sms/dlr. SQLite only: the database side is covered on both in tests/test_sms_web.py.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from newsroom.config import Settings, load_settings
from newsroom.content.loader import load_newsroom
from newsroom.delivery.sms_alerts import plan_sms_alert
from newsroom.render.sms import compose_alert, reply_text
from newsroom.subscribers import store
from newsroom.subscribers.db import open_database
from newsroom.web.app import BackgroundWeb
from tests.conftest import REPO
from tests.sms_support import HandsetMessage, wait_for_handset
from tests.support.kannel import KannelGateway, kannel_missing

pytestmark = [
    pytest.mark.kannel,
    pytest.mark.skipif(kannel_missing() is not None, reason=str(kannel_missing())),
]
NOW = datetime(2024, 12, 20, 15, 0, tzinfo=UTC)  # 10:00 in New York, outside quiet hours
SHORT_CODE = "12345"


@dataclass
class Stack:
    root: Path
    settings: Settings
    environ: dict[str, str]
    engine: Engine
    gateway: KannelGateway
    web: BackgroundWeb

    def text_from(self, phone: str, text: str) -> None:
        self.gateway.send_from_phone(phone, SHORT_CODE, text)

    def shown_to(self, phone: str, count: int) -> list[HandsetMessage]:
        shown = wait_for_handset(
            self.gateway, lambda all_: len([m for m in all_ if m.receiver == phone]) >= count
        )
        return [m for m in shown if m.receiver == phone]

    def subscriber(self, phone: str) -> store.Subscriber | None:
        with self.engine.connect() as conn:
            return store.find_subscriber(conn, phone)

    def consent(self, phone: str) -> list[str]:
        with self.engine.connect() as conn:
            return [row["action"] for row in store.consent_history(conn, address=phone)]

    def newsroom(self, *args: str) -> subprocess.CompletedProcess[str]:
        """The newsroom CLI, as staff run it, on this newsroom."""
        return subprocess.run(
            [sys.executable, "-m", "newsroom", *args, "--root", str(self.root)],
            env={**os.environ, **self.environ}, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    root = tmp_path_factory.mktemp("newsroom")
    shutil.copytree(REPO / "releases", root / "releases")
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    with pytest.MonkeyPatch.context() as env, KannelGateway(f"{base_url}/sms/inbound") as gateway:
        env.delenv("NEWSROOM_KANNEL_INBOUND_SECRET", raising=False)
        config = (REPO / "newsroom.toml").read_text(encoding="utf-8")
        config = config.replace('sms_transport = "outbox"', 'sms_transport = "kannel"')
        config += (
            f'\n[delivery.kannel]\nsendsms_url = "{gateway.sendsms_url}"\n'
            f'username = "{gateway.username}"\nmessages_per_second = 50\n'
        )
        (root / "newsroom.toml").write_text(config, encoding="utf-8")
        environ = {
            "NEWSROOM_DATABASE_URL": f"sqlite:///{root / 'var' / 'newsroom.db'}",
            "NEWSROOM_BASE_URL": base_url,  # the dlr-url Kannel calls back
            "NEWSROOM_KANNEL_PASSWORD": gateway.password,
        }
        settings = load_settings(root, environ=environ)
        engine = open_database(settings)
        web = BackgroundWeb(settings, port=port).start()
        try:
            yield Stack(root, settings, environ, engine, gateway, web)
        finally:
            web.stop()
            engine.dispose()


def test_join_then_a_russian_alert_arrives_and_its_delivery_report_is_recorded(stack: Stack) -> None:
    phone = "+15185550601"
    stack.text_from(phone, "news ru")
    (welcome,) = stack.shown_to(phone, 1)
    assert welcome.text == reply_text("join", "ru", stack.settings)  # Cyrillic intact: sent as UCS-2
    assert "STOP" in welcome.text and "HELP" in welcome.text
    subscriber = stack.subscriber(phone)
    # Texting the join keyword is an explicit opt-in from the handset itself: active at once.
    assert subscriber is not None and (subscriber.status, subscriber.language) == ("active", "ru")
    assert stack.consent(phone) == ["subscribe"]

    release = load_newsroom(stack.settings).by_slug("new-york-experience")
    with stack.engine.begin() as conn:
        plan_sms_alert(conn, stack.settings, release, NOW)
    done = stack.newsroom("deliver", "--now", NOW.isoformat(), "--quiet")
    assert done.returncode == 0, done.stdout + done.stderr
    assert " sent" in done.stdout, done.stdout
    welcome_and_alert = stack.shown_to(phone, 2)
    alert = compose_alert(release, "ru", stack.settings)
    assert welcome_and_alert[1].text == alert.text and alert.text.endswith("Для отписки ответьте STOP")
    assert welcome_and_alert[1].parts == alert.count.segments

    # The fake SMSC reports "accepted" then "delivered"; Kannel calls the signed dlr-url for each.
    deadline = time.monotonic() + 30
    while (state := _dlr_state(stack, phone)) != "delivered" and time.monotonic() < deadline:
        time.sleep(0.1)
    assert state == "delivered"


def _dlr_state(stack: Stack, phone: str) -> str | None:
    deliveries = store.deliveries
    with stack.engine.connect() as conn:
        query = select(deliveries.c.dlr_status).where(
            deliveries.c.address == phone, deliveries.c.status == "sent"
        )
        return conn.execute(query).scalar()


def test_stop_from_the_phone_unsubscribes_at_once_with_one_confirmation(stack: Stack) -> None:
    phone = "+15185550602"
    stack.text_from(phone, "NEWS")
    stack.shown_to(phone, 1)
    stack.text_from(phone, "Stop")
    _, goodbye = stack.shown_to(phone, 2)
    assert goodbye.text == reply_text("stop", "en", stack.settings)
    subscriber = stack.subscriber(phone)
    assert subscriber is not None and subscriber.status == "unsubscribed" and not subscriber.subscriptions
    assert stack.consent(phone) == ["subscribe", "unsubscribe"]
    with stack.engine.connect() as conn:
        audience = {row.address for row in conn.execute(store.audience_query("sms"))}
    assert phone not in audience  # no alert can be queued for it any more


def test_help_gets_the_help_reply(stack: Stack) -> None:
    phone = "+15185550603"
    stack.text_from(phone, "help")
    (answer,) = stack.shown_to(phone, 1)
    assert answer.text == reply_text("help", "en", stack.settings)
    assert stack.subscriber(phone) is None


def test_unknown_text_twice_gets_one_help_reply(stack: Stack) -> None:
    phone = "+15185550604"
    stack.text_from(phone, "is the clinic open on sunday")
    stack.text_from(phone, "hello?")
    stack.text_from(phone, "INFO")  # answered every time: once it is here, the others were too
    shown = stack.shown_to(phone, 2)
    assert [m.text for m in shown] == [reply_text("help", "en", stack.settings)] * 2
    # smsbox may pass the three texts on in any order; one unknown text was answered, one was not.
    assert sorted(stack.consent(phone)) == ["help", "unknown", "unknown"]
    with stack.engine.connect() as conn:
        history = store.consent_history(conn, address=phone)
    assert sorted(row["detail"]["replied"] for row in history if row["action"] == "unknown") == [False, True]
