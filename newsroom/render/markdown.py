"""Release bodies: Markdown to safe HTML, shared by the site, feeds, PDFs and emails.

The parser is cmark-gfm (CommonMark plus tables, in C: about 12x faster than a pure-Python parser
on our bodies, with the same HTML). Raw HTML in a body is dropped (cmark's safe mode; the loader
warns about it), then the output is sanitized with nh3 anyway, so nothing a release file holds can
inject markup. Links and images that point at files beside the release are rewritten to where those
files are published; feeds and emails are read away from the site, so they pass `origin` to make
site-relative links absolute too.
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache

import cmarkgfm
import nh3
from cmarkgfm.cmark import Options

from newsroom.content.body import is_local_asset

# Safe mode (no CMARK_OPT_UNSAFE) replaces raw HTML with a comment, which nh3 then strips; table
# alignment comes as style="text-align:…" (HTML5 has no align attribute).
_OPTIONS = Options.CMARK_OPT_TABLE_PREFER_STYLE_ATTRIBUTES
# cmark writes headings as bare <hN>…</hN>; text that looks like a tag arrives escaped (&lt;h1&gt;).
_HEADING_TAG = re.compile(r"<(/?)h([1-6])>")
# Safe mode empties a dangerous link's URL (javascript:, vbscript:, most data:); keep only its text.
_EMPTIED_LINK = re.compile(r'<a href=""(?: title="[^"]*")?>(.*?)</a>', re.DOTALL)

ALLOWED_TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "code", "pre", "blockquote",
    "ul", "ol", "li", "a", "img", "table", "thead", "tbody", "tr", "th", "td", "figure", "figcaption",
    "div", "span", "section", "small", "time",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "*": {"lang", "dir"},
    "a": {"href", "title", "hreflang"},
    "img": {"src", "alt", "title", "width", "height"},
    "ol": {"start"},
    "th": {"style"},  # table column alignment: style="text-align:right"
    "td": {"style"},
    "time": {"datetime"},
}
URL_SCHEMES = {"http", "https", "mailto", "tel"}


@lru_cache(maxsize=256)  # emails render a body once per language; pages and feed entries once
def render_markdown(text: str, *, assets: str = "", origin: str = "", heading_offset: int = 0) -> str:
    """Safe HTML for a release body.

    assets: the URL prefix where this release's files are published, e.g. "/media/<slug>/" or
    "https://news.example.gov/media/<slug>/"; a bare "photo.jpg" becomes assets + "photo.jpg".
    origin: e.g. "https://news.example.gov"; when given, site-relative links ("/en/...") become absolute.
    heading_offset: pages whose title is the h1 pass 1, so the body's headings start at h2.
    """
    html = cmarkgfm.markdown_to_html_with_extensions(text, options=_OPTIONS, extensions=["table"])
    html = _EMPTIED_LINK.sub(r"\1", html)
    if heading_offset:
        html = _HEADING_TAG.sub(lambda m: f"<{m[1]}h{min(int(m[2]) + heading_offset, 6)}>", html)
    return sanitize_html(html, assets=assets, origin=origin)


def sanitize_html(html: str, *, assets: str = "", origin: str = "") -> str:
    """Keep only the tags, attributes and URL schemes a release may use; local files point under
    `assets`, and site-relative links are made absolute with `origin` (see render_markdown)."""
    _REWRITE.assets, _REWRITE.origin = assets, origin
    return _CLEANER.clean(html)


class _Rewrite(threading.local):
    """The link rewrite of the clean in progress in this thread: one Cleaner, built once, serves
    every body (nh3.clean built one per call: a third of its time)."""

    assets = ""
    origin = ""

    def __call__(self, element: str, attribute: str, url: str) -> str:
        if (element, attribute) not in (("a", "href"), ("img", "src")):
            return url
        if self.assets and is_local_asset(url):
            return self.assets + url
        if self.origin and url.startswith("/") and not url.startswith("//"):
            return self.origin + url
        return url


_REWRITE = _Rewrite()
_CLEANER = nh3.Cleaner(
    tags=ALLOWED_TAGS,
    attributes=ALLOWED_ATTRIBUTES,
    attribute_filter=_REWRITE,
    url_schemes=URL_SCHEMES,
    link_rel="noopener",
)
