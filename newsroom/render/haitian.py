"""Haitian Creole dates, lists and language names, which CLDR (and so Babel) does not have.

Babel formats `ht` with French data ("20 décembre 2024", "A, B et C"); a Creole reader expects
"20 desanm 2024" and "A, B ak C". Only what the outputs print is here.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

MONTHS = (
    "janvye", "fevriye", "mas", "avril", "me", "jen", "jiyè", "out", "septanm", "oktòb", "novanm", "desanm",
)  # fmt: skip
WEEKDAYS = ("lendi", "madi", "mèkredi", "jedi", "vandredi", "samdi", "dimanch")
LANGUAGE_NAMES = {
    "en": "angle",
    "es": "panyòl",
    "fr": "franse",
    "ru": "ris",
    "zh": "chinwa",
    "ar": "arab",
    "ht": "kreyòl ayisyen",
}


def format_day(day: date, *, weekday: bool = False) -> str:
    """'20 desanm 2024' ('vandredi 20 desanm 2024' with the weekday)."""
    text = f"{day.day} {MONTHS[day.month - 1]} {day.year}"
    return f"{WEEKDAYS[day.weekday()]} {text}" if weekday else text


def format_moment(moment: datetime, zone: str) -> str:
    """'20 desanm 2024, 14:00 (GMT−05:00)'; `moment` already in the site's time zone."""
    return f"{format_day(moment.date())}, {moment:%H:%M} ({zone})"


def format_period(first: date, last: date) -> str:
    """'14–20 desanm 2024', '28 novanm – 4 desanm 2024', '28 desanm 2024 – 3 janvye 2025'."""
    if first.year != last.year:
        return f"{format_day(first)} – {format_day(last)}"
    if first.month != last.month:
        return f"{first.day} {MONTHS[first.month - 1]} – {format_day(last)}"
    return f"{first.day}–{format_day(last)}"


def format_list(items: Sequence[str]) -> str:
    """'A', 'A ak B', 'A, B ak C'."""
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} ak {items[-1]}"
