"""Queue SMS alerts for a release: its subscribers by topic, held back during quiet hours.

The notification is "alert:<slug>" with payload {"slug": ...} (shared with email alerts; deliveries
are per channel). Every matching active SMS subscriber gets one delivery (planning twice queues
nothing twice), due at `send_after(now)`: at once, or at the end of quiet hours unless the release
is urgent. The worker builds each message with newsroom.delivery.sms_builders.build_sms_alert.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.engine import Connection

from newsroom.config import Settings
from newsroom.content.models import Release
from newsroom.delivery import queue
from newsroom.delivery.quiet_hours import send_after
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
