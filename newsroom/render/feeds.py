"""RSS 2.0 and Atom feeds (feedgen): one pair per language, per topic and per office in every language.

A feed in language L lists the latest `FEED_SIZE` public releases in its scope, newest first, each in
L when translated, else the original with a note in L saying so (never left out, never blank).

Identity: an entry's id (Atom) and guid (RSS) is a tag: URI made of the site's host, the release
folder's date, the slug and the language of the entry's text, e.g.
`tag:news.example.gov,2024-11-25:new-york-experience/ru`. None of it depends on the title or the text,
so editing a release never changes it. A translation that arrives later is a new entry (the Russian
text is news to a Russian reader) and replaces the original's entry in that language's feeds.

Dates: `published` is the release time; `updated` is the latest correction's time, so a correction
shows up as an updated entry. A feed's own `updated` (and RSS lastBuildDate) is its newest entry's
`updated`, never the clock, so two builds of the same inputs are byte-identical and a feed's bytes
only change when its entries do. A feed with no entries says 1970-01-01 (`EMPTY_FEED_UPDATED`).

Scope: feeds exist for every configured topic and office in every language, even when empty, so a
topic or office page can always link its feed. Withdrawn releases are absent (the gate's `releases`
holds only public ones); embargoed ones never reach this module.
"""

from __future__ import annotations

import hashlib
import html
import os
import pickle
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import feedgen.version
import nh3
from babel.dates import format_time
from feedgen.entry import FeedEntry
from feedgen.feed import FeedGenerator
from feedgen.util import xml_elem
from lxml import etree  # type: ignore[import-untyped]  # feedgen's XML library

from newsroom.config import Settings
from newsroom.content.models import Attachment, Contact, Localized, Release, content_code
from newsroom.gate import Published
from newsroom.keys import fast_key
from newsroom.render import urls
from newsroom.render.base import Artifact, Unit, digest, text_files
from newsroom.render.i18n import LOCALE_DIR, babel_locale, long_date, translations
from newsroom.render.markdown import render_markdown

DOMAIN = "feeds"
FEED_SIZE = 50
EMPTY_FEED_UPDATED = datetime(1970, 1, 1, tzinfo=UTC)
GENERATOR = "newsroom"
ATOM_TYPE = "application/atom+xml"
RSS_TYPE = "application/rss+xml"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
ATOM_NS = "http://www.w3.org/2005/Atom"
RSS_NAMESPACES = {"atom": ATOM_NS, "content": "http://purl.org/rss/1.0/modules/content/"}  # feedgen's
Translate = Callable[[str], str]
# Changing this module, the Markdown renderer or feedgen changes every feed's key.
_CODE = digest(
    Path(__file__).read_bytes(),
    (Path(__file__).parent / "markdown.py").read_bytes(),
    feedgen.version.version_str,
)


def N_(message: str) -> str:
    """Marks a message for extraction; it is translated where it is used."""
    return message


# Language names as readers of each language write them (CLDR has none for Haitian Creole).
LANGUAGE_NAMES = {
    "en": N_("English"),
    "es": N_("Spanish"),
    "ru": N_("Russian"),
    "zh": N_("Chinese"),
    "ar": N_("Arabic"),
    "ht": N_("Haitian Creole"),
}


@dataclass(frozen=True)
class FeedScope:
    """Which releases one feed lists, and in which language."""

    language: str
    topic: str | None = None
    office: str | None = None

    @property
    def name(self) -> str:
        if self.topic:
            return f"feed:{self.language}:topic:{self.topic}"
        if self.office:
            return f"feed:{self.language}:office:{self.office}"
        return f"feed:{self.language}"

    def includes(self, release: Release) -> bool:
        if self.topic:
            return self.topic in release.topics
        if self.office:
            return release.office == self.office
        return True

    @property
    def atom_path(self) -> str:
        return urls.atom_feed(self.language, self.topic, self.office)

    @property
    def rss_path(self) -> str:
        return urls.rss_feed(self.language, self.topic, self.office)

    @property
    def page_path(self) -> str:
        if self.topic:
            return urls.topic_page(self.language, self.topic)
        if self.office:
            return urls.office_page(self.language, self.office)
        return urls.home(self.language)


@dataclass(frozen=True)
class FeedItem:
    """A picklable snapshot of everything one entry shows: a release as a feed's readers get it."""

    slug: str
    folder_date: str  # YYYY-MM-DD from the release folder's name: fixed once published
    text: Localized  # .language is the text's language, .requested the feed's
    kind: str
    office: str
    topics: tuple[str, ...]
    published: datetime
    updated: datetime
    contacts: tuple[Contact, ...]
    attachments: tuple[Attachment, ...]
    pdf_length: int | None  # None: no PDF to enclose


def feed_scopes(settings: Settings) -> list[FeedScope]:
    """Every feed the site has: per language, then per topic and per office in that language."""
    scopes: list[FeedScope] = []
    for language in settings.language_codes:
        scopes.append(FeedScope(language))
        scopes.extend(FeedScope(language, topic=topic) for topic in settings.topics)
        scopes.extend(FeedScope(language, office=office) for office in settings.offices)
    return scopes


def feed_units(
    published: Published, *, size: int = FEED_SIZE, pdf_sizes: Mapping[str, int] | None = None
) -> Iterator[Unit]:
    """One unit per feed scope, writing its Atom and RSS files.

    pdf_sizes: the byte size of each known PDF by site path (urls.release_pdf). Without it every
    entry encloses its PDF with length 0 (RSS's "unknown"), assuming the PDF stage publishes them;
    with it, only PDFs listed are enclosed, with their real length.
    """
    settings = published.settings
    shared = fast_key(_CODE, content_code(), _settings_fingerprint(settings), str(size))
    catalogs = {language: _catalog_hash(language) for language in settings.language_codes}
    cache = EntryCache(settings.var_dir / "cache" / "feeds", fast_key(shared, *catalogs.values()))
    for scope in feed_scopes(settings):
        chosen = tuple(islice((r for r in published.releases if scope.includes(r)), size))
        shown = [_text_language(release, scope.language) for release in chosen]
        entries = [_entry_key(release, text, pdf_sizes) for release, text in zip(chosen, shown, strict=True)]
        # labels inside an entry are in the entry's language, the note and feed strings in the feed's
        languages = sorted({scope.language, *shown})
        used_catalogs = [catalogs[code] if code in catalogs else _catalog_hash(code) for code in languages]
        key = fast_key(shared, *used_catalogs, scope.name, *entries)
        args = (settings, scope, chosen, pdf_sizes, cache, tuple(entries))
        # a language's feeds in one worker: they list many of the same entries (see _made)
        yield Unit(name=scope.name, key=key, render=render_scope, args=args, group=f"feeds:{scope.language}")


Shell = tuple[bytes, bytes]  # a feed's Atom and RSS documents without their entries


class Stored(NamedTuple):
    """A feed as its cache file keeps it: its entries, and its documents' shell at `newest`."""

    entries: dict[str, EntryXml]
    newest: str = ""  # the feed's <updated>, ISO 8601, which its shell shows
    shell: Shell = (b"", b"")


@dataclass(frozen=True)
class EntryCache:
    """The entries of each feed as last serialized, and its documents without them, kept between
    builds in a pickle per feed: a changed release re-renders every feed that lists it (30 feeds of
    50 entries at 10,000 releases), and serializing their 900 other entries again was a sixth of a
    one-release rebuild; making the documents with feedgen, 50 ms more. An entry is reused only under
    the same key: its release's files, the feed's language, and (in `prefix`) the code, settings and
    catalogs; the shell, with the same prefix and newest change. Deleting the folder is always safe.

    A file is overwritten in place, not replaced: on ext4, renaming over a file (or truncating it)
    makes the kernel allocate the new blocks at once, 2 ms a file here, and a one-release change
    rewrites 24 of them (50 ms). Each file starts with a CRC of the rest, so one left half-written
    (a crash, a full disk) is a miss like any damaged file. Builds take turns (builder's lock)."""

    folder: Path
    prefix: str

    def read(self, scope: FeedScope) -> Stored:
        try:
            data = self._path(scope).read_bytes()
            check, payload = data[:_CHECK_BYTES], memoryview(data)[_CHECK_BYTES:]
            if _check(payload) != check:
                return Stored({})
            stored = pickle.loads(payload)
        except (OSError, pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError):
            return Stored({})
        if not (isinstance(stored, tuple) and len(stored) == 2 and stored[0] == self.prefix):
            return Stored({})
        return stored[1] if isinstance(stored[1], Stored) else Stored({})

    def write(self, scope: FeedScope, stored: Stored) -> None:
        payload = pickle.dumps((self.prefix, stored), pickle.HIGHEST_PROTOCOL)
        data = _check(payload) + payload
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(self._path(scope), os.O_WRONLY | os.O_CREAT, 0o644)
            try:
                os.write(descriptor, data)  # cut short (a full disk), the hash no longer matches
                os.ftruncate(descriptor, len(data))
            finally:
                os.close(descriptor)
        except OSError:
            self._path(scope).unlink(missing_ok=True)  # a cache that cannot be written is only slower

    def _path(self, scope: FeedScope) -> Path:
        return self.folder / f"{scope.name.replace(':', '-')}.pickle"


_CHECK_BYTES = 4  # a CRC-32 of the pickle, before it in each entry cache file


def _check(payload: bytes | memoryview) -> bytes:
    """What tells a whole file from one cut short or damaged: a CRC, not a cryptographic hash (3x
    quicker: a cold build at 1,000 releases writes 44 MB of entry cache). Nothing is at stake but a
    miss: a file in a build's own var/ is trusted as much as its code."""
    return zlib.crc32(payload).to_bytes(_CHECK_BYTES)


# A feed's cache file is written again only when more of its entries than this had to be made (or
# its newest change moved): an edit to one release (the latest, most often, again and again) makes
# one entry in each of the 24 feeds that list it, and making it again at the next build (1 ms, once
# per process and language) costs less than rewriting 24 files of 300 KB each time (40 ms).
REMADE_UNSAVED = 1


def render_scope(
    settings: Settings,
    scope: FeedScope,
    releases: tuple[Release, ...],
    pdf_sizes: Mapping[str, int] | None,
    cache: EntryCache | None = None,
    entry_keys: tuple[str, ...] = (),
) -> list[Artifact]:
    """A feed unit's work: the entries as the feed's readers get them, then the documents.
    With a cache, entries serialized by an earlier build under the same key are reused (and their
    releases' texts are not even looked at), and so is the documents' shell."""
    if cache is None:
        return render_feed(settings, scope, feed_items(scope, releases, pdf_sizes))
    keys = [fast_key(cache.prefix, scope.language, key) for key in entry_keys]
    stored = cache.read(scope)
    known = stored.entries
    entries = [
        known.get(key) or _made(key, settings, release, scope.language, pdf_sizes)
        for key, release in zip(keys, releases, strict=True)
    ]
    newest = max((release.updated_time for release in releases), default=EMPTY_FEED_UPDATED)
    stamp = newest.isoformat()
    shell = stored.shell if stored.newest == stamp else _shell(settings, scope, newest)
    missed = sum(1 for key in keys if key not in known)
    if missed > REMADE_UNSAVED or (missed and not known) or stored.newest != stamp:
        cache.write(scope, Stored(dict(zip(keys, entries, strict=True)), stamp, shell))
    return _documents(scope, shell, entries)


def feed_items(
    scope: FeedScope, releases: tuple[Release, ...], pdf_sizes: Mapping[str, int] | None
) -> tuple[FeedItem, ...]:
    return tuple(_feed_item(release, scope.language, pdf_sizes) for release in releases)


def render_feed(settings: Settings, scope: FeedScope, items: tuple[FeedItem, ...]) -> list[Artifact]:
    """The Atom and RSS documents of one feed."""
    newest = max((item.updated for item in items), default=EMPTY_FEED_UPDATED)
    return _documents(scope, _shell(settings, scope, newest), [_entry_xml(settings, item) for item in items])


def _shell(settings: Settings, scope: FeedScope, newest: datetime) -> Shell:
    """The Atom and RSS documents as feedgen writes them without entries."""
    generator = _feed_generator(settings, scope, newest)
    _set_links(generator, settings, scope, self_path=scope.atom_path, self_type=ATOM_TYPE)
    atom = generator.atom_str(pretty=True)
    _set_links(generator, settings, scope, self_path=scope.rss_path, self_type=RSS_TYPE)
    return atom, generator.rss_str(pretty=True)


def _documents(scope: FeedScope, shell: Shell, entries: list[EntryXml]) -> list[Artifact]:
    """The entries, serialized once per process by `_entry_xml` (a release is in its language's
    feed, its topics' and its office's), put in the shell where feedgen would have put them, last in
    <feed> and in <channel>: the same bytes."""
    atom = _insert_before_last(shell[0], b"</feed>", [xml.atom for xml in entries])
    rss = _insert_before_last(shell[1], b"  </channel>", [xml.rss for xml in entries])
    return [Artifact(scope.atom_path.lstrip("/"), atom), Artifact(scope.rss_path.lstrip("/"), rss)]


def _insert_before_last(document: bytes, end_tag: bytes, parts: list[bytes]) -> bytes:
    at = document.rindex(end_tag)
    return b"".join([document[:at], *parts, document[at:]])


def _feed_item(release: Release, language: str, pdf_sizes: Mapping[str, int] | None) -> FeedItem:
    text = release.localized(language)
    pdf_path = urls.release_pdf(text.language, release.slug)
    if pdf_sizes is None:
        pdf_length: int | None = 0
    else:
        pdf_length = pdf_sizes.get(pdf_path)
    return FeedItem(
        slug=release.slug,
        folder_date=release.folder.name[:10],
        text=text,
        kind=release.kind,
        office=release.office,
        topics=release.topics,
        published=release.release_time,
        updated=release.updated_time,
        contacts=tuple(release.meta.contacts),
        attachments=tuple(release.meta.attachments),
        pdf_length=pdf_length,
    )


def _text_language(release: Release, language: str) -> str:
    """The language a reader of `language` gets the release in: that one, else the original's."""
    return language if language == release.language or language in release.translations else release.language


def _entry_key(release: Release, text_language: str, pdf_sizes: Mapping[str, int] | None) -> str:
    """What an entry is made from, spelled out: the original and the translation shown (their files;
    the code that loads them is in feed_units' `shared`), the folder (its date is in the entry's id)
    and the PDF's size when sizes are known. Not hashed: a build works out 3,900 of them, and each
    feed's key hashes its own."""
    pdf = "" if pdf_sizes is None else str(pdf_sizes.get(urls.release_pdf(text_language, release.slug)))
    return "\x1f".join((release.slug, release.folder.name, *text_files(release, text_language), pdf))


def _settings_fingerprint(settings: Settings) -> str:
    file = settings.file
    return digest(
        file.site.model_dump_json(),
        [lang.model_dump_json() for lang in file.languages],
        [(key, labels.model_dump_json()) for key, labels in file.topics.items()],
        [(key, labels.model_dump_json()) for key, labels in file.offices.items()],
    )


def _catalog_hash(language: str) -> str:
    path = LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    return hashlib.sha256(path.read_bytes()).hexdigest()[:24] if path.is_file() else ""


# --- the feed -------------------------------------------------------------------------------------


def _feed_generator(settings: Settings, scope: FeedScope, newest: datetime) -> FeedGenerator:
    gettext = translations(scope.language, DOMAIN).gettext
    site = settings.site_name(scope.language)
    generator = FeedGenerator()
    generator.id(urls.absolute(settings, scope.atom_path))
    if scope.topic:
        topic = settings.topic_label(scope.topic, scope.language)
        generator.title(gettext("%(site)s: %(topic)s") % {"site": site, "topic": topic})
        description = gettext("The latest news releases on this topic: %(topic)s.") % {"topic": topic}
    elif scope.office:
        office = settings.office_label(scope.office, scope.language)
        generator.title(gettext("%(site)s: %(office)s") % {"site": site, "office": office})
        description = gettext("The latest news releases from this office: %(office)s.") % {"office": office}
    else:
        generator.title(site)
        description = gettext("The latest news releases from %(site)s.") % {"site": site}
    generator.subtitle(description)
    generator.language(scope.language)
    generator.author(name=site, uri=urls.absolute(settings, urls.home(scope.language)))
    generator.generator(GENERATOR)  # no version: the bytes must not change when a library is upgraded
    generator.updated(newest.astimezone(settings.zone))
    return generator


def _set_links(
    generator: FeedGenerator, settings: Settings, scope: FeedScope, *, self_path: str, self_type: str
) -> None:
    """rel=self first: feedgen makes the last link the RSS <channel><link>, which must be the page."""
    generator.link(href=urls.absolute(settings, self_path), rel="self", type=self_type, replace=True)
    generator.link(
        href=urls.absolute(settings, scope.page_path),
        rel="alternate",
        type="text/html",
        hreflang=scope.language,
    )


class _AtomEntryFixes:
    """feedgen entry extension, applied to each Atom <entry> element as it is built.

    feedgen 1.0 drops rel/type/hreflang/length from entry links (it reads them from the new element,
    not the link data), which would turn the PDF enclosure into a second alternate link; this puts
    them back. It also marks an entry whose text is not in the feed's language with xml:lang.
    """

    def __init__(self) -> None:
        self.language = ""
        self.links: list[dict[str, str]] = []

    def extend_atom(self, entry: Any) -> Any:
        if self.language:
            entry.set(XML_LANG, self.language)
        for element, link in zip(entry.findall("link"), self.links, strict=True):
            for name, value in link.items():
                element.set(name, value)
        return entry

    def extend_rss(self, item: Any) -> Any:
        return item


class EntryXml(NamedTuple):
    atom: bytes  # the <entry> element, indented as a child of <feed>
    rss: bytes  # the <item> element, indented as a child of <channel>


_MADE: dict[str, EntryXml] = {}  # entry key (see render_scope) -> the entry, as made in this process
_MADE_MAX = 4_096  # a build makes up to 3,900 (78 feeds of 50); `serve` starts over rather than grow


def _made(
    key: str, settings: Settings, release: Release, language: str, pdf_sizes: Mapping[str, int] | None
) -> EntryXml:
    """The entry, serialized once per process: a release is in its language's feed, its topics'
    and its office's, and so the key (worked out anyway) spares making its FeedItem again."""
    entry = _MADE.get(key)
    if entry is None:
        if len(_MADE) >= _MADE_MAX:
            _MADE.clear()
        entry = _MADE[key] = _entry_xml(settings, _feed_item(release, language, pdf_sizes))
    return entry


def _entry_xml(settings: Settings, item: FeedItem) -> EntryXml:
    """One entry as feedgen serializes it inside a pretty-printed feed (in any feed that lists it)."""
    entry = FeedEntry()
    _fill_entry(entry, settings, item)
    atom_root = xml_elem("feed", xmlns=ATOM_NS)  # as feedgen makes it: xmlns is an attribute
    rss_root = xml_elem("rss", version="2.0", nsmap=RSS_NAMESPACES)
    rss_channel = xml_elem("channel", rss_root)
    return EntryXml(
        atom=_pretty_child(atom_root, atom_root, entry.atom_entry(), end_tag=b"</feed>"),
        rss=_pretty_child(rss_root, rss_channel, entry.rss_entry(), end_tag=b"  </channel>"),
    )


def _pretty_child(root: Any, parent: Any, child: Any, *, end_tag: bytes) -> bytes:
    """`child` pretty-printed as the last child of `parent`: its lines between the parent's tags."""
    parent.append(child)
    text: bytes = etree.tostring(root, pretty_print=True, encoding="UTF-8", xml_declaration=False)
    start = text.index(b">\n", text.index(b"<" + parent.tag.encode())) + 2
    return text[start : text.rindex(end_tag)]


def _fill_entry(entry: FeedEntry, settings: Settings, item: FeedItem) -> None:
    text = item.text
    zone = settings.zone
    entry.register_extension("newsroom_fixes", _AtomEntryFixes, atom=True, rss=False)
    fixes: _AtomEntryFixes = entry.newsroom_fixes
    entry_id = entry_tag(settings, item.slug, item.folder_date, text.language)
    entry.id(entry_id)
    entry.guid(entry_id, permalink=False)
    entry.title(text.title)
    page = {
        "href": urls.absolute(settings, urls.release_page(text.language, item.slug)),
        "rel": "alternate",
        "type": "text/html",
        "hreflang": text.language,
    }
    entry.link(page)
    fixes.links.append(page)
    if item.pdf_length is not None:
        pdf = urls.absolute(settings, urls.release_pdf(text.language, item.slug))
        entry.enclosure(pdf, item.pdf_length, "application/pdf")
        fixes.links.append(
            {"href": pdf, "rel": "enclosure", "type": "application/pdf"}
            | ({"length": str(item.pdf_length)} if item.pdf_length else {})  # 0 means unknown: omit
        )
    entry.published(item.published.astimezone(zone))
    entry.updated(item.updated.astimezone(zone))
    entry.author(name=settings.office_label(item.office, text.language))
    entry.summary(entry_summary(settings, item))
    entry.content(entry_html(settings, item), type="html")
    entry.category(
        [
            {
                "term": topic,
                "label": settings.topic_label(topic, text.language),
                "scheme": urls.absolute(settings, f"/{text.language}/topics/"),
            }
            for topic in item.topics
        ]
    )
    if text.is_fallback:
        fixes.language = text.language


def entry_tag(settings: Settings, slug: str, folder_date: str, language: str) -> str:
    """The permanent id of a release's text in one language (RFC 4151 tag: URI)."""
    host = urlsplit(settings.site.base_url).hostname or "localhost"
    return f"tag:{host},{folder_date}:{slug}/{language}"


# --- the entry's text -----------------------------------------------------------------------------


def fallback_note(settings: Settings, original: str, reader: str) -> str:
    """'Only available in the original language: English.' in the reader's language."""
    gettext = translations(reader, DOMAIN).gettext
    return gettext("This release is only available in its original language: %(language)s.") % {
        "language": language_name(settings, original, reader)
    }


def language_name(settings: Settings, code: str, in_language: str) -> str:
    msgid = LANGUAGE_NAMES.get(code)
    if msgid is None:
        return settings.language(code).name  # the language's own name, from newsroom.toml
    return translations(in_language, DOMAIN).gettext(msgid)


def entry_summary(settings: Settings, item: FeedItem) -> str:
    """Plain text: the release's summary (or its first paragraph), after the fallback note if any."""
    text = item.text
    summary = text.summary or _first_paragraph(text.body)
    if text.is_fallback:
        return f"{fallback_note(settings, text.language, text.requested)} {summary}"
    return summary


def _first_paragraph(body: str) -> str:
    rendered = render_markdown(body)
    first = rendered.split("</p>", 1)[0]
    return html.unescape(sanitize_text(first)).strip()


def sanitize_text(fragment: str) -> str:
    """HTML to text, still escaped (every tag dropped)."""
    return nh3.clean(fragment, tags=set())


def entry_html(settings: Settings, item: FeedItem) -> str:
    """The full release as safe HTML, with absolute links, for feed readers.

    The body is sanitized Markdown; every other part is built from escaped text, so the whole needs
    no second pass through the sanitizer.
    """
    text = item.text
    language = text.language
    gettext = translations(language, DOMAIN).gettext
    origin = settings.site.base_url
    assets = urls.absolute(settings, urls.release_asset(item.slug, ""))
    parts: list[str] = []
    if text.is_fallback:
        note = html.escape(fallback_note(settings, language, text.requested))
        reader = html.escape(text.requested)
        direction = settings.language(text.requested).dir
        parts.append(f'<p lang="{reader}" dir="{direction}"><strong>{note}</strong></p>')
    for correction in text.corrections:
        when = long_date(correction.date.astimezone(settings.zone), language)
        label = html.escape(gettext("Correction, %(date)s:") % {"date": when})
        parts.append(f"<p><strong>{label}</strong> {html.escape(correction.note)}</p>")
    if text.subtitle:
        parts.append(f"<p><em>{html.escape(text.subtitle)}</em></p>")
    if text.event is not None:
        parts.append(_event_html(settings, text, gettext))
    parts.extend(_figure_html(image.src, image.alt, image.caption, image.credit, assets, gettext)
                 for image in text.images)  # fmt: skip
    parts.append(_with_dateline(render_markdown(text.body, assets=assets, origin=origin), text.dateline))
    if item.attachments:
        parts.append(_attachments_html(item.attachments, assets, gettext))
    if item.contacts:
        parts.append(_contacts_html(item.contacts, gettext))
    joined = "\n".join(parts)
    return f'<div dir="rtl">\n{joined}\n</div>' if settings.language(language).dir == "rtl" else joined


def _with_dateline(body_html: str, dateline: str) -> str:
    """'ALBANY, N.Y. — ' before the first paragraph, as printed releases have it."""
    if dateline and body_html.startswith("<p>"):
        return f"<p>{html.escape(dateline)} — {body_html[3:]}"
    return body_html


def _event_html(settings: Settings, text: Localized, gettext: Translate) -> str:
    event = text.event
    assert event is not None
    when = _event_time(event.start, event.end, text.language, settings.zone)
    where = ", ".join(part for part in (event.place, event.address) if part)
    when_label, where_label = gettext("When:"), gettext("Where:")
    return (
        f"<p><strong>{html.escape(when_label)}</strong> {html.escape(when)}<br>"
        f"<strong>{html.escape(where_label)}</strong> {html.escape(where)}</p>"
    )


def _event_time(start: datetime, end: datetime | None, language: str, zone: ZoneInfo) -> str:
    """'Monday, December 9, 2024, 11:00 AM – 12:00 PM EST', each part formatted for `language`."""
    locale = babel_locale(language)
    start = start.astimezone(zone)
    when = f"{long_date(start, language, weekday=True)}, {format_time(start, 'short', locale=locale)}"
    if end is not None:
        end = end.astimezone(zone)
        if end.date() == start.date():
            when += " – " + format_time(end, "short", locale=locale)
        else:
            when += f" – {long_date(end, language, weekday=True)}, {format_time(end, 'short', locale=locale)}"
    return f"{when} {start.tzname()}"


def _figure_html(src: str, alt: str, caption: str, credit: str, assets: str, gettext: Translate) -> str:
    lines = [caption] if caption else []
    if credit:
        lines.append(gettext("Credit: %(credit)s") % {"credit": credit})
    figcaption = f"<figcaption>{html.escape(' '.join(lines))}</figcaption>" if lines else ""
    return f'<figure><img src="{html.escape(assets + src)}" alt="{html.escape(alt)}">{figcaption}</figure>'


def _attachments_html(attachments: Iterable[Attachment], assets: str, gettext: Translate) -> str:
    links = "".join(
        f'<li><a href="{html.escape(assets + a.src)}">{html.escape(a.title)}</a></li>' for a in attachments
    )
    heading = gettext("Attachments")
    return f"<h2>{html.escape(heading)}</h2><ul>{links}</ul>"


def _contacts_html(contacts: Iterable[Contact], gettext: Translate) -> str:
    rows = []
    for contact in contacts:
        fields = [html.escape(contact.name)]
        if contact.role:
            fields.append(html.escape(contact.role))
        if contact.email:
            fields.append(f'<a href="mailto:{html.escape(contact.email)}">{html.escape(contact.email)}</a>')
        if contact.phone:
            tel = "".join(ch for ch in contact.phone if ch.isdigit() or ch == "+")
            fields.append(f'<a href="tel:{tel}">{html.escape(contact.phone)}</a>')
        rows.append(f"<li>{', '.join(fields)}</li>")
    heading = gettext("Media contacts")
    return f"<h2>{html.escape(heading)}</h2><ul>{''.join(rows)}</ul>"
