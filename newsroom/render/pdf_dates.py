"""Dates and times as the PDF prints them, localized with Babel, in the site's time zone.

CLDR has no Haitian Creole month or day names (Babel falls back to French: "décembre"), so `ht`
gets its own small table here; every other language is pure Babel.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from babel import Locale
from babel.dates import format_datetime, format_time

from newsroom.render import i18n
from newsroom.render.i18n import babel_locale


def long_date(moment: datetime, language: str, zone: tzinfo) -> str:
    """'December 9, 2024', '9 декабря 2024 г.', '9 desanm 2024'."""
    return i18n.long_date(moment.astimezone(zone), language)


def full_date(moment: datetime, language: str, zone: tzinfo) -> str:
    """With the weekday: 'Monday, December 9, 2024', 'lendi 9 desanm 2024'."""
    return i18n.long_date(moment.astimezone(zone), language, weekday=True)


def clock(moment: datetime, language: str, zone: tzinfo) -> str:
    """'11:00 AM', '11:00'; Haitian Creole writes the 24-hour clock."""
    local = moment.astimezone(zone)
    if language == "ht":
        return f"{local:%H:%M}"
    return format_time(local, format="short", tzinfo=zone, locale=babel_locale(language))


def zone_name(moment: datetime, language: str, zone: tzinfo) -> str:
    """'Eastern Standard Time', 'hora estándar oriental'; a plain UTC offset for Haitian Creole."""
    local = moment.astimezone(zone)
    if language == "ht":
        offset = local.strftime("%z")
        return f"UTC{offset[0].replace('-', '−')}{offset[1:3]}:{offset[3:]}"
    return format_datetime(local, "zzzz", tzinfo=zone, locale=babel_locale(language))


def date_time(moment: datetime, language: str, zone: tzinfo) -> str:
    """'June 1, 2030, 10:00 AM (Eastern Daylight Time)': an embargo's end, a correction's time."""
    combined = _combine(long_date(moment, language, zone), clock(moment, language, zone), language)
    return combined + _in_parentheses(zone_name(moment, language, zone), language)


def event_time(start: datetime, end: datetime | None, language: str, zone: tzinfo) -> str:
    """'Monday, December 9, 2024, 11:00 AM – 12:00 PM (Eastern Standard Time)'."""
    times = clock(start, language, zone)
    if end is not None:
        if end.astimezone(zone).date() == start.astimezone(zone).date():
            times = f"{times} – {clock(end, language, zone)}"
        else:
            times = (
                f"{times} – {_combine(full_date(end, language, zone), clock(end, language, zone), language)}"
            )
    combined = _combine(full_date(start, language, zone), times, language)
    return combined + _in_parentheses(zone_name(start, language, zone), language)


def _in_parentheses(text: str, language: str) -> str:
    # Chinese sets full-width parentheses with no space before them
    return f"（{text}）" if language == "zh" else f" ({text})"


def _combine(date_text: str, time_text: str, language: str) -> str:
    pattern = str(Locale.parse(babel_locale(language)).datetime_formats["long"])
    return pattern.replace("{1}", date_text).replace("{0}", time_text)
