"""The site build: embargo, atomic swap, determinism, incremental rebuilds, removals."""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from newsroom.config import load_settings
from newsroom.content.loader import load_newsroom
from newsroom.errors import ContentError, RenderError
from newsroom.forked import MAX_PROCESSES
from newsroom.gate import Published, gate
from newsroom.render import builder
from newsroom.render.base import Artifact, Unit
from newsroom.render.builder import build_site
from newsroom.render.site import site_units
from newsroom.render.sms import redirect_unit
from tests.conftest import EMBARGOED_SLUG, EMBARGOED_WORDS, SAMPLE_NOW
from tests.site_support import build, page, stamps, tree

AFTER_EMBARGO = datetime(2030, 6, 2, 12, 0, tzinfo=UTC)
NYX = "new-york-experience"
LABOR = "labor-statement-winter-jobs"


def _all_bytes_under(root: Path) -> bytes:
    """Every byte the build wrote: the live tree and the build folders (manifests included)."""
    chunks = [p.read_bytes() for p in sorted((root / ".site-builds").rglob("*")) if p.is_file()]
    return b"\n".join(chunks).lower()


def test_embargoed_release_leaves_no_trace_before_its_time(sample_root: Path) -> None:
    build(sample_root, SAMPLE_NOW)
    everything = _all_bytes_under(sample_root)
    assert b"new-york-experience" in everything  # the scan does see real content
    for word in EMBARGOED_WORDS:
        assert word.lower().encode() not in everything, word
    assert not any(EMBARGOED_SLUG in name for name in tree(sample_root / "site"))


def test_embargoed_release_appears_everywhere_after_its_time(sample_root: Path) -> None:
    build(sample_root, SAMPLE_NOW)
    build(sample_root, AFTER_EMBARGO)
    for url in (
        "/en/",
        "/es/",
        "/en/topics/transportation/",
        "/en/offices/governor/",
        "/en/archive/2030/06/",
    ):
        assert "Hudson Skyway" in page(sample_root, url), url
    assert "gondola" in page(sample_root, f"/en/releases/{EMBARGOED_SLUG}/")


def test_two_builds_with_the_same_inputs_are_byte_identical(tmp_path: Path, sample_root: Path) -> None:
    other = tmp_path / "other"
    shutil.copytree(sample_root, other)
    build(sample_root, SAMPLE_NOW)
    build(other, SAMPLE_NOW)
    first, second = tree(sample_root / "site"), tree(other / "site")
    assert len(first) > 100
    assert first == second


def test_rebuild_with_nothing_changed_writes_nothing(sample_root: Path) -> None:
    build(sample_root, SAMPLE_NOW)
    target = os.readlink(sample_root / "site")
    before = stamps(sample_root / "site")
    report = build(sample_root, SAMPLE_NOW)
    assert not report.changed and report.rendered == []
    assert os.readlink(sample_root / "site") == target
    assert stamps(sample_root / "site") == before


@pytest.mark.parametrize("damage", ["truncated", "garbage", "earlier version"])
def test_a_manifest_that_cannot_be_read_means_a_full_build_with_the_same_bytes(
    sample_root: Path, damage: str
) -> None:
    build(sample_root, SAMPLE_NOW)
    site = tree(sample_root / "site")
    live = (sample_root / "site").resolve().parent
    manifest = live / builder.MANIFEST
    if damage == "truncated":
        manifest.write_bytes(manifest.read_bytes()[: manifest.stat().st_size // 2])
    elif damage == "garbage":
        manifest.write_bytes(b"\x00not a manifest" * 100)
    else:  # a tree an earlier version built: its manifest was a pickle, under another name
        manifest.rename(live / builder.LEGACY_MANIFEST)

    report = build(sample_root, SAMPLE_NOW)

    assert len(report.rendered) > 50  # every unit, since nothing is known of the live tree
    assert tree(sample_root / "site") == site
    assert not list(sample_root.glob(f".site-builds/*/{builder.LEGACY_MANIFEST}"))
    assert not build(sample_root, SAMPLE_NOW).rendered  # and the new manifest is read back


def test_changing_one_release_rerenders_only_its_pages_and_listings(sample_root: Path) -> None:
    build(sample_root, SAMPLE_NOW)
    before = stamps(sample_root / "site")
    original = next(sample_root.glob(f"releases/*/*-{LABOR}/en.md"))
    original.write_text(original.read_text().replace("winter", "cold-season", 1), encoding="utf-8")

    report = build(sample_root, SAMPLE_NOW)

    rendered = set(report.rendered)
    assert f"site:release:{LABOR}" in rendered
    assert {f"site:home:{code}" for code in ("en", "es", "ru", "zh", "ar", "ht")} <= rendered
    assert "site:office:labor:en" in rendered and "site:archive:2024-12:ru" in rendered
    assert f"site:release:{NYX}" not in rendered
    assert "site:office:governor:en" not in rendered and "site:topic:technology:en" not in rendered
    pages = [name for name in rendered if name.startswith("site:")]
    assert all(
        LABOR in name or name.split(":")[1] in ("home", "topic", "office", "archive") for name in pages
    )
    # its PDF, and the feeds and sitemaps that list it; no other release's PDF
    assert {name for name in rendered if name.startswith("pdf:")} == {f"pdf:en:{LABOR}"}
    # its short-link pages are keyed by its files, like its own pages: only its bucket is made again
    assert {name for name in rendered if name.startswith("sms-redirect:")} == {redirect_unit(LABOR)}
    assert redirect_unit(NYX) != redirect_unit(LABOR)
    kinds = ("site", "pdf", "feed", "sitemap", "news", "sms-redirect")
    assert all(name.split(":")[0] in kinds for name in rendered)
    after = stamps(sample_root / "site")
    assert after[f"en/releases/{NYX}/index.html"] == before[f"en/releases/{NYX}/index.html"]
    assert after[f"en/releases/{LABOR}/index.html"] != before[f"en/releases/{LABOR}/index.html"]
    assert "cold-season" in page(sample_root, f"/en/releases/{LABOR}/")


def test_a_small_change_is_patched_in_and_never_writes_through_a_file(sample_root: Path) -> None:
    labor = next(sample_root.glob(f"releases/*/*-{LABOR}/en.md"))
    build(sample_root, SAMPLE_NOW)
    target = os.readlink(sample_root / "site")
    before = stamps(sample_root / "site")
    old_page = (sample_root / f"site/en/releases/{LABOR}/index.html").open("rb")  # a reader mid-download
    labor.write_text(labor.read_text().replace("winter", "cold-season", 1), encoding="utf-8")

    report = build(sample_root, SAMPLE_NOW)

    assert os.readlink(sample_root / "site") == target  # the same tree, patched
    after = stamps(sample_root / "site")
    assert 0 < report.written < len(before) / 4  # its pages, listings and feeds, not the whole site
    changed = {path for path in after if after[path] != before.get(path)}
    assert f"en/releases/{LABOR}/index.html" in changed and "en/index.html" in changed
    assert len(changed) == report.written
    assert all(after[path][0] != before[path][0] for path in changed)  # new files (inodes), moved in
    assert b"cold-season" not in old_page.read()  # what was open keeps its bytes
    assert "cold-season" in page(sample_root, f"/en/releases/{LABOR}/")
    assert not (sample_root / ".site-builds" / builder.INCOMING).exists()


def test_a_big_change_builds_the_spare_tree_and_swaps_it_in(
    sample_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(builder, "PATCH_UNITS", 0)  # as a template change would: most of the site
    labor = next(sample_root.glob(f"releases/*/*-{LABOR}/en.md"))
    build(sample_root, SAMPLE_NOW)
    live = (sample_root / "site").resolve()
    old_site = tree(live)
    labor.write_text(labor.read_text().replace("winter", "cold-season", 1), encoding="utf-8")

    build(sample_root, SAMPLE_NOW)  # fills the spare tree: hard links to the unchanged files

    other = (sample_root / "site").resolve()
    assert other != live
    assert tree(live) == old_site  # the previous tree kept its bytes: files were replaced, not edited
    assert "cold-season" in page(sample_root, f"/en/releases/{LABOR}/")
    unchanged = f"en/releases/{NYX}/index.html"
    assert stamps(other)[unchanged] == stamps(live)[unchanged]  # one file, in both trees


def test_a_patch_puts_new_pages_in_before_the_listings_that_link_them(
    sample_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build(sample_root, SAMPLE_NOW)
    before = tree(sample_root / "site")
    plans: list[builder.Plan] = []
    commit = builder._commit

    def recording_commit(incoming: Path, plan: builder.Plan) -> None:
        plans.append(plan)
        commit(incoming, plan)

    monkeypatch.setattr(builder, "_commit", recording_commit)

    build(sample_root, AFTER_EMBARGO)  # the embargoed release appears: new pages, changed listings

    moves = plans[0].moves
    new = [path in before for path in moves].index(True)  # how many files are new
    assert f"en/releases/{EMBARGOED_SLUG}/index.html" in moves[:new]
    assert all(path not in before for path in moves[:new])
    assert all(path in before for path in moves[new:]) and "en/index.html" in moves[new:]


def test_an_interrupted_patch_is_finished_by_the_next_build(
    tmp_path: Path, sample_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    labor = next(sample_root.glob(f"releases/*/*-{LABOR}/en.md"))
    build(sample_root, SAMPLE_NOW)
    before = tree(sample_root / "site")
    labor.write_text(labor.read_text().replace("winter", "cold-season", 1), encoding="utf-8")

    def crash_after_one_move(incoming: Path, live: Path, plan: builder.Plan) -> None:
        """The plan is committed; one file has gone in when the machine stops."""
        first = plan.moves[0]
        os.replace(incoming / builder.PUBLIC / builder.staged_name(first), live / builder.PUBLIC / first)
        raise KeyboardInterrupt

    with monkeypatch.context() as patched:
        patched.setattr(builder, "_carry_out", crash_after_one_move)
        with pytest.raises(KeyboardInterrupt):
            build(sample_root, SAMPLE_NOW)
    assert (sample_root / ".site-builds" / builder.INCOMING / builder.PLAN).is_file()
    assert tree(sample_root / "site") != before

    report = build(sample_root, SAMPLE_NOW)  # nothing else changed: the plan is finished first

    assert not report.changed
    assert not (sample_root / ".site-builds" / builder.INCOMING).exists()
    fresh = tmp_path / "fresh"
    shutil.copytree(sample_root, fresh, ignore=shutil.ignore_patterns("site", ".site-builds"))
    build(fresh, SAMPLE_NOW)
    assert tree(sample_root / "site") == tree(fresh / "site")


def test_a_rebuild_whose_forked_child_fails_is_done_the_usual_way(
    tmp_path: Path, sample_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build(sample_root, SAMPLE_NOW)
    labor = next(sample_root.glob(f"releases/*/*-{LABOR}/en.md"))
    labor.write_text(labor.read_text().replace("winter", "cold-season", 1), encoding="utf-8")

    def failing_child(*args: object) -> None:
        raise MemoryError  # whatever goes wrong in the child, the parent only sees it fail

    monkeypatch.setattr(builder, "_key_and_render", failing_child)
    report = build(sample_root, SAMPLE_NOW)

    assert redirect_unit(LABOR) in report.rendered and f"site:release:{LABOR}" in report.rendered
    fresh = tmp_path / "fresh"
    shutil.copytree(sample_root, fresh, ignore=shutil.ignore_patterns("site", ".site-builds", "var"))
    build(fresh, SAMPLE_NOW)
    assert tree(sample_root / "site") == tree(fresh / "site")


def test_files_of_a_patch_that_was_not_committed_are_dropped(sample_root: Path) -> None:
    build(sample_root, SAMPLE_NOW)
    before = tree(sample_root / "site")
    incoming = sample_root / ".site-builds" / builder.INCOMING / builder.PUBLIC
    incoming.mkdir(parents=True)
    (incoming / builder.staged_name("en/index.html")).write_text("half a build")

    report = build(sample_root, SAMPLE_NOW)

    assert not report.changed
    assert tree(sample_root / "site") == before
    assert not (sample_root / ".site-builds" / builder.INCOMING).exists()


def _failing_render() -> list[Artifact]:
    raise RenderError("the template broke")


def _failing_units(published: Published) -> list[Unit]:
    return [Unit("test:broken", "k", _failing_render)]


def test_a_failing_build_leaves_the_previous_site_byte_for_byte_intact(sample_root: Path) -> None:
    build(sample_root, SAMPLE_NOW)
    before, target = tree(sample_root / "site"), os.readlink(sample_root / "site")
    settings = load_settings(sample_root, environ={})
    published = gate(load_newsroom(settings), AFTER_EMBARGO)  # would add pages, but a unit fails

    with pytest.raises(RenderError, match="test:broken: the template broke"):
        build_site(settings, published, providers=[site_units, _failing_units])

    assert os.readlink(sample_root / "site") == target
    assert tree(sample_root / "site") == before
    assert {p.name for p in (sample_root / ".site-builds").iterdir() if p.is_dir()} <= {"a", "b"}


def _home_again() -> list[Artifact]:
    return [Artifact("en/index.html", b"<!DOCTYPE html><title>impostor</title>")]


def _clashing_units(published: Published) -> list[Unit]:
    return [Unit("test:clash", "k", _home_again)]


def test_two_units_writing_one_file_stop_the_build_and_keep_the_site(sample_root: Path) -> None:
    build(sample_root, SAMPLE_NOW)  # site:home:en is reused below: only the new unit renders
    before = tree(sample_root / "site")
    settings = load_settings(sample_root, environ={})

    with pytest.raises(
        RenderError, match=re.escape("units 'site:home:en' and 'test:clash' both write 'en/index.html'")
    ):
        build_site(
            settings, gate(load_newsroom(settings), SAMPLE_NOW), providers=[site_units, _clashing_units]
        )

    assert tree(sample_root / "site") == before


# "{root}" stands for the newsroom's folder: an absolute path the test may write to, should the
# check ever let one through
@pytest.mark.parametrize(
    "path", ["{root}/outside.html", "en/../../../outside.html", "", "en/releases/", "../x", ".", "en//x.html"]
)
def test_a_unit_writing_outside_the_site_stops_the_build_and_keeps_the_site(
    sample_root: Path, path: str
) -> None:
    build(sample_root, SAMPLE_NOW)
    before = tree(sample_root / "site")
    settings = load_settings(sample_root, environ={})
    path = path.format(root=sample_root)

    def stray(published: Published) -> list[Unit]:
        return [Unit("test:stray", "k", lambda: [Artifact(path, b"stray")])]

    with pytest.raises(RenderError, match=re.escape(f"test:stray: artifact path {path!r} must be relative")):
        build_site(settings, gate(load_newsroom(settings), SAMPLE_NOW), providers=[site_units, stray])

    assert tree(sample_root / "site") == before
    assert not (sample_root / "outside.html").exists()


def test_an_invalid_release_stops_the_build_and_keeps_the_site(sample_root: Path) -> None:
    build(sample_root, SAMPLE_NOW)
    before = tree(sample_root / "site")
    original = next(sample_root.glob(f"releases/*/*-{LABOR}/en.md"))
    original.write_text(original.read_text().replace("kind: statement", "kind: rumour"), encoding="utf-8")

    with pytest.raises(ContentError, match=r"en\.md:\d+: .*kind"):
        build(sample_root, SAMPLE_NOW)
    assert tree(sample_root / "site") == before


def test_removed_translation_and_withdrawn_release_lose_their_files(sample_root: Path) -> None:
    build(sample_root, SAMPLE_NOW)
    assert (sample_root / f"site/es/releases/{NYX}/index.html").is_file()
    next(sample_root.glob(f"releases/*/*-{NYX}/es.md")).unlink()
    original = next(sample_root.glob(f"releases/*/*-{LABOR}/en.md"))
    original.write_text(
        original.read_text().replace("---\n", "---\nstatus: withdrawn\n", 1), encoding="utf-8"
    )

    report = build(sample_root, SAMPLE_NOW)

    assert report.removed >= 1
    assert not (sample_root / f"site/es/releases/{NYX}").exists()
    assert LABOR not in page(sample_root, "/en/")
    assert "withdrawn" in page(sample_root, f"/en/releases/{LABOR}/")


def test_russian_release_page_has_a_russian_date_and_translated_chrome(sample_root: Path) -> None:
    build(sample_root, SAMPLE_NOW)
    html = page(sample_root, f"/ru/releases/{NYX}/")
    assert '<html lang="ru" dir="ltr">' in html
    assert "25 ноября 2024" in html
    assert "Пресс-релиз" in html and "Наверх" in html and "Исправления" in html
    assert 'hreflang="x-default" href="https://news.example.gov/en/releases/new-york-experience/"' in html


def test_arabic_pages_are_right_to_left(sample_root: Path) -> None:
    build(sample_root, SAMPLE_NOW)
    for url in ("/ar/", "/ar/releases/city-digital-services-plain-language/"):
        assert '<html lang="ar" dir="rtl">' in page(sample_root, url)


def test_listing_marks_a_missing_translation_in_the_readers_language(sample_root: Path) -> None:
    build(sample_root, SAMPLE_NOW)
    html = page(sample_root, "/es/")
    entry = re.search(r'<h3 lang="en" dir="ltr"><a href="/en/releases/labor-statement-winter-jobs/">', html)
    assert entry, "the English original is listed, marked as English"
    assert "Disponible solo en inglés" in html
    assert "Только на языке оригинала (английский)" in page(sample_root, "/ru/")


def test_withdrawn_release_is_a_localized_notice_and_leaves_listings(sample_root: Path) -> None:
    build(sample_root, SAMPLE_NOW)
    notice = page(sample_root, "/en/releases/withdrawn-bridge-closure/")
    assert "Release withdrawn" in notice and "issued in error" in notice
    assert "detour via Route 32" not in notice
    for url in ("/en/", "/en/topics/transportation/", "/en/archive/2024/12/", "/es/"):
        assert "withdrawn-bridge-closure" not in page(sample_root, url)


def test_media_advisory_offers_an_ics_file(sample_root: Path) -> None:
    build(sample_root, SAMPLE_NOW)
    slug = "dmv-office-hours-media-advisory"
    ics = (sample_root / f"site/en/releases/{slug}/{slug}.ics").read_bytes()
    assert ics.startswith(b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\n")
    assert b"DTSTART:20241209T160000Z\r\n" in ics and b"DTEND:20241209T170000Z\r\n" in ics
    assert all(len(line) <= 75 for line in ics.split(b"\r\n"))
    assert f"{slug}.ics" in page(sample_root, f"/en/releases/{slug}/")


def test_release_page_has_the_parts_readers_and_machines_need(sample_root: Path) -> None:
    build(sample_root, SAMPLE_NOW)
    html = page(sample_root, "/en/releases/city-digital-services-plain-language/")
    assert '<img src="/media/city-digital-services-plain-language/team.png" alt="Illustration of four' in html
    assert (sample_root / "site/media/city-digital-services-plain-language/team.png").is_file()
    found = re.search(r'<script type="application/ld\+json">\n(.*?)\n</script>', html, re.DOTALL)
    assert found is not None
    article = json.loads(found[1])
    assert article["@type"] == "NewsArticle" and article["workTranslation"]
    assert 'property="og:image"' in html and "summary_large_image" in html
    assert "###" in html and "Text NEWS to 12345" in html
    assert (
        'href="/en/releases/city-digital-services-plain-language/city-digital-services-plain-language-en.pdf"'
        in html
    )


@pytest.mark.parametrize("patch_units", [builder.PATCH_UNITS, 0], ids=["patched", "swapped"])
def test_successive_incremental_builds_equal_a_fresh_build(
    tmp_path: Path, sample_root: Path, monkeypatch: pytest.MonkeyPatch, patch_units: int
) -> None:
    """Patched in or swapped in, the live tree must hold exactly what a clean build gives."""
    monkeypatch.setattr(builder, "PATCH_UNITS", patch_units)
    labor = next(sample_root.glob(f"releases/*/*-{LABOR}/en.md"))
    nyx_es = next(sample_root.glob(f"releases/*/*-{NYX}/es.md"))
    build(sample_root, SAMPLE_NOW)
    labor.write_text(labor.read_text().replace("Marisol Ortega", "Marisol Ortega-Diaz"), encoding="utf-8")
    build(sample_root, SAMPLE_NOW)
    nyx_es.unlink()
    build(sample_root, AFTER_EMBARGO)
    labor.write_text(labor.read_text().replace("Ortega-Diaz", "Ortega"), encoding="utf-8")
    build(sample_root, AFTER_EMBARGO)

    fresh = tmp_path / "fresh"
    shutil.copytree(sample_root, fresh, ignore=shutil.ignore_patterns("site", ".site-builds"))
    build(fresh, AFTER_EMBARGO)
    assert tree(sample_root / "site") == tree(fresh / "site")


def _extra_render(text: str) -> list[Artifact]:
    return [Artifact("extra/note.txt", text.encode())]


def _extra_units(published: Published) -> list[Unit]:
    """What the feeds and PDF providers look like to the builder: more units, one of them heavy."""
    return [
        Unit("test:note", "1", _extra_render, ("light",)),
        Unit("test:heavy", "1", lambda: [Artifact("extra/heavy.pdf", b"%PDF-1.7")], heavy=True),
    ]


def test_other_outputs_plug_in_as_units_and_heavy_ones_go_to_their_renderer(sample_root: Path) -> None:
    settings = load_settings(sample_root, environ={})
    published = gate(load_newsroom(settings), SAMPLE_NOW)
    sent: list[str] = []

    def heavy_renderer(units: list[Unit]) -> dict[str, list[Artifact]]:
        sent.extend(unit.name for unit in units)
        return {unit.name: unit.render(*unit.args) for unit in units}

    build_site(settings, published, [site_units, _extra_units], heavy_renderer)  # type: ignore[arg-type]

    assert sent == ["test:heavy"]
    assert (sample_root / "site/extra/note.txt").read_text() == "light"
    assert (sample_root / "site/extra/heavy.pdf").read_bytes() == b"%PDF-1.7"
    report = build_site(settings, published, [site_units, _extra_units], heavy_renderer)  # type: ignore[arg-type]
    assert not report.changed and sent == ["test:heavy"]
    build_site(settings, published, [site_units])
    assert not (sample_root / "site/extra").exists()  # the units are gone, so are their files


def test_attachments_are_copied_and_linked_in_every_language(sample_root: Path) -> None:
    folder = next(sample_root.glob("releases/*/*-city-digital-services-plain-language"))
    (folder / "principles.pdf").write_bytes(b"%PDF-1.4 principles")
    original = folder / "en.md"
    original.write_text(
        original.read_text().replace(
            "images:\n",
            "attachments:\n  - src: principles.pdf\n    title: The four principles (PDF)\nimages:\n",
            1,
        ),
        encoding="utf-8",
    )
    build(sample_root, SAMPLE_NOW)
    media = "/media/city-digital-services-plain-language/principles.pdf"
    assert (sample_root / "site" / media.lstrip("/")).read_bytes() == b"%PDF-1.4 principles"
    assert f'<a href="{media}">The four principles (PDF)</a>' in page(
        sample_root, "/en/releases/city-digital-services-plain-language/"
    )
    arabic = page(sample_root, "/ar/releases/city-digital-services-plain-language/")
    assert f'<a href="{media}" lang="en" dir="ltr">The four principles (PDF)</a>' in arabic


# --- many units: rendered by this process and forked children together ----------------------------

MANY = 3 * builder.POOL_THRESHOLD


def _slow_note(number: int) -> list[Artifact]:
    time.sleep(0.002)  # long enough that every process gets chunks to render
    return [Artifact(f"notes/{number}.txt", f"note {number} by {os.getpid()}".encode())]


def _note_units(render: Callable[[int], list[Artifact]]) -> list[Unit]:
    return [Unit(f"test:note:{number}", "k", render, (number,)) for number in range(MANY)]


def _written(public: Path) -> dict[str, str]:
    return {path.name: path.read_text() for path in (public / "notes").iterdir()}


def test_many_units_are_shared_by_every_core_and_each_reports_its_files(tmp_path: Path) -> None:
    made = builder.render_units(_note_units(_slow_note), builder.Output(tmp_path, {}))

    written = _written(tmp_path)
    assert sorted(written) == sorted(f"{number}.txt" for number in range(MANY))
    assert made == {
        f"test:note:{number}": {
            f"notes/{number}.txt": builder._sha((tmp_path / f"notes/{number}.txt").read_bytes())
        }
        for number in range(MANY)
    }
    writers = {text.rsplit(" ", 1)[1] for text in written.values()}
    assert str(os.getpid()) in writers and len(writers) == min(os.cpu_count() or 1, MAX_PROCESSES)


def test_what_a_failed_child_took_is_rendered_by_this_process(tmp_path: Path) -> None:
    parent = os.getpid()

    def dies_in_a_child(number: int) -> list[Artifact]:
        if os.getpid() != parent and number % 7 == 3:
            raise MemoryError  # whatever goes wrong in a child, this process only sees it fail
        return _slow_note(number)

    made = builder.render_units(_note_units(dies_in_a_child), builder.Output(tmp_path, {}))

    written = _written(tmp_path)
    assert len(made) == MANY and len(written) == MANY
    redone = [written[f"{number}.txt"] for number in range(MANY) if number % 7 == 3]
    assert any(text.endswith(f"by {parent}") for text in redone)


def test_a_unit_failing_among_many_names_itself_and_stops_the_children(tmp_path: Path) -> None:
    parent = os.getpid()

    def fails_here_halfway(number: int) -> list[Artifact]:
        if os.getpid() == parent and number >= MANY // 2:
            raise RenderError("the template broke")
        return _slow_note(number)

    with pytest.raises(RenderError, match=r"test:note:\d+: the template broke"):
        builder.render_units(_note_units(fails_here_halfway), builder.Output(tmp_path, {}))
    written = len(_written(tmp_path))
    time.sleep(0.1)
    assert len(_written(tmp_path)) == written  # nothing writes on after the failure was raised


def test_a_chunk_of_units_never_splits_a_group() -> None:
    """A language's feeds (one group) are rendered by one process: they share their entries."""
    units = [
        Unit(f"test:{n}", "k", _slow_note, (n,), group="feeds:en" if 60 <= n < 75 else "") for n in range(300)
    ]
    chunks = builder._chunks(list(range(300)), units)
    assert sorted(index for chunk in chunks for index in chunk) == list(range(300))
    holding = [chunk for chunk in chunks if any(60 <= index < 75 for index in chunk)]
    assert len(holding) == 1 and set(range(60, 75)) <= set(holding[0])
    assert max(len(chunk) for chunk in chunks) < 64 + 15
