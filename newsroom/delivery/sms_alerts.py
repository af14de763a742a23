"""Queue SMS alerts for a release: its subscribers by topic, held back during quiet hours.

The notification is "alert:<slug>" with payload {"slug": ...} (shared with email alerts; deliveries
are per channel). Every matching active SMS subscriber gets one delivery (planning twice queues
nothing twice), due at `send_after(now)`: at once, or at the end of quiet hours unless the release
is urgent. The worker builds each message with `build_sms_alert` (registered for ("alert", "sms");
newsroom.delivery.messages imports this module through BUILDER_MODULES).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.engine import Connection

from newsroom.config import Settings
from newsroom.content.loader import load_newsroom
from newsroom.content.models import Release
from newsroom.delivery import queue
from newsroom.delivery.base import Message, OutgoingSms
from newsroom.delivery.messages import BuildContext, Notification, Recipient, register_builder
from newsroom.delivery.quiet_hours import send_after
from newsroom.errors import RenderError
from newsroom.gate import gate
from newsroom.render.sms import alerts_by_language
from newsroom.subscribers import store


def alert_key(release: Release) -> str:
    return f"alert:{release.slug}"


def plan_sms_alert(conn: Connection, settings: Settings, release: Release, now: datetime) -> int:
    """Queue the release's SMS alert for its subscribers; returns how many deliveries are new."""
    notification = store.ensure_notification(
        conn, kind="alert", key=alert_key(release), payload={"slug": release.slug}, now=now
    )
    due = send_after(now, settings, urgent=release.meta.urgent)
    return queue.plan_audience(
        conn, notification, "sms", due, topics=release.meta.topics, frequency="immediate"
    )


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
