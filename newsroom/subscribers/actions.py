"""What people and staff do to a subscription, each with its consent-log entry in the same transaction.

The web app (subscribe, confirm, preferences, unsubscribe), the SMS keywords (START, STOP) and the
CLI (add, import, remove) all go through these functions, so the consent log and the suppression
list can never disagree with the subscriber rows. Each takes an open connection inside a
transaction (`with engine.begin() as conn:`) and the `now` of the request.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from newsroom.subscribers import store
from newsroom.subscribers.store import Subscriber, Subscription


class AddressTaken(ValueError):
    """The email and the phone number belong to two different subscribers."""


@dataclass(frozen=True)
class Subscribed:
    subscriber_id: int
    created: bool  # a new subscriber row
    changed: bool  # anything about an existing one changed


def describe(subscriptions: Sequence[Subscription]) -> list[dict[str, Any]]:
    """Subscriptions as plain data for consent-log details."""
    return [
        {"channel": s.channel, "frequency": s.frequency, "topics": list(s.topics) or "all"}
        for s in sorted(subscriptions, key=lambda s: s.channel)
    ]


def find_existing(conn: Connection, email: str | None, phone: str | None) -> Subscriber | None:
    """The one subscriber holding this email and/or phone; AddressTaken if they are two people."""
    by_email = store.find_subscriber(conn, email) if email else None
    by_phone = store.find_subscriber(conn, phone) if phone else None
    if by_email and by_phone and by_email.id != by_phone.id:
        raise AddressTaken(f"{email} and {phone} belong to two different subscribers")
    return by_email or by_phone


def subscribe(
    conn: Connection,
    *,
    email: str | None,
    phone: str | None,
    language: str,
    subscriptions: Sequence[Subscription],
    source: str,
    now: datetime,
    confirmed: bool,
    detail: dict[str, Any] | None = None,
) -> Subscribed:
    """Create or update a subscriber and set the given channels' subscriptions.

    confirmed=False (web double opt-in): a new or unsubscribed person becomes 'pending' until
    `confirm`. confirmed=True (import, staff with consent collected elsewhere, SMS START): 'active'.
    The consent log gets a "subscribe" entry (action "import" when source is "import") per address.
    Nothing is written, and changed=False, when the request changes nothing.
    """
    email = store.normalise_email(email) if email else None
    existing = find_existing(conn, email, phone)
    action = "import" if source == "import" else "subscribe"
    log = {"language": language, "subscriptions": describe(subscriptions), **(detail or {})}
    if existing is None:
        status = "active" if confirmed else "pending"
        subscriber_id = store.insert_subscriber(
            conn, email=email, phone=phone, language=language, status=status, now=now
        )
        for subscription in subscriptions:
            store.set_subscription(conn, subscriber_id, subscription)
        _log_each(conn, subscriber_id, email, phone, subscriptions, action, source, now, log)
        return Subscribed(subscriber_id, created=True, changed=True)
    columns = _column_changes(existing, email, phone, language, confirmed, now)
    current = {s.channel: s for s in existing.subscriptions}
    new_subscriptions = [s for s in subscriptions if current.get(s.channel) != _canonical(s)]
    if not columns and not new_subscriptions:
        return Subscribed(existing.id, created=False, changed=False)
    if columns:
        store.set_subscriber_fields(conn, existing.id, **columns)
    if columns.get("status") == "active":
        _set_aside_unconfirmed(conn, existing, keep={s.channel for s in subscriptions})
    for subscription in new_subscriptions:
        store.set_subscription(conn, existing.id, subscription)
    _log_each(conn, existing.id, email, phone, subscriptions, action, source, now, log)
    return Subscribed(existing.id, created=False, changed=True)


def _column_changes(
    existing: Subscriber, email: str | None, phone: str | None, language: str, confirmed: bool, now: datetime
) -> dict[str, Any]:
    """Column changes for an existing subscriber ({} if none)."""
    changes: dict[str, Any] = {}
    if email and existing.email != email:
        changes["email"] = email
    if phone and existing.phone != phone:
        changes["phone"] = phone
    if existing.language != language:
        changes["language"] = language
    if confirmed and existing.status != "active":
        changes.update(status="active", confirmed_at=now)
    elif not confirmed and existing.status == "unsubscribed":
        changes["status"] = "pending"
    return changes


def _canonical(subscription: Subscription) -> Subscription:
    return Subscription(subscription.channel, subscription.frequency, tuple(sorted(set(subscription.topics))))


def _log_each(
    conn: Connection,
    subscriber_id: int,
    email: str | None,
    phone: str | None,
    subscriptions: Sequence[Subscription],
    action: str,
    source: str,
    now: datetime,
    detail: dict[str, Any],
) -> None:
    channels = {s.channel for s in subscriptions} or {"email" if email else "sms"}
    for channel, address in (("email", email), ("sms", phone)):
        if address and channel in channels:
            store.log_consent(
                conn,
                subscriber_id=subscriber_id,
                address=address,
                channel=channel,
                action=action,
                source=source,
                now=now,
                detail=detail,
            )


# The notification kinds that ask an address to confirm (queued by the web app, newsroom.web.actions):
# their payload holds what was asked for ({"frequency": ..., "topics": [...]}).
REQUEST_KINDS: dict[str, str] = {"email": "confirmation", "sms": "sms_confirm"}


def _set_aside_unconfirmed(conn: Connection, subscriber: Subscriber, keep: set[str]) -> None:
    """A pending subscriber becomes active through some channels only: drop the others' subscriptions.

    Status is per subscriber, so an email sign-up nobody confirmed by email would otherwise start
    receiving mail because its owner answered YES by text. The choice is not lost: it is in the
    confirmation request, and `confirm(..., channel="email")` (the email's link) restores it.
    """
    if subscriber.status == "active":
        return
    for subscription in subscriber.subscriptions:
        if subscription.channel not in keep:
            store.remove_subscription(conn, subscriber.id, subscription.channel)


def requested_subscription(conn: Connection, subscriber_id: int, channel: str) -> Subscription | None:
    """What the latest confirmation request to this subscriber on `channel` asked for, if any."""
    kind = REQUEST_KINDS[channel]
    payload = conn.execute(
        select(store.notifications.c.payload)
        .where(store.notifications.c.key.like(f"{kind}:{subscriber_id}:%"))
        .order_by(store.notifications.c.id.desc())
        .limit(1)
    ).scalar()
    if not isinstance(payload, dict):
        return None
    frequency = payload.get("frequency")
    topics = tuple(str(topic) for topic in payload.get("topics") or ())
    return Subscription(
        "sms" if channel == "sms" else "email",
        frequency if frequency in store.FREQUENCIES else "immediate",
        topics,
    )


def confirm(
    conn: Connection, subscriber_id: int, *, source: str, now: datetime, channel: str | None = None
) -> bool:
    """Double opt-in completed: the subscriber becomes active; an earlier unsubscribe is lifted.

    channel: the confirmation came through this channel only (the email's link, a YES by text), so
    only it is confirmed: a pending subscriber's other subscriptions are set aside until their own
    confirmation, and an active subscriber without a subscription on `channel` gets the one its
    confirmation request asked for (a number added on the preferences page, an email sign-up set
    aside earlier). None: every channel (the subscriber as a whole).
    """
    if channel is not None:
        return _confirm_channel(conn, subscriber_id, channel, source, now)
    subscriber = store.get_subscriber(conn, subscriber_id)
    if subscriber is None or subscriber.status == "active":
        return False
    store.set_subscriber_fields(conn, subscriber_id, status="active", confirmed_at=now)
    for subscription in subscriber.subscriptions:
        address = subscriber.address(subscription.channel)
        if address:
            store.lift_suppression(conn, address)
            store.log_consent(
                conn,
                subscriber_id=subscriber_id,
                address=address,
                channel=subscription.channel,
                action="confirm",
                source=source,
                now=now,
            )
    return True


def change_preferences(
    conn: Connection,
    subscriber_id: int,
    *,
    language: str | None,
    subscriptions: Sequence[Subscription],
    source: str,
    now: datetime,
) -> None:
    """Replace the language and/or the given channels' subscriptions, logged as "preferences"."""
    subscriber = store.get_subscriber(conn, subscriber_id)
    if subscriber is None:
        raise LookupError(f"no subscriber {subscriber_id}")
    if language and language != subscriber.language:
        store.set_subscriber_fields(conn, subscriber_id, language=language)
    for subscription in subscriptions:
        store.set_subscription(conn, subscriber_id, subscription)
    detail = {"language": language or subscriber.language, "subscriptions": describe(subscriptions)}
    for subscription in subscriptions or subscriber.subscriptions:
        address = subscriber.address(subscription.channel)
        if address:
            store.log_consent(
                conn,
                subscriber_id=subscriber_id,
                address=address,
                channel=subscription.channel,
                action="preferences",
                source=source,
                now=now,
                detail=detail,
            )


def unsubscribe(
    conn: Connection,
    subscriber_id: int,
    *,
    channels: Sequence[str] = store.CHANNELS,
    source: str,
    now: datetime,
    reason: str = "unsubscribed",
    detail: dict[str, Any] | None = None,
) -> bool:
    """Stop sending on `channels` at once: drop those subscriptions, suppress the addresses, log it.

    With no subscription left the subscriber's status becomes 'unsubscribed'. Returns False when
    there was nothing to unsubscribe (so a second click does nothing, and says nothing either).
    """
    subscriber = store.get_subscriber(conn, subscriber_id)
    if subscriber is None:
        return False
    touched = False
    subscribed = {s.channel for s in subscriber.subscriptions}
    for channel in channels:
        address = subscriber.address(channel)
        if address is None or channel not in subscribed:
            continue
        store.remove_subscription(conn, subscriber_id, channel)
        store.suppress(conn, address, reason, now)
        action = "complaint" if reason == "complaint" else "unsubscribe"
        store.log_consent(
            conn,
            subscriber_id=subscriber_id,
            address=address,
            channel=channel,
            action=action,
            source=source,
            now=now,
            detail=detail or {},
        )
        touched = True
    remaining = subscribed - set(channels)
    if not remaining and subscriber.status != "unsubscribed":
        store.set_subscriber_fields(conn, subscriber_id, status="unsubscribed")
    return touched


def complaint(conn: Connection, address: str, *, source: str, now: datetime) -> None:
    """Someone marked our message as spam: suppress the address and unsubscribe its owner."""
    subscriber = store.find_subscriber(conn, address)
    channel = store.channel_of(address)
    if subscriber is not None:
        unsubscribe(conn, subscriber.id, channels=[channel], source=source, now=now, reason="complaint")
        return
    store.suppress(conn, address, "complaint", now)
    store.log_consent(
        conn, subscriber_id=None, address=address, channel=channel, action="complaint", source=source, now=now
    )


def _confirm_channel(conn: Connection, subscriber_id: int, channel: str, source: str, now: datetime) -> bool:
    subscriber = store.get_subscriber(conn, subscriber_id)
    address = subscriber.address(channel) if subscriber else None
    if subscriber is None or address is None:
        return False
    current = next((s for s in subscriber.subscriptions if s.channel == channel), None)
    wanted = current or requested_subscription(conn, subscriber_id, channel)
    if wanted is None or (subscriber.status == "active" and current is not None):
        return False  # nothing was asked for on this channel, or it is confirmed already
    if subscriber.status != "active":
        store.set_subscriber_fields(conn, subscriber_id, status="active", confirmed_at=now)
        _set_aside_unconfirmed(conn, subscriber, keep={channel})
    if current is None:
        store.set_subscription(conn, subscriber_id, wanted)
    store.lift_suppression(conn, address)
    store.log_consent(
        conn, subscriber_id=subscriber_id, address=address, channel=channel, action="confirm", source=source,
        now=now, detail={"subscriptions": describe([wanted])},
    )  # fmt: skip
    return True
