"""Text the site pages are made of: sanitized body HTML, localized dates, .ics events, JSON-LD."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import lru_cache
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from babel.dates import format_time

from newsroom.render import i18n, urls
from newsroom.render.markdown import render_markdown


def body_html(markdown: str, slug: str) -> str:
    """Release body as safe HTML: headings start at h2, local files point at the release's media."""
    return render_markdown(markdown, assets=urls.release_asset(slug, ""), heading_offset=1)


def local_time(moment: datetime, zone: ZoneInfo) -> datetime:
    return moment.astimezone(zone)


def date_text(moment: datetime, language: str, zone: ZoneInfo) -> str:
    """'25 ноября 2024 г.', 'November 25, 2024', '25 novanm 2024'."""
    return i18n.long_date(moment.astimezone(zone), language)


def datetime_text(moment: datetime, language: str, zone: ZoneInfo) -> str:
    """Date and time in the site's zone: '25 ноября 2024 г., 10:00 EST'."""
    local = moment.astimezone(zone)
    pattern = i18n.locale(language).datetime_formats["medium"]
    combined = (
        str(pattern)
        .replace("{1}", date_text(moment, language, zone))
        .replace("{0}", time_text(local, language))
    )
    return f"{combined} {local.tzname()}"


@lru_cache(maxsize=4096)
def time_text(local: datetime, language: str) -> str:
    """'10:00 AM', '10:00': the short time of a moment already in the site's zone."""
    return format_time(local, format="short", locale=i18n.locale(language))


language_name = i18n.language_name


def iso(moment: datetime, zone: ZoneInfo) -> str:
    """ISO 8601 with the site zone's offset, e.g. 2024-11-25T10:00:00-05:00."""
    return moment.astimezone(zone).isoformat()


def json_ld(data: dict[str, object]) -> str:
    """JSON for a <script type="application/ld+json">: '<' escaped so nothing can close the tag.

    On one line: with an indent, json uses its pure-Python encoder (a fifth of a release page's time)."""
    text = json.dumps(data, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


# --- iCalendar (RFC 5545) --------------------------------------------------------------------------


def ics_event(
    *,
    uid: str,
    stamp: datetime,
    start: datetime,
    end: datetime | None,
    summary: str,
    location: str,
    description: str,
    url: str,
    language: str,
) -> bytes:
    """A one-event calendar; times in UTC so no VTIMEZONE is needed."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//newsroom//site//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:{uid}",
        f"DTSTAMP:{_utc(stamp)}",
        f"DTSTART:{_utc(start)}",
        *([f"DTEND:{_utc(end)}"] if end else []),
        f"SUMMARY;LANGUAGE={language}:{_escape(summary)}",
        f"LOCATION;LANGUAGE={language}:{_escape(location)}",
        f"DESCRIPTION;LANGUAGE={language}:{_escape(description)}",
        f"URL:{url}",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "".join(_fold(line) + "\r\n" for line in lines).encode("utf-8")


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _escape(text: str) -> str:
    return (
        text.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
    )


def _fold(line: str) -> str:
    """Fold at 75 octets, never inside a UTF-8 character (RFC 5545 section 3.1)."""
    if len(line.encode("utf-8")) <= 75:
        return line
    parts: list[str] = []
    current: list[str] = []
    size = 0  # octets in `current`
    limit = 75
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > limit:
            parts.append("".join(current))
            current, size = [char], width
            limit = 74  # continuation lines start with a space
        else:
            current.append(char)
            size += width
    parts.append("".join(current))
    return "\r\n ".join(parts)


def host_domain(base_url: str) -> str:
    """'.example.gov' for https://news.example.gov: what the official-site banner names."""
    host = urlsplit(base_url).hostname or ""
    return "." + ".".join(host.split(".")[-2:])
