"""The benchmark corpus is a valid newsroom, and the same releases are in the Pelican and Hugo trees."""

from __future__ import annotations

import hashlib
import sys
from collections import Counter
from pathlib import Path

import pytest

from bench.corpus import NOW, Corpus, write_corpus
from bench.measure import median_of, run_measured
from bench.site_bench import count_pages
from newsroom.config import load_settings
from newsroom.content.loader import load_newsroom
from newsroom.diagnostics import Severity

COUNT = 200


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    return write_corpus(COUNT, tmp_path_factory.mktemp("bench") / "corpus")


def _tree_digest(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def test_the_corpus_loads_with_no_errors_or_warnings(corpus: Corpus) -> None:
    newsroom = load_newsroom(load_settings(corpus.newsroom, environ={}))
    problems = [d.format() for d in newsroom.diagnostics]
    assert problems == []
    assert len(newsroom.releases) == COUNT
    assert not any(d.severity is Severity.ERROR for d in newsroom.diagnostics)
    assert all(not release.stale_translations() for release in newsroom.releases)


def test_about_thirty_percent_carry_two_translations(corpus: Corpus) -> None:
    newsroom = load_newsroom(load_settings(corpus.newsroom, environ={}))
    translation_counts = Counter(len(release.translations) for release in newsroom.releases)
    assert set(translation_counts) == {0, 2}
    assert 0.2 * COUNT <= translation_counts[2] <= 0.4 * COUNT
    languages = Counter(code for release in newsroom.releases for code in release.translations)
    assert set(languages) == {"es", "ru", "zh", "ar", "ht"}


def test_releases_spread_over_years_offices_topics_and_kinds(corpus: Corpus) -> None:
    newsroom = load_newsroom(load_settings(corpus.newsroom, environ={}))
    years = {release.release_time.year for release in newsroom.releases if release.release_time <= NOW}
    assert len(years) >= 10
    assert {release.meta.kind for release in newsroom.releases} == {
        "press-release", "media-advisory", "statement",
    }  # fmt: skip
    settings = newsroom.settings
    assert {release.meta.office for release in newsroom.releases} == set(settings.offices)
    assert {topic for release in newsroom.releases for topic in release.meta.topics} == set(settings.topics)


def test_bodies_are_release_length_with_headings_lists_and_quotes(corpus: Corpus) -> None:
    newsroom = load_newsroom(load_settings(corpus.newsroom, environ={}))
    for release in newsroom.releases:
        assert 300 <= len(release.body.split()) <= 700, release.slug
        assert "\n## " in release.body and "\n- **" in release.body and "\n> " in release.body
    arabic = next(r for r in newsroom.releases if "ar" in r.translations)
    assert "الولاية" in arabic.translations["ar"].body or "الخدمات" in arabic.translations["ar"].body


def test_the_same_seed_writes_byte_identical_trees(corpus: Corpus, tmp_path: Path) -> None:
    again = write_corpus(COUNT, tmp_path / "again")
    for mine, theirs in ((corpus.newsroom, again.newsroom), (corpus.pelican, again.pelican)):
        assert _tree_digest(mine) == _tree_digest(theirs)
    assert _tree_digest(corpus.hugo) == _tree_digest(again.hugo)
    other_seed = write_corpus(COUNT, tmp_path / "other", seed=7)
    assert _tree_digest(other_seed.newsroom) != _tree_digest(corpus.newsroom)


def test_pelican_and_hugo_trees_hold_the_same_articles_and_translations(corpus: Corpus) -> None:
    pelican_files = sorted((corpus.pelican / "content").rglob("*.md"))
    hugo_files = sorted((corpus.hugo / "content" / "releases").rglob("*.md"))
    assert len(pelican_files) == len(hugo_files) == corpus.markdown_files
    release = next(r for r in corpus.releases if len(r.texts) == 3)
    for language, text in release.texts.items():
        pelican = (
            corpus.pelican / "content" / f"{release.time:%Y}" / f"{release.slug}.{language}.md"
        ).read_text()
        assert f"Slug: {release.slug}\n" in pelican and f"Lang: {language}\n" in pelican
        assert f"Title: {text.title}\n" in pelican
        assert ("Translation: true" in pelican) == (language != "en")
        hugo = (corpus.hugo / "content" / "releases" / release.slug / f"index.{language}.md").read_text()
        assert text.title in hugo


def test_page_count_leaves_out_redirect_stubs(tmp_path: Path) -> None:
    (tmp_path / "en" / "page" / "1").mkdir(parents=True)
    (tmp_path / "en" / "index.html").write_text("<!DOCTYPE html><title>Home</title>" + "x" * 2000)
    (tmp_path / "en" / "page" / "1" / "index.html").write_text(
        '<!DOCTYPE html><html><head><meta http-equiv="refresh" content="0; url=/en/"></head></html>'
    )
    (tmp_path / "r" / "abcdefgh").mkdir(parents=True)  # an SMS short link with a long headline
    (tmp_path / "r" / "abcdefgh" / "index.html").write_text(
        '<!DOCTYPE html><html><head><meta http-equiv="refresh" content="0; url=/en/">'
        f"<title>{'Long headline ' * 100}</title></head></html>"
    )
    (tmp_path / "en" / "feed.xml").write_text("<rss/>")
    assert count_pages(tmp_path) == 1


def test_a_measured_command_reports_its_cpu_time_memory_and_exit_code(tmp_path: Path) -> None:
    busy = "bytearray(64 * 1024 * 1024); sum(range(3_000_000))"
    runs = [run_measured([sys.executable, "-c", busy], tmp_path, tmp_path / "log") for _ in range(3)]
    summary = median_of(runs)
    assert summary.ok and summary.cpu_seconds > 0
    assert summary.peak_bytes >= 64 * 1024 * 1024
    failed = run_measured([sys.executable, "-c", "raise SystemExit(3)"], tmp_path, tmp_path / "log")
    assert median_of([*runs, failed]).returncode == 3
    # unsampled (a timed run): the largest process's max RSS still shows the 64 MiB
    unsampled = run_measured([sys.executable, "-c", busy], tmp_path, tmp_path / "log", sample_memory=False)
    assert unsampled.ok and unsampled.peak_bytes >= 64 * 1024 * 1024
