"""The HTML site as builder units: which pages exist, and the key of everything each one reads.

Keys are computed from fingerprints, never by rendering: a release's fingerprint covers its files,
and `chrome` covers templates, CSS, catalogs, settings and this code. A listing's key names the
releases it shows, so a changed release re-renders its own pages and only the listings holding it.
The page contents themselves are built in `site_pages` (in worker processes).
"""

from __future__ import annotations

import hashlib
import os
from collections import defaultdict
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from newsroom.config import CONFIG_NAME, Settings
from newsroom.content.models import Release
from newsroom.gate import Published
from newsroom.render import site_pages as pages
from newsroom.render.base import Unit, digest
from newsroom.render.i18n import LOCALE_DIR

TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "site"
HOME_SIZE = 10  # releases on a language's home page
LISTING_SIZE = 50  # releases on a topic or office page (older ones: archive and feeds)


@dataclass(frozen=True)
class SiteInputs:
    """What every page reads besides releases; `chrome` is its fingerprint."""

    settings: Settings
    chrome: str


def site_units(published: Published) -> list[Unit]:
    settings = published.settings
    site = SiteInputs(settings, chrome_fingerprint(settings))
    prints = {r.slug: release_fingerprint(r) for r in (*published.releases, *published.withdrawn)}
    units = [
        Unit("site:static", site.chrome, pages.render_static, (site,)),
        Unit("site:landing", site.chrome, pages.render_landing, (site,)),
        Unit("site:404", site.chrome, pages.render_not_found, (site,)),
    ]
    for release in published.releases:
        media = _media_key(release)
        if media:
            units.append(Unit(f"site:media:{release.slug}", media, pages.render_media, (release,)))
        for language in release.languages:
            key = digest(site.chrome, prints[release.slug], language)
            units.append(
                Unit(
                    f"site:release:{language}:{release.slug}",
                    key,
                    pages.render_release,
                    (site, release, language),
                )
            )
    for release in published.withdrawn:
        for language in release.languages:
            key = digest(site.chrome, prints[release.slug], language, "withdrawn")
            units.append(
                Unit(
                    f"site:withdrawn:{language}:{release.slug}",
                    key,
                    pages.render_withdrawn,
                    (site, release, language),
                )
            )
    for language in settings.language_codes:
        units.extend(_listing_units(site, published.releases, language, prints))
    return units


def _listing_units(
    site: SiteInputs, releases: tuple[Release, ...], language: str, prints: dict[str, str]
) -> list[Unit]:
    """Home, topic, office and archive pages of one language (releases come newest first)."""
    settings = site.settings

    def unit(name: str, render: object, shown: tuple[Release, ...], *extra: object) -> Unit:
        key = digest(site.chrome, language, name, [prints[r.slug] for r in shown], [repr(e) for e in extra])
        return Unit(f"site:{name}:{language}", key, render, (site, language, shown, *extra))  # type: ignore[arg-type]

    units = [unit("home", pages.render_home, releases[:HOME_SIZE])]
    for topic in settings.topics:
        shown = tuple(r for r in releases if topic in r.meta.topics)[:LISTING_SIZE]
        units.append(unit(f"topic:{topic}", pages.render_topic, shown, topic))
    for office in settings.offices:
        shown = tuple(r for r in releases if r.meta.office == office)[:LISTING_SIZE]
        units.append(unit(f"office:{office}", pages.render_office, shown, office))
    months = _by_month(releases, settings)
    order = sorted(months, reverse=True)
    counts = tuple((year, month, len(months[(year, month)])) for year, month in order)
    units.append(unit("archive", pages.render_archive_index, (), counts))
    for index, (year, month) in enumerate(order):
        newer = order[index - 1] if index > 0 else None
        older = order[index + 1] if index + 1 < len(order) else None
        shown = tuple(months[(year, month)])
        units.append(
            unit(f"archive:{year:04d}-{month:02d}", pages.render_month, shown, (year, month), newer, older)
        )
    return units


def _by_month(releases: tuple[Release, ...], settings: Settings) -> dict[tuple[int, int], list[Release]]:
    months: dict[tuple[int, int], list[Release]] = defaultdict(list)
    for release in releases:
        local = release.release_time.astimezone(settings.zone)
        months[(local.year, local.month)].append(release)
    return months


def release_fingerprint(release: Release) -> str:
    """Everything a release's pages read: the original (its revision), translations, status."""
    translations = [
        (t.language, t.meta.model_dump_json(), t.body) for _, t in sorted(release.translations.items())
    ]
    return digest(release.revision, release.meta.model_dump_json(), translations)


def _media_key(release: Release) -> str:
    """Every file beside the release but its Markdown ('' when there is none): cheap, no parsing,
    and a superset of what `render_media` copies."""
    files = [
        (entry.name, entry.stat().st_size, entry.stat().st_mtime_ns)
        for entry in sorted(os.scandir(release.folder), key=lambda e: e.name)
        if entry.is_file() and not entry.name.endswith(".md")
    ]
    return digest(release.slug, files) if files else ""


def chrome_fingerprint(settings: Settings) -> str:
    """Templates, CSS, site catalogs, settings and the site code: a change here re-renders every page."""
    return digest((settings.root / CONFIG_NAME).read_bytes(), _code_fingerprint())


@cache
def _code_fingerprint() -> str:
    here = Path(__file__).resolve().parent
    files = (
        sorted(TEMPLATES.rglob("*"))
        + sorted(here.glob("site*.py"))
        + sorted(LOCALE_DIR.glob("*/LC_MESSAGES/site.po"))
    )
    hasher = hashlib.sha256()
    for path in files:
        if path.is_file():
            hasher.update(str(path.relative_to(here.parents[1])).encode() + b"\0" + path.read_bytes())
    return hasher.hexdigest()[:24]
