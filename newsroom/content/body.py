"""What the Markdown body holds that validation cares about: raw HTML and image references."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.token import Token


@cache
def _parser() -> MarkdownIt:
    """Made when a body is first checked: a rebuild from the release cache checks none, and
    importing markdown-it cost it 20 ms (pages are rendered with cmark-gfm)."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": True}).enable("table")


@dataclass
class BodyScan:
    html_lines: list[int] = field(default_factory=list)  # body lines (0-based) with raw HTML
    images: list[tuple[int, str, str]] = field(default_factory=list)  # (body line, src, alt)


def scan_body(markdown: str) -> BodyScan:
    scan = BodyScan()
    if "<" not in markdown and "![" not in markdown:
        return scan  # no raw HTML and no images: nothing to parse for
    for token in _parser().parse(markdown):
        line = token.map[0] if token.map else 0
        if token.type == "html_block":
            scan.html_lines.append(line)
        for child in token.children or ():
            _scan_inline(child, line, scan)
    return scan


def _scan_inline(token: Token, line: int, scan: BodyScan) -> None:
    if token.type == "html_inline":
        scan.html_lines.append(line)
    elif token.type == "image":
        alt = "".join(child.content for child in token.children or ())
        scan.images.append((line, str(token.attrs.get("src", "")), alt.strip()))


def is_local_asset(src: str) -> bool:
    """A reference to a file beside the release, as opposed to a URL."""
    return bool(src) and "://" not in src and not src.startswith(("/", "#", "mailto:", "data:"))
