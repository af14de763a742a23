"""Plan alerts and digests: what became public, for whom, in which language, exactly once.

    report = plan_alerts(conn, settings, gate(newsroom, now), now)          # `newsroom notify`
    period = digest_period("daily", now, settings)                         # yesterday, site time zone
    report = plan_digest(conn, settings, gate(newsroom, now), period, now)  # `newsroom digest daily`

Everything planned comes from the embargo gate's `Published` view at `now`: nothing embargoed is
ever queued, and the builders check the gate again when they build each message.

What the database remembers (the notifications table's unique keys; see docs/notify.md):

    alert:<slug>                            the release's alert; email and SMS deliveries hang on it
    alert:<slug>:<lang>                     email alerts for <lang> readers were planned, translated
    alert:<slug>:<lang>:fallback            ... planned with the original (the translation was missing)
    alert:<slug>:correction:<UTC stamp>     a correction with `realert: true` (its own deliveries)
    digest:daily:2024-12-19 / digest:weekly:2024-W51

One delivery per (notification, subscriber, channel) is the database's unique key, so whoever was
alerted about a release (with a translation or the fallback) is never alerted about it again; a
translation that arrives later goes only to that language's subscribers who have no delivery yet.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal, Protocol

from sqlalchemy import ColumnElement, Engine, or_, select, update
from sqlalchemy.engine import Connection

from newsroom.config import Settings
from newsroom.content.loader import load_newsroom
from newsroom.content.models import Correction, Release
from newsroom.delivery import queue
from newsroom.delivery.sms_alerts import alert_key, plan_sms_alert
from newsroom.errors import NewsroomError
from newsroom.gate import Published, gate
from newsroom.subscribers import store
from newsroom.subscribers.db import open_database
from newsroom.subscribers.store import deliveries, notifications

DigestFrequency = Literal["daily", "weekly"]
ALERT = "alert"
WITHDRAWN_LOOKBACK = timedelta(days=3)
PLANNED = "alert-planned"  # marker notifications: which (alert, language) was planned; no deliveries


@dataclass
class AlertReport:
    """What one `notify` run queued."""

    releases: list[str] = field(default_factory=list)  # slugs alerted for the first time
    corrections: list[str] = field(default_factory=list)  # "slug (correction of <date>)"
    emails: int = 0
    sms: int = 0
    waiting: list[str] = field(default_factory=list)  # "slug:lang" held back for a translation
    cancelled: int = 0  # unsent deliveries of releases withdrawn since

    def summary(self) -> str:
        if not (self.releases or self.corrections or self.emails or self.sms or self.cancelled):
            text = "nothing new to alert"
        else:
            text = (
                f"{len(self.releases)} release(s) and {len(self.corrections)} correction(s) alerted: "
                f"{self.emails} email(s), {self.sms} SMS queued"
            )
            if self.cancelled:
                text += f"; {self.cancelled} unsent alert(s) of withdrawn releases cancelled"
        if self.waiting:
            text += f"; waiting for translations: {', '.join(self.waiting)}"
        return text


# --- alerts ----------------------------------------------------------------------------------------------


def plan_alerts(conn: Connection, settings: Settings, published: Published, now: datetime) -> AlertReport:
    """Queue alerts for releases (and `realert` corrections) that became public recently; idempotent."""
    report = AlertReport()
    oldest = now - timedelta(hours=settings.email.alert_max_age_hours)
    for release in published.releases:  # public at `now` only: never embargoed, drafts or withdrawn
        if oldest <= release.release_time <= now:
            _alert_release(conn, settings, release, now, report)
        for fix in release.meta.corrections:
            if fix.realert and oldest <= fix.date.astimezone(UTC) <= now:
                _alert_correction(conn, settings, release, fix, now, report)
    # Only recent withdrawals can still have unsent alerts (retries and quiet hours last hours, not days)
    recent = oldest - WITHDRAWN_LOOKBACK
    report.cancelled = cancel_withdrawn(
        conn, (r.slug for r in published.withdrawn if r.updated_time >= recent)
    )
    return report


def _alert_release(
    conn: Connection, settings: Settings, release: Release, now: datetime, report: AlertReport
) -> None:
    key = alert_key(release)
    is_new = _notification_at(conn, key) is None
    # The corrections the alert already carries: they never re-alert (see _alert_correction)
    payload = {"slug": release.slug, "corrections": [_stamp(fix) for fix in release.meta.corrections]}
    notification = store.ensure_notification(conn, kind=ALERT, key=key, payload=payload, now=now)
    if is_new:
        report.releases.append(release.slug)
        # SMS alerts hang on the same notification; planned once, with quiet hours (sms_alerts.py)
        report.sms += plan_sms_alert(conn, settings, release, now)
    report.emails += _plan_languages(conn, settings, release, notification, key, now, report)


def _alert_correction(
    conn: Connection,
    settings: Settings,
    release: Release,
    fix: Correction,
    now: datetime,
    report: AlertReport,
) -> None:
    stamp = _stamp(fix)
    key = f"{alert_key(release)}:correction:{stamp}"
    existing = _notification_at(conn, key)
    if existing is None:
        # Not for a release never alerted, nor when its alert already carried the corrected text (the
        # alert's payload lists its corrections; else, from its time: an alert made after the correction)
        first = _notification_at(conn, alert_key(release))
        carried = first[2].get("corrections") if first is not None else None
        if first is None:
            skipped = True
        elif isinstance(carried, list):
            skipped = stamp in carried
        else:
            skipped = first[1] >= fix.date.astimezone(UTC)
        payload = {"slug": release.slug, "correction": stamp, "skipped": skipped}
        store.ensure_notification(conn, kind=ALERT, key=key, payload=payload, now=now)
        existing = _notification_at(conn, key)
        assert existing is not None
        if not skipped:
            report.corrections.append(f"{release.slug} (correction of {stamp})")
    notification_id, _created, payload = existing
    if not payload.get("skipped"):
        report.emails += _plan_languages(conn, settings, release, notification_id, key, now, report)


def _stamp(fix: Correction) -> str:
    return fix.date.astimezone(UTC).strftime("%Y%m%dT%H%MZ")


def _plan_languages(
    conn: Connection,
    settings: Settings,
    release: Release,
    notification_id: int,
    key: str,
    now: datetime,
    report: AlertReport,
) -> int:
    """Queue the email alert language by language, as the translation policy says; new deliveries."""
    waited = now >= release.release_time + timedelta(hours=settings.email.translation_wait_hours)
    planned = 0
    for language in settings.language_codes:
        translated = language in release.languages
        marker = f"{key}:{language}" if translated else f"{key}:{language}:fallback"
        if _notification_at(conn, marker) is not None:
            continue
        if not translated and settings.email.translation_policy == "wait" and not waited:
            report.waiting.append(f"{release.slug}:{language}")
            continue
        planned += queue.plan_audience(
            conn, notification_id, "email", now,
            topics=release.meta.topics, frequency="immediate", languages=[language],
        )  # fmt: skip
        payload = {"slug": release.slug, "language": language, "translated": translated}
        store.ensure_notification(conn, kind=PLANNED, key=marker, payload=payload, now=now)
    return planned


def cancel_withdrawn(conn: Connection, slugs: Iterable[str]) -> int:
    """Unsent alerts of withdrawn releases become 'suppressed': a withdrawn release never alerts."""
    keys = [f"alert:{slug}" for slug in slugs]
    if not keys:
        return 0
    ids = select(notifications.c.id).where(
        notifications.c.kind == ALERT,
        notifications.c.key.in_(keys) | _key_starts_with_any(keys),
    )
    result = conn.execute(
        update(deliveries)
        .where(deliveries.c.notification_id.in_(ids.scalar_subquery()), deliveries.c.status == "pending")
        .values(status="suppressed", last_error="release withdrawn")
    )
    return int(result.rowcount)


def _key_starts_with_any(keys: list[str]) -> ColumnElement[bool]:
    return or_(*(notifications.c.key.startswith(f"{key}:correction:", autoescape=True) for key in keys))


def _notification_at(conn: Connection, key: str) -> tuple[int, datetime, dict[str, object]] | None:
    """(id, created_at, payload) of the notification with this key, or None."""
    row = conn.execute(
        select(notifications.c.id, notifications.c.created_at, notifications.c.payload).where(
            notifications.c.key == key
        )
    ).first()
    return None if row is None else (int(row.id), row.created_at, dict(row.payload))


# --- digests ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """A digest's period in the site's time zone: [start, end) in UTC and its label in keys."""

    frequency: DigestFrequency
    label: str  # 2024-12-19 (daily) or 2024-W51 (weekly)
    start: datetime
    end: datetime

    @property
    def key(self) -> str:
        return f"digest:{self.frequency}:{self.label}"


def digest_period(
    frequency: DigestFrequency, now: datetime, settings: Settings, day: date | None = None
) -> Period:
    """The period holding `day`, or by default the last whole one before `now`: yesterday, last ISO week
    (local calendar days of the site's time zone, so a DST day has 23 or 25 hours)."""
    if frequency not in ("daily", "weekly"):
        raise NewsroomError(f"digest: unknown frequency {frequency!r}; use daily or weekly")
    today = now.astimezone(settings.zone).date()
    if frequency == "daily":
        first = day or today - timedelta(days=1)
        last = first + timedelta(days=1)
        label = first.isoformat()
    else:
        anchor = day or today - timedelta(days=7)  # a day of last week by default
        first = anchor - timedelta(days=anchor.weekday())  # its Monday
        last = first + timedelta(days=7)
        year, week, _ = first.isocalendar()
        label = f"{year}-W{week:02d}"
    start = datetime.combine(first, time(0), settings.zone).astimezone(UTC)
    end = datetime.combine(last, time(0), settings.zone).astimezone(UTC)
    return Period(frequency, label, start, end)


@dataclass
class DigestReport:
    key: str
    releases: int = 0
    planned: int = 0
    already: bool = False

    def summary(self) -> str:
        if self.already:
            return f"{self.key}: already queued, nothing new"
        if not self.releases:
            return f"{self.key}: nothing became public in this period, nothing queued"
        return f"{self.key}: {self.releases} release(s), {self.planned} digest(s) queued"


def check_over(period: Period, now: datetime) -> None:
    """A digest goes out once, so only for a period that is over."""
    if period.end > now:
        raise NewsroomError(
            f"digest {period.label}: the period ends {period.end.isoformat()}, "
            f"after now ({now.isoformat()}); "
            "fix: pick a period that is over (a digest is sent once, so it must be complete)"
        )


def plan_digest(
    conn: Connection, settings: Settings, published: Published, period: Period, now: datetime
) -> DigestReport:
    """Queue one digest per subscriber of this frequency whose topics something in the period matched."""
    report = DigestReport(period.key)
    check_over(period, now)
    inside = [r for r in published.releases if period.start <= r.release_time < period.end]
    report.releases = len(inside)
    if not inside:
        return report
    if _notification_at(conn, period.key) is not None:
        report.already = True
        return report
    payload = {
        "frequency": period.frequency,
        "period": period.label,
        "start": period.start.isoformat(),
        "end": period.end.isoformat(),
        "slugs": [r.slug for r in inside],
    }
    notification = store.ensure_notification(
        conn, kind=period.frequency, key=period.key, payload=payload, now=now
    )
    topics = sorted({topic for release in inside for topic in release.meta.topics})
    # Language by language: deliveries are claimed roughly in the order they were planned, so a batch
    # holds one language and the builders' bounded cache of prepared messages keeps hitting.
    for language in settings.language_codes:
        report.planned += queue.plan_audience(
            conn, notification, "email", now, topics=topics, frequency=period.frequency, languages=[language]
        )
    return report


# --- entry points: `newsroom notify`, `newsroom digest`, the notify stage of `publish` ---------------------


def notify(
    settings: Settings, now: datetime, *, published: Published | None = None, engine: Engine | None = None
) -> AlertReport:
    """Plan the alerts due at `now` in one transaction (a crash plans nothing, a re-run plans the rest)."""
    view = published or gate(load_newsroom(settings), now)
    own = engine is None
    engine = engine or open_database(settings)
    try:
        with engine.begin() as conn:
            return plan_alerts(conn, settings, view, now)
    finally:
        if own:
            engine.dispose()


def digest(
    settings: Settings,
    frequency: DigestFrequency,
    now: datetime,
    *,
    day: date | None = None,
    engine: Engine | None = None,
) -> DigestReport:
    """Plan the digest of one period (by default the last whole one before `now`)."""
    period = digest_period(frequency, now, settings, day)
    check_over(period, now)  # before touching the database
    view = gate(load_newsroom(settings), now)
    own = engine is None
    engine = engine or open_database(settings)
    try:
        with engine.begin() as conn:
            return plan_digest(conn, settings, view, period, now)
    finally:
        if own:
            engine.dispose()


class _PublishRun(Protocol):
    settings: Settings
    now: datetime
    published: Published


def notify_stage(run: _PublishRun) -> str:
    """The `notify` stage of `newsroom publish`: after the site (alerts link to its pages), before deliver."""
    return notify(run.settings, run.now, published=run.published).summary()
