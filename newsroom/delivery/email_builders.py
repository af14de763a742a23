"""Email builders for the delivery worker: alerts, digests, preferences-changed and goodbye messages.

Registered for (kind, "email") when newsroom.delivery.messages imports this module (BUILDER_MODULES);
render/ never imports delivery/, so the adapting happens here. Each distinct message is rendered once
per (kind, language, content) through newsroom.render.email's MessageCache and personalised per
recipient by substitution (address, Message-ID, signed links): never Jinja2, MJML or MIME per person.

    alert            payload {"slug"} (notify.py): the release as the recipient reads it
    daily, weekly    payload {"slugs", "start", "end"} (notify.py): what became public in the period
    digest           the same, with payload["frequency"] (the name docs/delivery.md uses)
    preferences      payload {"frequency", "topics"}: "your subscription has been updated"
    goodbye          no payload: the receipt of an unsubscribe

Releases come from the embargo gate at the run's `now` (shared with the SMS builders through
context.memo["published"]): a release that is not public then is never put in a message.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from newsroom.config import Settings
from newsroom.content.loader import load_newsroom
from newsroom.content.models import Release
from newsroom.delivery.base import Message, OutgoingEmail
from newsroom.delivery.messages import (
    BuildContext,
    Notification,
    Recipient,
    envelope_sender,
    register_builder,
)
from newsroom.errors import RenderError
from newsroom.gate import Published, gate
from newsroom.render.email import Content, Interest, Kind, MessageCache, PreparedMessage, personalise
from newsroom.render.email_context import Frequency
from newsroom.render.email_dkim import DkimSigner, dkim_signer

_CACHE = "email-builders:cache"
_DKIM = "email-builders:dkim"
_LAST = "email-builders:last"
_SENDER = "email-builders:sender"


def published_view(context: BuildContext) -> Published:
    """The gate's view at the run's `now`, once per run (the SMS builders share it)."""
    view = context.memo.get("published")
    if view is None:
        view = context.memo["published"] = gate(load_newsroom(context.settings), context.now)
    return cast(Published, view)


def _cache(context: BuildContext) -> MessageCache:
    cache = context.memo.get(_CACHE)
    if cache is None:
        cache = context.memo[_CACHE] = MessageCache(context.settings, context.now)
    return cast(MessageCache, cache)


def _dkim(context: BuildContext) -> DkimSigner | None:
    if _DKIM not in context.memo:
        context.memo[_DKIM] = dkim_signer(context.settings)
    return cast(DkimSigner | None, context.memo[_DKIM])


def _language(recipient: Recipient, settings: Settings) -> str:
    codes = settings.language_codes
    return recipient.language if recipient.language in codes else settings.site.default_language


def _send(context: BuildContext, prepared: PreparedMessage, recipient: Recipient) -> Message:
    data = personalise(
        prepared, recipient.subscriber_id, recipient.address, now=context.now, dkim=_dkim(context)
    )
    sender = context.memo.get(_SENDER)
    if sender is None:  # parsed once per run, not once per message
        sender = context.memo[_SENDER] = envelope_sender(context.settings)
    return OutgoingEmail(envelope_from=sender, envelope_to=recipient.address, data=data)


def _prepared(
    context: BuildContext, key: tuple[Any, ...], kind: Kind, language: str, make: Any
) -> PreparedMessage:
    """The prepared message for `key` (notification, language, topics). The worker hands out each batch
    sorted that way, so the last one is kept for the next recipient (one tuple comparison); other
    keys go to the bounded MessageCache (memory stays flat however many subscribers there are)."""
    last = context.memo.get(_LAST)
    if last is not None and last[0] == key:
        return cast(PreparedMessage, last[1])
    prepared = _cache(context).get(kind, language, make())
    context.memo[_LAST] = (key, prepared)
    return prepared


def _public_release(context: BuildContext, notification: Notification) -> Release:
    slug = str(notification.payload.get("slug", ""))
    try:
        return published_view(context).by_slug(slug)
    except KeyError:
        raise RenderError(
            f"alert {notification.key}: no public release {slug!r} at {context.now.isoformat()} "
            "(embargoed, withdrawn or removed; fix: run `newsroom notify`, which cancels alerts of "
            "withdrawn releases, or wait until its release time)"
        ) from None


def build_alert_email(context: BuildContext, notification: Notification, recipient: Recipient) -> Message:
    """One release, in the recipient's language (or the original with a note); why: the topics it matched."""
    language = _language(recipient, context.settings)
    key = ("email-alert", notification.id, language, recipient.topics)

    def content() -> Content:
        release = _public_release(context, notification)
        matched = tuple(t for t in release.meta.topics if not recipient.topics or t in recipient.topics)
        return Content(Interest("immediate", matched or tuple(release.meta.topics)), releases=(release,))

    return _send(context, _prepared(context, key, "alert", language, content), recipient)


def build_digest_email(context: BuildContext, notification: Notification, recipient: Recipient) -> Message:
    """What became public in the period on the recipient's topics, grouped by topic, in their language."""
    settings = context.settings
    payload = notification.payload
    frequency = str(payload.get("frequency") or notification.kind)
    if frequency not in ("daily", "weekly"):
        raise RenderError(f"digest {notification.key}: frequency {frequency!r} is not daily or weekly")
    language = _language(recipient, settings)
    key = ("email-digest", notification.id, language, recipient.topics)

    def content() -> Content:
        period = (datetime.fromisoformat(payload["start"]), datetime.fromisoformat(payload["end"]))
        releases = _digest_releases(published_view(context), payload.get("slugs", ()), period)
        if not recipient.topics:  # everything: one message per language
            interest = Interest(cast(Frequency, frequency), tuple(settings.topics))
            return Content(interest, releases=releases, period=period)
        mine = tuple(r for r in releases if set(r.meta.topics) & set(recipient.topics))
        # The footer names the reader's topics this digest covers (not every topic they follow): people
        # with the same news share one rendering, so a few hundred renderings serve 100,000 readers.
        covered = tuple(t for t in recipient.topics if any(t in r.meta.topics for r in mine))
        interest = Interest(cast(Frequency, frequency), covered or recipient.topics)
        return Content(interest, releases=mine, period=period)

    kind: Kind = "daily" if frequency == "daily" else "weekly"
    return _send(context, _prepared(context, key, kind, language, content), recipient)


def _digest_releases(
    view: Published, slugs: Sequence[str], period: tuple[datetime, datetime]
) -> tuple[Release, ...]:
    """The planned releases that are still public at the run's `now` (a withdrawn one drops out) and
    inside the period (the gate has the last word, whatever the payload says)."""
    wanted = set(slugs)
    return tuple(
        r for r in view.releases if r.slug in wanted and period[0] <= r.release_time < period[1] <= view.now
    )


def build_preferences_email(
    context: BuildContext, notification: Notification, recipient: Recipient
) -> Message:
    """The "your subscription has been updated" email: payload {"frequency", "topics"} (what they now get)."""
    asked = str(notification.payload.get("frequency", "immediate"))
    frequency: Frequency = "daily" if asked == "daily" else "weekly" if asked == "weekly" else "immediate"
    topics = tuple(str(t) for t in notification.payload.get("topics", ())) or tuple(context.settings.topics)
    interest = Interest(frequency, topics)
    language = _language(recipient, context.settings)
    prepared = _cache(context).get("preferences", language, Content(interest=interest))
    return _send(context, prepared, recipient)


def build_goodbye_email(context: BuildContext, notification: Notification, recipient: Recipient) -> Message:
    """The receipt of an unsubscribe, with the way back."""
    prepared = _cache(context).get("goodbye", _language(recipient, context.settings), Content())
    return _send(context, prepared, recipient)


register_builder("alert", "email", build_alert_email)
register_builder("daily", "email", build_digest_email)
register_builder("weekly", "email", build_digest_email)
register_builder("digest", "email", build_digest_email)
register_builder("preferences", "email", build_preferences_email)
register_builder("goodbye", "email", build_goodbye_email)
