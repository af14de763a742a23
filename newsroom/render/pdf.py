"""PDF press releases: one tagged (PDF/UA) document per public release and language.

A PDF's key joins the release's fingerprint (its files), the settings, the PDF catalog, templates
and code, and the images it shows, so a run where nothing changed costs one short hash per PDF.
Its inputs are gathered into a `PdfDocument` (plain data) and rendered by `render_release_pdf` in a
worker.

Public PDFs always say "FOR IMMEDIATE RELEASE" and depend on nothing but their inputs (not on
`now`), so their bytes and keys are stable. An embargoed copy for journalists is a staff preview
(`preview_pdf`, `newsroom pdf SLUG`), written to a file of the user's choosing, never to the site.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from importlib.metadata import version
from pathlib import Path
from typing import Literal

from newsroom.config import Settings
from newsroom.content.models import Contact, Correction, Event, Image, Newsroom, Release
from newsroom.errors import RenderError
from newsroom.gate import Published, State, state_at
from newsroom.keys import fast_key
from newsroom.render import urls
from newsroom.render.base import Artifact, Unit, digest, text_fingerprint
from newsroom.render.i18n import LOCALE_DIR

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "templates" / "pdf"
PDF_DOMAIN = "pdf"
# The code that shapes a PDF: a change to any of it must re-render every PDF.
_ENGINE_MODULES = ("pdf.py", "pdf_engine.py", "pdf_dates.py", "markdown.py", "i18n.py")

Banner = Literal["immediate", "embargoed", "draft"]


@dataclass(frozen=True)
class PdfDocument:
    """Everything one PDF shows, in one language; picklable, so it travels to a worker as is."""

    slug: str
    language: str
    direction: str  # "ltr" or "rtl"
    kind: str
    site_name: str
    office: str  # the issuing office's label: the document's author
    title: str
    subtitle: str
    dateline: str
    summary: str
    body: str  # Markdown
    release_time: datetime
    updated_time: datetime
    zone: str  # IANA name of the site's time zone
    page_url: str  # the release's web page, printed in the footer
    contacts: tuple[Contact, ...]
    images: tuple[Image, ...]
    attachments: tuple[tuple[str, str], ...]  # (title, absolute URL)
    corrections: tuple[Correction, ...]
    event: Event | None
    banner: Banner
    folder: str  # the release folder: images are resolved against it (not part of the key)
    logo: str  # absolute path of the site logo, or "" (its bytes are part of the key)

    @property
    def path(self) -> str:
        """Where the PDF goes, relative to the site root."""
        return urls.release_pdf(self.language, self.slug).lstrip("/")

    def content_key(self) -> tuple[object, ...]:
        """The fields that shape the output; paths on disk are left out (assets are hashed instead)."""
        return (
            self.slug, self.language, self.direction, self.kind, self.site_name, self.office,
            self.title, self.subtitle, self.dateline, self.summary, self.body, self.release_time,
            self.updated_time, self.zone, self.page_url, self.contacts, self.images,
            self.attachments, self.corrections, self.event, self.banner,
        )  # fmt: skip


def document_for(release: Release, language: str, settings: Settings, banner: Banner) -> PdfDocument:
    """The PDF inputs for `release` in `language` (which must be one of its languages)."""
    text = release.localized(language)
    meta = release.meta
    logo = str((settings.root / settings.site.logo).resolve()) if settings.site.logo else ""
    return PdfDocument(
        slug=release.slug,
        language=language,
        direction=settings.language(language).dir if language in settings.language_codes else "ltr",
        kind=meta.kind,
        site_name=settings.site_name(language),
        office=settings.office_label(meta.office, language),
        title=text.title,
        subtitle=text.subtitle,
        dateline=text.dateline,
        summary=text.summary,
        body=text.body,
        release_time=release.release_time,
        updated_time=release.updated_time,
        zone=settings.site.time_zone,
        page_url=urls.absolute(settings, urls.release_page(language, release.slug)),
        contacts=tuple(meta.contacts),
        images=text.images,
        attachments=tuple(
            (item.title, urls.absolute(settings, urls.release_asset(release.slug, item.src)))
            for item in meta.attachments
        ),
        corrections=text.corrections,
        event=text.event,
        banner=banner,
        folder=str(release.folder),
        logo=logo,
    )


def pdf_units(published: Published) -> Iterator[Unit]:
    """One heavy unit per public release per language it exists in; keys computed without rendering."""
    settings = published.settings
    shared = fast_key(format_stamp(), _logo_hash(settings), settings.file.model_dump_json())
    catalogs = {code: _catalog_hash(code) for code in settings.language_codes}
    for release in published.releases:
        media = _media_key(release)
        for language in release.languages:
            catalog = catalogs.get(language) or _catalog_hash(language)
            text = text_fingerprint(release, language)
            yield Unit(
                name=f"pdf:{language}:{release.slug}",
                key=fast_key(shared, catalog, text, language, media),
                render=render_release_pdf,
                args=(release, language, settings),
                heavy=True,
                group=release.slug,
            )


def render_release_pdf(release: Release, language: str, settings: Settings) -> list[Artifact]:
    return render_pdf(document_for(release, language, settings, "immediate"))


def render_pdf(document: PdfDocument) -> list[Artifact]:
    """The unit's work (in a pool worker): the PDF's bytes at its site path."""
    from newsroom.render.pdf_engine import pdf_bytes  # WeasyPrint: import only where PDFs are made

    return [Artifact(document.path, pdf_bytes(document))]


def preview_pdf(newsroom: Newsroom, slug: str, language: str, now: datetime) -> bytes:
    """A staff copy of any release that is not withdrawn, marked for what it is at `now`.

    Scheduled releases say "EMBARGOED UNTIL <release time>": the copy a press office sends to
    journalists ahead of time. This bypasses the gate on purpose and never writes to the site.
    """
    from newsroom.render.pdf_engine import pdf_bytes

    try:
        release = newsroom.by_slug(slug)
    except KeyError:
        known = ", ".join(sorted(r.slug for r in newsroom.releases)) or "none"
        raise RenderError(f"no release with slug {slug!r} (known: {known})") from None
    if language not in release.languages:
        raise RenderError(
            f"{slug} has no {language!r} version (it has: {', '.join(release.languages)}); "
            f"add {language}.md to {release.folder.name}/ or pick another --lang"
        )
    state = state_at(release, now)
    if state is State.WITHDRAWN:
        raise RenderError(f"{slug} is withdrawn; there is nothing to send")
    banners: dict[State, Banner] = {State.SCHEDULED: "embargoed", State.DRAFT: "draft"}
    banner = banners.get(state, "immediate")
    return pdf_bytes(document_for(release, language, newsroom.settings, banner))


def format_stamp() -> str:
    """A hash of the templates, stylesheets, code and library versions that every PDF depends on.

    Read on every call (a few small files), so a long-lived process notices an edited template.
    """
    here = Path(__file__).resolve().parent
    files = sorted(TEMPLATES_DIR.glob("*")) + [here / name for name in _ENGINE_MODULES]
    return digest([path.read_bytes() for path in files], _library_versions())


@cache
def _library_versions() -> tuple[object, ...]:
    names = ("weasyprint", "pydyf", "fonttools", "cmarkgfm", "nh3", "Babel", "Jinja2")
    return (*(version(name) for name in names), sys.version_info[:2])


def _logo_hash(settings: Settings) -> str:
    if not settings.site.logo:
        return ""
    path = settings.root / settings.site.logo
    if not path.is_file():
        raise RenderError(
            f"newsroom.toml: site.logo {settings.site.logo!r} is not a file under {settings.root} "
            "(fix: add the image there, or remove `logo`)"
        )
    return _file_hash(path)


def _catalog_hash(language: str) -> str:
    path = LOCALE_DIR / language / "LC_MESSAGES" / f"{PDF_DOMAIN}.po"
    return _file_hash(path) if path.is_file() else ""


def _media_key(release: Release) -> str:
    """The hashes of the images the release's PDFs can show ("" for most releases: none). Only
    files the release names are looked at, as for the site (site_release.media_files)."""
    if not release.names_files:
        return ""
    from newsroom.render.site_release import media_files

    attachments = {item.src for item in release.meta.attachments}
    files = [name for name in media_files(release) if name not in attachments]
    return fast_key(*(f"{name}:{_file_hash(release.folder / name)}" for name in files))


def _file_hash(path: Path) -> str:
    try:
        stat = path.stat()
    except FileNotFoundError:
        return "missing"
    return _hash_of(str(path), stat.st_size, stat.st_mtime_ns)


@cache
def _hash_of(path: str, size: int, mtime_ns: int) -> str:
    # keyed by size and mtime so a long-lived process re-reads a file only after it changes
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:24]
