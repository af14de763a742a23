"""Message builders for what the web app queues (see newsroom.delivery.messages for the registry).

    confirmation        email  "confirm your subscription": a signed link valid for 7 days
    already_subscribed  email  the answer to a subscribe request for an active address (no enumeration:
                               the page says the same, the mailbox gets this instead of a confirmation)
    sms_confirm         sms    "reply YES" (newsroom.render.sms.reply_text("confirm") when present);
                               used only when the SMS side registers no builder of its own

The confirmation uses the email renderer's `confirm` template (MJML + text); its link is signed when
the message is built, so its 7 days count from when it is sent.
Import this module before `deliver` runs (create_app does; the delivery worker imports the modules in
newsroom.delivery.messages.BUILDER_MODULES).
"""

from __future__ import annotations

import importlib

from newsroom.delivery import messages
from newsroom.delivery.base import Message, OutgoingEmail, OutgoingSms
from newsroom.delivery.messages import BuildContext, Notification, Recipient, plain_email
from newsroom.render.email import Content, Interest, MessageCache, personalise
from newsroom.render.i18n import translations
from newsroom.subscribers.store import FREQUENCIES
from newsroom.subscribers.tokens import Purpose, make_token
from newsroom.web.actions import ALREADY_SUBSCRIBED, CONFIRMATION, SMS_CONFIRM
from newsroom.web.pages import DOMAIN


def personal_url(context: BuildContext, purpose: Purpose, subscriber_id: int) -> str:
    """The absolute link for one subscriber and purpose (base_url follows NEWSROOM_BASE_URL)."""
    token = make_token(subscriber_id, purpose, context.now)
    return f"{context.settings.site.base_url}/{purpose}/{token}"


def build_confirmation(context: BuildContext, notification: Notification, recipient: Recipient) -> Message:
    """The double opt-in email (templates/email/confirm.*) with this subscriber's signed 7-day link.

    Rendered once per (language, what was asked for) and personalised by substitution, like alerts.
    A payload that brings its own "confirm_url" keeps the delivery module's plain-text message.
    """
    if "confirm_url" in notification.payload:
        return messages.build_confirmation_email(context, notification, recipient)
    cache = context.memo.get(_CACHE)
    if cache is None:
        cache = context.memo[_CACHE] = MessageCache(context.settings, context.now)
    frequency = str(notification.payload.get("frequency", "immediate"))
    topics = tuple(str(topic) for topic in notification.payload.get("topics", ()))
    interest = Interest(frequency if frequency in FREQUENCIES else "immediate", topics)  # type: ignore[arg-type]
    prepared = cache.get("confirm", recipient.language, Content(interest=interest))
    data = personalise(prepared, recipient.subscriber_id, recipient.address, now=context.now)
    sender = messages.envelope_sender(context.settings)
    return OutgoingEmail(envelope_from=sender, envelope_to=recipient.address, data=data)


_CACHE = "newsroom.web.messages:email-cache"


def build_already_subscribed(
    context: BuildContext, notification: Notification, recipient: Recipient
) -> Message:
    settings = context.settings
    _ = translations(recipient.language, DOMAIN).gettext
    site = settings.site_name(recipient.language)
    body = "\n\n".join(
        (
            _("Someone, we hope you, asked to subscribe this address to %(site)s.") % {"site": site},
            _("You are already subscribed, so nothing has changed."),
            _("To change your language, topics or how often you get news, open this link:")
            + "\n"
            + personal_url(context, "preferences", recipient.subscriber_id),
            _("To stop getting news, open this link:")
            + "\n"
            + personal_url(context, "unsubscribe", recipient.subscriber_id),
            _("If you did not ask for this, you can ignore this message."),
            settings.email.postal_address,
        )
    )
    data = plain_email(
        settings,
        context.now,
        to=recipient.address,
        subject=_("You are already subscribed to %(site)s") % {"site": site},
        body=body,
        language=recipient.language,
        msgid=messages.message_id(notification.key, recipient.subscriber_id, settings),
    )
    sender = messages.envelope_sender(settings)
    return OutgoingEmail(envelope_from=sender, envelope_to=recipient.address, data=data)


def build_sms_confirm(context: BuildContext, notification: Notification, recipient: Recipient) -> Message:
    """The "reply YES" text: the SMS renderer's wording (carrier-required parts) when it has one."""
    settings = context.settings
    try:
        sms = importlib.import_module("newsroom.render.sms")
        text = str(sms.reply_text("confirm", recipient.language, settings))
    except (ModuleNotFoundError, AttributeError):
        _ = translations(recipient.language, DOMAIN).gettext
        site = settings.site_name(recipient.language)
        text = _(
            "%(site)s: reply YES to get news by text. Msg & data rates may apply. Reply STOP to end."
        ) % {"site": site}
    return OutgoingSms(to=recipient.address, text=text, sender=settings.sms.short_code)


messages.register_builder(CONFIRMATION, "email", build_confirmation)
messages.register_builder(ALREADY_SUBSCRIBED, "email", build_already_subscribed)
messages.MESSAGE_BUILDERS.setdefault((SMS_CONFIRM, "sms"), build_sms_confirm)
