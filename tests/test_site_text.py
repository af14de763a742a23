"""Release text on pages: sanitized body HTML, localized dates, the .ics file format."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from newsroom.render.site_text import body_html, date_text, datetime_text, ics_event

NEW_YORK = ZoneInfo("America/New_York")
MOMENT = datetime(2024, 11, 25, 15, 0, tzinfo=UTC)


def test_body_loses_raw_html_and_scripts_but_keeps_markdown() -> None:
    html = body_html(
        '# Heading\n\nText with <b onclick="steal()">bold</b> and [a link](https://example.gov).\n\n'
        "<script>alert(1)</script>\n\n![Map](map.png)\n",
        "slug",
    )
    assert "<script" not in html and "alert(1)" not in html and "onclick" not in html
    assert "<h2>Heading</h2>" in html  # the page's h1 is the headline
    assert '<a href="https://example.gov" rel="noopener">a link</a>' in html
    assert '<img src="/media/slug/map.png" alt="Map">' in html


def test_dates_are_written_the_way_each_language_writes_them() -> None:
    assert date_text(MOMENT, "ru", NEW_YORK) == "25 ноября 2024\u202fг."
    assert date_text(MOMENT, "es", NEW_YORK) == "25 de noviembre de 2024"
    assert date_text(MOMENT, "ht", NEW_YORK) == "25 novanm 2024"
    assert date_text(MOMENT, "zh", NEW_YORK) == "2024年11月25日"
    assert datetime_text(MOMENT, "en", NEW_YORK) == "November 25, 2024, 10:00\u202fAM EST"


def test_ics_lines_are_escaped_and_folded() -> None:
    data = ics_event(
        uid="x@example.gov", stamp=MOMENT, start=MOMENT, end=None, summary="Брифинг; вопросы, ответы " * 4,
        location="Red Room", description="Line one\nline two", url="https://example.gov/", language="ru",
    )  # fmt: skip
    lines = data.split(b"\r\n")
    assert all(len(line) <= 75 for line in lines)
    assert b"DESCRIPTION;LANGUAGE=ru:Line one\\nline two" in data
    unfolded = data.replace(b"\r\n ", b"").decode("utf-8")
    assert "SUMMARY;LANGUAGE=ru:Брифинг\\; вопросы\\, ответы" in unfolded
