"""`newsroom check` on broken release files: the right message on the right line, all at once."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from newsroom.cli import app
from newsroom.config import load_settings
from newsroom.content.loader import load_newsroom
from newsroom.diagnostics import Severity

BROKEN = Path(__file__).parent / "fixtures" / "broken"
runner = CliRunner()

# (folder, file, line, severity, words in the message, words in the fix)
EXPECTED = [
    ("malformed-yaml", "en.md", 5, "error", "malformed YAML", "close the list"),
    ("missing-fence", "en.md", 1, "error", "missing front matter", "'---' as line 1"),
    ("unknown-field", "en.md", 1, "error", "title: required field is missing", "add `title:`"),
    ("unknown-field", "en.md", 2, "error", "tittle: unknown field", "did you mean `title`"),
    ("wrong-type", "en.md", 6, "error", "topics: wrong type", "release-format"),
    ("no-time-zone", "en.md", 4, "error", "has no time zone", "America/New_York"),
    ("unknown-topic", "en.md", 6, "error", "unknown topic 'helth-care'", "did you mean 'health'"),
    ("unknown-office", "en.md", 5, "error", "unknown office 'governer'", "did you mean 'governor'"),
    ("2024-03-09-good-release", "en.md", 1, "error", "duplicate slug 'good-release'", "rename the folder"),
    ("orphan-translation", "ru.md", 2, "error", "translation whose original is missing", "add the original"),
    ("bad-contacts", "en.md", 10, "error", "contacts.0.email: invalid email", "release-format"),
    ("bad-contacts", "en.md", 12, "error", "contacts.1.phone: invalid phone number", "release-format"),
    ("image-without-alt", "en.md", 10, "error", "image without alt text", "describe what the image"),
    ("missing-asset", "en.md", 9, "error", "missing referenced asset 'report.pdf'", "add report.pdf"),
    ("not-utf8", "en.md", 8, "error", "not UTF-8", "save the file as UTF-8"),
    ("empty-file", "en.md", 1, "error", "file is empty", "front matter"),
    ("editorial-warnings", "en.md", 1, "warning", "missing summary", "summary:"),
    ("editorial-warnings", "en.md", 2, "warning", "headline is 123 characters", "shorten"),
    ("editorial-warnings", "en.md", 7, "warning", "SMS alert needs 3 GSM-7 segments", "shorten `sms:`"),
    ("editorial-warnings", "en.md", 11, "warning", "raw HTML in the body", "Markdown"),
    ("editorial-warnings", "es.md", 2, "warning", "stale translation", "revision: "),
    ("dateline-twice", "en.md", 11, "warning", "body starts with the dateline", "remove 'ALBANY, N.Y.'"),
]


@pytest.fixture(scope="module")
def broken_diagnostics() -> list[dict[str, object]]:
    result = runner.invoke(app, ["check", "--root", str(BROKEN), "--format", "json"])
    assert result.exit_code == 1, result.output
    return list(json.loads(result.output)["diagnostics"])


@pytest.mark.parametrize(("folder", "file", "line", "severity", "message", "hint"), EXPECTED)
def test_each_problem_is_reported_on_its_line(
    broken_diagnostics: list[dict[str, object]],
    folder: str,
    file: str,
    line: int,
    severity: str,
    message: str,
    hint: str,
) -> None:
    matches = [
        d
        for d in broken_diagnostics
        if folder in str(d["path"]) and str(d["path"]).endswith(file) and message in str(d["message"])
    ]
    assert matches, f"no diagnostic for {folder}/{file} containing {message!r}"
    assert matches[0]["line"] == line
    assert matches[0]["severity"] == severity
    assert hint in str(matches[0]["hint"])


def test_every_problem_is_accounted_for(broken_diagnostics: list[dict[str, object]]) -> None:
    """Nothing unexpected, nothing missing: one report lists all files' problems."""
    assert len(broken_diagnostics) == len(EXPECTED)


def test_text_output_is_path_line_message_and_exit_1() -> None:
    result = runner.invoke(app, ["check", "--root", str(BROKEN)])
    assert result.exit_code == 1
    assert (
        "releases/2024/2024-03-06-no-time-zone/en.md:4: error: release: time '2024-03-06 10:00' "
        "has no time zone" in result.output
    )
    assert "16 error(s), 6 warning(s)" in result.output


def test_the_good_release_still_loads_beside_the_broken_ones() -> None:
    newsroom = load_newsroom(load_settings(BROKEN, environ={}))
    slugs = {release.slug for release in newsroom.releases}
    assert "editorial-warnings" in slugs
    assert "good-release" in slugs
    assert "dateline-once" in slugs  # and no warning for it: see EXPECTED
    assert "unknown-topic" not in slugs


def test_strict_turns_warnings_into_errors(tmp_path: Path) -> None:
    root = tmp_path / "newsroom"
    shutil.copytree(BROKEN, root)
    for folder in (root / "releases" / "2024").iterdir():
        if "editorial-warnings" not in folder.name:
            shutil.rmtree(folder)
    assert runner.invoke(app, ["check", "--root", str(root)]).exit_code == 0
    strict = runner.invoke(app, ["check", "--root", str(root), "--strict"])
    assert strict.exit_code == 1
    assert "en.md:1: error: missing summary" in strict.output


def test_samples_have_no_errors_and_one_stale_translation() -> None:
    root = Path(__file__).resolve().parents[1]
    newsroom = load_newsroom(load_settings(root, environ={}))
    problems = [d for d in newsroom.diagnostics if d.severity is Severity.ERROR]
    assert problems == []
    assert len(newsroom.releases) >= 8
    stale = [d for d in newsroom.diagnostics if "stale translation" in d.message]
    assert len(stale) == 1
    result = runner.invoke(app, ["check", "--root", str(root)])
    assert result.exit_code == 0, result.output


def test_broken_settings_are_reported_with_their_line(tmp_path: Path) -> None:
    root = tmp_path / "newsroom"
    shutil.copytree(BROKEN, root)
    toml = (root / "newsroom.toml").read_text()
    (root / "newsroom.toml").write_text(
        toml.replace('time_zone = "America/New_York"', 'time_zone = "Mars/Olympus"')
    )
    result = runner.invoke(app, ["check", "--root", str(root)])
    assert result.exit_code == 1
    assert "newsroom.toml:8: error: site.time_zone: unknown time zone 'Mars/Olympus'" in result.output


def test_a_translation_is_checked_even_when_its_original_is_broken(tmp_path: Path) -> None:
    root = tmp_path / "newsroom"
    shutil.copytree(BROKEN, root)
    folder = root / "releases" / "2024" / "2024-03-06-no-time-zone"
    (folder / "ru.md").write_text("---\nrevision: abc\ntitle: Перевод\nfoo: 1\n---\nТекст.\n")
    result = runner.invoke(app, ["check", "--root", str(root)])
    assert "2024-03-06-no-time-zone/en.md:4: error: release:" in result.output
    assert "2024-03-06-no-time-zone/ru.md:2: error: revision: must be 12 hex digits" in result.output
    assert "2024-03-06-no-time-zone/ru.md:4: error: foo: unknown field" in result.output


def test_the_folder_cache_rereads_only_changed_folders(sample_root: Path) -> None:
    from newsroom.content import loader

    settings = load_settings(sample_root, environ={})
    cache = sample_root / "var" / "cache" / "releases.pickle"
    first = load_newsroom(settings, cache=cache)
    reads: list[Path] = []
    original_read = loader._read_document

    def counting_read(path: Path, report: object) -> object:
        reads.append(path)
        return original_read(path, report)  # type: ignore[arg-type]

    loader._read_document = counting_read  # type: ignore[assignment]
    try:
        again = load_newsroom(settings, cache=cache)
        assert reads == []
        assert again.diagnostics == first.diagnostics
        assert [r.revision for r in again.releases] == [r.revision for r in first.releases]
        edited = sample_root / "releases" / "2024" / "2024-12-10-labor-statement-winter-jobs" / "en.md"
        edited.write_text(edited.read_text().replace("summary:", "summary: Updated.", 1))
        changed = load_newsroom(settings, cache=cache)
        assert reads == [edited]
        assert changed.by_slug("labor-statement-winter-jobs").meta.summary.startswith("Updated.")
    finally:
        loader._read_document = original_read  # type: ignore[assignment]
