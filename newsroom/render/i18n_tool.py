"""`make i18n`: extract strings per domain, update every catalog, list what is untranslated.

    python -m newsroom.render.i18n_tool            extract, update, report (exit 0)
    python -m newsroom.render.i18n_tool --check    only report; exit 1 when anything is untranslated

Each domain's strings come from its templates and its Python modules (see PYTHON_SOURCES; add the
files of a new output there). Templates are read with Jinja2's Babel extractor, Python with Babel's:
`_("...")`, `gettext`, `ngettext`, `pgettext` and `N_("...")` (mark a string for later translation).
The template of each domain is written to newsroom/locale/<domain>.pot; the catalogs are
newsroom/locale/<language>/LC_MESSAGES/<domain>.po.
"""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract
from babel.messages.pofile import read_po, write_po

from newsroom.render.i18n import DOMAINS, LOCALE_DIR, SOURCE_LANGUAGE, babel_locale

REPO = LOCALE_DIR.parents[1]
# Languages every catalog must exist for (more are picked up from newsroom/locale/).
LANGUAGES = ("es", "ru", "zh", "ar", "ht")
# Where each domain's strings are, relative to the repository: every template under templates/<domain>/
# (Jinja syntax, whatever the extension) and these Python files. Add a new output's files here.
PYTHON_SOURCES: dict[str, tuple[str, ...]] = {
    "site": ("newsroom/render/site*.py",),
    "pdf": ("newsroom/render/pdf*.py",),
    "email": ("newsroom/render/email*.py",),
    "sms": ("newsroom/render/sms*.py",),
    "feeds": ("newsroom/render/feeds*.py", "newsroom/render/sitemaps*.py"),
    "web": ("newsroom/web/**/*.py",),
    "delivery": ("newsroom/delivery/**/*.py",),
}
TEMPLATE_SUFFIXES = {".html", ".j2", ".jinja", ".txt", ".mjml", ".xml"}
# Fixed header dates keep the .pot files stable between runs (only real changes show in diffs).
STABLE_DATE = datetime(2024, 1, 1)
JINJA_OPTIONS = {"extensions": "jinja2.ext.i18n", "trim_blocks": "true", "lstrip_blocks": "true"}
KEYWORDS = {**DEFAULT_KEYWORDS, "N_": None}


def domains() -> list[str]:
    """Every domain with a runtime name or a source list (each one's catalogs are checked)."""
    return sorted(set(DOMAINS) | set(PYTHON_SOURCES))


def source_files(domain: str) -> list[Path]:
    files = {path for pattern in PYTHON_SOURCES.get(domain, ()) for path in REPO.glob(pattern)}
    files |= {path for path in (REPO / "templates" / domain).rglob("*") if path.suffix in TEMPLATE_SUFFIXES}
    return sorted(path for path in files if path.is_file())


def extract_domain(domain: str) -> Catalog:
    """Every translatable string of a domain, with the places it is used."""
    catalog = Catalog(domain=domain, project="newsroom", creation_date=STABLE_DATE, revision_date=STABLE_DATE)
    for path in source_files(domain):
        method = "python" if path.suffix == ".py" else "jinja2.ext:babel_extract"
        with path.open("rb") as source:
            found = extract(method, source, KEYWORDS, options=JINJA_OPTIONS if method != "python" else {})
            for line, message, comments, context in found:
                where = (str(path.relative_to(REPO)), line)
                catalog.add(message, None, [where], auto_comments=comments, context=context)
    return catalog


def catalog_languages() -> list[str]:
    present = {path.name for path in LOCALE_DIR.iterdir() if path.is_dir()} if LOCALE_DIR.is_dir() else set()
    return sorted((present | set(LANGUAGES)) - {SOURCE_LANGUAGE})


def po_path(language: str, domain: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{domain}.po"


def read_catalog(language: str, domain: str) -> Catalog:
    path = po_path(language, domain)
    if not path.is_file():
        return Catalog(locale=babel_locale(language), domain=domain, creation_date=STABLE_DATE)
    with path.open("rb") as po:
        return read_po(po, locale=babel_locale(language), domain=domain)


def is_translated(message: Message) -> bool:
    if message.fuzzy:
        return False
    strings = message.string if isinstance(message.string, list | tuple) else [message.string]
    return all(strings) and bool(strings)


def untranslated(template: Catalog, catalog: Catalog) -> list[str]:
    """The msgids of `template` that `catalog` lacks a (non-fuzzy) translation for."""
    missing = []
    for message in template:
        if not message.id:
            continue
        found = catalog.get(message.id, context=message.context)
        if found is None or not is_translated(found):
            missing.append(message.id if isinstance(message.id, str) else message.id[0])
    return missing


def missing_translations() -> dict[tuple[str, str], list[str]]:
    """(language, domain) -> untranslated strings, for every domain that has strings."""
    report: dict[tuple[str, str], list[str]] = {}
    for domain in domains():
        template = extract_domain(domain)
        if not len(template):
            continue
        for language in catalog_languages():
            missing = untranslated(template, read_catalog(language, domain))
            if missing:
                report[(language, domain)] = missing
    return report


def update_catalogs() -> None:
    """Write each domain's .pot and bring every language's .po in line with it."""
    for domain in domains():
        template = extract_domain(domain)
        if not len(template):
            continue
        LOCALE_DIR.mkdir(parents=True, exist_ok=True)
        _write(LOCALE_DIR / f"{domain}.pot", template)
        for language in catalog_languages():
            catalog = read_catalog(language, domain)
            catalog.update(template, no_fuzzy_matching=True, update_creation_date=False)
            catalog.revision_date = STABLE_DATE
            catalog.project, catalog.version = "newsroom", ""
            catalog.msgid_bugs_address = catalog.last_translator = catalog.language_team = ""
            _write(po_path(language, domain), catalog)


def _write(path: Path, catalog: Catalog) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as out:
        write_po(out, catalog, width=100, sort_output=True, ignore_obsolete=True, include_previous=False)


def main(argv: list[str]) -> int:
    if "--check" not in argv:
        update_catalogs()
    report = missing_translations()
    for (language, domain), missing in sorted(report.items()):
        print(f"{language}/{domain}.po: {len(missing)} untranslated")
        for msgid in missing:
            print(f"    {msgid!r}")
    if not report:
        print("every catalog translates every string")
    return 1 if report and "--check" in argv else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
