"""The subscribers database: SQLAlchemy Core tables and every query, each a named function.

Tables (the Alembic migrations in `migrations/` create them; `metadata` here must match):
    subscribers          one person: an email and/or an E.164 phone number, a language, a status
    subscriptions        per subscriber and channel (email, sms): all topics or some, and a frequency
    subscription_topics  the topics of a subscription that does not take everything
    consent_log          append-only record of every consent event; never updated or deleted
    suppressions         addresses and numbers that must not be sent to, with the reason
    notifications        one thing to send (an alert, a digest, a confirmation), unique by key
    deliveries           one (notification, subscriber, channel), the unit the queue works on

Addresses: emails are stored normalised and lower-cased (`normalise_email`), phones as E.164.
Every function takes an open `Connection`; the caller owns the transaction (`engine.begin()`).
Queue queries (planning, claiming, recording outcomes) live in `newsroom.delivery.queue`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    delete,
    exists,
    func,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Connection, RowMapping
from sqlalchemy.types import TypeDecorator

Channel = Literal["email", "sms"]
CHANNELS: tuple[Channel, ...] = ("email", "sms")
FREQUENCIES = ("immediate", "daily", "weekly")
STATUSES = ("pending", "active", "unsubscribed")
SOURCES = ("web", "email", "sms", "import", "cli", "api")
# Why an address is suppressed; only the first ones are lifted when the person subscribes again.
LIFTABLE_REASONS = ("unsubscribed",)
SUPPRESSION_REASONS = ("unsubscribed", "bounce", "complaint", "manual")


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on both databases (SQLite keeps no zone, so we store UTC and re-attach it)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: pass an aware time (UTC)")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


Json = JSON().with_variant(JSONB(), "postgresql")
Id = BigInteger().with_variant(Integer(), "sqlite")  # SQLite only auto-increments INTEGER PRIMARY KEY

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

subscribers = Table(
    "subscribers",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("email", String(320), unique=True, nullable=True),
    Column("phone", String(20), unique=True, nullable=True),
    Column("language", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("confirmed_at", UtcDateTime(), nullable=True),
    CheckConstraint("email IS NOT NULL OR phone IS NOT NULL", name="has_address"),
    CheckConstraint("status IN ('pending', 'active', 'unsubscribed')", name="status"),
)

subscriptions = Table(
    "subscriptions",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("subscriber_id", Id, ForeignKey("subscribers.id", ondelete="CASCADE"), nullable=False),
    Column("channel", String(8), nullable=False),
    Column("all_topics", Boolean, nullable=False),
    Column("frequency", String(16), nullable=False),
    UniqueConstraint("subscriber_id", "channel"),
    CheckConstraint("channel IN ('email', 'sms')", name="channel"),
    CheckConstraint("frequency IN ('immediate', 'daily', 'weekly')", name="frequency"),
)

subscription_topics = Table(
    "subscription_topics",
    metadata,
    Column(
        "subscription_id",
        Id,
        ForeignKey("subscriptions.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("topic", String(64), primary_key=True),
    Index(None, "topic"),
)

# No foreign key on purpose: the record outlives the subscriber row (erasure keeps the consent history).
consent_log = Table(
    "consent_log",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("subscriber_id", Id, nullable=True, index=True),
    Column("address", String(320), nullable=False, index=True),
    Column("channel", String(8), nullable=False),
    Column("action", String(32), nullable=False),
    Column("source", String(16), nullable=False),
    Column("at", UtcDateTime(), nullable=False),
    Column("detail", Json, nullable=False),
)

suppressions = Table(
    "suppressions",
    metadata,
    Column("address", String(320), primary_key=True),
    Column("reason", String(16), nullable=False),
    Column("at", UtcDateTime(), nullable=False),
    Column("detail", Text, nullable=False, default=""),
)

# When a number last got the help text in answer to a text we did not understand (once a day at most).
sms_help_replies = Table(
    "sms_help_replies",
    metadata,
    Column("address", String(20), primary_key=True),
    Column("replied_at", UtcDateTime(), nullable=False),
)

notifications = Table(
    "notifications",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("kind", String(32), nullable=False),
    Column("key", String(255), nullable=False, unique=True),
    Column("payload", Json, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
)

_OPEN = "status IN ('pending', 'sending')"
OPEN_DELIVERIES = text(_OPEN)  # add to queries on open deliveries: SQLite then uses ix_deliveries_due

deliveries = Table(
    "deliveries",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("notification_id", Id, ForeignKey("notifications.id", ondelete="CASCADE"), nullable=False),
    Column("subscriber_id", Id, ForeignKey("subscribers.id", ondelete="CASCADE"), nullable=False),
    Column("channel", String(8), nullable=False),
    Column("address", String(320), nullable=False),  # as it was when queued
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UtcDateTime(), nullable=False),
    Column("last_error", Text, nullable=True),
    Column("claimed_by", String(64), nullable=True),
    Column("claimed_at", UtcDateTime(), nullable=True),
    Column("sent_at", UtcDateTime(), nullable=True),
    Column("provider_id", String(255), nullable=True),
    # The SMS gateway's delivery report (newsroom.delivery.sms_reports): delivered, undelivered, ...
    Column("dlr_status", String(16), nullable=True),
    Column("dlr_answer", String(255), nullable=True),
    Column("dlr_at", UtcDateTime(), nullable=True),
    UniqueConstraint("notification_id", "subscriber_id", "channel"),
    CheckConstraint("status IN ('pending', 'sending', 'sent', 'failed', 'suppressed')", name="status"),
    # Only the rows a worker looks for: sent, failed and suppressed rows (nearly all, in time) stay out,
    # so recording "sent" leaves this index alone instead of rewriting it once per message.
    Index(
        "ix_deliveries_due",
        "status",
        "next_attempt_at",
        sqlite_where=text(_OPEN),
        postgresql_where=text(_OPEN),
    ),
    Index(None, "subscriber_id"),
)


@dataclass(frozen=True)
class Subscription:
    """What one subscriber wants on one channel; no topics means everything."""

    channel: Channel
    frequency: str = "immediate"
    topics: tuple[str, ...] = ()

    @property
    def all_topics(self) -> bool:
        return not self.topics


@dataclass(frozen=True)
class Subscriber:
    id: int
    email: str | None
    phone: str | None
    language: str
    status: str
    created_at: datetime
    confirmed_at: datetime | None
    subscriptions: tuple[Subscription, ...] = ()

    def address(self, channel: str) -> str | None:
        return self.email if channel == "email" else self.phone


def normalise_email(address: str) -> str:
    """The form we store and compare emails in: trimmed and lower-cased."""
    return address.strip().lower()


def channel_of(address: str) -> Channel:
    """Which channel an address belongs to: numbers start with '+', everything else is email."""
    return "sms" if address.startswith("+") else "email"


# --- subscribers -------------------------------------------------------------------------------------


def insert_subscriber(
    conn: Connection,
    *,
    email: str | None,
    phone: str | None,
    language: str,
    status: str,
    now: datetime,
) -> int:
    """Add a subscriber row and return its id (addresses must already be normalised)."""
    confirmed = now if status == "active" else None
    result = conn.execute(
        insert(subscribers)
        .values(
            email=email, phone=phone, language=language, status=status, created_at=now, confirmed_at=confirmed
        )
        .returning(subscribers.c.id)
    )
    return int(result.scalar_one())


def find_subscriber(conn: Connection, address: str) -> Subscriber | None:
    """The subscriber with this email or E.164 number, with their subscriptions; None if unknown."""
    column = subscribers.c.phone if channel_of(address) == "sms" else subscribers.c.email
    value = address if channel_of(address) == "sms" else normalise_email(address)
    row = conn.execute(select(subscribers).where(column == value)).mappings().first()
    return None if row is None else _subscriber(conn, row)


def get_subscriber(conn: Connection, subscriber_id: int) -> Subscriber | None:
    """One subscriber by id, with their subscriptions."""
    row = conn.execute(select(subscribers).where(subscribers.c.id == subscriber_id)).mappings().first()
    return None if row is None else _subscriber(conn, row)


def list_subscribers(
    conn: Connection, *, status: str | None = None, after_id: int = 0, limit: int = 1000
) -> list[Subscriber]:
    """A page of subscribers in id order (keyset pagination: pass the last id seen as after_id)."""
    query = select(subscribers).where(subscribers.c.id > after_id).order_by(subscribers.c.id).limit(limit)
    if status:
        query = query.where(subscribers.c.status == status)
    rows = conn.execute(query).mappings().all()
    topics = _subscriptions_of(conn, [int(row["id"]) for row in rows])
    return [_from_row(row, topics.get(int(row["id"]), ())) for row in rows]


def set_subscriber_fields(conn: Connection, subscriber_id: int, **fields: Any) -> None:
    """Change columns of one subscriber (email, phone, language, status, confirmed_at)."""
    conn.execute(update(subscribers).where(subscribers.c.id == subscriber_id).values(**fields))


def delete_subscriber(conn: Connection, subscriber_id: int) -> None:
    """Erase a subscriber's row, subscriptions and queued deliveries; the consent log is kept."""
    conn.execute(delete(subscribers).where(subscribers.c.id == subscriber_id))


def set_subscription(conn: Connection, subscriber_id: int, subscription: Subscription) -> None:
    """Create or replace the subscriber's subscription on one channel."""
    remove_subscription(conn, subscriber_id, subscription.channel)
    result = conn.execute(
        insert(subscriptions)
        .values(
            subscriber_id=subscriber_id,
            channel=subscription.channel,
            all_topics=subscription.all_topics,
            frequency=subscription.frequency,
        )
        .returning(subscriptions.c.id)
    )
    subscription_id = int(result.scalar_one())
    if subscription.topics:
        conn.execute(
            insert(subscription_topics),
            [
                {"subscription_id": subscription_id, "topic": topic}
                for topic in sorted(set(subscription.topics))
            ],
        )


def remove_subscription(conn: Connection, subscriber_id: int, channel: str) -> None:
    """Drop the subscriber's subscription on one channel (its topics go with it)."""
    conn.execute(
        delete(subscriptions).where(
            subscriptions.c.subscriber_id == subscriber_id, subscriptions.c.channel == channel
        )
    )


def audience_query(
    channel: str,
    *,
    topics: Iterable[str] | None = None,
    frequency: str | None = None,
    languages: Iterable[str] | None = None,
) -> Any:
    """SELECT subscriber id and address of active subscribers on `channel` who want any of `topics`.

    topics=None means "whatever the topic" (e.g. a digest gathers its own); frequency and languages
    narrow further. The result feeds `newsroom.delivery.queue.plan_audience` (INSERT ... SELECT).
    """
    address = subscribers.c.email if channel == "email" else subscribers.c.phone
    query = (
        select(subscribers.c.id.label("subscriber_id"), address.label("address"))
        .join(subscriptions, subscriptions.c.subscriber_id == subscribers.c.id)
        .where(subscribers.c.status == "active", subscriptions.c.channel == channel, address.is_not(None))
    )
    if frequency is not None:
        query = query.where(subscriptions.c.frequency == frequency)
    if languages is not None:
        query = query.where(subscribers.c.language.in_(list(languages)))
    if topics is not None:
        wanted = exists().where(
            subscription_topics.c.subscription_id == subscriptions.c.id,
            subscription_topics.c.topic.in_(list(topics)),
        )
        query = query.where(or_(subscriptions.c.all_topics.is_(True), wanted))
    return query


def count_subscribers(conn: Connection) -> dict[str, int]:
    """How many subscribers there are in each status."""
    rows = conn.execute(select(subscribers.c.status, func.count()).group_by(subscribers.c.status))
    return {str(status): int(count) for status, count in rows}


def count_subscriptions(conn: Connection) -> dict[tuple[str, str], int]:
    """Active subscribers per (channel, frequency)."""
    query = (
        select(subscriptions.c.channel, subscriptions.c.frequency, func.count())
        .join(subscribers, subscribers.c.id == subscriptions.c.subscriber_id)
        .where(subscribers.c.status == "active")
        .group_by(subscriptions.c.channel, subscriptions.c.frequency)
    )
    return {(str(ch), str(fr)): int(n) for ch, fr, n in conn.execute(query)}


def count_by_language(conn: Connection) -> dict[str, int]:
    """Active subscribers per preferred language."""
    query = (
        select(subscribers.c.language, func.count())
        .where(subscribers.c.status == "active")
        .group_by(subscribers.c.language)
    )
    return {str(lang): int(n) for lang, n in conn.execute(query)}


def count_by_topic(conn: Connection) -> dict[str, int]:
    """Active subscriptions naming each topic ('*' counts those that take everything)."""
    named = (
        select(subscription_topics.c.topic, func.count())
        .join(subscriptions, subscriptions.c.id == subscription_topics.c.subscription_id)
        .join(subscribers, subscribers.c.id == subscriptions.c.subscriber_id)
        .where(subscribers.c.status == "active")
        .group_by(subscription_topics.c.topic)
    )
    counts = {str(topic): int(n) for topic, n in conn.execute(named)}
    everything = conn.execute(
        select(func.count())
        .select_from(subscriptions.join(subscribers, subscribers.c.id == subscriptions.c.subscriber_id))
        .where(subscribers.c.status == "active", subscriptions.c.all_topics.is_(True))
    ).scalar_one()
    counts["*"] = int(everything)
    return counts


def _subscriber(conn: Connection, row: RowMapping) -> Subscriber:
    return _from_row(row, _subscriptions_of(conn, [int(row["id"])]).get(int(row["id"]), ()))


def _from_row(row: RowMapping, subs: tuple[Subscription, ...]) -> Subscriber:
    return Subscriber(
        id=int(row["id"]),
        email=row["email"],
        phone=row["phone"],
        language=row["language"],
        status=row["status"],
        created_at=row["created_at"],
        confirmed_at=row["confirmed_at"],
        subscriptions=subs,
    )


def _subscriptions_of(conn: Connection, ids: Sequence[int]) -> dict[int, tuple[Subscription, ...]]:
    """Subscriptions (with topics) of the given subscribers, in two queries whatever their number."""
    if not ids:
        return {}
    rows = list(
        conn.execute(
            select(subscriptions)
            .where(subscriptions.c.subscriber_id.in_(ids))
            .order_by(subscriptions.c.subscriber_id, subscriptions.c.channel)
        ).mappings()
    )
    topic_rows = conn.execute(
        select(subscription_topics.c.subscription_id, subscription_topics.c.topic)
        .where(subscription_topics.c.subscription_id.in_([row["id"] for row in rows]))
        .order_by(subscription_topics.c.topic)
    )
    topics: dict[int, list[str]] = {}
    for subscription_id, topic in topic_rows:
        topics.setdefault(int(subscription_id), []).append(str(topic))
    result: dict[int, list[Subscription]] = {}
    for row in rows:
        names = () if row["all_topics"] else tuple(topics.get(int(row["id"]), ()))
        result.setdefault(int(row["subscriber_id"]), []).append(
            Subscription(channel=row["channel"], frequency=row["frequency"], topics=names)
        )
    return {key: tuple(value) for key, value in result.items()}


# --- consent log (append-only) --------------------------------------------------------------------------


def log_consent(
    conn: Connection,
    *,
    subscriber_id: int | None,
    address: str,
    channel: str,
    action: str,
    source: str,
    now: datetime,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append one consent event (subscribe, confirm, preferences, unsubscribe, bounce, complaint, import).

    This module offers no function that updates or deletes consent_log rows, and the database
    refuses to (triggers on both SQLite and PostgreSQL), so the record cannot be rewritten.
    """
    if source not in SOURCES:
        raise ValueError(f"consent source {source!r} is not one of {SOURCES}")
    conn.execute(
        insert(consent_log).values(
            subscriber_id=subscriber_id,
            address=address,
            channel=channel,
            action=action,
            source=source,
            at=now,
            detail=detail or {},
        )
    )


def consent_history(
    conn: Connection, *, address: str | None = None, subscriber_id: int | None = None
) -> list[dict[str, Any]]:
    """Every consent event for an address or a subscriber, oldest first."""
    query = select(consent_log).order_by(consent_log.c.id)
    if address is not None:
        query = query.where(consent_log.c.address == address)
    if subscriber_id is not None:
        query = query.where(consent_log.c.subscriber_id == subscriber_id)
    return [dict(row) for row in conn.execute(query).mappings()]


def count_consent_actions(conn: Connection) -> dict[str, int]:
    """How many consent events of each action the log holds."""
    rows = conn.execute(select(consent_log.c.action, func.count()).group_by(consent_log.c.action))
    return {str(action): int(n) for action, n in rows}


# --- suppressions ---------------------------------------------------------------------------------------


def suppress(conn: Connection, address: str, reason: str, now: datetime, detail: str = "") -> None:
    """Put an address on the suppression list (a stronger reason replaces 'unsubscribed')."""
    if reason not in SUPPRESSION_REASONS:
        raise ValueError(f"suppression reason {reason!r} is not one of {SUPPRESSION_REASONS}")
    current = conn.execute(select(suppressions.c.reason).where(suppressions.c.address == address)).scalar()
    if current is None:
        conn.execute(insert(suppressions).values(address=address, reason=reason, at=now, detail=detail))
    elif current in LIFTABLE_REASONS and reason not in LIFTABLE_REASONS:
        conn.execute(
            update(suppressions)
            .where(suppressions.c.address == address)
            .values(reason=reason, at=now, detail=detail)
        )


def lift_suppression(conn: Connection, address: str) -> bool:
    """Remove an 'unsubscribed' suppression (the person subscribed again); bounces and complaints stay."""
    result = conn.execute(
        delete(suppressions).where(
            suppressions.c.address == address, suppressions.c.reason.in_(LIFTABLE_REASONS)
        )
    )
    return result.rowcount > 0


def suppression_of(conn: Connection, address: str) -> str | None:
    """Why an address is suppressed, or None if it may be sent to."""
    return conn.execute(select(suppressions.c.reason).where(suppressions.c.address == address)).scalar()


def suppressed_among(conn: Connection, addresses: Sequence[str]) -> dict[str, str]:
    """The suppressed addresses among `addresses`, with their reasons (one query per call)."""
    if not addresses:
        return {}
    rows = conn.execute(
        select(suppressions.c.address, suppressions.c.reason).where(suppressions.c.address.in_(addresses))
    )
    return {str(address): str(reason) for address, reason in rows}


def count_suppressions(conn: Connection) -> dict[str, int]:
    """How many addresses are suppressed for each reason."""
    rows = conn.execute(select(suppressions.c.reason, func.count()).group_by(suppressions.c.reason))
    return {str(reason): int(n) for reason, n in rows}


def is_blocking(reason: str | None, kind: str) -> bool:
    """Whether a suppression stops a message of this notification kind.

    A confirmation is what someone who unsubscribed asks for when they subscribe again, and a
    goodbye is the receipt of an unsubscribe, so for those only bounces, complaints and manual
    blocks count; every suppression stops every other kind.
    """
    if reason is None:
        return False
    return not (kind in TRANSACTIONAL_KINDS and reason in LIFTABLE_REASONS)


# Notification kinds a person asked for themselves ("confirm" is the email renderer's name for it;
# "sms_confirm" is the web app's "reply YES" text to a number that may have sent STOP before).
TRANSACTIONAL_KINDS = frozenset({"confirmation", "confirm", "sms_confirm", "goodbye"})


# --- notifications --------------------------------------------------------------------------------------


def ensure_notification(
    conn: Connection, *, kind: str, key: str, payload: dict[str, Any], now: datetime
) -> int:
    """The id of the notification with this key, creating it if new (the payload of an existing one stays)."""
    existing = conn.execute(select(notifications.c.id).where(notifications.c.key == key)).scalar()
    if existing is not None:
        return int(existing)
    stmt = _insert_for(conn)(notifications).values(kind=kind, key=key, payload=payload, created_at=now)
    conn.execute(stmt.on_conflict_do_nothing(index_elements=["key"]))
    return int(conn.execute(select(notifications.c.id).where(notifications.c.key == key)).scalar_one())


def get_notification(conn: Connection, notification_id: int) -> dict[str, Any] | None:
    """One notification by id (kind, key, payload)."""
    row = conn.execute(select(notifications).where(notifications.c.id == notification_id)).mappings().first()
    return None if row is None else dict(row)


def _insert_for(conn: Connection) -> Any:
    """The dialect's INSERT that knows ON CONFLICT DO NOTHING (SQLite and PostgreSQL both have it)."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert


def dialect_insert(conn: Connection) -> Any:
    """Public alias of the dialect-aware INSERT for the queue module."""
    return _insert_for(conn)
