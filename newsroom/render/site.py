"""The HTML site as builder units: which pages exist, and the key of everything each one reads.

Keys are computed from fingerprints, never by rendering: a release's fingerprint covers its files,
and `chrome` covers templates, CSS, catalogs, settings and this code. A listing's key names the
releases it shows, so a changed release re-renders its own pages and only the listings holding it.
Pages are built in `site_pages` (listings, site-wide pages) and `site_release` (a release), in workers.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, partial
from pathlib import Path

from newsroom.config import CONFIG_NAME, Settings
from newsroom.content.models import Release
from newsroom.gate import Published
from newsroom.keys import fast_key
from newsroom.render import site_pages as pages
from newsroom.render import site_release
from newsroom.render.base import (
    Artifact,
    Unit,
    digest,
    release_fingerprint,
    remember,
)
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
    units = [
        Unit("site:static", site.chrome, pages.render_static, (site,)),
        Unit("site:landing", site.chrome, pages.render_landing, (site,)),
        Unit("site:404", site.chrome, pages.render_not_found, (site,)),
    ]
    public, withdrawn = f"site:{site.chrome}", f"site-withdrawn:{site.chrome}"
    for release in published.releases:
        units += remember(release, public, partial(_release_units, site, release))
    for release in published.withdrawn:
        units += remember(release, withdrawn, partial(_withdrawn_units, site, release))
    listings = _listings(published.releases, settings)
    shown_prints = {
        name: fast_key(*[shown_release.fingerprint for shown_release in shown])
        for name, (_, shown, _) in listings.items()
    }
    for language in settings.language_codes:
        for name, (render, shown, extra) in listings.items():
            key = fast_key(site.chrome, name, language, shown_prints[name], repr(extra))
            units.append(Unit(f"site:{name}:{language}", key, render, (site, language, shown, *extra)))
    return units


def _release_units(site: SiteInputs, release: Release) -> list[Unit]:
    """Its pages, and its files (images, attachments) if it has any."""
    fingerprint = release_fingerprint(release)
    name = f"site:release:{release.slug}"
    key = site.chrome + fingerprint  # two hashes: a third, of the two, cost 25 ms at 10,000 releases
    units = [Unit(name, key, render_pages, (site_release.render_release, site, release), group=release.slug)]
    media = _media_key(release, fingerprint)
    if media:
        name = f"site:media:{release.slug}"
        units.insert(0, Unit(name, media, site_release.render_media, (release,), group=release.slug))
    return units


def _withdrawn_units(site: SiteInputs, release: Release) -> list[Unit]:
    name = f"site:withdrawn:{release.slug}"
    key = site.chrome + release_fingerprint(release)
    return [Unit(name, key, render_pages, (site_release.render_withdrawn, site, release), group=release.slug)]


# One unit for a release's pages in all its languages: its fingerprint covers every translation, so
# any change to it re-renders them all anyway, and one unit per page was 7,000 more units (keys,
# manifest entries) to work out at every rebuild of 10,000 releases.
def render_pages(
    render: Callable[[SiteInputs, Release, str], list[Artifact]], site: SiteInputs, release: Release
) -> list[Artifact]:
    """`render` (a release page or its withdrawal notice) in every language the release is in."""
    return [page for language in release.languages for page in render(site, release, language)]


Listing = tuple[Callable[..., list[Artifact]], tuple[Release, ...], tuple[object, ...]]


def _listings(releases: tuple[Release, ...], settings: Settings) -> dict[str, Listing]:
    """Home, topic, office and archive pages: what each shows (the same in every language).

    Releases come newest first; one pass groups them, so the cost grows with the releases, not with
    releases x pages."""
    topics: dict[str, list[Release]] = {topic: [] for topic in settings.topics}
    offices: dict[str, list[Release]] = {office: [] for office in settings.offices}
    months: dict[tuple[int, int], list[Release]] = defaultdict(list)
    for release in releases:
        for topic in release.topics:  # each once
            if len(topics[topic]) < LISTING_SIZE:
                topics[topic].append(release)
        if len(offices[release.office]) < LISTING_SIZE:
            offices[release.office].append(release)
        local = release.release_time.astimezone(settings.zone)
        months[(local.year, local.month)].append(release)
    listings: dict[str, Listing] = {"home": (pages.render_home, releases[:HOME_SIZE], ())}
    listings.update({f"topic:{t}": (pages.render_topic, tuple(shown), (t,)) for t, shown in topics.items()})
    listings.update(
        {f"office:{o}": (pages.render_office, tuple(shown), (o,)) for o, shown in offices.items()}
    )
    order = sorted(months, reverse=True)
    counts = tuple((year, month, len(months[(year, month)])) for year, month in order)
    listings["archive"] = (pages.render_archive_index, (), (counts,))
    for index, (year, month) in enumerate(order):
        newer = order[index - 1] if index > 0 else None
        older = order[index + 1] if index + 1 < len(order) else None
        extra = ((year, month), newer, older)
        listings[f"archive:{year:04d}-{month:02d}"] = (
            pages.render_month,
            tuple(months[(year, month)]),
            extra,
        )
    return listings


def _media_key(release: Release, fingerprint: str) -> str:
    """'' when the release has no images or attachments; else a hash of the files it references.

    Only files named in the front matter are stat()ed; a body with an image (rare) is parsed to find
    its files. Nothing is read, and unreferenced files beside the release are never published."""
    if not release.names_files:
        return ""
    files = [(name, *_stat(release.folder / name)) for name in site_release.media_files(release)]
    return fast_key(fingerprint, repr(files))


def _stat(path: Path) -> tuple[int, int]:
    info = path.stat()
    return info.st_size, info.st_mtime_ns


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
