"""PDF press releases: real WeasyPrint output read back with poppler (pdftotext, pdffonts, pdfinfo)."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from babel.messages.extract import extract
from babel.messages.pofile import read_po

from newsroom.config import Settings, load_settings
from newsroom.content.loader import load_newsroom
from newsroom.errors import RenderError
from newsroom.gate import Published, gate
from newsroom.render.i18n import LOCALE_DIR
from newsroom.render.pdf import TEMPLATES_DIR, pdf_units, preview_pdf
from newsroom.render.pdf_pool import PdfPool
from newsroom.render.pdf_stage import render_pdfs
from tests.conftest import EMBARGOED_SLUG, EMBARGOED_WORDS, REPO, SAMPLE_NOW
from tests.pdf_support import (
    arabic_words,
    body_text,
    catalog_language,
    characters_without_glyphs,
    no_space,
    pdf_fonts,
    pdf_info,
    pdf_text,
    raw_objects,
    run,
    squeeze,
)

NYX = "new-york-experience"
CITY = "city-digital-services-plain-language"
FLU = "health-flu-clinics"
DMV = "dmv-office-hours-media-advisory"
TRANSLATED = ("es", "ru", "zh", "ar", "ht")

pytestmark = pytest.mark.skipif(
    shutil.which("pdftotext") is None or shutil.which("fc-match") is None,
    reason="needs poppler-utils and fontconfig (make system)",
)


@dataclass
class Site:
    settings: Settings
    published: Published
    out: Path
    cache: Path

    def pdf(self, slug: str, language: str) -> Path:
        return self.out / language / "releases" / slug / f"{slug}-{language}.pdf"

    def source(self, slug: str, language: str) -> str:
        folder = next(self.settings.releases_dir.rglob(f"*-{slug}"))
        return (folder / f"{language}.md").read_text(encoding="utf-8").split("---", 2)[2]


def _copy_sample(root: Path) -> Settings:
    root.mkdir()
    shutil.copy(REPO / "newsroom.toml", root / "newsroom.toml")
    shutil.copytree(REPO / "releases", root / "releases")
    return load_settings(root, environ={})


@pytest.fixture(scope="module")
def pool() -> Iterator[PdfPool]:
    with PdfPool(2) as workers:
        yield workers


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, pool: PdfPool) -> Site:
    """Every sample PDF, rendered once for the module by the publish stage on a 2-worker pool."""
    base = tmp_path_factory.mktemp("pdf")
    settings = _copy_sample(base / "newsroom")
    published = gate(load_newsroom(settings), SAMPLE_NOW)
    result = Site(settings, published, base / "site", base / "var" / "pdf-cache.json")
    report = render_pdfs(published, result.out, result.cache, pool)
    assert report.rendered == len(list(pdf_units(published))) and report.reused == 0
    return result


def test_every_public_release_has_a_pdf_in_each_of_its_languages_and_nothing_else(site: Site) -> None:
    expected = {
        f"{language}/releases/{release.slug}/{release.slug}-{language}.pdf"
        for release in site.published.releases
        for language in release.languages
    }
    written = {str(path.relative_to(site.out)) for path in site.out.rglob("*.pdf")}
    assert written == expected
    assert f"ru/releases/{NYX}/{NYX}-ru.pdf" in written
    assert not any(
        EMBARGOED_SLUG in path or "draft-broadband" in path or "withdrawn" in path for path in written
    )


def test_no_public_pdf_mentions_the_embargoed_release(site: Site) -> None:
    for path in site.out.rglob("*.pdf"):
        text = pdf_text(path)
        assert not any(word in text for word in EMBARGOED_WORDS), path


@pytest.mark.parametrize(
    ("slug", "language", "banner", "page_one"),
    [
        (NYX, "en", "FOR IMMEDIATE RELEASE", "Page 1 of 2"),
        (NYX, "ru", "ДЛЯ НЕМЕДЛЕННОЙ ПУБЛИКАЦИИ", "Страница 1 из 2"),
        (NYX, "es", "PARA PUBLICACIÓN INMEDIATA", "Página 1 de 2"),
        (FLU, "ht", "POU PIBLIKASYON IMEDYAT", "Paj 1 sou 2"),
    ],
)
def test_text_is_real_and_localized(site: Site, slug: str, language: str, banner: str, page_one: str) -> None:
    text = squeeze(body_text(site.pdf(slug, language)))
    paragraphs = [p for p in site.source(slug, language).split("\n\n") if p.strip()]
    # plain prose paragraphs (no Markdown markup) must come out word for word
    prose = [squeeze(p) for p in paragraphs if not re.search(r"[*\[|#>]|^- ", p)]
    assert len(prose) >= 3
    for sentence in prose:
        assert sentence in text
    assert banner in text
    assert "###" in text
    footer = squeeze(pdf_text(site.pdf(slug, language)))
    assert banner in footer and page_one in footer


def test_chinese_text_and_simplified_glyph_fonts(site: Site) -> None:
    pdf = site.pdf(FLU, "zh")
    text = no_space(body_text(pdf))
    source = site.source(FLU, "zh")
    for sentence in ("6个月及以上的任何人都可以免费接种流感疫苗。", "请穿短袖或袖子宽松的衣服。"):
        assert sentence in source and sentence in text
    assert "卫生局在全州开设免费流感疫苗接种点" in text
    assert "即时发布" in text and "第1页，共2页" in no_space(pdf_text(pdf))
    names = {font["name"].split("+")[1] for font in pdf_fonts(pdf)}
    assert "Noto-Serif-CJK-SC" in names  # the SC face: Simplified Chinese glyph shapes
    assert catalog_language(pdf) == "zh-Hans"


def test_arabic_words_come_out_and_the_page_reads_right_to_left(site: Site) -> None:
    pdf = site.pdf(CITY, "ar")
    extracted = arabic_words(body_text(pdf))
    source = arabic_words(site.source(CITY, "ar"))
    assert len(source) > 200
    assert len(source - extracted) <= len(source) // 20  # shaping may merge a few ligatures
    for word in ("الرقمية", "المفاتيح", "قارئات", "مفعمة"):
        assert word in extracted
    assert "للنشر الفوري" in squeeze(pdf_text(pdf))
    # right to left: the banner sits against the right margin, not the left
    words = re.findall(
        r'<word xMin="([\d.]+)" yMin="[\d.]+" xMax="([\d.]+)"[^>]*>([^<]+)</word>',
        run("pdftotext", "-bbox", "-f", "1", "-l", "1", str(pdf), "-"),
    )
    # bbox words come in visual order, i.e. reversed letters for Arabic
    banner = [(float(x0), float(x1)) for x0, x1, word in words if word[::-1] in ("للنشر", "الفوري")]
    assert len(banner) == 2
    assert banner and all(x0 > 612 / 2 for x0, _ in banner)
    assert max(x1 for _, x1 in banner) > 612 - 22 / 25.4 * 72 - 5  # flush with the right margin
    assert catalog_language(pdf) == "ar"


@pytest.mark.parametrize(
    ("slug", "language"),
    [(NYX, "en"), (NYX, "ru"), (CITY, "ar"), (FLU, "zh"), (FLU, "ht"), (DMV, "es")],
)
def test_fonts_are_embedded_noto_with_a_glyph_for_every_character(
    site: Site, slug: str, language: str
) -> None:
    pdf = site.pdf(slug, language)
    fonts = pdf_fonts(pdf)
    assert fonts
    for font in fonts:
        assert font["emb"] == "yes", font
        assert font["type"] != "Type 3", font
        assert "Noto" in font["name"], font
    assert characters_without_glyphs(pdf) == set()


def test_the_glyph_check_catches_a_character_no_font_has(tmp_path: Path) -> None:
    settings = _copy_sample(tmp_path / "newsroom")
    original = next(settings.releases_dir.rglob("*-labor-statement-winter-jobs")) / "en.md"
    original.write_text(original.read_text(encoding="utf-8") + "\nA private-use character: \ue000.\n")
    published = gate(load_newsroom(settings), SAMPLE_NOW)
    unit = next(u for u in pdf_units(published) if u.name == "pdf:en:labor-statement-winter-jobs")
    pdf = tmp_path / "labor.pdf"
    pdf.write_bytes(unit.render(*unit.args)[0].data)
    assert characters_without_glyphs(pdf) == {"\ue000"}


@pytest.mark.parametrize(("slug", "language"), [(NYX, "en"), (NYX, "ru"), (CITY, "ar"), (FLU, "zh")])
def test_tagged_pdf_with_title_author_and_language(site: Site, slug: str, language: str) -> None:
    pdf = site.pdf(slug, language)
    info = pdf_info(pdf)
    release = site.published.by_slug(slug)
    assert info["Title"] == release.localized(language).title
    assert info["Author"] == site.settings.office_label(release.meta.office, language)
    assert info["Tagged"] == "yes"
    assert info["PDF version"] == "1.7"
    assert catalog_language(pdf) == {"zh": "zh-Hans"}.get(language, language)
    assert "pdfuaid:part" in run("pdfinfo", "-meta", str(pdf))  # declares PDF/UA-1 in XMP


def test_images_carry_their_alt_text_in_the_structure_tree(site: Site) -> None:
    release = site.published.by_slug(CITY)
    structure = b"".join(raw_objects(site.pdf(CITY, "en")))
    assert b"/S /Figure" in structure
    assert b"/Alt (" + release.meta.images[0].alt[:60].encode("ascii") in structure
    text = squeeze(pdf_text(site.pdf(CITY, "en")))
    assert release.meta.images[0].caption in text and "Photo: City Digital Services" in text


def test_the_logo_is_on_the_letterhead_and_part_of_the_key(tmp_path: Path) -> None:
    settings_file = tmp_path / "newsroom" / "newsroom.toml"
    settings = _copy_sample(tmp_path / "newsroom")
    text = settings_file.read_text(encoding="utf-8")
    settings_file.write_text(
        text.replace(
            'time_zone = "America/New_York"\n', 'time_zone = "America/New_York"\nlogo = "logo.png"\n'
        )
    )
    with pytest.raises(RenderError, match=r"site.logo 'logo.png' is not a file.*fix: add the image"):
        list(pdf_units(gate(load_newsroom(load_settings(settings.root, environ={})), SAMPLE_NOW)))
    shutil.copy(next(settings.releases_dir.rglob("team.png")), settings.root / "logo.png")
    published = gate(load_newsroom(load_settings(settings.root, environ={})), SAMPLE_NOW)
    unit = next(u for u in pdf_units(published) if u.name == f"pdf:ru:{NYX}")
    pdf = tmp_path / "with-logo.pdf"
    pdf.write_bytes(unit.render(*unit.args)[0].data)
    structure = b"".join(raw_objects(pdf))
    assert b"/S /Figure" in structure and b"/Alt" in structure  # the logo: a tagged figure with alt text
    assert "Пресс-центр штата и города" in squeeze(pdf_text(pdf))
    (settings.root / "logo.png").write_bytes((settings.root / "logo.png").read_bytes() + b"\0")
    changed = next(u for u in pdf_units(published) if u.name == unit.name)
    assert changed.key != unit.key


def test_media_advisory_puts_the_event_first_and_corrections_are_listed(site: Site) -> None:
    advisory = squeeze(pdf_text(site.pdf(DMV, "en")))
    event = "Monday, December 9, 2024, 11:00 AM – 12:00 PM (Eastern Standard Time)"
    assert event in advisory
    assert advisory.index(event) < advisory.index("What:")  # the event block comes before the body
    assert "Customer Service Lobby, Albany DMV Office 120 Market Street" in advisory
    english = squeeze(pdf_text(site.pdf(NYX, "en")))
    correction = "November 26, 2024, 9:00 AM (Eastern Standard Time): An earlier version"
    assert correction in english
    assert english.index("###") < english.index("Correction •") < english.index(correction)
    russian = squeeze(pdf_text(site.pdf(NYX, "ru")))
    assert "Исправление • 26 ноября 2024 г., 09:00" in russian
    assert "В предыдущей версии этого пресс-релиза был указан неверный номер" in russian
    assert "Контакт для СМИ Press Office" in russian


def test_phone_numbers_are_never_broken_across_lines(site: Site) -> None:
    # both sat at a line end before: "+1 518 555" / "0187." in the body, "+1 518" / "555 0142." in a
    # correction note (the trailing period tells them from the contact block's number)
    assert "+1 518 555 0187." in pdf_text(site.pdf(CITY, "en"))
    assert "+1 518 555 0142." in pdf_text(site.pdf(NYX, "ru"))


def test_phone_numbers_read_left_to_right_inside_arabic_text(site: Site) -> None:
    boxes = re.findall(
        r'<word xMin="([\d.]+)" yMin="([\d.]+)"[^>]*>(\+1|518|555|0187)</word>',
        run("pdftotext", "-bbox", "-f", "2", "-l", "2", str(site.pdf(CITY, "ar")), "-"),
    )
    body_line = min(float(y) for _, y, _ in boxes)  # the body's number, above the contact block
    order = [word for x, y, word in sorted(boxes, key=lambda box: float(box[0])) if float(y) == body_line]
    assert order == ["+1", "518", "555", "0187"]  # the bidi algorithm alone gives 0187 555 518 +1


def test_footer_carries_the_release_url(site: Site) -> None:
    text = squeeze(pdf_text(site.pdf(NYX, "ru")))
    assert f"https://news.example.gov/ru/releases/{NYX}/" in text


def test_same_inputs_give_byte_identical_pdfs(site: Site, pool: PdfPool) -> None:
    unit = next(u for u in pdf_units(site.published) if u.name == f"pdf:ar:{CITY}")
    in_process = unit.render(*unit.args)[0].data
    in_worker = pool.render([unit])[unit.name][0].data
    assert in_process == in_worker == site.pdf(CITY, "ar").read_bytes()
    assert b"CreationDate (D:20241203150000" in in_process or pdf_info(site.pdf(CITY, "ar"))[
        "CreationDate"
    ].startswith("Tue Dec  3 15:00:00 2024")


def test_public_pdfs_do_not_depend_on_now(site: Site) -> None:
    later = gate(load_newsroom(site.settings), datetime(2029, 1, 1, tzinfo=UTC))
    before = {u.name: u.key for u in pdf_units(site.published)}
    after = {u.name: u.key for u in pdf_units(later)}
    assert all(after[name] == key for name, key in before.items())


def test_second_run_renders_nothing_and_keeps_files_untouched(site: Site, pool: PdfPool) -> None:
    stamps = {path: path.stat().st_mtime_ns for path in site.out.rglob("*.pdf")}
    report = render_pdfs(site.published, site.out, site.cache, pool)
    assert report.rendered == 0 and report.reused == len(stamps) and report.removed == 0
    assert {path: path.stat().st_mtime_ns for path in site.out.rglob("*.pdf")} == stamps


def test_only_changed_pdfs_are_rerendered_and_gone_ones_removed(tmp_path: Path, pool: PdfPool) -> None:
    settings = _copy_sample(tmp_path / "newsroom")
    out, cache = tmp_path / "site", tmp_path / "pdf-cache.json"
    first = render_pdfs(gate(load_newsroom(settings), SAMPLE_NOW), out, cache, pool)
    assert first.rendered > 5
    folder = next(settings.releases_dir.rglob(f"*-{NYX}"))
    russian = folder / "ru.md"
    russian.write_text(russian.read_text(encoding="utf-8").replace("Подробности и новости", "Подробнее"))
    changed = render_pdfs(gate(load_newsroom(settings), SAMPLE_NOW), out, cache, pool)
    assert (changed.rendered, changed.removed) == (1, 0)
    assert "Подробнее — на" in squeeze(pdf_text(out / "ru" / "releases" / NYX / f"{NYX}-ru.pdf"))
    original = folder / "en.md"
    original.write_text(
        original.read_text(encoding="utf-8").replace("status: published", "status: withdrawn")
    )
    withdrawn = render_pdfs(gate(load_newsroom(settings), SAMPLE_NOW), out, cache, pool)
    assert (withdrawn.rendered, withdrawn.removed) == (0, 3)
    assert not list(out.rglob(f"{NYX}-*.pdf"))


def test_a_deleted_pdf_is_rendered_again(tmp_path: Path, site: Site, pool: PdfPool) -> None:
    out = tmp_path / "site"
    shutil.copytree(site.out, out)
    cache = tmp_path / "cache.json"
    shutil.copy(site.cache, cache)
    (out / "en" / "releases" / NYX / f"{NYX}-en.pdf").unlink()
    assert render_pdfs(site.published, out, cache, pool).rendered == 1


def test_embargoed_preview_says_embargoed_until_in_the_readers_language(site: Site) -> None:
    newsroom = load_newsroom(site.settings)
    english = squeeze(_pdf_bytes_text(preview_pdf(newsroom, EMBARGOED_SLUG, "en", SAMPLE_NOW)))
    assert "EMBARGOED UNTIL June 1, 2030, 10:00 AM (Eastern Daylight Time)" in english
    assert "Hudson Skyway" in english
    before_launch = datetime(2024, 11, 20, 12, 0, tzinfo=UTC)
    russian = squeeze(_pdf_bytes_text(preview_pdf(newsroom, NYX, "ru", before_launch)))
    assert "ЭМБАРГО: НЕ ПУБЛИКОВАТЬ ДО 25 ноября 2024 г., 10:00" in russian
    chinese = no_space(_pdf_bytes_text(preview_pdf(newsroom, FLU, "zh", before_launch)))
    assert "禁发至2024年12月12日10:00（北美东部标准时间）" in chinese
    public = squeeze(_pdf_bytes_text(preview_pdf(newsroom, NYX, "en", SAMPLE_NOW)))
    assert "FOR IMMEDIATE RELEASE" in public and "EMBARGOED" not in public


def test_preview_errors_name_the_fix(site: Site) -> None:
    newsroom = load_newsroom(site.settings)
    with pytest.raises(RenderError, match=r"has no .zh. version.*add zh\.md"):
        preview_pdf(newsroom, NYX, "zh", SAMPLE_NOW)
    with pytest.raises(RenderError, match="no release with slug 'nyx'"):
        preview_pdf(newsroom, "nyx", "en", SAMPLE_NOW)


def test_pdf_command_writes_an_embargoed_copy(site: Site, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from newsroom.cli import app

    out = tmp_path / "skyway.pdf"
    result = CliRunner().invoke(
        app,
        [
            "pdf",
            EMBARGOED_SLUG,
            "--out",
            str(out),
            "--root",
            str(site.settings.root),
            "--now",
            "2024-12-20 09:00 UTC",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "EMBARGOED UNTIL June 1, 2030" in squeeze(pdf_text(out))


def test_pdf_command_fails_with_the_fix_for_a_missing_language(site: Site, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from newsroom.cli import app

    out = tmp_path / "nyx-zh.pdf"
    arguments = ["pdf", NYX, "--lang", "zh", "--out", str(out), "--root", str(site.settings.root)]
    result = CliRunner().invoke(app, arguments)
    assert result.exit_code != 0
    assert "has no 'zh' version" in str(result.exception) + result.output
    assert not out.exists()


def _extracted_pdf_strings() -> set[str]:
    """What `make i18n` finds: Babel's Python extractor on pdf*.py, Jinja2's on templates/pdf/."""
    found: set[str] = set()
    sources = [(path, "python") for path in (REPO / "newsroom" / "render").glob("pdf*.py")]
    sources += [(path, "jinja2.ext:babel_extract") for path in TEMPLATES_DIR.glob("*.j2")]
    for path, method in sources:
        with path.open("rb") as source:
            options = {"trim_blocks": "true", "lstrip_blocks": "true"} if method != "python" else {}
            for _line, message, _comments, _context in extract(method, source, options=options):
                found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_pdf_string_is_translated_in_every_catalog() -> None:
    used = _extracted_pdf_strings()
    assert {"Page {page} of {pages}", "Media contact", "EMBARGOED UNTIL {time}"} <= used
    for language in TRANSLATED:
        with (LOCALE_DIR / language / "LC_MESSAGES" / "pdf.po").open("rb") as po:
            catalog = read_po(po)
        ids = {m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id}
        assert ids == used, (language, used - ids, ids - used)
        for message in catalog:
            if not message.id:
                continue
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            assert all(strings), (language, message.id)
            source = message.id if isinstance(message.id, str) else message.id[0]
            for text in strings:  # placeholders survive translation
                assert set(re.findall(r"\{\w+\}", source)) == set(re.findall(r"\{\w+\}", text)), (
                    language,
                    text,
                )


def _pdf_bytes_text(data: bytes) -> str:
    import tempfile

    with tempfile.NamedTemporaryFile(suffix=".pdf") as handle:
        handle.write(data)
        handle.flush()
        return pdf_text(Path(handle.name))
