"""SMS quiet hours: an alert queued at night waits until the morning, unless its release is urgent.

`sms.quiet_hours = ["21:00", "08:00"]` is wall-clock time in the site's time zone; the window may
cross midnight. Times are computed on the local calendar and converted to UTC at the end, so a
daylight-saving change during the night still releases the queue at 08:00 local time.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from newsroom.config import Settings


def send_after(queued_at: datetime, settings: Settings, urgent: bool) -> datetime:
    """The earliest time (UTC) an alert queued at `queued_at` may be sent."""
    if queued_at.tzinfo is None:
        raise ValueError("queued_at must carry a time zone")
    window = settings.sms.quiet_hours
    if urgent or window is None:
        return queued_at.astimezone(UTC)
    start, end = (time.fromisoformat(clock) for clock in window)
    return quiet_until(queued_at, start, end, settings.zone)


def quiet_until(moment: datetime, start: time, end: time, zone: ZoneInfo) -> datetime:
    """`moment` itself if it is outside [start, end) local time, else the next local `end` (UTC)."""
    local = moment.astimezone(zone)
    clock = local.time().replace(tzinfo=None)
    if start == end or not _inside(clock, start, end):
        return moment.astimezone(UTC)
    day = local.date()
    if start > end and clock >= start:  # evening part of a window that ends tomorrow morning
        day += timedelta(days=1)
    # A wall time that does not exist (spring forward) resolves to just after the gap; one that
    # exists twice (fall back) to its first occurrence (fold=0): both are when the morning begins.
    wake = datetime.combine(day, end, tzinfo=zone)
    return wake.astimezone(UTC)


def _inside(clock: time, start: time, end: time) -> bool:
    if start < end:
        return start <= clock < end
    return clock >= start or clock < end
