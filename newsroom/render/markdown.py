"""Release bodies: Markdown (CommonMark + tables) to sanitized HTML, shared by every output.

Raw HTML in a body is parsed, then removed by the sanitizer (the loader already warns about it), so
no output can carry script, style or tracking markup that an author pasted in.
"""

from __future__ import annotations

from functools import cache

import nh3
from markdown_it import MarkdownIt

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "h5", "h6",
    "hr", "i", "img", "li", "ol", "p", "pre", "s", "strong", "sub", "sup", "table", "tbody", "td",
    "th", "thead", "tr", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "ol": {"start"},
    "th": {"style"},
    "td": {"style"},
}


@cache
def _parser() -> MarkdownIt:
    # html=True so raw HTML becomes tags that nh3 strips, rather than visible "<b>" text
    return MarkdownIt("commonmark", {"html": True}).enable("table")


def render_markdown(text: str) -> str:
    """Sanitized HTML for a Markdown release body."""
    html = _parser().render(text)
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        filter_style_properties={"text-align"},  # table column alignment from `| :--: |`
        link_rel=None,
    )
