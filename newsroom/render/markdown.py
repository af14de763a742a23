"""Release bodies from Markdown to safe HTML, shared by every output that shows a body."""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt

# Raw HTML is parsed so that nh3 can drop it (the loader already warns about it); tables are allowed.
_PARSER = MarkdownIt("commonmark", {"html": True}).enable("table")

_TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "code", "pre", "blockquote",
    "ul", "ol", "li", "a", "img", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "th": {"align"},
    "td": {"align"},
    "ol": {"start"},
}
_SCHEMES = {"http", "https", "mailto", "tel"}


def render_markdown(text: str) -> str:
    """A release body (CommonMark + tables) as sanitized HTML: no scripts, styles or raw HTML."""
    html = _PARSER.render(text)
    return nh3.clean(
        html,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes=_SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
    )
