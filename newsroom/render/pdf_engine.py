"""From a `PdfDocument` to PDF bytes: Jinja2 HTML, then WeasyPrint as a tagged PDF/UA-1 file.

Importing this module imports WeasyPrint (~0.7 s), so only pool workers and previews do. Templates,
the stylesheet and the font configuration are loaded once per process and reused for every PDF.
Output is deterministic: creation and modification dates come from the release, not the clock.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from markupsafe import Markup
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, path2url

from newsroom.render import pdf_dates
from newsroom.render.i18n import translations
from newsroom.render.markdown import render_markdown
from newsroom.render.pdf import PDF_DOMAIN, TEMPLATES_DIR, PdfDocument

HTML_LANG = {"zh": "zh-Hans"}  # Pango picks Simplified Chinese glyph forms from the language tag


def pdf_bytes(document: PdfDocument) -> bytes:
    html = HTML(
        string=render_html(document),
        base_url=path2url(document.folder.rstrip("/") + "/"),
        url_fetcher=_local_files_only(),
    )
    pdf: bytes = html.write_pdf(
        stylesheets=[_stylesheet()],
        font_config=_font_config(),
        pdf_variant="pdf/ua-1",
    )
    return pdf


def render_html(document: PdfDocument) -> str:
    return _template().render(_context(document))


def _context(document: PdfDocument) -> dict[str, Any]:
    catalog = translations(document.language, PDF_DOMAIN)
    _ = catalog.gettext
    language, zone = document.language, ZoneInfo(document.zone)
    start, end = ("right", "left") if document.direction == "rtl" else ("left", "right")
    banners = {
        "immediate": _("FOR IMMEDIATE RELEASE"),
        "draft": _("DRAFT — NOT FOR RELEASE"),
        "embargoed": _("EMBARGOED UNTIL {time}").format(
            time=pdf_dates.date_time(document.release_time, language, zone)
        ),
    }
    page_label = _("Page {page} of {pages}")  # outside the f-string below, so `make i18n` finds it
    kinds = {
        "press-release": _("Press release"),
        "media-advisory": _("Media advisory"),
        "statement": _("Statement"),
    }
    return {
        "doc": document,
        "_": _,
        "ngettext": catalog.ngettext,
        "lang": HTML_LANG.get(language, language),
        "banner": banners[document.banner],
        "kind_label": kinds[document.kind],
        "date": pdf_dates.long_date(document.release_time, language, zone),
        "created": document.release_time.isoformat(),
        "modified": document.updated_time.isoformat(),
        "body": _body_html(document),
        "logo": path2url(document.logo) if document.logo else "",
        "event_time": (
            pdf_dates.event_time(document.event.start, document.event.end, language, zone)
            if document.event
            else ""
        ),
        "corrections": [
            (pdf_dates.date_time(fix.date, language, zone), _plain_with_numbers(fix.note))
            for fix in document.corrections
        ],
        "page_style": Markup(
            f"@page {{ @bottom-{start} {{ content: {css_string(document.page_url)}; direction: ltr; }}"
            f" @bottom-{end} {{ content: {page_counter(page_label)}; }}"
            f" @top-{start} {{ content: string(headline); }} }}"
            f" @page :first {{ @top-{start} {{ content: none; }} }}"
        ),
        "running_side": start,
    }


def _body_html(document: PdfDocument) -> Markup:
    """The sanitized body, with the dateline run into its first paragraph as press releases do."""
    html = print_link_targets(Markup(render_markdown(document.body)))  # nh3 has sanitized it
    html = keep_number_runs_together(html)
    if not document.dateline:
        return html
    dateline = Markup('<span class="dateline">{}</span> — ').format(document.dateline)
    if "<p>" in html:  # the first paragraph, even when a heading comes first
        before, _, after = html.partition("<p>")
        return Markup(before) + Markup("<p>") + dateline + Markup(after)
    return Markup("<p>{}</p>").format(dateline) + html


# any attribute order: the shared sanitizer may add rel="noopener" and the like
_LINK = re.compile(r'<a\s[^>]*?\bhref="([^"]*)"[^>]*>(.*?)</a>', re.DOTALL)


def print_link_targets(html: Markup) -> Markup:
    """On paper a link is only useful with its address: 'NYX website (https://nyx.example.gov)'.

    Links whose text already is the address ('health.example.gov/flu') are left alone.
    """

    def with_target(match: re.Match[str]) -> str:
        href, text = match.group(1), match.group(2)
        bare = re.sub(r"^(https?://|mailto:)", "", href).rstrip("/")
        if not href.startswith(("http://", "https://")) or bare in re.sub(r"<[^>]*>", "", text):
            return match.group(0)
        return f'{match.group(0)}<span class="link-target"> ({href})</span>'

    return Markup(_LINK.sub(with_target, str(html)))


_TAG = re.compile(r"(<[^>]*>)")
_NUMBER_RUN = re.compile(r"\+?\d[\d().-]*(?:[ \u00a0][\d().-]*\d)+")


def keep_number_runs_together(html: Markup) -> Markup:
    """Keep '+1 518 555 0187' on one line, and in reading order inside right-to-left text.

    A phone number broken over two lines is easy to misdial; and the Unicode bidi algorithm lays
    out space-separated digit groups right to left in an RTL paragraph ('0187 555 518 +1').
    """
    parts = _TAG.split(str(html))
    for index in range(0, len(parts), 2):  # even indexes are text between tags
        parts[index] = _NUMBER_RUN.sub(r'<span class="number">\g<0></span>', parts[index])
    return Markup("".join(parts))


def _plain_with_numbers(text: str) -> Markup:
    """Escaped text (a correction note, a caption) with its number runs kept together."""
    return keep_number_runs_together(Markup.escape(text))


def page_counter(template: str) -> str:
    """'Page {page} of {pages}' (translated) as CSS content: '"Page " counter(page) " of " ...'."""
    parts: list[str] = []
    for piece in re.split(r"(\{page\}|\{pages\})", template):
        if piece in ("{page}", "{pages}"):
            parts.append(f"counter({piece[1:-1]})")
        elif piece:
            parts.append(css_string(piece))
    return " ".join(parts)


def css_string(text: str) -> str:
    """A CSS string literal that is also safe inside an HTML <style> element."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\a ").replace("<", "\\3c ")
    return f'"{escaped}"'


def _template() -> jinja2.Template:
    # get_template checks the file's mtime, so an edited template is picked up by a live worker
    return _environment().get_template("release.html.j2")


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


@cache
def _font_config() -> FontConfiguration:
    return FontConfiguration()


def _stylesheet() -> CSS:
    path = TEMPLATES_DIR / "release.css"
    return _parsed_stylesheet(str(path), path.stat().st_mtime_ns)


@cache
def _parsed_stylesheet(path: str, mtime_ns: int) -> CSS:
    # parsed once per version of the file; reused for every PDF
    return CSS(filename=path, font_config=_font_config())


@cache
def _local_files_only() -> URLFetcher:
    # Images come from the release folder and the logo; a PDF must never fetch from the network.
    return URLFetcher(allowed_protocols={"file", "data"}, fail_on_errors=True)


def warm_up() -> None:
    """Load fonts and templates once (pool workers call this on start)."""
    _template()
    _stylesheet()
    HTML(string="<p lang=en>Warm up. Прогрев. 预热. إحماء.</p>").write_pdf(font_config=_font_config())
