"""What the web app does to the subscribers database: each visitor action is one transaction.

Every action appends to the consent log (source "web" for forms, "email" for links followed from an
email, "api" for the JSON API) and queues any message it causes through the delivery queue, so the
messages leave through `newsroom deliver` like everything else.

No enumeration: `subscribe` behaves the same towards the caller whatever state the address is in. What
differs is only the message queued for the address itself:

    unknown, pending, unsubscribed  -> pending; a confirmation (email) or a YES request (text)
    active                          -> nothing changes; email gets "you are already subscribed"
                                       (with a link to the preferences page); a number gets nothing
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Engine, bindparam, insert, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from newsroom.delivery import queue
from newsroom.subscribers import store
from newsroom.subscribers.store import Channel, Subscriber
from newsroom.web.forms import Address, Choice, PreferencesForm

# Notification kinds the web app queues (builders: newsroom.web.messages, or the email/SMS renderers).
CONFIRMATION = "confirmation"  # email: "confirm your subscription" with the signed link
ALREADY_SUBSCRIBED = "already_subscribed"  # email: "you are already subscribed", link to preferences
SMS_CONFIRM = "sms_confirm"  # text: "reply YES to confirm"


class UnknownSubscriber(LookupError):
    """A genuine token naming a subscriber who no longer exists (erased)."""


def subscribe(engine: Engine, address: Address, choice: Choice, source: str, now: datetime) -> None:
    """Sign `address` up for `choice` (pending until confirmed) or remind an active subscriber."""
    for attempt in range(2):
        try:
            with engine.begin() as conn:
                _subscribe(conn, address, choice, source, now)
            return
        except IntegrityError:
            # Two requests for one new address raced on PostgreSQL; the second now finds the row.
            if attempt:
                raise


def _subscribe(conn: Connection, address: Address, choice: Choice, source: str, now: datetime) -> None:
    existing = store.find_subscriber(conn, address.value)
    state = "new" if existing is None else existing.status
    wanted = choice.subscription(address.channel)
    if existing is not None and existing.status == "active" and _has_channel(existing, address.channel):
        kind = ALREADY_SUBSCRIBED if address.channel == "email" else None
        subscriber_id = existing.id
    else:
        if existing is None:
            subscriber_id = store.insert_subscriber(
                conn,
                email=address.value if address.channel == "email" else None,
                phone=address.value if address.channel == "sms" else None,
                language=choice.language,
                status="pending",
                now=now,
            )
        elif existing.status != "active":
            # Not confirmed (or gone): the new request replaces the old one until it is confirmed.
            subscriber_id = existing.id
            store.set_subscriber_fields(conn, subscriber_id, language=choice.language, status="pending")
        else:
            subscriber_id = existing.id  # active on the other channel: only the YES request goes out
        if existing is None or existing.status != "active":
            store.set_subscription(conn, subscriber_id, wanted)
        kind = CONFIRMATION if address.channel == "email" else SMS_CONFIRM
    store.log_consent(
        conn,
        subscriber_id=subscriber_id,
        address=address.value,
        channel=address.channel,
        action="subscribe",
        source=source,
        now=now,
        detail={"state": state, **_describe(wanted, choice.language)},
    )
    if kind is not None:
        asked = {"frequency": wanted.frequency, "topics": list(wanted.topics)}  # the email says what
        queue_message(conn, kind, subscriber_id, address.channel, now, asked)


def queue_message(
    conn: Connection,
    kind: str,
    subscriber_id: int,
    channel: str,
    now: datetime,
    extra: dict[str, Any] | None = None,
) -> None:
    """Queue one message of `kind` to one subscriber (a fresh notification per request)."""
    key = f"{kind}:{subscriber_id}:{now.strftime('%Y%m%dT%H%M%S')}:{secrets.token_hex(4)}"
    payload = {"subscriber_id": subscriber_id, "requested_at": now.isoformat(), **(extra or {})}
    notification_id = store.ensure_notification(conn, kind=kind, key=key, payload=payload, now=now)
    queue.plan(conn, notification_id, [subscriber_id], channel, now)


def confirm(engine: Engine, subscriber_id: int, now: datetime) -> Subscriber:
    """Make a pending email subscriber active (double opt-in); already active stays active."""
    with engine.begin() as conn:
        subscriber = _subscriber(conn, subscriber_id)
        if subscriber.status != "active" and subscriber.email:
            store.set_subscriber_fields(conn, subscriber_id, status="active", confirmed_at=now)
            store.lift_suppression(conn, subscriber.email)
            store.log_consent(
                conn,
                subscriber_id=subscriber_id,
                address=subscriber.email,
                channel="email",
                action="confirm",
                source="email",
                now=now,
            )
        return _subscriber(conn, subscriber_id)


@dataclass(frozen=True)
class Unsubscribed:
    changed: bool  # False: they had already left (or were erased), and nothing was logged
    language: str | None  # theirs, for the goodbye page; None if erased


def unsubscribe(engine: Engine, subscriber_id: int, source: str, now: datetime) -> Unsubscribed:
    """Stop everything for this subscriber at once: every channel, every address suppressed.

    This is the one-click path mail providers call in bulk, so it runs four prepared statements
    (the same effect as store.set_subscriber_fields + store.suppress + store.log_consent).
    """
    with engine.begin() as conn:
        row = conn.execute(_WHO, {"subscriber": subscriber_id}).first()
        if row is None or row.status == "unsubscribed":
            return Unsubscribed(False, row.language if row is not None else None)
        conn.execute(_LEAVE, {"subscriber": subscriber_id})
        for channel, address in (("email", row.email), ("sms", row.phone)):
            if address:
                conn.execute(_suppress_statement(conn), {"address": address, "at": now})
                conn.execute(
                    _CONSENT,
                    {"subscriber_id": subscriber_id, "address": address, "channel": channel,
                     "action": "unsubscribe", "source": source, "at": now, "detail": {}},
                )  # fmt: skip
        return Unsubscribed(True, row.language)


_WHO = select(
    store.subscribers.c.email,
    store.subscribers.c.phone,
    store.subscribers.c.status,
    store.subscribers.c.language,
).where(store.subscribers.c.id == bindparam("subscriber"))
_LEAVE = (
    update(store.subscribers)
    .where(store.subscribers.c.id == bindparam("subscriber"))
    .values(status="unsubscribed")
)
_CONSENT = insert(store.consent_log)


@cache
def _suppress_for(dialect: str) -> Any:
    # A stronger reason already there (bounce, complaint) stays: "unsubscribed" never replaces one.
    statement = sqlite_insert if dialect == "sqlite" else postgresql_insert
    return (
        statement(store.suppressions)
        .values(address=bindparam("address"), reason="unsubscribed", at=bindparam("at"), detail="")
        .on_conflict_do_nothing(index_elements=["address"])
    )


def _suppress_statement(conn: Connection) -> Any:
    return _suppress_for(conn.dialect.name)


def resubscribe(engine: Engine, subscriber_id: int, now: datetime) -> Subscriber:
    """Undo an unsubscribe from the goodbye page (the link proved the address); same subscriptions."""
    with engine.begin() as conn:
        subscriber = _subscriber(conn, subscriber_id)
        if subscriber.status == "unsubscribed" and subscriber.confirmed_at is not None:
            store.set_subscriber_fields(conn, subscriber_id, status="active")
            for channel in ("email", "sms"):
                address = subscriber.address(channel)
                if address and _has_channel(subscriber, channel):
                    store.lift_suppression(conn, address)
                    store.log_consent(
                        conn,
                        subscriber_id=subscriber_id,
                        address=address,
                        channel=channel,
                        action="resubscribe",
                        source="web",
                        now=now,
                    )
        return _subscriber(conn, subscriber_id)


@dataclass(frozen=True)
class PreferencesOutcome:
    subscriber: Subscriber
    text_confirmation_sent: bool  # a new number was added: it waits for a YES reply


def update_preferences(
    engine: Engine, subscriber_id: int, form: PreferencesForm, source: str, now: datetime
) -> PreferencesOutcome:
    """Apply the preferences form: language, topics, frequency, channels, the number for texts.

    A number added here gets a YES request and no subscription yet: the SMS keyword handler adds the
    text subscription when the YES arrives (consent first). A number already used by someone else is
    not attached (the page says the same either way).
    """
    with engine.begin() as conn:
        subscriber = _subscriber(conn, subscriber_id)
        choice = form.choice
        store.set_subscriber_fields(conn, subscriber_id, language=choice.language)
        if subscriber.email:
            _set_channel(conn, subscriber, "email", form.email, choice, source, now)
        asked_for_text = False
        if form.sms and form.phone is not None:
            asked_for_text = _set_phone(conn, subscriber, form.phone.value, choice, source, now)
        elif not form.sms and subscriber.phone:
            _drop_phone(conn, subscriber, source, now)
        store.log_consent(
            conn,
            subscriber_id=subscriber_id,
            address=subscriber.email or subscriber.phone or "",
            channel="email" if subscriber.email else "sms",
            action="preferences",
            source=source,
            now=now,
            detail={**_describe(choice.subscription("email"), choice.language), "email": form.email,
                    "sms": form.sms},
        )  # fmt: skip
        return PreferencesOutcome(_subscriber(conn, subscriber_id), asked_for_text)


def _set_channel(
    conn: Connection,
    subscriber: Subscriber,
    channel: Channel,
    wanted: bool,
    choice: Choice,
    source: str,
    now: datetime,
) -> None:
    if wanted:
        store.set_subscription(conn, subscriber.id, choice.subscription(channel))
    elif _has_channel(subscriber, channel):
        store.remove_subscription(conn, subscriber.id, channel)
        address = subscriber.address(channel) or ""
        store.log_consent(
            conn,
            subscriber_id=subscriber.id,
            address=address,
            channel=channel,
            action="unsubscribe",
            source=source,
            now=now,
            detail={"channel_only": True},
        )


def _set_phone(
    conn: Connection, subscriber: Subscriber, phone: str, choice: Choice, source: str, now: datetime
) -> bool:
    """Keep texting the same number with the new choice, or attach a new one pending its YES."""
    if subscriber.phone == phone:
        if _has_channel(subscriber, "sms"):
            store.set_subscription(conn, subscriber.id, choice.subscription("sms"))
            return False
        queue_message(conn, SMS_CONFIRM, subscriber.id, "sms", now)
        return True
    if store.find_subscriber(conn, phone) is not None:
        return True  # someone else's number (or a separate sign-up): said the same, nothing sent
    if subscriber.phone:
        _drop_phone(conn, subscriber, source, now)
    store.set_subscriber_fields(conn, subscriber.id, phone=phone)
    store.log_consent(
        conn,
        subscriber_id=subscriber.id,
        address=phone,
        channel="sms",
        action="subscribe",
        source=source,
        now=now,
        detail={"state": "number_added", **_describe(choice.subscription("sms"), choice.language)},
    )
    queue_message(conn, SMS_CONFIRM, subscriber.id, "sms", now)
    return True


def _drop_phone(conn: Connection, subscriber: Subscriber, source: str, now: datetime) -> None:
    if not subscriber.email:
        return  # a number-only subscriber leaves through unsubscribe (the form says so)
    store.remove_subscription(conn, subscriber.id, "sms")
    store.set_subscriber_fields(conn, subscriber.id, phone=None)
    store.log_consent(
        conn,
        subscriber_id=subscriber.id,
        address=subscriber.phone or "",
        channel="sms",
        action="unsubscribe",
        source=source,
        now=now,
        detail={"number_removed": True},
    )


def subscriber(engine: Engine, subscriber_id: int) -> Subscriber:
    with engine.connect() as conn:
        return _subscriber(conn, subscriber_id)


def _subscriber(conn: Connection, subscriber_id: int) -> Subscriber:
    found = store.get_subscriber(conn, subscriber_id)
    if found is None:
        raise UnknownSubscriber(subscriber_id)
    return found


def _has_channel(subscriber: Subscriber, channel: str) -> bool:
    return any(sub.channel == channel for sub in subscriber.subscriptions)


def _describe(subscription: store.Subscription, language: str) -> dict[str, Any]:
    return {
        "language": language,
        "topics": list(subscription.topics) or "all",
        "frequency": subscription.frequency,
    }
