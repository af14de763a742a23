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


def confirm(conn: Connection, subscriber_id: int, *, source: str, now: datetime) -> bool:
    """Double opt-in completed: the subscriber becomes active; an earlier unsubscribe is lifted."""
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
