"""Reading PDFs back the way a user's tools do: poppler's pdftotext/pdffonts/pdfinfo, fontconfig."""

from __future__ import annotations

import re
import subprocess
import unicodedata
import zlib
from collections.abc import Iterator
from functools import cache
from pathlib import Path

from fontTools.ttLib import TTCollection, TTFont

BIDI_CONTROLS = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")
ARABIC_MARKS = re.compile("[\u064b-\u065f\u0670]")  # harakat: split off by text extraction


def run(*command: str) -> str:
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout


def pdf_text(pdf: Path) -> str:
    return run("pdftotext", "-enc", "UTF-8", str(pdf), "-")


def body_text(pdf: Path) -> str:
    """The text inside the page margins: no running headline or footer between two pages' lines."""
    top, bottom = 20 / 25.4 * 72, 22 / 25.4 * 72  # the @page margins of templates/pdf/release.css
    crop = ["-x", "0", "-y", str(int(top)), "-W", "612", "-H", str(int(792 - top - bottom))]
    return run("pdftotext", "-enc", "UTF-8", *crop, str(pdf), "-")


def squeeze(text: str) -> str:
    """Whitespace collapsed to single spaces, bidi controls dropped: for finding sentences."""
    return " ".join(BIDI_CONTROLS.sub("", text).split())


def no_space(text: str) -> str:
    """All whitespace removed: Chinese line breaks may fall between any two characters."""
    return "".join(BIDI_CONTROLS.sub("", text).split())


def arabic_words(text: str) -> set[str]:
    bare = ARABIC_MARKS.sub("", BIDI_CONTROLS.sub("", text))
    return set(re.findall("[\u0621-\u064a]{3,}", bare))


def pdf_info(pdf: Path) -> dict[str, str]:
    info = {}
    for line in run("pdfinfo", "-enc", "UTF-8", str(pdf)).splitlines():
        key, _, value = line.partition(":")
        info[key.strip()] = value.strip()
    return info


def pdf_fonts(pdf: Path) -> list[dict[str, str]]:
    """pdffonts rows: name, type, emb (the columns are fixed-width; types contain spaces)."""
    lines = run("pdffonts", str(pdf)).splitlines()
    rule = lines[1]
    columns = [m.span() for m in re.finditer(r"-+", rule)]
    names = ["name", "type", "encoding", "emb", "sub", "uni", "object", "id"]
    return [
        {name: line[start:end].strip() for name, (start, end) in zip(names, columns, strict=False)}
        for line in lines[2:]
    ]


def raw_objects(pdf: Path) -> Iterator[bytes]:
    """The file's bytes, then every stream that inflates (object streams hold the structure tree)."""
    data = pdf.read_bytes()
    yield data
    for match in re.finditer(rb"stream\r?\n", data):
        end = data.find(b"endstream", match.end())
        try:
            yield zlib.decompress(data[match.end() : end])
        except zlib.error:
            continue


def catalog_language(pdf: Path) -> str:
    """The document language (/Lang in the catalog), read from the raw or inflated objects."""
    for chunk in raw_objects(pdf):
        match = re.search(rb"/Lang\s*\(([^)]*)\)", chunk)
        if match:
            return match.group(1).decode("ascii")
    return ""


@cache
def _font_coverage(font_name: str) -> frozenset[int]:
    """Code points the installed font behind an embedded font name (e.g. 'ABCDEF+Noto-Serif-Bold') has."""
    family = font_name.split("+", 1)[-1].replace("-", " ")
    style = "Regular"
    for candidate in ("Bold Italic", "Bold", "Italic"):
        if family.endswith(" " + candidate):
            family, style = family[: -len(candidate) - 1], candidate
    found = run("fc-match", "-f", "%{family}|%{file}|%{index}", f"{family}:style={style}")
    matched_family, file, index = found.split("|")
    assert family in matched_family.split(","), f"{font_name}: fontconfig gave {matched_family}"
    if file.endswith((".ttc", ".otc")):
        font = TTCollection(file, lazy=True).fonts[int(index)]
    else:
        font = TTFont(file, lazy=True)
    return frozenset(font.getBestCmap())


def characters_without_glyphs(pdf: Path) -> set[str]:
    """Characters in the PDF's text that none of its embedded fonts has a glyph for.

    A character drawn without a glyph comes out as a .notdef box but still extracts as text, so
    check each extracted character against the real fonts the PDF embeds.
    """
    covered: set[int] = set()
    for font in pdf_fonts(pdf):
        covered |= _font_coverage(font["name"])
    return {
        char
        for char in pdf_text(pdf)
        if unicodedata.category(char) not in ("Cc", "Cf", "Zs", "Zl", "Zp") and ord(char) not in covered
    }
