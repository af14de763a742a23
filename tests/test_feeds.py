"""Feeds and sitemaps as readers, feed readers and search engines get them.

The providers are called on the gated sample newsroom and their units rendered directly (no site
build): every feed parses cleanly, speaks its language, keeps its ids, and never shows what the gate
holds back.
"""

from __future__ import annotations

import pickle
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser
import pytest
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po

from newsroom.config import load_settings
from newsroom.content.loader import load_newsroom
from newsroom.gate import Published, gate
from newsroom.render import feeds, i18n
from newsroom.render.base import Unit
from newsroom.render.feeds import EntryXml, feed_units
from newsroom.render.markdown import render_markdown
from newsroom.render.sitemaps import sitemap_units
from tests.conftest import EMBARGOED_WORDS, REPO, SAMPLE_NOW

ATOM = "{http://www.w3.org/2005/Atom}"
SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
XHTML = "{http://www.w3.org/1999/xhtml}"
NEWS = "{http://www.google.com/schemas/sitemap-news/0.9}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
BASE = "https://news.example.gov"
NYX = "releases/2024/2024-11-25-new-york-experience/en.md"
LABOR = "releases/2024/2024-12-10-labor-statement-winter-jobs/en.md"
BRIDGE = "releases/2024/2024-12-18-withdrawn-bridge-closure/en.md"
AFTER_EMBARGO = datetime(2030, 6, 1, 15, 0, tzinfo=UTC)  # the embargo lifts at 14:00 UTC (10:00 EDT)


def published_at(root: Path, now: datetime) -> Published:
    settings = load_settings(root, environ={})
    return gate(load_newsroom(settings), now)


def render(units: Iterable[Unit]) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    for unit in units:
        for artifact in unit.render(*unit.args):
            assert artifact.path not in files, f"two units write {artifact.path}"
            files[artifact.path] = artifact.data
    return files


def feeds_at(root: Path, now: datetime = SAMPLE_NOW) -> dict[str, bytes]:
    return render(feed_units(published_at(root, now)))


def sitemaps_at(root: Path, now: datetime = SAMPLE_NOW) -> dict[str, bytes]:
    return render(sitemap_units(published_at(root, now)))


def sitemap_parts(files: dict[str, bytes]) -> list[str]:
    """The files sitemap.xml (an index) points to, in its order; each must be among `files`."""
    index = ET.fromstring(files["sitemap.xml"])
    assert index.tag == f"{SM}sitemapindex"
    names = [(loc.text or "").removeprefix(BASE + "/") for loc in index.iter(f"{SM}loc")]
    assert all(name in files for name in names), names
    return names


def sitemap_urls(files: dict[str, bytes]) -> list[ET.Element]:
    """Every <url> of every part of the sitemap, in the index's order."""
    return [url for name in sitemap_parts(files) for url in ET.fromstring(files[name]).iter(f"{SM}url")]


def edit(root: Path, relative: str, old: str, new: str) -> None:
    path = root / relative
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {relative}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def entries_by_id(data: bytes) -> dict[str, ET.Element]:
    root = ET.fromstring(data)
    return {entry.findtext(f"{ATOM}id", ""): entry for entry in root.iter(f"{ATOM}entry")}


# --- feeds ----------------------------------------------------------------------------------------


def test_every_feed_parses_without_bozo_and_exists_per_language_topic_and_office(sample_root: Path) -> None:
    files = feeds_at(sample_root)
    settings = load_settings(sample_root, environ={})
    scopes = len(settings.language_codes) * (1 + len(settings.topics) + len(settings.offices))
    assert len(files) == 2 * scopes
    for path, data in files.items():
        parsed = feedparser.parse(data)
        assert parsed.bozo == 0, f"{path}: {parsed.get('bozo_exception')}"
        assert parsed.version in ("atom10", "rss20"), path
    assert {"en/atom.xml", "ru/feed.xml", "ar/topics/health/atom.xml", "ht/offices/dmv/feed.xml"} <= set(
        files
    )


def test_atom_has_exactly_one_id_title_updated_per_feed_and_entry(sample_root: Path) -> None:
    for path, data in feeds_at(sample_root).items():
        if not path.endswith("atom.xml"):
            continue
        root = ET.fromstring(data)
        for element in (root, *root.iter(f"{ATOM}entry")):
            for name in ("id", "title", "updated"):
                assert len(element.findall(f"{ATOM}{name}")) == 1, f"{path}: {name}"


def test_self_link_comes_first_and_rss_channel_link_is_the_page(sample_root: Path) -> None:
    files = feeds_at(sample_root)
    atom = ET.fromstring(files["es/topics/health/atom.xml"])
    links = atom.findall(f"{ATOM}link")
    assert [link.get("rel") for link in links] == ["self", "alternate"]
    assert links[0].get("href") == f"{BASE}/es/topics/health/atom.xml"
    channel = ET.fromstring(files["es/topics/health/feed.xml"]).find("channel")
    assert channel is not None
    assert channel.findtext("link") == f"{BASE}/es/topics/health/"
    assert channel.find(f"{ATOM}link").get("href") == f"{BASE}/es/topics/health/feed.xml"  # type: ignore[union-attr]


def test_russian_feed_is_in_russian_with_a_russian_note_on_untranslated_releases(sample_root: Path) -> None:
    files = feeds_at(sample_root)
    atom = ET.fromstring(files["ru/atom.xml"])
    assert atom.get(XML_LANG) == "ru"
    assert atom.findtext(f"{ATOM}title") == "Пресс-центр штата и города (пример)"
    assert atom.findtext(f"{ATOM}subtitle", "").startswith("Последние пресс-релизы")
    rss = feedparser.parse(files["ru/feed.xml"])
    assert rss.feed.language == "ru"
    titles = [entry.title for entry in rss.entries]
    assert (
        "Губернатор Хокул представила первую в штате Нью-Йорк стратегию качества обслуживания граждан"
        in titles
    )

    entries = entries_by_id(files["ru/atom.xml"])
    translated = entries["tag:news.example.gov,2024-11-25:new-york-experience/ru"]
    assert translated.get(XML_LANG) is None  # in the feed's language
    assert "Исправление от 26 ноября 2024\u202fг.:" in translated.findtext(f"{ATOM}content", "")
    labels = {c.get("label") for c in translated.findall(f"{ATOM}category")}
    assert labels == {"Государственные услуги", "Технологии"}

    fallback = entries["tag:news.example.gov,2024-12-10:labor-statement-winter-jobs/en"]
    assert fallback.get(XML_LANG) == "en"
    note = "Этот материал доступен только на языке оригинала: английский."
    assert fallback.findtext(f"{ATOM}summary", "").startswith(note)
    assert f'<p lang="ru" dir="ltr"><strong>{note}</strong></p>' in fallback.findtext(f"{ATOM}content", "")
    link = fallback.find(f"{ATOM}link")
    assert link is not None and link.get("href") == f"{BASE}/en/releases/labor-statement-winter-jobs/"


def test_every_language_feed_lists_every_public_release_once(sample_root: Path) -> None:
    files = feeds_at(sample_root)
    expected = {
        "new-york-experience",
        "city-digital-services-plain-language",
        "dmv-office-hours-media-advisory",
        "labor-statement-winter-jobs",
        "health-flu-clinics",
    }
    for language in ("en", "es", "ru", "zh", "ar", "ht"):
        ids = list(entries_by_id(files[f"{language}/atom.xml"]))
        slugs = [re.sub(r"^tag:[^:]+:([^/]+)/\w+$", r"\1", entry_id) for entry_id in ids]
        assert sorted(slugs) == sorted(expected), language
    assert "tag:news.example.gov,2024-12-12:health-flu-clinics/ht" in entries_by_id(files["ht/atom.xml"])


def test_topic_feed_holds_only_that_topic(sample_root: Path) -> None:
    files = feeds_at(sample_root)
    technology = feedparser.parse(files["en/topics/technology/feed.xml"])
    assert {entry.link for entry in technology.entries} == {
        f"{BASE}/en/releases/new-york-experience/",
        f"{BASE}/en/releases/city-digital-services-plain-language/",
    }
    for entry in technology.entries:
        assert "Technology" in {tag.term for tag in entry.tags}
    health = ET.fromstring(files["zh/topics/health/atom.xml"])
    entries = list(health.iter(f"{ATOM}entry"))
    assert [e.findtext(f"{ATOM}title") for e in entries] == ["卫生局在全州开设免费流感疫苗接种点"]
    office = feedparser.parse(files["en/offices/labor/atom.xml"])
    assert [entry.title for entry in office.entries] == [
        "Statement from Labor Commissioner Marisol Ortega on Seasonal Winter Jobs"
    ]
    empty = feedparser.parse(files["en/topics/accessibility/atom.xml"])
    assert len(empty.entries) == 1  # city digital services only


def test_ids_do_not_change_when_a_title_is_edited(sample_root: Path) -> None:
    before = feeds_at(sample_root)
    edit(sample_root, NYX, "title: Governor Hochul Launches", "title: Governor Kathy Hochul Unveils")
    after = feeds_at(sample_root)
    entry_id = "tag:news.example.gov,2024-11-25:new-york-experience/en"
    old, new = entries_by_id(before["en/atom.xml"])[entry_id], entries_by_id(after["en/atom.xml"])[entry_id]
    assert old.findtext(f"{ATOM}title", "").startswith("Governor Hochul Launches")
    assert new.findtext(f"{ATOM}title", "").startswith("Governor Kathy Hochul Unveils")
    assert list(entries_by_id(before["en/atom.xml"])) == list(entries_by_id(after["en/atom.xml"]))
    old_guids = [e.guid for e in feedparser.parse(before["en/feed.xml"]).entries]
    new_guids = [e.guid for e in feedparser.parse(after["en/feed.xml"]).entries]
    assert old_guids == new_guids


def test_a_correction_moves_updated_but_not_published(sample_root: Path) -> None:
    entry_id = "tag:news.example.gov,2024-12-10:labor-statement-winter-jobs/en"
    before = entries_by_id(feeds_at(sample_root)["en/atom.xml"])[entry_id]
    assert before.findtext(f"{ATOM}updated") == "2024-12-10T12:00:00-05:00"
    edit(
        sample_root, LABOR, "contacts:",
        "corrections:\n  - date: 2024-12-19 09:30 America/New_York\n"
        "    note: An earlier version gave the wrong Labor Standards phone number.\ncontacts:",
    )  # fmt: skip
    files = feeds_at(sample_root)
    after = entries_by_id(files["en/atom.xml"])[entry_id]
    assert after.findtext(f"{ATOM}updated") == "2024-12-19T09:30:00-05:00"
    assert after.findtext(f"{ATOM}published") == "2024-12-10T12:00:00-05:00"
    assert "An earlier version gave the wrong Labor Standards phone number." in after.findtext(
        f"{ATOM}content", ""
    )
    assert ET.fromstring(files["en/atom.xml"]).findtext(f"{ATOM}updated") == "2024-12-19T09:30:00-05:00"
    rss = ET.fromstring(files["en/offices/labor/feed.xml"]).find("channel")
    assert rss is not None and rss.findtext("lastBuildDate") == "Thu, 19 Dec 2024 09:30:00 -0500"


def test_withdrawn_release_is_absent_from_every_feed(sample_root: Path) -> None:
    def mentions_bridge(files: dict[str, bytes]) -> list[str]:
        return [path for path, data in files.items() if b"withdrawn-bridge-closure" in data]

    assert mentions_bridge(feeds_at(sample_root)) == []
    assert mentions_bridge(sitemaps_at(sample_root)) == []
    edit(sample_root, BRIDGE, "status: withdrawn", "status: published")
    assert "en/topics/transportation/atom.xml" in mentions_bridge(feeds_at(sample_root))


def test_embargoed_release_is_absent_before_its_time_and_present_after(sample_root: Path) -> None:
    before = {**feeds_at(sample_root), **sitemaps_at(sample_root)}
    for path, data in before.items():
        for word in EMBARGOED_WORDS:
            assert word.encode() not in data, f"{word!r} leaked into {path}"
    assert b"sitemap-2030" not in before["sitemap.xml"]  # not even the year of its part
    after = {**feeds_at(sample_root, AFTER_EMBARGO), **sitemaps_at(sample_root, AFTER_EMBARGO)}
    for path in (
        "en/atom.xml", "ru/feed.xml", "en/topics/transportation/atom.xml", "es/offices/governor/feed.xml",
        "sitemap-2030.xml", "en/news-sitemap.xml",
    ):  # fmt: skip
        assert b"future-embargoed-announcement" in after[path], path
    assert b"Hudson Skyway" in after["ar/atom.xml"]  # the original, with the note, in every language
    assert b"future-embargoed-announcement" not in after["ru/news-sitemap.xml"]  # no Russian version


def _without_cache(units: Iterable[Unit]) -> list[Unit]:
    return [Unit(u.name, u.key, u.render, u.args[:4]) for u in units]


def test_entries_kept_between_builds_give_the_bytes_of_a_fresh_render(sample_root: Path) -> None:
    cache = sample_root / "var" / "cache" / "feeds"
    render(feed_units(published_at(sample_root, SAMPLE_NOW)))  # fills the cache
    assert len(list(cache.glob("*.pickle"))) == 6 * (1 + 7 + 5)
    edit(sample_root, LABOR, "Marisol Ortega", "Marisol Ortega-Diaz")
    (cache / "feed-ru.pickle").write_bytes(b"damaged")  # a damaged file is a miss, never an error

    units = list(feed_units(published_at(sample_root, SAMPLE_NOW)))
    cached = render(units)

    assert cached == render(_without_cache(units))
    assert b"Ortega-Diaz" in cached["en/atom.xml"] and b"Ortega-Diaz" in cached["ru/feed.xml"]
    assert cached == render(units)  # and once more, every entry from the cache


def test_an_edit_to_one_release_leaves_the_entry_cache_files_as_they_are(sample_root: Path) -> None:
    """Each feed listing the release makes its one entry again, rather than rewrite its file; a
    second edited release makes two, and then the files are written."""
    cache = sample_root / "var" / "cache" / "feeds"
    render(feed_units(published_at(sample_root, SAMPLE_NOW)))  # fills the cache
    written = {path.name: path.read_bytes() for path in cache.iterdir()}
    edit(sample_root, LABOR, "Marisol Ortega", "Marisol Ortega-Diaz")

    units = list(feed_units(published_at(sample_root, SAMPLE_NOW)))
    assert render(units) == render(_without_cache(units))
    assert {path.name: path.read_bytes() for path in cache.iterdir()} == written

    edit(sample_root, NYX, "New York", "New  York")
    units = list(feed_units(published_at(sample_root, SAMPLE_NOW)))
    assert render(units) == render(_without_cache(units))
    rewritten = {path.name for path in cache.iterdir() if path.read_bytes() != written[path.name]}
    assert "feed-en.pickle" in rewritten and "feed-ru.pickle" in rewritten


def test_an_entry_cache_file_left_half_written_is_not_used(sample_root: Path) -> None:
    """Cache files are overwritten in place; one whose CRC does not match what follows it (a
    write cut short) is a miss, even when what follows still unpickles."""
    units = list(feed_units(published_at(sample_root, SAMPLE_NOW)))
    fresh = render(units)  # fills the cache
    path = sample_root / "var" / "cache" / "feeds" / "feed-es.pickle"
    check = feeds._CHECK_BYTES
    prefix, stored = pickle.loads(path.read_bytes()[check:])
    stale = EntryXml(b"<entry>stale</entry>", b"<item>stale</item>")
    bogus = stored._replace(entries=dict.fromkeys(stored.entries, stale), shell=(b"<feed/>", b"<rss/>"))
    path.write_bytes(bytes(check) + pickle.dumps((prefix, bogus)))

    assert render(units) == fresh


def test_two_builds_are_byte_identical_and_keys_ignore_an_unrelated_clock(sample_root: Path) -> None:
    first = list(feed_units(published_at(sample_root, SAMPLE_NOW)))
    second = list(feed_units(published_at(sample_root, SAMPLE_NOW + timedelta(hours=5))))
    assert [u.key for u in first] == [u.key for u in second]
    assert render(first) == render(second)
    assert render(sitemap_units(published_at(sample_root, SAMPLE_NOW))) == sitemaps_at(sample_root)


def test_editing_one_release_changes_only_the_keys_of_feeds_that_list_it(sample_root: Path) -> None:
    before = {u.name: u.key for u in feed_units(published_at(sample_root, SAMPLE_NOW))}
    edit(sample_root, LABOR, "Winter brings thousands", "Winter brings many thousands")
    after = {u.name: u.key for u in feed_units(published_at(sample_root, SAMPLE_NOW))}
    changed = {name for name in before if before[name] != after[name]}
    languages = ("en", "es", "ru", "zh", "ar", "ht")
    assert changed == {
        name
        for language in languages
        for name in (f"feed:{language}", f"feed:{language}:topic:jobs", f"feed:{language}:office:labor")
    }


def test_pdf_enclosure_uses_known_sizes_and_is_left_out_when_the_pdf_is_missing(sample_root: Path) -> None:
    published = published_at(sample_root, SAMPLE_NOW)
    nyx_pdf = "/ru/releases/new-york-experience/new-york-experience-ru.pdf"
    files = render(feed_units(published, pdf_sizes={nyx_pdf: 48213}))
    items = feedparser.parse(files["ru/feed.xml"]).entries
    enclosures = {entry.link: [e.href for e in entry.enclosures] for entry in items}
    assert enclosures[f"{BASE}/ru/releases/new-york-experience/"] == [BASE + nyx_pdf]
    assert enclosures[f"{BASE}/en/releases/health-flu-clinics/"] == []
    assert b'length="48213"' in files["ru/feed.xml"]
    unknown = feedparser.parse(feeds_at(sample_root)["ru/feed.xml"]).entries
    assert all(entry.enclosures[0].type == "application/pdf" for entry in unknown)


def test_entry_content_is_sanitized_html_with_absolute_links(sample_root: Path) -> None:
    edit(
        sample_root, LABOR, "Career Centers,",
        'Career Centers <script>alert("x")</script> ([map](/en/offices/labor/)),',
    )  # fmt: skip
    atom = ET.fromstring(feeds_at(sample_root)["en/atom.xml"])
    contents = {
        e.findtext(f"{ATOM}title"): e.findtext(f"{ATOM}content", "") for e in atom.iter(f"{ATOM}entry")
    }
    labor = contents["Statement from Labor Commissioner Marisol Ortega on Seasonal Winter Jobs"]
    assert "<script" not in labor
    assert f'<a href="{BASE}/en/offices/labor/"' in labor
    assert labor.startswith("<p>ALBANY, N.Y. — ")
    digital = contents["City Digital Services Commits to Plain-Language, Accessible Online Services"]
    assert (
        f'<img src="{BASE}/media/city-digital-services-plain-language/team.png" alt="Illustration' in digital
    )


def test_feeds_catalogs_translate_every_string() -> None:
    messages = {m[1] for m in extract_from_file("python", REPO / "newsroom/render/feeds.py")}
    assert "This release is only available in its original language: %(language)s." in messages
    assert "feeds" in i18n.DOMAINS
    for language in ("es", "ru", "zh", "ar", "ht"):
        path = REPO / "newsroom/locale" / language / "LC_MESSAGES" / "feeds.po"
        with path.open("rb") as po:
            catalog = read_po(po)
        missing = sorted(m for m in messages if not (catalog.get(m) and catalog.get(m).string))  # type: ignore[union-attr]
        assert missing == [], f"{path}: untranslated {missing}"


# --- sitemaps -------------------------------------------------------------------------------------


def test_sitemap_lists_every_page_with_reciprocal_hreflang_alternates(sample_root: Path) -> None:
    urls = {u.findtext(f"{SM}loc"): u for u in sitemap_urls(sitemaps_at(sample_root))}
    alternates = {
        loc: {link.get("hreflang"): link.get("href") for link in u.findall(f"{XHTML}link")}
        for loc, u in urls.items()
    }
    nyx = alternates[f"{BASE}/ru/releases/new-york-experience/"]
    assert nyx == {
        "en": f"{BASE}/en/releases/new-york-experience/",
        "es": f"{BASE}/es/releases/new-york-experience/",
        "ru": f"{BASE}/ru/releases/new-york-experience/",
        "x-default": f"{BASE}/en/releases/new-york-experience/",
    }
    assert f"{BASE}/zh/releases/new-york-experience/" not in urls  # no Chinese version
    assert alternates.pop(f"{BASE}/") == {}  # the language chooser
    for loc, links in alternates.items():
        assert loc in links.values(), f"{loc} does not list itself"
        assert "x-default" in links, loc
        for language, href in links.items():
            assert href in urls, f"{loc}: alternate {language} {href} is not in the sitemap"
            assert alternates[href] == links, f"{href} and {loc} disagree on their alternates"
    for page in ("/ar/", "/ht/topics/health/", "/zh/offices/city-digital/", "/es/archive/2024/12/"):
        assert BASE + page in urls, page
    assert f"{BASE}/en/topics/jobs/" in urls
    assert urls[f"{BASE}/en/releases/new-york-experience/"].findtext(f"{SM}lastmod") == (
        "2024-11-26T09:00:00-05:00"
    )


def test_news_sitemap_lists_only_the_last_two_days_per_language(sample_root: Path) -> None:
    now = datetime(2024, 12, 13, 14, 0, tzinfo=UTC)  # flu clinics: a day ago; labor statement: 3 days
    files = sitemaps_at(sample_root, now)

    def news(language: str) -> list[dict[str, str]]:
        root = ET.fromstring(files[f"{language}/news-sitemap.xml"])
        return [
            {
                "loc": url.findtext(f"{SM}loc", ""),
                "name": url.findtext(f"{NEWS}news/{NEWS}publication/{NEWS}name", ""),
                "language": url.findtext(f"{NEWS}news/{NEWS}publication/{NEWS}language", ""),
                "date": url.findtext(f"{NEWS}news/{NEWS}publication_date", ""),
                "title": url.findtext(f"{NEWS}news/{NEWS}title", ""),
            }
            for url in root.iter(f"{SM}url")
        ]

    assert news("zh") == [
        {
            "loc": f"{BASE}/zh/releases/health-flu-clinics/",
            "name": "州市新闻中心（示例）",
            "language": "zh-cn",
            "date": "2024-12-12T10:00:00-05:00",
            "title": "卫生局在全州开设免费流感疫苗接种点",
        }
    ]
    assert [entry["loc"] for entry in news("en")] == [f"{BASE}/en/releases/health-flu-clinics/"]
    assert news("en")[0]["name"] == "Sample State & City Newsroom"
    assert news("ru") == []
    later = sitemaps_at(sample_root, now + timedelta(days=2))
    assert b"<url>" not in later["en/news-sitemap.xml"]


def test_robots_txt_points_to_every_sitemap(sample_root: Path) -> None:
    robots = sitemaps_at(sample_root)["robots.txt"].decode()
    listed = re.findall(r"^Sitemap: (\S+)$", robots, flags=re.MULTILINE)
    assert listed[0] == f"{BASE}/sitemap.xml"
    assert f"{BASE}/ar/news-sitemap.xml" in listed
    assert len(listed) == 7
    assert "Disallow: /\n" not in robots


# --- the shared Markdown renderer ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("markdown", "expected", "absent"),
    [
        ("Hello <b onclick='x()'>there</b>", "<p>Hello there</p>", "onclick"),
        ("<iframe src='https://evil.example'></iframe>\n\nText", "<p>Text</p>", "iframe"),
        ("[click](javascript:alert(1))", "<p>click</p>", "href"),
        ("![A map](map.png)", '<img src="/media/s/map.png" alt="A map">', "onerror"),
    ],
)
def test_markdown_drops_raw_html_and_dangerous_links(markdown: str, expected: str, absent: str) -> None:
    html = render_markdown(markdown, assets="/media/s/")
    assert expected in html
    assert absent not in html


def test_haitian_creole_dates_are_in_kreyol_not_french(sample_root: Path) -> None:
    edit(
        sample_root, "releases/2024/2024-12-12-health-flu-clinics/en.md", "contacts:",
        "corrections:\n  - date: 2024-12-13 08:00 America/New_York\n"
        "    note: The Buffalo clinic opens at 2 p.m., not 1 p.m.\ncontacts:",
    )  # fmt: skip
    atom = entries_by_id(feeds_at(sample_root)["ht/topics/health/atom.xml"])
    content = atom["tag:news.example.gov,2024-12-12:health-flu-clinics/ht"].findtext(f"{ATOM}content", "")
    assert "<strong>Koreksyon, 13 desanm 2024:</strong>" in content
    assert "décembre" not in content


def test_arabic_entries_read_right_to_left(sample_root: Path) -> None:
    entries = entries_by_id(feeds_at(sample_root)["ar/atom.xml"])
    translated = entries["tag:news.example.gov,2024-12-03:city-digital-services-plain-language/ar"]
    content = translated.findtext(f"{ATOM}content", "")
    assert content.startswith('<div dir="rtl">')
    assert 'alt="رسم توضيحي لأربع كتل' in content  # the translated alt text
    fallback = entries["tag:news.example.gov,2024-12-10:labor-statement-winter-jobs/en"]
    note = "هذا البيان متاح بلغته الأصلية فقط: الإنجليزية."
    assert f'<p lang="ar" dir="rtl"><strong>{note}</strong></p>' in fallback.findtext(f"{ATOM}content", "")


def test_a_release_without_summary_is_summarized_by_its_first_paragraph(sample_root: Path) -> None:
    edit(sample_root, LABOR, "summary: Labor Commissioner", "# summary: Labor Commissioner")
    rss = feedparser.parse(feeds_at(sample_root)["en/offices/labor/feed.xml"])
    assert rss.entries[0].summary.startswith('"Winter brings thousands of seasonal jobs across our state')
    assert "<" not in rss.entries[0].summary


def test_editing_a_feeds_catalog_changes_only_that_languages_feed_keys(
    sample_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from newsroom.render import feeds

    locale = tmp_path / "locale"
    for language in ("es", "ru"):
        folder = locale / language / "LC_MESSAGES"
        folder.mkdir(parents=True)
        (folder / "feeds.po").write_bytes(
            (i18n.LOCALE_DIR / language / "LC_MESSAGES" / "feeds.po").read_bytes()
        )
    monkeypatch.setattr(feeds, "LOCALE_DIR", locale)
    before = {u.name: u.key for u in feed_units(published_at(sample_root, SAMPLE_NOW))}
    po = locale / "ru" / "LC_MESSAGES" / "feeds.po"
    po.write_text(
        po.read_text(encoding="utf-8").replace("Контакты для СМИ", "Для журналистов"), encoding="utf-8"
    )
    after = {u.name: u.key for u in feed_units(published_at(sample_root, SAMPLE_NOW))}
    changed = {name for name in before if before[name] != after[name]}
    assert changed and all(name.startswith("feed:ru") for name in changed)
    assert len(changed) == 1 + 7 + 5  # the language feed, its topics and its offices


def test_sitemap_escaping_writes_what_the_standard_library_writes() -> None:
    from xml.sax import saxutils

    from newsroom.render import sitemaps

    for text in ["a&b<c>d", 'say "hi"', "it's", "both ' and \"", "tab\tnl\ncr\r", "/?a=1&b=2", "Énfasis"]:
        assert sitemaps.escape(text) == saxutils.escape(text), text
        assert sitemaps.quoteattr(text) == saxutils.quoteattr(text), text


def test_sitemap_is_an_index_of_a_listings_part_and_a_part_per_year(sample_root: Path) -> None:
    files = sitemaps_at(sample_root)
    assert sitemap_parts(files) == ["sitemap-pages.xml", "sitemap-2024.xml"]
    index = ET.fromstring(files["sitemap.xml"])
    lastmods = [element.text for element in index.iter(f"{SM}lastmod")]
    assert lastmods[1] == max(url.findtext(f"{SM}lastmod", "") for url in sitemap_urls(files)[-20:])
    years = ET.fromstring(files["sitemap-2024.xml"])
    assert all("/releases/" in (url.findtext(f"{SM}loc") or "") for url in years.iter(f"{SM}url"))
    after = sitemaps_at(sample_root, AFTER_EMBARGO)  # the Hudson Skyway release is from 2030
    assert sitemap_parts(after) == ["sitemap-pages.xml", "sitemap-2030.xml", "sitemap-2024.xml"]
    assert after["sitemap-2024.xml"] == files["sitemap-2024.xml"]


def test_sitemap_part_over_the_url_limit_is_split(sample_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from newsroom.render import sitemaps

    every_url = [u.findtext(f"{SM}loc") for u in sitemap_urls(sitemaps_at(sample_root))]
    monkeypatch.setattr(sitemaps, "MAX_URLS", 10)
    files = sitemaps_at(sample_root)
    parts = sitemap_parts(files)
    assert parts[:2] == ["sitemap-pages-1.xml", "sitemap-pages-2.xml"]
    assert "sitemap-2024-1.xml" in parts
    listed = []
    for part in parts:
        found = [u.findtext(f"{SM}loc") for u in ET.fromstring(files[part]).iter(f"{SM}url")]
        assert 0 < len(found) <= 10
        listed.extend(found)
    assert listed == every_url


def test_spliced_entries_give_the_bytes_feedgen_writes_with_the_entries_in_it(sample_root: Path) -> None:
    """render_feed serializes each entry once and splices it in; feedgen given the entries agrees."""
    from feedgen.entry import FeedEntry

    from newsroom.render import feeds

    for unit in feed_units(published_at(sample_root, AFTER_EMBARGO)):
        settings, scope, releases, pdf_sizes = unit.args[:4]
        items = feeds.feed_items(scope, releases, pdf_sizes)
        newest = max((item.updated for item in items), default=feeds.EMPTY_FEED_UPDATED)
        generator = feeds._feed_generator(settings, scope, newest)
        for item in items:
            entry = FeedEntry()
            feeds._fill_entry(entry, settings, item)
            generator.add_entry(entry, order="append")
        feeds._set_links(generator, settings, scope, self_path=scope.atom_path, self_type=feeds.ATOM_TYPE)
        atom = generator.atom_str(pretty=True)
        feeds._set_links(generator, settings, scope, self_path=scope.rss_path, self_type=feeds.RSS_TYPE)
        rss = generator.rss_str(pretty=True)
        assert [a.data for a in feeds.render_feed(settings, scope, items)] == [atom, rss], unit.name
