"""Message builders for SMS, registered for the delivery worker (newsroom.delivery.messages imports
this module through BUILDER_MODULES; render/ never imports delivery/, so the adapting is done here).

("alert", "sms"): the notification "alert:<slug>" (payload {"slug": ...}, see sms_alerts.py) as one
subscriber's SMS. Alerts are composed once per (release, language) per run, from the gated view at
the run's `now`, and only looked up per subscriber.
"""

from __future__ import annotations

from newsroom.content.loader import load_newsroom
from newsroom.delivery.base import Message, OutgoingSms
from newsroom.delivery.messages import BuildContext, Notification, Recipient, register_builder
from newsroom.errors import RenderError
from newsroom.gate import gate
from newsroom.render.sms import alerts_by_language


def build_sms_alert(context: BuildContext, notification: Notification, recipient: Recipient) -> Message:
    """An "alert" notification (payload {"slug": ...}) as one subscriber's SMS."""
    settings = context.settings
    slug = str(notification.payload.get("slug", ""))
    alerts = context.memo.get(("sms-alerts", slug))
    if alerts is None:
        # Only what the gate lets out at the run's `now`: an alert never leaks an embargoed release.
        published = context.memo.get("published")
        if published is None:
            published = context.memo["published"] = gate(load_newsroom(settings), context.now)
        try:
            release = published.by_slug(slug)
        except KeyError as exc:
            raise RenderError(
                f"alert {notification.key}: no public release {slug!r} at {context.now}"
            ) from exc
        alerts = context.memo[("sms-alerts", slug)] = alerts_by_language(release, settings)
    language = recipient.language if recipient.language in alerts else settings.site.default_language
    return OutgoingSms(to=recipient.address, text=alerts[language].text, sender=settings.sms.short_code)


register_builder("alert", "sms", build_sms_alert)
