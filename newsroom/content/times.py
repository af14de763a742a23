"""Times with zones: release times, corrections, events, and the `now` every command runs at."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# "2024-11-25 10:00 America/New_York" or "2024-11-25T10:00 Europe/Madrid"
_WITH_ZONE_NAME = re.compile(
    r"^(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2})?)\s+([A-Za-z_]+(?:/[A-Za-z0-9_+-]+)*)$"
)

TIME_HINT = "write it as 2024-11-25 10:00 America/New_York or 2024-11-25T10:00:00-05:00"


def parse_zoned(value: object) -> datetime:
    """A zone-aware datetime from a string with an IANA zone name or a UTC offset; naive is refused."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        moment = _parse_text(value.strip())
    else:
        raise ValueError(f"expected a date and time with a time zone, got {type(value).__name__}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"time {value!r} has no time zone; {TIME_HINT}")
    return moment


def _parse_text(text: str) -> datetime:
    match = _WITH_ZONE_NAME.match(text)
    if match:
        stamp, zone_name = match.groups()
        try:
            zone = ZoneInfo(zone_name)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {zone_name!r}; {TIME_HINT}") from exc
        return datetime.fromisoformat(stamp.replace(" ", "T")).replace(tzinfo=zone)
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        return datetime.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(f"{text!r} is not a date and time; {TIME_HINT}") from exc


def resolve_now(option: str | None) -> datetime:
    """`now` for a run: --now, else NEWSROOM_NOW, else the clock. Always in UTC."""
    text = option or os.environ.get("NEWSROOM_NOW")
    if not text:
        return datetime.now(UTC).replace(microsecond=0)
    return parse_zoned(text).astimezone(UTC)
