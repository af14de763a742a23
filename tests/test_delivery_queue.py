"""The delivery queue on SQLite and PostgreSQL: planning, claiming, suppression, crash recovery."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta
from email import message_from_bytes, policy

import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from newsroom.config import Settings
from newsroom.delivery import queue
from newsroom.delivery.base import Message, Outcome, OutgoingEmail, Sent
from newsroom.delivery.messages import BuildContext, Notification, Recipient, build_confirmation_email
from newsroom.delivery.worker import deliver
from newsroom.subscribers import actions, store
from newsroom.subscribers.store import Subscription
from tests.conftest import SAMPLE_NOW
from tests.support.delivery import with_delivery

pytest_plugins = ["tests.support.delivery_fixtures"]

NOW = SAMPLE_NOW


def add_people(
    engine: Engine, count: int, *, topics: tuple[str, ...] = (), language: str = "en"
) -> list[int]:
    """`count` active email subscribers person0@example.org ... with the given topics."""
    ids = []
    with engine.begin() as conn:
        for n in range(count):
            result = actions.subscribe(
                conn,
                email=f"person{n}@example.org",
                phone=None,
                language=language,
                subscriptions=[Subscription("email", "immediate", topics)],
                source="cli",
                now=NOW,
                confirmed=True,
            )
            ids.append(result.subscriber_id)
    return ids


def new_notification(engine: Engine, key: str = "test:one", kind: str = "test") -> int:
    with engine.begin() as conn:
        return store.ensure_notification(conn, kind=kind, key=key, payload={}, now=NOW)


class Recording:
    """A transport that keeps what it is given (thread-safe), for counting sends."""

    name = "recording"

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.sent: list[str] = []

    def open(self) -> None:
        pass

    def send(self, message: Message, reference: str) -> Outcome:
        assert isinstance(message, OutgoingEmail)
        with self.lock:
            self.sent.append(message.envelope_to)
        return Sent(reference)

    def close(self) -> None:
        pass


class Gathering(Recording):
    """Holds every send until two workers have each claimed work, so the test sees claims interleave
    instead of hoping the scheduler wakes a second thread before the first drains the queue."""

    def __init__(self) -> None:
        super().__init__()
        self.senders: set[int] = set()
        self.second_sender = threading.Event()

    def send(self, message: Message, reference: str) -> Outcome:
        with self.lock:
            self.senders.add(threading.get_ident())
            if len(self.senders) > 1:
                self.second_sender.set()
        self.second_sender.wait(timeout=10)  # a claim that locked out the others shows up as one sender
        return super().send(message, reference)


def test_planning_twice_queues_nothing_twice(engine: Engine) -> None:
    ids = add_people(engine, 5)
    notification = new_notification(engine)
    with engine.begin() as conn:
        first = queue.plan(conn, notification, ids, "email", NOW)
        second = queue.plan(conn, notification, ids, "email", NOW)
        third = queue.plan_audience(conn, notification, "email", NOW)
        counts = queue.count_deliveries(conn, notification)
    assert (first, second, third) == (5, 0, 0)
    assert counts == {"pending": 5}


def test_audience_follows_topics_frequency_and_status(engine: Engine) -> None:
    health = add_people(engine, 2, topics=("health",))
    add_people(engine, 0)
    with engine.begin() as conn:
        everything = actions.subscribe(
            conn,
            email="all@example.org",
            phone=None,
            language="es",
            subscriptions=[Subscription("email", "immediate")],
            source="web",
            now=NOW,
            confirmed=True,
        ).subscriber_id
        actions.subscribe(
            conn,
            email="jobs@example.org",
            phone=None,
            language="en",
            subscriptions=[Subscription("email", "immediate", ("jobs",))],
            source="web",
            now=NOW,
            confirmed=True,
        )
        actions.subscribe(
            conn,
            email="daily@example.org",
            phone=None,
            language="en",
            subscriptions=[Subscription("email", "daily")],
            source="web",
            now=NOW,
            confirmed=True,
        )
        actions.subscribe(
            conn,
            email="unconfirmed@example.org",
            phone=None,
            language="en",
            subscriptions=[Subscription("email", "immediate")],
            source="web",
            now=NOW,
            confirmed=False,
        )
        notification = store.ensure_notification(conn, kind="test", key="alert:flu", payload={}, now=NOW)
        planned = queue.plan_audience(
            conn, notification, "email", NOW, topics=["health", "technology"], frequency="immediate"
        )
        rows = queue.delivery_rows(conn, notification)
    assert planned == 3
    assert sorted(row["subscriber_id"] for row in rows) == sorted([*health, everything])


def test_everyone_is_delivered_once_through_the_outbox(db_settings: Settings, engine: Engine) -> None:
    ids = add_people(engine, 7, language="ru")
    notification = new_notification(engine)
    with engine.begin() as conn:
        queue.plan(conn, notification, ids, "email", NOW)
    report = deliver(db_settings, NOW, engine=engine)
    again = deliver(db_settings, NOW + timedelta(hours=1), engine=engine)
    files = sorted((db_settings.outbox_dir / "email" / "new").iterdir())
    assert (report.sent, again.sent) == (7, 0)
    assert len(files) == 7
    message = message_from_bytes(files[0].read_bytes(), policy=policy.default)
    assert message["To"] == "person0@example.org"
    assert "Тестовое сообщение" in str(message["Subject"])
    assert not list((db_settings.outbox_dir / "email" / "tmp").iterdir())


@pytest.mark.parametrize("workers", [4])
def test_concurrent_workers_never_send_one_delivery_twice(
    db_settings: Settings, engine: Engine, workers: int
) -> None:
    ids = add_people(engine, 300)
    with engine.begin() as conn:
        for n in range(2):
            notification = store.ensure_notification(conn, kind="test", key=f"test:{n}", payload={}, now=NOW)
            queue.plan(conn, notification, ids, "email", NOW)
    transport = Gathering()
    start = threading.Barrier(workers)
    reports = []
    settings = with_delivery(db_settings, batch_size=7)

    def work(name: str) -> None:
        start.wait()
        reports.append(deliver(settings, NOW, engine=engine, transports={"email": transport}, worker=name))

    threads = [threading.Thread(target=work, args=(f"w{n}",)) for n in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert Counter(transport.sent).most_common(1)[0][1] == 2  # each person: once per notification
    assert len(transport.sent) == 600
    assert sum(r.sent for r in reports) == 600
    assert sum(1 for r in reports if r.sent) > 1, "the work was shared between workers"
    with engine.begin() as conn:
        assert queue.count_deliveries(conn) == {"sent": 600}


def test_suppressed_after_queueing_is_never_sent(db_settings: Settings, engine: Engine) -> None:
    ids = add_people(engine, 3)
    notification = new_notification(engine)
    with engine.begin() as conn:
        queue.plan(conn, notification, ids, "email", NOW)
        actions.unsubscribe(conn, ids[1], source="web", now=NOW)
    transport = Recording()
    report = deliver(db_settings, NOW, engine=engine, transports={"email": transport})
    assert sorted(transport.sent) == ["person0@example.org", "person2@example.org"]
    assert report.suppressed == 1
    with engine.begin() as conn:
        statuses = {row["address"]: row["status"] for row in queue.delivery_rows(conn, notification)}
    assert statuses["person1@example.org"] == "suppressed"


def test_suppressed_at_queue_time_is_recorded_not_sent(db_settings: Settings, engine: Engine) -> None:
    ids = add_people(engine, 2)
    notification = new_notification(engine)
    with engine.begin() as conn:
        store.suppress(conn, "person0@example.org", "bounce", NOW)
        queue.plan(conn, notification, ids, "email", NOW)
        assert queue.count_deliveries(conn, notification) == {"pending": 1, "suppressed": 1}
    transport = Recording()
    deliver(db_settings, NOW, engine=engine, transports={"email": transport})
    assert transport.sent == ["person1@example.org"]


@pytest.mark.parametrize("kind", ["confirmation", "goodbye"])
def test_confirmation_reaches_someone_who_unsubscribed_before_but_not_a_bounced_address(
    db_settings: Settings, engine: Engine, kind: str
) -> None:
    ids = add_people(engine, 2)
    with engine.begin() as conn:
        actions.unsubscribe(conn, ids[0], source="web", now=NOW)
        store.suppress(conn, "person1@example.org", "bounce", NOW)
        notification = store.ensure_notification(
            conn,
            kind=kind,
            key=f"{kind}:again",
            payload={"confirm_url": "https://x/c"},
            now=NOW,
        )
        queue.plan(conn, notification, ids, "email", NOW)
    transport = Recording()
    builders = {(kind, "email"): build_confirmation_email}
    deliver(db_settings, NOW, engine=engine, transports={"email": transport}, builders=builders)
    assert transport.sent == ["person0@example.org"]


def test_a_dead_workers_claims_are_recovered_and_nobody_is_skipped(
    db_settings: Settings, engine: Engine
) -> None:
    ids = add_people(engine, 5)
    notification = new_notification(engine)
    with engine.begin() as conn:
        queue.plan(conn, notification, ids, "email", NOW)
        claimed = queue.claim_batch(conn, "crashed-worker", NOW, 3)  # ... and then the process died
    assert len(claimed) == 3
    transport = Recording()
    soon = deliver(db_settings, NOW + timedelta(minutes=1), engine=engine, transports={"email": transport})
    assert soon.sent == 2, "a fresh claim is not taken from a worker that may still be sending"
    later = deliver(db_settings, NOW + timedelta(hours=1), engine=engine, transports={"email": transport})
    assert later.recovered == 3 and later.sent == 3
    assert sorted(transport.sent) == sorted(f"person{n}@example.org" for n in range(5))


def test_temporary_failures_back_off_then_give_up(db_settings: Settings, engine: Engine) -> None:
    ids = add_people(engine, 1)
    notification = new_notification(engine)
    with engine.begin() as conn:
        queue.plan(conn, notification, ids, "email", NOW)
    when = NOW
    outcomes = []
    for _ in range(db_settings.delivery.max_attempts):
        with engine.begin() as conn:
            [claimed] = queue.claim_batch(conn, "w", when, 10)
            outcomes.append(
                queue.record_temporary(conn, claimed, "451 busy", when, db_settings.delivery.max_attempts)
            )
            row = queue.delivery_rows(conn, notification)[0]
        when = row["next_attempt_at"]
    assert outcomes == [True] * (db_settings.delivery.max_attempts - 1) + [False]
    assert row["status"] == "failed" and "gave up after 6 attempts" in row["last_error"]
    assert [queue.backoff(n) for n in (1, 2, 3)] == [timedelta(minutes=m) for m in (1, 2, 4)]


def test_consent_log_cannot_be_rewritten(engine: Engine) -> None:
    add_people(engine, 1)
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(store.consent_log.update().values(action="nothing-happened"))
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(store.consent_log.delete())
    with engine.begin() as conn:
        assert [row["action"] for row in store.consent_history(conn, address="person0@example.org")] == [
            "subscribe"
        ]


def test_builders_get_the_subscribers_language_topics_and_frequency(
    db_settings: Settings, engine: Engine
) -> None:
    with engine.begin() as conn:
        ids = [
            actions.subscribe(
                conn,
                email=email,
                phone=None,
                language=language,
                subscriptions=[Subscription("email", frequency, topics)],
                source="cli",
                now=NOW,
                confirmed=True,
            ).subscriber_id
            for email, language, frequency, topics in (
                ("a@example.org", "ru", "immediate", ("jobs", "health")),
                ("b@example.org", "en", "daily", ()),
            )
        ]
        notification = store.ensure_notification(conn, kind="alert", key="alert:x:en", payload={}, now=NOW)
        queue.plan(conn, notification, ids, "email", NOW)
    seen: list[Recipient] = []

    def build(context: BuildContext, note: Notification, recipient: Recipient) -> Message:
        seen.append(recipient)
        return OutgoingEmail("news@example.gov", recipient.address, b"Subject: x\r\n\r\nx\r\n")

    deliver(
        db_settings,
        NOW,
        engine=engine,
        builders={("alert", "email"): build},
        transports={"email": Recording()},
    )
    assert {(r.address, r.language, r.frequency, r.topics) for r in seen} == {
        ("a@example.org", "ru", "immediate", ("health", "jobs")),
        ("b@example.org", "en", "daily", ()),
    }
