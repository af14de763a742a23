"""Delivery through a real SMTP server (aiosmtpd on 127.0.0.1) on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import signal
import ssl
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword
from sqlalchemy import Engine

from newsroom.delivery import queue
from newsroom.delivery.smtp import SmtpTransport
from newsroom.delivery.worker import deliver
from newsroom.errors import DeliveryError
from newsroom.subscribers import actions, store
from newsroom.subscribers.store import Subscription
from tests.conftest import REPO, SAMPLE_NOW
from tests.support.delivery import Script, SmtpServer, self_signed_certificate, smtp_settings

pytest_plugins = ["tests.support.delivery_fixtures"]

NOW = SAMPLE_NOW


def queue_test_message(engine: Engine, people: list[tuple[str, str]], key: str = "test:smtp") -> int:
    """Subscribe (email, language) pairs and queue one test notification for all of them."""
    with engine.begin() as conn:
        ids = [
            actions.subscribe(
                conn,
                email=email,
                phone=None,
                language=language,
                subscriptions=[Subscription("email")],
                source="cli",
                now=NOW,
                confirmed=True,
            ).subscriber_id
            for email, language in people
        ]
        notification = store.ensure_notification(conn, kind="test", key=key, payload={}, now=NOW)
        queue.plan(conn, notification, ids, "email", NOW)
    return notification


def statuses(engine: Engine, notification: int) -> dict[str, str]:
    with engine.begin() as conn:
        return {row["address"]: row["status"] for row in queue.delivery_rows(conn, notification)}


def test_the_smtp_server_receives_every_message_in_the_readers_language(
    sample_root: Path, database_url: str, engine: Engine
) -> None:
    people = [("ana@example.org", "es"), ("li@example.org", "zh"), ("sam@example.org", "ar")]
    notification = queue_test_message(engine, people)
    with SmtpServer() as server:
        settings = smtp_settings(sample_root, database_url, server.port)
        report = deliver(settings, NOW, engine=engine)
        messages = server.messages()
    assert report.sent == 3 and report.transports == {"email": "smtp"}
    subjects = {str(m["To"]): str(m["Subject"]) for m in messages}
    assert subjects["ana@example.org"].startswith("Mensaje de prueba")
    assert subjects["li@example.org"].startswith("来自")
    assert subjects["sam@example.org"].startswith("رسالة تجريبية")
    assert {m["From"] for m in messages} == {"Sample Newsroom <news@news.example.gov>"}
    assert set(statuses(engine, notification).values()) == {"sent"}


def test_451_is_retried_later_and_then_sent(sample_root: Path, database_url: str, engine: Engine) -> None:
    notification = queue_test_message(engine, [("grey@example.org", "en"), ("ok@example.org", "en")])
    with SmtpServer(Script(temporary_failures={"grey@example.org": 1})) as server:
        settings = smtp_settings(sample_root, database_url, server.port)
        first = deliver(settings, NOW, engine=engine)
        assert server.recipients() == ["ok@example.org"]
        assert statuses(engine, notification)["grey@example.org"] == "pending"
        too_soon = deliver(settings, NOW + timedelta(seconds=30), engine=engine)
        later = deliver(settings, NOW + timedelta(minutes=2), engine=engine)
        assert server.recipients() == ["ok@example.org", "grey@example.org"]
    assert (first.sent, first.retrying, too_soon.handled, later.sent) == (1, 1, 0, 1)
    with engine.begin() as conn:
        row = next(r for r in queue.delivery_rows(conn, notification) if r["address"] == "grey@example.org")
    assert row["status"] == "sent" and row["attempts"] == 2
    assert NOW + timedelta(minutes=2) <= row["sent_at"] < NOW + timedelta(minutes=3)
    assert row["provider_id"] == "2.0.0 Queued as test"


def test_a_connection_dropped_mid_batch_loses_nothing(
    sample_root: Path, database_url: str, engine: Engine
) -> None:
    people = [(f"reader{n}@example.org", "en") for n in range(10)]
    notification = queue_test_message(engine, people)
    with SmtpServer(Script(drop_before_message={4})) as server:
        settings = smtp_settings(sample_root, database_url, server.port, batch_size=5)
        smtp = SmtpTransport(settings.delivery.smtp)
        report = deliver(settings, NOW, engine=engine, transports={"email": smtp})
        received = server.recipients()
    assert smtp.connects == 2, "the server hung up once and the transport reconnected"
    assert sorted(received) == sorted(email for email, _ in people), "each reader got exactly one message"
    assert report.sent == 10 and report.retrying == 0
    assert set(statuses(engine, notification).values()) == {"sent"}


def test_a_5xx_fails_suppresses_and_records_the_bounce(
    sample_root: Path, database_url: str, engine: Engine
) -> None:
    notification = queue_test_message(engine, [("gone@example.org", "en"), ("here@example.org", "en")])
    with SmtpServer(Script(rejected={"gone@example.org"})) as server:
        settings = smtp_settings(sample_root, database_url, server.port)
        report = deliver(settings, NOW, engine=engine)
        assert server.recipients() == ["here@example.org"]
        # a later notification is not even queued for the bounced address
        later = queue_test_message(engine, [("gone@example.org", "en")], key="test:later")
        deliver(settings, NOW + timedelta(days=1), engine=engine)
        assert server.recipients() == ["here@example.org"]
    assert (report.sent, report.failed) == (1, 1)
    with engine.begin() as conn:
        row = next(r for r in queue.delivery_rows(conn, notification) if r["address"] == "gone@example.org")
        history = store.consent_history(conn, address="gone@example.org")
        assert store.suppression_of(conn, "gone@example.org") == "bounce"
        assert queue.count_deliveries(conn, later) == {"suppressed": 1}
    assert row["status"] == "failed" and row["last_error"].startswith("550")
    assert [entry["action"] for entry in history] == ["subscribe", "bounce"]
    assert "550" in history[-1]["detail"]["reason"]


def test_an_unreachable_relay_keeps_everything_queued(
    sample_root: Path, database_url: str, engine: Engine
) -> None:
    notification = queue_test_message(engine, [("a@example.org", "en"), ("b@example.org", "en")])
    with SmtpServer() as server:
        port = server.port
    settings = smtp_settings(sample_root, database_url, port)  # nobody listens there any more
    report = deliver(settings, NOW, engine=engine)
    assert (report.sent, report.retrying) == (0, 2)
    assert set(statuses(engine, notification).values()) == {"pending"}


def test_ctrl_c_stops_after_the_batch_in_flight_and_loses_nothing(
    sample_root: Path, database_url: str, engine: Engine
) -> None:
    people = [(f"reader{n}@example.org", "en") for n in range(300)]
    notification = queue_test_message(engine, people)
    with SmtpServer(Script(delay=0.01)) as server:
        smtp_settings(sample_root, database_url, server.port, batch_size=40)
        env = {
            **os.environ,
            "PYTHONPATH": str(REPO),
            "NEWSROOM_DATABASE_URL": database_url,
            "NEWSROOM_EMAIL_TRANSPORT": "smtp",
        }
        command = [sys.executable, "-m", "newsroom", "deliver", "--root", str(sample_root), "--quiet"]
        command += ["--now", NOW.isoformat()]
        worker = subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        for _ in range(600):  # wait (at most a minute) for the first messages to arrive
            if server.received or worker.poll() is not None:
                break
            time.sleep(0.1)
        worker.send_signal(signal.SIGINT)
        output, _ = worker.communicate(timeout=120)
        received_when_stopped = len(server.received)
        counts = statuses(engine, notification)
        again = deliver(smtp_settings(sample_root, database_url, server.port), NOW, engine=engine)
        recipients = server.recipients()
    assert worker.returncode == 130, output
    assert "stopped by Ctrl-C after the batch in flight" in output
    assert 0 < received_when_stopped < 300 and received_when_stopped % 40 == 0, received_when_stopped
    assert "sending" not in counts.values()
    assert list(counts.values()).count("sent") == received_when_stopped
    assert again.sent == 300 - received_when_stopped
    assert sorted(recipients) == sorted(email for email, _ in people)


def _starttls_server(tmp_path: Path) -> tuple[SmtpServer, ssl.SSLContext]:
    cert, key = self_signed_certificate(tmp_path)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)

    def authenticator(
        server: object, session: object, envelope: object, mechanism: str, data: object
    ) -> AuthResult:
        good = isinstance(data, LoginPassword) and (data.login, data.password) == (b"newsroom", b"s3cret")
        return AuthResult(success=good, handled=False)  # handled=False: aiosmtpd answers 535 itself

    server = SmtpServer(
        tls_context=server_tls, require_starttls=True, authenticator=authenticator, auth_required=True
    )
    return server, ssl.create_default_context(cafile=str(cert))


def test_starttls_and_login(sample_root: Path, database_url: str, engine: Engine, tmp_path: Path) -> None:
    notification = queue_test_message(engine, [("secure@example.org", "en")])
    server, client_tls = _starttls_server(tmp_path)
    with server:
        settings = smtp_settings(sample_root, database_url, server.port)
        config = settings.delivery.smtp.model_copy(update={"security": "starttls", "username": "newsroom"})
        smtp = SmtpTransport(config, password="s3cret", ssl_context=client_tls)
        report = deliver(settings, NOW, engine=engine, transports={"email": smtp})
        assert server.recipients() == ["secure@example.org"]
    assert report.sent == 1
    assert statuses(engine, notification) == {"secure@example.org": "sent"}


def test_a_wrong_password_stops_the_run_with_the_fix_and_keeps_the_queue(
    sample_root: Path, database_url: str, engine: Engine, tmp_path: Path
) -> None:
    notification = queue_test_message(engine, [("secure@example.org", "en")])
    server, client_tls = _starttls_server(tmp_path)
    with server:
        settings = smtp_settings(sample_root, database_url, server.port)
        config = settings.delivery.smtp.model_copy(update={"security": "starttls", "username": "newsroom"})
        smtp = SmtpTransport(config, password="wrong", ssl_context=client_tls)
        with pytest.raises(DeliveryError, match=r"refused the login for 'newsroom'.*NEWSROOM_SMTP_PASSWORD"):
            deliver(settings, NOW, engine=engine, transports={"email": smtp})
        assert server.received == []
    with engine.begin() as conn:
        [row] = queue.delivery_rows(conn, notification)
    assert (row["status"], row["attempts"]) == ("pending", 0)


def test_a_killed_worker_loses_at_most_one_status_and_the_next_run_sends_the_rest(
    sample_root: Path, database_url: str, engine: Engine
) -> None:
    people = [(f"reader{n}@example.org", "en") for n in range(200)]
    notification = queue_test_message(engine, people)
    with SmtpServer(Script(delay=0.01)) as server:
        smtp_settings(sample_root, database_url, server.port, batch_size=40)
        env = {
            **os.environ,
            "PYTHONPATH": str(REPO),
            "NEWSROOM_DATABASE_URL": database_url,
            "NEWSROOM_EMAIL_TRANSPORT": "smtp",
        }
        command = [sys.executable, "-m", "newsroom", "deliver", "--root", str(sample_root), "--quiet"]
        worker = subprocess.Popen([*command, "--now", NOW.isoformat()], env=env, stdout=subprocess.DEVNULL)
        for _ in range(600):  # wait (at most a minute) until it is well into its work
            if len(server.received) >= 50 or worker.poll() is not None:
                break
            time.sleep(0.05)
        worker.kill()  # SIGKILL: no clean-up of any kind
        worker.wait(timeout=60)
        received = len(server.received)
        counts = Counter(statuses(engine, notification).values())
        later = smtp_settings(sample_root, database_url, server.port)
        deliver(later, NOW + timedelta(hours=1), engine=engine)  # claims older than 15 minutes are stale
        recipients = Counter(server.recipients())
    assert 0 <= received - counts["sent"] <= 1, (received, counts)
    assert set(recipients) == {email for email, _ in people}, "nobody skipped"
    assert sum(recipients.values()) - len(people) <= 1, "at most the one message in flight went twice"
    assert set(statuses(engine, notification).values()) == {"sent"}
