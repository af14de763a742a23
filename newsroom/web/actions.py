"""What the web app does to the subscribers database: each visitor action is one transaction.

The changes themselves go through newsroom.subscribers.actions (shared with the SMS keywords and the
CLI), so the consent log (source "web" for forms, "email" for links followed from an email, "api" for
the JSON API) and the suppression list always agree with the subscriber rows. What this module adds
is the web's policy, and the messages it queues through the delivery queue (they leave through
`newsroom deliver` like everything else).

No enumeration: `subscribe` behaves the same towards the caller whatever state the address is in. What
differs is only the message queued for the address itself:

    unknown, pending, unsubscribed  -> pending; a confirmation (email) or a YES request (text)
    active                          -> nothing changes; email gets "you are already subscribed"
                                       (with links to preferences and unsubscribe); a number gets nothing
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Engine, bindparam, delete, desc, insert, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from newsroom.delivery import queue
from newsroom.subscribers import actions as shared
from newsroom.subscribers import store
from newsroom.subscribers.store import Channel, Subscriber, Subscription
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
    wanted = choice.subscription(address.channel)
    asked = {"frequency": wanted.frequency, "topics": list(wanted.topics)}  # the email says what
    if existing is not None and existing.status == "active":
        # Nothing changes for someone already confirmed (a stranger cannot rewrite their choices).
        if _has_channel(existing, address.channel):
            if address.channel == "email":
                queue_message(conn, ALREADY_SUBSCRIBED, existing.id, "email", now)
        elif address.channel == "sms":
            queue_message(conn, SMS_CONFIRM, existing.id, "sms", now, asked)  # their number, still no YES
        return
    result = shared.subscribe(
        conn,
        email=address.value if address.channel == "email" else None,
        phone=address.value if address.channel == "sms" else None,
        language=choice.language,
        subscriptions=[wanted],
        source=source,
        now=now,
        confirmed=False,
        detail={"state": "new" if existing is None else existing.status},
    )
    kind = CONFIRMATION if address.channel == "email" else SMS_CONFIRM
    queue_message(conn, kind, result.subscriber_id, address.channel, now, asked)


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
    """Double opt-in by the email's link: a pending subscriber becomes active; active stays active."""
    with engine.begin() as conn:
        _subscriber(conn, subscriber_id)
        shared.confirm(conn, subscriber_id, source="email", now=now, channel="email")
        return _subscriber(conn, subscriber_id)


@dataclass(frozen=True)
class Unsubscribed:
    changed: bool  # False: they had already left (or were erased), and nothing was logged
    language: str | None  # theirs, for the goodbye page; None if erased


def unsubscribe(engine: Engine, subscriber_id: int, source: str, now: datetime) -> Unsubscribed:
    """Stop everything for this subscriber at once: every channel ends, every address is suppressed.

    The same effect as newsroom.subscribers.actions.unsubscribe on all channels (subscriptions
    dropped, addresses suppressed, one consent entry per channel, status 'unsubscribed'; a second
    click changes and logs nothing), in six prepared statements: this is the RFC 8058 one-click path
    mail providers call in bulk (bench/web_bench.py).
    """
    with engine.begin() as conn:
        row = conn.execute(_WHO, {"subscriber": subscriber_id}).first()
        if row is None:
            return Unsubscribed(False, None)
        channels = set(conn.execute(_CHANNELS, {"subscriber": subscriber_id}).scalars())
        addresses = [(ch, address) for ch, address in (("email", row.email), ("sms", row.phone)) if address]
        leaving = [(channel, address) for channel, address in addresses if channel in channels]
        if channels:
            conn.execute(_DROP, {"subscriber": subscriber_id})
        if row.status != "unsubscribed":
            conn.execute(_LEAVE, {"subscriber": subscriber_id})
        for channel, address in leaving:
            conn.execute(_suppress_for(conn.dialect.name), {"address": address, "at": now})
            conn.execute(
                _CONSENT,
                {"subscriber_id": subscriber_id, "address": address, "channel": channel,
                 "action": "unsubscribe", "source": source, "at": now, "detail": {}},
            )  # fmt: skip
        return Unsubscribed(bool(leaving), str(row.language))


_subscribers, _subscriptions = store.subscribers, store.subscriptions
_WHO = select(
    _subscribers.c.language, _subscribers.c.email, _subscribers.c.phone, _subscribers.c.status
).where(_subscribers.c.id == bindparam("subscriber"))
_CHANNELS = select(_subscriptions.c.channel).where(_subscriptions.c.subscriber_id == bindparam("subscriber"))
_DROP = delete(_subscriptions).where(_subscriptions.c.subscriber_id == bindparam("subscriber"))
_LEAVE = (
    update(_subscribers).where(_subscribers.c.id == bindparam("subscriber")).values(status="unsubscribed")
)
_CONSENT = insert(store.consent_log)


@cache
def _suppress_for(dialect: str) -> Any:
    # Like store.suppress(..., "unsubscribed"): a reason already there (bounce, complaint) stays.
    statement = sqlite_insert if dialect == "sqlite" else postgresql_insert
    return (
        statement(store.suppressions)
        .values(address=bindparam("address"), reason="unsubscribed", at=bindparam("at"), detail="")
        .on_conflict_do_nothing(index_elements=["address"])
    )


def resubscribe(engine: Engine, subscriber_id: int, now: datetime) -> Subscriber:
    """The goodbye page's way back: the subscriptions they had before, at once (the link proved the
    address, and they had confirmed before). Someone who never confirmed gets nothing back."""
    with engine.begin() as conn:
        subscriber = _subscriber(conn, subscriber_id)
        had = _last_choice(conn, subscriber_id)
        if subscriber.status == "unsubscribed" and subscriber.confirmed_at is not None and had:
            usable = [s for s in had if subscriber.address(s.channel)]
            shared.subscribe(
                conn, email=subscriber.email, phone=subscriber.phone, language=subscriber.language,
                subscriptions=usable, source="web", now=now, confirmed=True, detail={"resubscribe": True},
            )  # fmt: skip
            for subscription in usable:
                store.lift_suppression(conn, subscriber.address(subscription.channel) or "")
        return _subscriber(conn, subscriber_id)


def _last_choice(conn: Connection, subscriber_id: int) -> list[Subscription]:
    """The subscriptions named by the newest subscribe/preferences entry of the consent log."""
    log = store.consent_log
    rows = conn.execute(
        select(log.c.detail)
        .where(log.c.subscriber_id == subscriber_id, log.c.action.in_(("subscribe", "preferences")))
        .order_by(desc(log.c.id))
        .limit(5)
    ).scalars()
    for detail in rows:
        described = detail.get("subscriptions") if isinstance(detail, dict) else None
        if described:
            return [
                Subscription(d["channel"], d["frequency"], () if d["topics"] == "all" else tuple(d["topics"]))
                for d in described
            ]
    return []


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
        keep: list[Subscription] = []
        if form.email and subscriber.email:
            keep.append(choice.subscription("email"))
        elif subscriber.email and _has_channel(subscriber, "email"):
            shared.unsubscribe(conn, subscriber_id, channels=["email"], source=source, now=now)
        asked_for_text = False
        if form.sms and form.phone is not None:
            if subscriber.phone == form.phone.value:
                if _has_channel(subscriber, "sms"):  # else it is still waiting for its YES
                    keep.append(choice.subscription("sms"))
            else:
                asked_for_text = _ask_for_text(conn, subscriber, form.phone.value, choice, source, now)
        elif not form.sms and subscriber.phone:
            _drop_phone(conn, subscriber, source, now)
        shared.change_preferences(
            conn, subscriber_id, language=choice.language, subscriptions=keep, source=source, now=now
        )
        return PreferencesOutcome(_subscriber(conn, subscriber_id), asked_for_text)


def _ask_for_text(
    conn: Connection, subscriber: Subscriber, phone: str, choice: Choice, source: str, now: datetime
) -> bool:
    """Attach a new number and send it the "reply YES" text."""
    asked = {"frequency": "immediate", "topics": list(choice.topics)}
    if store.find_subscriber(conn, phone) is not None:
        return True  # someone else's number (or a separate sign-up): said the same, nothing sent
    if subscriber.phone:
        _drop_phone(conn, subscriber, source, now)
    store.set_subscriber_fields(conn, subscriber.id, phone=phone)
    store.log_consent(
        conn, subscriber_id=subscriber.id, address=phone, channel="sms", action="subscribe", source=source,
        now=now, detail={"state": "number_added", "waiting_for": "YES", **asked},
    )  # fmt: skip
    queue_message(conn, SMS_CONFIRM, subscriber.id, "sms", now, asked)
    return True


def _drop_phone(conn: Connection, subscriber: Subscriber, source: str, now: datetime) -> None:
    if not subscriber.email:
        return  # a number-only subscriber leaves through unsubscribe (the form says so)
    if _has_channel(subscriber, "sms"):
        shared.unsubscribe(conn, subscriber.id, channels=["sms"], source=source, now=now)
    store.set_subscriber_fields(conn, subscriber.id, phone=None)


def subscriber(engine: Engine, subscriber_id: int) -> Subscriber:
    with engine.connect() as conn:
        return _subscriber(conn, subscriber_id)


def _subscriber(conn: Connection, subscriber_id: int) -> Subscriber:
    found = store.get_subscriber(conn, subscriber_id)
    if found is None:
        raise UnknownSubscriber(subscriber_id)
    return found


def _has_channel(subscriber: Subscriber, channel: Channel | str) -> bool:
    return any(sub.channel == channel for sub in subscriber.subscriptions)
