"""Message builders: turn one queued delivery into the message its transport sends.

The worker looks up a builder by (notification kind, channel) in MESSAGE_BUILDERS. Other parts of
newsroom add theirs with `register_builder` when their module is imported; the modules named in
BUILDER_MODULES are imported by `load_builders` before a run (a module that does not exist yet is
skipped). A builder is called once per delivery, so it should prepare what all recipients share once
(keyed in `context.memo`) and only substitute the personal parts, as the built-in ones do.

Built in: "test" (email and SMS) and "confirmation" (email; payload {"confirm_url": ...}) so the
queue can be exercised end to end before the real email templates exist.
"""

from __future__ import annotations

import email.policy
import importlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import Any

from newsroom.config import Settings
from newsroom.delivery.base import Message, OutgoingEmail, OutgoingSms
from newsroom.errors import DeliveryError
from newsroom.render.i18n import translations

DOMAIN = "delivery"  # gettext domain of the built-in messages: newsroom/locale/<lang>/LC_MESSAGES/delivery.po
# Delivery-side modules that adapt the renderers (render/ never imports delivery/) and register builders;
# newsroom.web.messages: what the subscription web app queues (confirmation, already_subscribed, sms_confirm).
BUILDER_MODULES: tuple[str, ...] = (
    "newsroom.delivery.email_builders",
    "newsroom.delivery.sms_builders",
    "newsroom.web.messages",
)


@dataclass(frozen=True)
class Notification:
    id: int
    kind: str  # alert, digest, confirmation, test, ...
    key: str  # unique, e.g. "alert:new-york-experience:ru" or "digest:daily:2024-12-20"
    payload: dict[str, Any]


@dataclass(frozen=True)
class Recipient:
    delivery_id: int
    subscriber_id: int
    channel: str
    address: str  # email or E.164 number, as queued
    language: str  # the subscriber's preferred language
    frequency: str | None = None  # their subscription on this channel: immediate, daily, weekly (None: none)
    topics: tuple[str, ...] = ()  # its topics, sorted; empty: everything


@dataclass
class BuildContext:
    """What every builder call of one run shares: settings, the run's `now`, and a memo for caches."""

    settings: Settings
    now: datetime
    memo: dict[Any, Any] = field(default_factory=dict)


MessageBuilder = Callable[[BuildContext, Notification, Recipient], Message]
MESSAGE_BUILDERS: dict[tuple[str, str], MessageBuilder] = {}


def register_builder(kind: str, channel: str, builder: MessageBuilder) -> None:
    """Use `builder` for notifications of `kind` on `channel` (replacing any earlier one)."""
    MESSAGE_BUILDERS[(kind, channel)] = builder


def load_builders() -> dict[tuple[str, str], MessageBuilder]:
    """Import the modules that register builders; the registry afterwards."""
    for name in BUILDER_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise  # the module exists but something it imports is missing: a real error
    return MESSAGE_BUILDERS


def builder_for(builders: dict[tuple[str, str], MessageBuilder], kind: str, channel: str) -> MessageBuilder:
    """The builder for a kind and channel, or a DeliveryError saying which one is missing."""
    try:
        return builders[(kind, channel)]
    except KeyError:
        known = ", ".join(f"{k}/{c}" for k, c in sorted(builders)) or "none"
        raise DeliveryError(
            f"no message builder for {kind!r} notifications on {channel!r} (known: {known}); "
            "fix: register one with newsroom.delivery.messages.register_builder"
        ) from None


# --- building blocks for email builders ----------------------------------------------------------------


def envelope_sender(settings: Settings) -> str:
    """The bare address of [email] sender, used as SMTP MAIL FROM."""
    return parseaddr(settings.email.sender)[1]


def message_id(key: str, subscriber_id: int, settings: Settings) -> str:
    """A Message-ID that is the same every time this delivery is built (resends are recognisable)."""
    domain = envelope_sender(settings).rpartition("@")[2] or "newsroom.invalid"
    local = re.sub(r"[^A-Za-z0-9.-]+", ".", key).strip(".")
    return f"<{local}.{subscriber_id}@{domain}>"


_SEVEN_BIT = email.policy.SMTP.clone(cte_type="7bit")


def plain_email(
    settings: Settings, now: datetime, *, to: str, subject: str, body: str, language: str, msgid: str
) -> bytes:
    """A text/plain UTF-8 email with the headers every newsroom message carries."""
    message = EmailMessage(policy=_SEVEN_BIT)
    message["From"] = settings.email.sender
    message["To"] = Address(addr_spec=to) if to.isascii() else to
    if settings.email.reply_to:
        message["Reply-To"] = settings.email.reply_to
    message["Subject"] = subject
    message["Date"] = format_datetime(now)
    message["Message-ID"] = msgid
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(body)  # quoted-printable or base64: safe through relays without 8BITMIME
    message["Content-Language"] = language  # after set_content, which replaces Content-* headers
    return message.as_bytes()


# --- built-in builders ---------------------------------------------------------------------------------

_TO = "to-placeholder@newsroom.invalid"
_ID = "<id-placeholder@newsroom.invalid>"
_TO_BYTES, _ID_BYTES = _TO.encode(), _ID.encode()


def build_test_email(context: BuildContext, notification: Notification, recipient: Recipient) -> Message:
    """A short "delivery works" email; rendered once per language, then personalised by substitution."""
    settings = context.settings
    cache_key = ("test-email", notification.id, recipient.language)
    prepared = context.memo.get(cache_key)
    if prepared is None:
        _ = translations(recipient.language, DOMAIN).gettext
        site = settings.site_name(recipient.language)
        body = "\n\n".join(
            (
                _("This is a test message from {site}.").format(site=site),
                _("If you can read it, delivery works. You do not need to do anything."),
                settings.email.postal_address,
            )
        )
        subject = _("Test message from {site}").format(site=site)
        template = plain_email(
            settings, context.now, to=_TO, subject=subject, body=body, language=recipient.language, msgid=_ID
        )
        # Message-ID "<key.SUBSCRIBER@domain>": everything but the subscriber id is shared
        head, _sep, tail = message_id(notification.key, 0, settings).rpartition(".0@")
        prepared = (template, envelope_sender(settings), f"{head}.", f"@{tail}")
        context.memo[cache_key] = prepared
    template, sender, id_head, id_tail = prepared
    personal_id = f"{id_head}{recipient.subscriber_id}{id_tail}"
    data = template.replace(_TO_BYTES, recipient.address.encode()).replace(_ID_BYTES, personal_id.encode())
    return OutgoingEmail(envelope_from=sender, envelope_to=recipient.address, data=data)


def build_test_sms(context: BuildContext, notification: Notification, recipient: Recipient) -> Message:
    """A short "delivery works" text."""
    _ = translations(recipient.language, DOMAIN).gettext
    site = context.settings.site_name(recipient.language)
    text = _("{site}: test message. Delivery works; no reply needed.").format(site=site)
    return OutgoingSms(to=recipient.address, text=text, sender=context.settings.sms.short_code)


def build_confirmation_email(
    context: BuildContext, notification: Notification, recipient: Recipient
) -> Message:
    """Double opt-in: ask the person to confirm; payload["confirm_url"] holds their signed link."""
    settings = context.settings
    _ = translations(recipient.language, DOMAIN).gettext
    site = settings.site_name(recipient.language)
    url = str(notification.payload.get("confirm_url", f"{settings.site.base_url}/subscribe"))
    body = "\n\n".join(
        (
            _("Someone, we hope you, asked to get news from {site} at this address.").format(site=site),
            _("To confirm, open this link:") + "\n" + url,
            _("If you did not ask for this, ignore this message. We will not write to you again."),
            settings.email.postal_address,
        )
    )
    data = plain_email(
        settings,
        context.now,
        to=recipient.address,
        subject=_("Please confirm your subscription to {site}").format(site=site),
        body=body,
        language=recipient.language,
        msgid=message_id(notification.key, recipient.subscriber_id, settings),
    )
    return OutgoingEmail(envelope_from=envelope_sender(settings), envelope_to=recipient.address, data=data)


register_builder("test", "email", build_test_email)
register_builder("test", "sms", build_test_sms)
register_builder("confirmation", "email", build_confirmation_email)
