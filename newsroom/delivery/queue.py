"""The delivery queue: plan deliveries, claim batches, record outcomes, retry with backoff.

Life of a delivery (one row per notification, subscriber and channel; the unique key makes planning
idempotent):

    pending --claim--> sending --sent--> sent
       ^                  |----temporary failure, attempts left--> pending (next_attempt_at later)
       |                  |----temporary failure, none left------> failed
       |                  '----permanent failure-----------------> failed + address suppressed
       '--recover_stale-- sending (claim older than STALE_AFTER: the worker died)
    planned for a suppressed address, or found suppressed when claimed --> suppressed

Claiming is one UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED) ... RETURNING: on
PostgreSQL concurrent workers skip each other's rows; on SQLite the same statement runs inside
BEGIN IMMEDIATE (see newsroom.subscribers.db), which lets one writer in at a time, so no two workers
can claim one row either.

Crash window. The worker records each outcome right after the transport returns it, in its own
committed statement, before sending the next message. If the process dies between a transport
accepting a message and that record, the one message in flight keeps status 'sending'; every other
claimed row is either recorded or was never handed over. `recover_stale` (run at the start of every
`deliver`) puts 'sending' rows whose claim is older than STALE_AFTER back to pending, so nothing is
ever skipped; the price is that the single in-flight message may be sent a second time. The outbox
transport names files after the delivery, so there the resend replaces the file instead of adding one.
On PostgreSQL the "sent" UPDATE is handed to the server complete before the next message goes out,
and the worker reads its result afterwards (`SentRecorder`): the server runs it even if the worker
dies meanwhile, so the window is still one message.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from select import select as wait_for_socket
from typing import Any

from psycopg import pq
from sqlalchemy import Select, bindparam, case, exists, func, literal, select, update
from sqlalchemy.engine import Connection

from newsroom.errors import DeliveryError
from newsroom.subscribers import store
from newsroom.subscribers.store import (
    deliveries,
    subscribers,
    subscription_topics,
    subscriptions,
    suppressions,
)

STALE_AFTER = timedelta(minutes=15)  # far longer than any batch takes; shorter than anyone waits
BACKOFF_FIRST = timedelta(minutes=1)  # then 2, 4, 8, 16 ... minutes
BACKOFF_LONGEST = timedelta(hours=6)
_CHUNK = 500  # ids per IN (...) list: well under SQLite's variable limit


@dataclass(frozen=True)
class Claimed:
    """A delivery a worker has claimed and must now send and record."""

    id: int
    notification_id: int
    subscriber_id: int
    channel: str
    address: str
    attempts: int  # including this one
    language: str
    frequency: str | None = None  # the subscription on this channel (None: none, e.g. a confirmation)
    topics: tuple[str, ...] = ()  # its topics; empty: everything


def _blocking_reasons(kind: str) -> list[str]:
    return [r for r in store.SUPPRESSION_REASONS if store.is_blocking(r, kind)]


def _plan_from(
    conn: Connection, notification_id: int, channel: str, audience: Select[Any], now: datetime
) -> int:
    """INSERT ... SELECT the audience as deliveries; ON CONFLICT DO NOTHING keeps planning idempotent."""
    source = audience.subquery()
    blocked = exists().where(
        suppressions.c.address == source.c.address,
        suppressions.c.reason.in_(_blocking_reasons(_kind_of(conn, notification_id))),
    )
    rows = select(
        literal(notification_id).label("notification_id"),
        source.c.subscriber_id,
        literal(channel).label("channel"),
        source.c.address,
        case((blocked, "suppressed"), else_="pending").label("status"),
        literal(0).label("attempts"),
        literal(now, store.UtcDateTime()).label("next_attempt_at"),
    ).where(source.c.address.is_not(None))
    columns = [
        "notification_id",
        "subscriber_id",
        "channel",
        "address",
        "status",
        "attempts",
        "next_attempt_at",
    ]
    statement = store.dialect_insert(conn)(deliveries).from_select(columns, rows).on_conflict_do_nothing()
    return int(conn.execute(statement, execution_options={"preserve_rowcount": True}).rowcount)


def plan_audience(
    conn: Connection,
    notification_id: int,
    channel: str,
    now: datetime,
    *,
    topics: Iterable[str] | None = None,
    frequency: str | None = None,
    languages: Iterable[str] | None = None,
) -> int:
    """Queue the notification for every active subscriber on `channel` who matches; returns how many were new.

    topics: any of these (None: whatever the topic); frequency: e.g. "immediate" for alerts, "daily"
    for the daily digest; languages: only subscribers preferring one of these.
    """
    audience = store.audience_query(channel, topics=topics, frequency=frequency, languages=languages)
    return _plan_from(conn, notification_id, channel, audience, now)


def plan(
    conn: Connection, notification_id: int, subscriber_ids: Iterable[int], channel: str, now: datetime
) -> int:
    """Queue the notification for these subscribers on `channel`; planning twice queues nothing twice.

    Subscribers without an address on the channel are skipped; suppressed addresses are recorded as
    'suppressed' deliveries, so they show in the counts but are never sent.
    """
    address = subscribers.c.email if channel == "email" else subscribers.c.phone
    planned = 0
    for chunk in _chunks(list(subscriber_ids)):
        query = select(subscribers.c.id.label("subscriber_id"), address.label("address")).where(
            subscribers.c.id.in_(chunk)
        )
        planned += _plan_from(conn, notification_id, channel, query, now)
    return planned


def claim_batch(conn: Connection, worker: str, now: datetime, size: int) -> list[Claimed]:
    """Claim up to `size` due pending deliveries for `worker` (skipping rows other workers hold)."""
    due = (
        select(deliveries.c.id)
        .where(deliveries.c.status == "pending", deliveries.c.next_attempt_at <= now)
        .where(store.OPEN_DELIVERIES)  # the partial index's own condition, so SQLite uses that index
        .order_by(deliveries.c.next_attempt_at)  # walks the (status, next_attempt_at) index; stops at size
        .limit(size)
        .with_for_update(skip_locked=True)
    )
    taken = conn.execute(
        update(deliveries)
        .where(deliveries.c.id.in_(due.scalar_subquery()))
        .values(status="sending", claimed_by=worker, claimed_at=now, attempts=deliveries.c.attempts + 1)
        .returning(deliveries.c.id)
    ).scalars()
    ids = sorted(int(i) for i in taken)
    if not ids:
        return []
    rows = conn.execute(
        select(
            deliveries.c.id,
            deliveries.c.notification_id,
            deliveries.c.subscriber_id,
            deliveries.c.channel,
            deliveries.c.address,
            deliveries.c.attempts,
            subscribers.c.language,
            subscriptions.c.frequency,
            subscriptions.c.id.label("subscription_id"),
        )
        .join(subscribers, subscribers.c.id == deliveries.c.subscriber_id)
        .outerjoin(
            subscriptions,
            (subscriptions.c.subscriber_id == deliveries.c.subscriber_id)
            & (subscriptions.c.channel == deliveries.c.channel),
        )
        .where(deliveries.c.id.in_(ids))
    ).all()
    topics = _topics_of([row.subscription_id for row in rows if row.subscription_id is not None], conn)
    claimed = [Claimed(*row[:8], topics=topics.get(row.subscription_id, ())) for row in rows]
    # Grouped so that builders preparing one message per (notification, language, topics) reuse it
    claimed.sort(key=lambda c: (c.notification_id, c.language, c.topics, c.id))
    return claimed


def _topics_of(subscription_ids: list[int], conn: Connection) -> dict[int, tuple[str, ...]]:
    """The topics of these subscriptions (those taking everything have none)."""
    found: dict[int, list[str]] = {}
    for chunk in _chunks(subscription_ids):
        rows = conn.execute(
            select(subscription_topics.c.subscription_id, subscription_topics.c.topic)
            .where(subscription_topics.c.subscription_id.in_(chunk))
            .order_by(subscription_topics.c.topic)
        )
        for subscription_id, topic in rows:
            found.setdefault(int(subscription_id), []).append(str(topic))
    return {key: tuple(value) for key, value in found.items()}


# Built once: recording an outcome runs once per message, so its statement is not rebuilt each time.
_SENT = (
    update(deliveries)
    .where(deliveries.c.id == bindparam("delivery_id"))
    .values(
        status="sent",
        sent_at=bindparam("sent_at", type_=store.UtcDateTime()),
        provider_id=bindparam("provider_id"),
        last_error=None,
    )
)


def record_sent(conn: Connection, delivery_id: int, provider_id: str, now: datetime) -> None:
    """The transport accepted the message."""
    conn.execute(_SENT, {"delivery_id": delivery_id, "sent_at": now, "provider_id": provider_id or None})


class SentRecorder:
    """Records "sent" through the database driver itself, one autocommitted UPDATE per message.

    The same statement as `record_sent`, without SQLAlchemy's per-execution work: it runs once per
    message, between two SMTP transactions, so it sets how close delivery gets to a bare smtplib
    loop. On PostgreSQL the UPDATE is written to the server's socket and the worker goes on to send
    the next message while the server runs it; its result is collected (`collect`) before the next
    UPDATE or any other use of the connection. A crash of the worker still loses at most the message
    in flight: the previous UPDATE already sits complete in the socket, and the server runs it.
    `connection` must be in AUTOCOMMIT mode.
    """

    def __init__(self, connection: Connection) -> None:
        self.driver: Any = connection.connection.driver_connection
        self.sqlite = connection.dialect.name == "sqlite"
        self.waiting = False  # an UPDATE was sent and its result not yet read (PostgreSQL)
        self.info = connection.connection.info  # lives as long as the database connection itself

    def __call__(self, delivery_id: int, provider_id: str, now: datetime) -> None:
        if self.sqlite:  # stored the way store.UtcDateTime stores it on SQLite: naive UTC text
            stamp = now.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
            self.driver.execute(_SENT_SQLITE, (stamp, provider_id or None, delivery_id))
            return
        self.collect()
        pgconn = self.driver.pgconn
        if not self.info.get(_SENT_NAME):  # parsed and planned once per connection, not per message
            pgconn.send_prepare(_SENT_NAME, _SENT_PG)
            self._sent_to_server()
            self.collect()
            self.info[_SENT_NAME] = True
        provider = provider_id.encode("utf-8") if provider_id else None
        params = [now.astimezone(UTC).isoformat().encode(), provider, str(delivery_id).encode()]
        pgconn.send_query_prepared(_SENT_NAME, params)
        self._sent_to_server()

    def _sent_to_server(self) -> None:
        pgconn = self.driver.pgconn
        while pgconn.flush():  # until the whole statement is in the socket
            wait_for_socket([], [pgconn.socket], [])
        self.waiting = True

    def collect(self) -> None:
        """Wait for the UPDATE in flight (if any) and raise if the server refused it."""
        if not self.waiting:
            return
        self.waiting = False
        pgconn, problem = self.driver.pgconn, b""
        while True:
            while pgconn.is_busy():
                wait_for_socket([pgconn.socket], [], [])
                pgconn.consume_input()
            result = pgconn.get_result()
            if result is None:
                break
            if result.status != pq.ExecStatus.COMMAND_OK:
                problem = result.error_message
        if problem:
            raise DeliveryError(f"recording a sent message failed: {problem.decode('utf-8', 'replace')}")


_SENT_SQLITE = (
    "UPDATE deliveries SET status = 'sent', sent_at = ?, provider_id = ?, last_error = NULL WHERE id = ?"
)
_SENT_NAME = b"newsroom_record_sent"
_SENT_PG = (
    b"UPDATE deliveries SET status = 'sent', sent_at = $1, provider_id = $2, last_error = NULL WHERE id = $3"
)


def record_temporary(
    conn: Connection, claimed: Claimed, reason: str, now: datetime, max_attempts: int
) -> bool:
    """Retry later with exponential backoff, or give up (failed) after max_attempts; True if retrying."""
    if claimed.attempts >= max_attempts:
        conn.execute(
            update(deliveries)
            .where(deliveries.c.id == claimed.id)
            .values(status="failed", last_error=f"gave up after {claimed.attempts} attempts: {reason}")
        )
        return False
    conn.execute(
        update(deliveries)
        .where(deliveries.c.id == claimed.id)
        .values(
            status="pending",
            next_attempt_at=now + backoff(claimed.attempts),
            last_error=reason,
            claimed_by=None,
            claimed_at=None,
        )
    )
    return True


def backoff(attempts: int) -> timedelta:
    """How long to wait after the n-th failed attempt: 1, 2, 4, 8 ... minutes, at most 6 hours."""
    delay: timedelta = BACKOFF_FIRST * 2 ** max(attempts - 1, 0)
    return min(delay, BACKOFF_LONGEST)


def record_permanent(conn: Connection, claimed: Claimed, reason: str, now: datetime) -> None:
    """Mark the delivery failed, suppress the address and log the bounce (one transaction)."""
    conn.execute(
        update(deliveries).where(deliveries.c.id == claimed.id).values(status="failed", last_error=reason)
    )
    store.suppress(conn, claimed.address, "bounce", now, detail=reason)
    store.log_consent(
        conn,
        subscriber_id=claimed.subscriber_id,
        address=claimed.address,
        channel=claimed.channel,
        action="bounce",
        source="api",
        now=now,
        detail={"reason": reason, "delivery_id": claimed.id},
    )


def mark_suppressed(conn: Connection, delivery_ids: Sequence[int], reason: str) -> None:
    """Claimed deliveries whose address turned out to be suppressed: never sent."""
    for chunk in _chunks(list(delivery_ids)):
        conn.execute(
            update(deliveries)
            .where(deliveries.c.id.in_(chunk))
            .values(status="suppressed", last_error=f"suppressed: {reason}")
        )


def release(conn: Connection, delivery_ids: Sequence[int]) -> None:
    """Give claimed deliveries back to the queue untouched (e.g. the run stopped before sending them)."""
    for chunk in _chunks(list(delivery_ids)):
        conn.execute(
            update(deliveries)
            .where(deliveries.c.id.in_(chunk), deliveries.c.status == "sending")
            .values(status="pending", claimed_by=None, claimed_at=None, attempts=deliveries.c.attempts - 1)
        )


def recover_stale(conn: Connection, now: datetime, older_than: timedelta = STALE_AFTER) -> int:
    """Put deliveries claimed by a worker that died (claim older than `older_than`) back to pending."""
    result = conn.execute(
        update(deliveries)
        .where(deliveries.c.status == "sending", deliveries.c.claimed_at < now - older_than)
        .where(store.OPEN_DELIVERIES)
        .values(status="pending", claimed_by=None, claimed_at=None, next_attempt_at=now)
    )
    return int(result.rowcount)


def count_due(conn: Connection, now: datetime) -> int:
    """Pending deliveries whose time has come."""
    return int(
        conn.execute(
            select(func.count())
            .select_from(deliveries)
            .where(deliveries.c.status == "pending", deliveries.c.next_attempt_at <= now)
            .where(store.OPEN_DELIVERIES)
        ).scalar_one()
    )


def count_deliveries(conn: Connection, notification_id: int | None = None) -> dict[str, int]:
    """Deliveries per status, for one notification or all."""
    query = select(deliveries.c.status, func.count()).group_by(deliveries.c.status)
    if notification_id is not None:
        query = query.where(deliveries.c.notification_id == notification_id)
    return {str(status): int(n) for status, n in conn.execute(query)}


def delivery_rows(conn: Connection, notification_id: int) -> list[dict[str, Any]]:
    """Every delivery of one notification, in id order (for tests and inspection)."""
    query = (
        select(deliveries).where(deliveries.c.notification_id == notification_id).order_by(deliveries.c.id)
    )
    return [dict(row) for row in conn.execute(query).mappings()]


def _kind_of(conn: Connection, notification_id: int) -> str:
    notification = store.get_notification(conn, notification_id)
    if notification is None:
        raise LookupError(f"no notification with id {notification_id}")
    return str(notification["kind"])


def _chunks(items: list[int]) -> Iterable[list[int]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]
