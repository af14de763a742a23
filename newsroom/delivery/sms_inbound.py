"""What a text to the short code does to the subscribers database, and the one reply it gets.

The web app's inbound endpoint (Kannel's sms-service get-url) calls `handle_inbound` inside a
transaction and answers Kannel with the reply as body and `kannel.reply_headers(reply)`; an empty
answer sends nothing. Every change goes through newsroom.subscribers.actions, so it lands in the
consent log with source "sms":

- stop: the number's SMS subscription ends at once and the number is suppressed (also when we never
  knew it, so it can never be texted); the stop confirmation, every time.
- start / join: subscribed again (or for the first time) to every topic, immediately; an earlier
  STOP is lifted (bounces and complaints are not). A number added on the web and waiting for
  "Reply YES" is confirmed with the topics it chose. Join/start confirmations carry the
  carrier-required texts.
- help: the help text; nothing changes (logged as "help": carriers audit that HELP is answered).
- unknown: the help text, at most once a day per number (the time of the last one is kept in
  sms_help_replies), logged as "unknown" with whether it was answered; the text itself is not kept
  (people write anything to a short code).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.engine import Connection

from newsroom.config import Settings
from newsroom.delivery.sms_keywords import Inbound, Intent, parse_inbound, reply_language
from newsroom.render.sms import ReplyKind, reply_text
from newsroom.subscribers import actions, store
from newsroom.subscribers.store import Subscriber, Subscription

UNKNOWN_REPLY_EVERY = timedelta(days=1)


@dataclass(frozen=True)
class InboundOutcome:
    intent: Intent
    reply: str  # "" when nothing is to be sent back
    subscriber_id: int | None
    changed: bool  # the subscription changed (and the consent log has a new entry)


def handle_inbound(
    conn: Connection,
    settings: Settings,
    *,
    sender: str,
    text: str,
    now: datetime,
) -> InboundOutcome:
    """Act on one inbound text from `sender` (E.164) and return the reply to send."""
    inbound = parse_inbound(text, settings)
    subscriber = store.find_subscriber(conn, sender)
    language = reply_language(inbound, subscriber.language if subscriber else None, settings)
    detail = {"keyword": inbound.keyword, "text": text[:160]}
    if inbound.intent is Intent.STOP:
        changed = _stop(conn, sender, subscriber, now, detail)
        return InboundOutcome(
            inbound.intent, reply_text("stop", language, settings), _id(subscriber), changed
        )
    if inbound.intent in (Intent.START, Intent.JOIN):
        subscriber_id, changed = _start(conn, settings, sender, subscriber, inbound, language, now, detail)
        kind: ReplyKind = "join" if inbound.intent is Intent.JOIN else "start"
        return InboundOutcome(inbound.intent, reply_text(kind, language, settings), subscriber_id, changed)
    answered = inbound.intent is Intent.HELP or _may_answer_unknown(conn, sender, now)
    store.log_consent(
        conn, subscriber_id=_id(subscriber), address=sender, channel="sms", action=str(inbound.intent),
        source="sms", now=now, detail={"keyword": inbound.keyword, "replied": answered},
    )  # fmt: skip
    reply = reply_text("help", language, settings) if answered else ""
    return InboundOutcome(inbound.intent, reply, _id(subscriber), False)


def _may_answer_unknown(conn: Connection, sender: str, now: datetime) -> bool:
    """True (and noted) when this number has had no help reply to unknown text in the last day."""
    table = store.sms_help_replies
    last = conn.execute(select(table.c.replied_at).where(table.c.address == sender)).scalar()
    if last is not None and now - last < UNKNOWN_REPLY_EVERY:
        return False
    upsert = store.dialect_insert(conn)(table).values(address=sender, replied_at=now)
    conn.execute(upsert.on_conflict_do_update(index_elements=[table.c.address], set_={"replied_at": now}))
    return True


def _id(subscriber: Subscriber | None) -> int | None:
    return subscriber.id if subscriber else None


def _stop(
    conn: Connection, sender: str, subscriber: Subscriber | None, now: datetime, detail: dict[str, str]
) -> bool:
    if subscriber is not None and actions.unsubscribe(
        conn, subscriber.id, channels=("sms",), source="sms", now=now, detail=detail
    ):
        return True
    if store.suppression_of(conn, sender) is None:  # unknown, or known without an SMS subscription
        store.suppress(conn, sender, "unsubscribed", now)
        store.log_consent(
            conn, subscriber_id=_id(subscriber), address=sender, channel="sms", action="unsubscribe",
            source="sms", now=now, detail=detail,
        )  # fmt: skip
        return True
    return False


def _start(
    conn: Connection,
    settings: Settings,
    sender: str,
    subscriber: Subscriber | None,
    inbound: Inbound,
    language: str,
    now: datetime,
    detail: dict[str, str],
) -> tuple[int, bool]:
    if subscriber is not None and _waits_for_yes(conn, subscriber):
        # A web sign-up or a number added on the preferences page: confirm the text subscription
        # it asked for, and only that (an email nobody confirmed stays unconfirmed).
        return subscriber.id, actions.confirm(conn, subscriber.id, source="sms", now=now, channel="sms")
    keep = subscriber.language if subscriber and not inbound.language else language
    current = _active_text_subscription(subscriber)
    # Already subscribed: YES again keeps the topics chosen (only "NEWS ES" changes something).
    wanted = current or Subscription("sms", "immediate", ())
    result = actions.subscribe(
        conn, email=None, phone=sender, language=keep, subscriptions=[wanted],
        source="sms", now=now, confirmed=True, detail=detail,
    )  # fmt: skip
    lifted = store.lift_suppression(conn, sender)
    return result.subscriber_id, result.changed or lifted


def _waits_for_yes(conn: Connection, subscriber: Subscriber) -> bool:
    """A pending SMS subscription, or a number that was sent "reply YES" and has no subscription yet."""
    has_text = any(s.channel == "sms" for s in subscriber.subscriptions)
    if subscriber.status != "active" and has_text:
        return True
    return not has_text and actions.requested_subscription(conn, subscriber.id, "sms") is not None


def _active_text_subscription(subscriber: Subscriber | None) -> Subscription | None:
    if subscriber is None or subscriber.status != "active":
        return None
    return next((s for s in subscriber.subscriptions if s.channel == "sms"), None)
