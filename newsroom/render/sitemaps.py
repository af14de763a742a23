"""sitemap.xml with hreflang alternates, a Google News sitemap per language, and robots.txt.

What the sitemap lists (every public page the site has, per language):
- the language chooser at the root, `/` (in no language: no alternates);
- the home page of every language;
- the page of every topic and office that has at least one public release, in every language;
- the monthly archive pages (urls.archive_page) of months with public releases, in every language;
- every public release in each language it exists in (the original and its translations).
Each page's <url> carries an xhtml:link alternate for every language version of it, itself
included, plus x-default (the default language's version, else the release's original), as the
pages' own <link rel="alternate" hreflang> do. Withdrawn
releases are left out: their page is only a notice now. Embargoed ones never reach this module.

Google News sitemaps are one per language, `/<lang>/news-sitemap.xml`, because each entry names the
publication in that language. They list the releases published in the two days before `now` that
exist in that language (a Russian news sitemap announces Russian articles, not English fallbacks).
Google asks for "zh-cn" for Simplified Chinese; other codes are used as they are.

sitemap.xml is a sitemap index over parts at the site's root (a sitemap may only list URLs below
its own folder): `sitemap-pages.xml` (the chooser, home, topic, office and archive pages) and one
`sitemap-YYYY.xml` per year of release (by the site's time zone), each with the `lastmod` of the
newest change in it. A change to one release rewrites its year's part and the index, not a sitemap
of every page (at 10,000 releases that was a quarter of a one-release rebuild). A part over 50,000
URLs is split into `sitemap-YYYY-1.xml`, `sitemap-YYYY-2.xml`, ...
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache, partial
from pathlib import Path
from typing import TypeVar

from newsroom.config import Settings
from newsroom.content.models import Release
from newsroom.gate import Published
from newsroom.keys import fast_key
from newsroom.render import urls
from newsroom.render.base import Artifact, Unit, digest

SITEMAP = "/sitemap.xml"
ROBOTS = "/robots.txt"
NEWS_WINDOW = timedelta(days=2)
MAX_URLS = 50_000  # per sitemap file, by the sitemaps.org protocol
GOOGLE_NEWS_LANGUAGES = {"zh": "zh-cn"}  # Google News wants zh-cn / zh-tw for Chinese
_CODE = digest(Path(__file__).read_bytes(), Path(urls.__file__).read_bytes())  # the URL scheme too

SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
XHTML_NS = "http://www.w3.org/1999/xhtml"
NEWS_NS = "http://www.google.com/schemas/sitemap-news/0.9"
XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'


_PathOf = Callable[[str], str]  # language code -> site path
_K = TypeVar("_K")


def news_sitemap(language: str) -> str:
    return f"/{language}/news-sitemap.xml"


@dataclass(frozen=True)
class Page:
    """One page in all its language versions."""

    versions: tuple[tuple[str, str], ...]  # (language, site path), in the site's language order
    default: str | None  # the x-default path; None for a page in no particular language
    lastmod: str = ""  # W3C datetime of the newest change shown on it, "" when unknown


@dataclass(frozen=True)
class NewsEntry:
    path: str
    title: str
    published: str  # W3C datetime


def sitemap_units(published: Published) -> Iterator[Unit]:
    """sitemap.xml (an index), its parts, one news sitemap per language, and robots.txt."""
    settings = published.settings
    base = settings.site.base_url
    shared = fast_key(_CODE, settings.file.model_dump_json())
    parts: list[tuple[str, str]] = []  # (file name, lastmod) of every part, for the index
    pages, newest, years = _walk(published)
    names = _part_names("sitemap-pages", sum(len(page.versions) for page in pages))
    parts.extend((name, _w3c(newest, settings) if newest else "") for name in names)
    listing_args = (base, "sitemap-pages", pages)
    yield Unit("sitemap:pages", digest(shared, *listing_args), render_sitemap_part, listing_args)
    for number, year in years.items():
        stem = f"sitemap-{number}"
        lastmod = _w3c(year.newest, settings)
        parts.extend((name, lastmod) for name in _part_names(stem, year.urls))
        # what a part lists follows from the settings and its releases' files: keying on those
        # costs a join, where listing its URLs is left to the worker
        key = fast_key(shared, stem, *(release.fingerprint for release in year.releases))
        yield Unit(
            f"sitemap:{number}", key, render_release_part, (settings, stem, tuple(year.releases)), group=stem
        )
    yield Unit("sitemap", digest(_CODE, base, parts), render_sitemap_index, (base, tuple(parts)))
    for language in settings.language_codes:
        entries = tuple(news_entries(published, language))
        publication = settings.site_name(language)
        args = (base, language, publication, entries)
        yield Unit(f"news-sitemap:{language}", digest(_CODE, args), render_news_sitemap, args)
    paths = (SITEMAP, *(news_sitemap(language) for language in settings.language_codes))
    yield Unit("robots", digest(_CODE, base, paths), render_robots, (base, paths))


def _part_names(stem: str, url_count: int) -> list[str]:
    """A part's file name, or its files' names when it holds more than MAX_URLS URLs."""
    if url_count <= MAX_URLS:
        return [f"{stem}.xml"]
    return [f"{stem}-{number}.xml" for number in range(1, -(-url_count // MAX_URLS) + 1)]


# --- what the site has ------------------------------------------------------------------------------


@dataclass
class _Year:
    """The releases of one year (in the site's time zone), as its sitemap part needs them."""

    releases: list[Release]  # newest first
    newest: datetime  # the latest change among them
    urls: int  # a URL per language version


def _walk(published: Published) -> tuple[tuple[Page, ...], datetime | None, dict[int, _Year]]:
    """In one pass over the releases (at 10,000, each pass was 10-20 ms): the pages that are not a
    release's (the chooser, home, topics, offices and monthly archives, each with the newest change
    it shows), the newest change of all, and each year's releases, newest year first."""
    settings = published.settings
    zone = settings.zone
    newest: datetime | None = None
    topics: dict[str, datetime] = {}
    offices: dict[str, datetime] = {}
    months: dict[tuple[int, int], datetime] = {}
    years: dict[int, _Year] = {}
    for release in published.releases:
        moment = release.updated_time
        if newest is None or newest < moment:
            newest = moment
        local = release.release_time.astimezone(zone)
        year = years.get(local.year)
        if year is None:
            year = years[local.year] = _Year([], moment, 0)
        elif year.newest < moment:
            year.newest = moment
        year.releases.append(release)
        year.urls += 1 + len(release.translations)
        _keep_newest(months, (local.year, local.month), moment)
        _keep_newest(offices, release.office, moment)
        for topic in release.topics:
            _keep_newest(topics, topic, moment)
    pages = [Page((("", "/"),), None), _everywhere(settings, urls.home, newest)]  # the chooser: no language
    pages += (
        _everywhere(settings, partial(urls.topic_page, topic=topic), topics[topic])
        for topic in settings.topics
        if topic in topics
    )
    pages += (
        _everywhere(settings, partial(urls.office_page, office=office), offices[office])
        for office in settings.offices
        if office in offices
    )
    pages += (
        _everywhere(settings, partial(urls.archive_page, year=year, month=month), moment)
        for (year, month), moment in sorted(months.items(), reverse=True)
    )
    return tuple(pages), newest, dict(sorted(years.items(), reverse=True))


def _keep_newest(table: dict[_K, datetime], key: _K, moment: datetime) -> None:
    if key not in table or table[key] < moment:
        table[key] = moment


def _release_page(settings: Settings, release: Release, updated: datetime) -> Page:
    """A release in each language it exists in; x-default as on the pages: default language, else original."""
    existing = {release.language, *release.translations}
    versions = tuple(
        (lang, urls.release_page(lang, release.slug)) for lang in settings.language_codes if lang in existing
    )
    default_language = settings.site.default_language
    x_default = default_language if default_language in existing else release.language
    return Page(versions, urls.release_page(x_default, release.slug), _w3c(updated, settings))


def _everywhere(settings: Settings, path_of: _PathOf, lastmod: datetime | None) -> Page:
    """A page that exists in every language (home, topic, office, archive)."""
    versions = tuple((lang, path_of(lang)) for lang in settings.language_codes)
    default = path_of(settings.site.default_language)
    return Page(versions, default, _w3c(lastmod, settings) if lastmod else "")


def _w3c(moment: datetime, settings: Settings) -> str:
    return moment.astimezone(settings.zone).isoformat()


def news_entries(published: Published, language: str) -> Iterator[NewsEntry]:
    """Releases in `language` published within NEWS_WINDOW before `now`, newest first."""
    since = published.now - NEWS_WINDOW
    for release in published.releases:
        if release.release_time < since:
            break  # newest first: the rest are older
        if language in release.languages:
            yield NewsEntry(
                urls.release_page(language, release.slug),
                release.localized(language).title,
                _w3c(release.release_time, published.settings),
            )


# --- the files ------------------------------------------------------------------------------------


def render_sitemap_part(base: str, stem: str, pages: tuple[Page, ...]) -> list[Artifact]:
    blocks = [block for page in pages for block in _url_blocks(base, page)]
    names = _part_names(stem, len(blocks))
    chunks = [blocks[i : i + MAX_URLS] for i in range(0, len(blocks), MAX_URLS)] or [[]]
    return [Artifact(name, _urlset(chunk)) for name, chunk in zip(names, chunks, strict=True)]


def render_release_part(settings: Settings, stem: str, releases: tuple[Release, ...]) -> list[Artifact]:
    pages = tuple(_release_page(settings, release, release.updated_time) for release in releases)
    return render_sitemap_part(settings.site.base_url, stem, pages)


def render_sitemap_index(base: str, parts: tuple[tuple[str, str], ...]) -> list[Artifact]:
    entries = "".join(
        f"<sitemap><loc>{escape(f'{base}/{name}')}</loc>{f'<lastmod>{lastmod}</lastmod>' if lastmod else ''}"
        "</sitemap>\n"
        for name, lastmod in parts
    )
    document = f'{XML_DECLARATION}<sitemapindex xmlns="{SITEMAP_NS}">\n{entries}</sitemapindex>\n'
    return [Artifact(SITEMAP.lstrip("/"), document.encode())]


def _urlset(blocks: list[str]) -> bytes:
    opening = f'<urlset xmlns="{SITEMAP_NS}" xmlns:xhtml="{XHTML_NS}">\n'
    return (XML_DECLARATION + opening + "".join(blocks) + "</urlset>\n").encode()


@lru_cache(maxsize=65_536)  # a long-lived `serve` rewrites the sitemap on every change
def _url_blocks(base: str, page: Page) -> tuple[str, ...]:
    return tuple(_make_url_blocks(base, page))


def _make_url_blocks(base: str, page: Page) -> Iterator[str]:
    """One <url> per language version, each listing every version and x-default."""
    lastmod = f"<lastmod>{page.lastmod}</lastmod>" if page.lastmod else ""
    if page.default is None:
        yield from (f"<url><loc>{escape(base + path)}</loc>{lastmod}</url>\n" for _, path in page.versions)
        return
    alternates = "".join(_alternate(lang, base + path) for lang, path in page.versions)
    alternates += _alternate("x-default", base + page.default)
    for _, path in page.versions:
        yield f"<url><loc>{escape(base + path)}</loc>{lastmod}\n{alternates}</url>\n"


def escape(text: str) -> str:
    """XML character data, as xml.sax.saxutils.escape writes it (which imports urllib.request, 7 ms
    of every build's start)."""
    return text.replace("&", "&amp;").replace(">", "&gt;").replace("<", "&lt;")


def quoteattr(text: str) -> str:
    """An XML attribute value with its quotes, as xml.sax.saxutils.quoteattr writes it."""
    text = escape(text).replace("\n", "&#10;").replace("\r", "&#13;").replace("\t", "&#9;")
    if '"' not in text:
        return f'"{text}"'
    if "'" not in text:
        return f"'{text}'"
    return '"{}"'.format(text.replace('"', "&quot;"))


def _alternate(hreflang: str, href: str) -> str:
    return f'  <xhtml:link rel="alternate" hreflang={quoteattr(hreflang)} href={quoteattr(href)}/>\n'


def render_news_sitemap(
    base: str, language: str, publication: str, entries: tuple[NewsEntry, ...]
) -> list[Artifact]:
    news_language = GOOGLE_NEWS_LANGUAGES.get(language, language)
    blocks = "".join(
        f"<url><loc>{escape(base + entry.path)}</loc><news:news>"
        f"<news:publication><news:name>{escape(publication)}</news:name>"
        f"<news:language>{escape(news_language)}</news:language></news:publication>"
        f"<news:publication_date>{entry.published}</news:publication_date>"
        f"<news:title>{escape(entry.title)}</news:title></news:news></url>\n"
        for entry in entries
    )
    document = f'{XML_DECLARATION}<urlset xmlns="{SITEMAP_NS}" xmlns:news="{NEWS_NS}">\n{blocks}</urlset>\n'
    return [Artifact(news_sitemap(language).lstrip("/"), document.encode())]


def render_robots(base: str, sitemaps: tuple[str, ...]) -> list[Artifact]:
    """Everything may be crawled; the sitemaps say where to start. (Only valid at the host's root.)"""
    lines = ["User-agent: *", "Allow: /", "", *(f"Sitemap: {base}{path}" for path in sitemaps)]
    return [Artifact(ROBOTS.lstrip("/"), ("\n".join(lines) + "\n").encode())]
