"""Release bodies: Markdown to safe HTML, shared by the site, feeds, PDFs and emails.

Raw HTML in a body is dropped (the loader warns about it), then the output is sanitized with nh3
anyway, so nothing a release file holds can inject markup. Links and images that point at files
beside the release are rewritten to where those files are published; feeds and emails are read
away from the site, so they pass `origin` to make site-relative links absolute too.
"""

from __future__ import annotations

from functools import lru_cache

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token

from newsroom.content.body import is_local_asset

# html=True so raw HTML arrives as its own tokens, which we drop (html=False would print it as text).
_PARSER = MarkdownIt("commonmark", {"html": True}).enable("table")

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
    "th": {"style"},  # markdown-it's column alignment: style="text-align:right"
    "td": {"style"},
    "time": {"datetime"},
}
URL_SCHEMES = {"http", "https", "mailto", "tel"}


@lru_cache(maxsize=4096)
def render_markdown(text: str, *, assets: str = "", origin: str = "", heading_offset: int = 0) -> str:
    """Safe HTML for a release body.

    assets: the URL prefix where this release's files are published, e.g. "/media/<slug>/" or
    "https://news.example.gov/media/<slug>/"; a bare "photo.jpg" becomes assets + "photo.jpg".
    origin: e.g. "https://news.example.gov"; when given, site-relative links ("/en/...") become absolute.
    heading_offset: pages whose title is the h1 pass 1, so the body's headings start at h2.
    """
    tokens = [token for token in _PARSER.parse(text) if token.type != "html_block"]
    for token in tokens:
        if heading_offset and token.type in ("heading_open", "heading_close"):
            token.tag = f"h{min(int(token.tag[1]) + heading_offset, 6)}"
        if token.children:
            token.children = [child for child in token.children if child.type != "html_inline"]
            for child in token.children:
                _rewrite_url(child, assets, origin)
    html = _PARSER.renderer.render(tokens, _PARSER.options, {})
    return sanitize_html(html)


def sanitize_html(html: str) -> str:
    """Keep only the tags, attributes and URL schemes a release may use."""
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener",
    )


def _rewrite_url(token: Token, assets: str, origin: str) -> None:
    attribute = {"link_open": "href", "image": "src"}.get(token.type)
    if attribute is None:
        return
    url = str(token.attrs.get(attribute, ""))
    if assets and is_local_asset(url):
        token.attrs[attribute] = assets + url
    elif origin and url.startswith("/") and not url.startswith("//"):
        token.attrs[attribute] = origin + url
