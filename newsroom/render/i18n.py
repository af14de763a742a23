"""Message catalogs and locale formatting shared by every output (site, PDF, email, SMS, web app).

Catalogs are gettext `.po` files under `newsroom/locale/<language>/LC_MESSAGES/<domain>.po`, one
domain per output (site, pdf, email, web, sms), so each output's strings are kept and reviewed
together. They are compiled in memory when first used (no `.mo` files to go stale). A string
missing from a catalog falls back to the English source text.
"""

from __future__ import annotations

import io
from datetime import date, datetime
from functools import cache
from pathlib import Path

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
DOMAINS = ("site", "pdf", "email", "web", "sms", "feeds")
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


def text_direction(language: str) -> str:
    return Locale.parse(babel_locale(language)).text_direction


def format_release_date(moment: datetime | date, language: str, zone: object | None = None) -> str:
    """A date as readers of `language` write it: '25 ноября 2024 г.', '25 de noviembre de 2024'."""
    return format_date(moment, format="long", locale=babel_locale(language))


def format_release_datetime(moment: datetime, language: str, zone: object) -> str:
    """Date and time in the site's time zone, localized: '25 ноября 2024 г., 10:00 EST'-like."""
    return format_datetime(moment, format="long", tzinfo=zone, locale=babel_locale(language))  # type: ignore[arg-type]
