"""Message catalogs and locale formatting shared by every output (site, PDF, email, SMS, web app).

Catalogs are gettext `.po` files under `newsroom/locale/<language>/LC_MESSAGES/<domain>.po`, one
domain per output (site, pdf, email, web, sms), so each output's strings are kept and reviewed
together. They are compiled in memory when first used (no `.mo` files to go stale). A string
missing from a catalog falls back to the English source text.
"""

from __future__ import annotations

import hashlib
import io
from datetime import date, datetime
from functools import cache, lru_cache
from pathlib import Path

from babel import Locale
from babel.dates import format_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

from newsroom.render import haitian

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
DOMAINS = ("site", "pdf", "email", "web", "sms", "feeds", "delivery")
SOURCE_LANGUAGE = "en"  # msgids are written in English


def babel_locale(language: str) -> str:
    """The Babel/CLDR locale for one of our language codes (zh means Simplified Chinese)."""
    return {"zh": "zh_Hans_CN"}.get(language, language.replace("-", "_"))


@cache
def translations(language: str, domain: str) -> NullTranslations:
    """gettext/ngettext/pgettext for one language and domain; English source text when missing."""
    path = LOCALE_DIR / language / "LC_MESSAGES" / f"{domain}.po"
    if language == SOURCE_LANGUAGE or not path.is_file():
        return NullTranslations()
    with path.open("rb") as po:
        catalog = read_po(po, locale=babel_locale(language), domain=domain)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return Translations(fp=buffer, domain=domain)


@cache
def locale(language: str) -> Locale:
    """The Babel locale of one of our language codes, parsed once (Babel parses a string per call)."""
    return Locale.parse(babel_locale(language))


@cache
def text_direction(language: str) -> str:
    return locale(language).text_direction


def long_date(day: date, language: str, *, weekday: bool = False) -> str:
    """A date as readers of `language` write it: '25 ноября 2024 г.', 'November 25, 2024',
    '25 novanm 2024' (with the weekday if asked). Pass a date or a datetime already in the site's zone."""
    return _long_date(day.date() if isinstance(day, datetime) else day, language, weekday)


# Each day is shown on many pages (the release, its month, topics, offices, feeds) in each language:
# 10,000 releases span some 4,500 days, 27,000 with six languages; Babel takes 10 us per date
@lru_cache(maxsize=65536)
def _long_date(day: date, language: str, weekday: bool) -> str:
    if language == "ht":  # CLDR has no Creole data: Babel would print French month names
        return haitian.format_day(day, weekday=weekday)
    return format_date(day, format="full" if weekday else "long", locale=locale(language))


@lru_cache(maxsize=1024)
def language_name(code: str, in_language: str) -> str:
    """The name of language `code` as readers of `in_language` write it ('inglés', 'английский')."""
    if in_language == "ht" and code in haitian.LANGUAGE_NAMES:
        return haitian.LANGUAGE_NAMES[code]
    names = locale(in_language).languages
    return str(names.get(code) or names.get(code.split("-")[0]) or code)


def catalog_fingerprint(domain: str) -> str:
    """A hash of every language's catalog for `domain`: part of the keys of what uses its strings.
    Read on every call (a few small files), so a long-lived `serve` notices an edited catalog."""
    hasher = hashlib.sha256()
    for path in sorted(LOCALE_DIR.glob(f"*/LC_MESSAGES/{domain}.po")):
        hasher.update(path.parent.parent.name.encode() + b"\0" + path.read_bytes())
    return hasher.hexdigest()[:24]
