"""The CLI as a press secretary uses it: status, new, publish."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from newsroom.cli import app

runner = CliRunner()
NOW = "2024-12-20 09:00 America/New_York"


def invoke(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output + (result.stderr or "")
    return result.output


def test_status_tells_what_goes_out_when(sample_root: Path) -> None:
    rows = json.loads(invoke("status", "--root", str(sample_root), "--now", NOW, "--format", "json"))
    by_slug = {row["slug"]: row for row in rows["releases"]}
    assert by_slug["future-embargoed-announcement"]["state"] == "scheduled"
    assert by_slug["future-embargoed-announcement"]["release_time"] == "2030-06-01T10:00:00-04:00"
    assert by_slug["draft-broadband-plan"]["state"] == "draft"
    assert by_slug["withdrawn-bridge-closure"]["state"] == "withdrawn"
    assert by_slug["new-york-experience"]["state"] == "public"
    assert by_slug["new-york-experience"]["languages"] == ["en", "es", "ru"]
    assert by_slug["new-york-experience"]["missing"] == ["zh", "ar", "ht"]
    assert by_slug["dmv-office-hours-media-advisory"]["stale"] == ["es"]


def test_status_table_shows_the_scheduled_release_in_the_site_zone(sample_root: Path) -> None:
    output = invoke("status", "--root", str(sample_root), "--now", NOW)
    line = next(line for line in output.splitlines() if "future-embargoed-announcement" in line)
    assert "scheduled" in line
    assert "2030-06-01 10:00 EDT" in line


def test_now_before_a_release_shows_it_scheduled(sample_root: Path) -> None:
    before = "2024-11-25 09:59 America/New_York"
    rows = json.loads(invoke("status", "--root", str(sample_root), "--now", before, "--format", "json"))
    state = {row["slug"]: row["state"] for row in rows["releases"]}
    assert state["new-york-experience"] == "scheduled"


def test_new_scaffolds_a_draft_that_checks_cleanly_once_filled_in(sample_root: Path) -> None:
    invoke("new", "snow-plan", "--title", "Winter storm plan", "--office", "dmv", "--topic", "transportation",
           "--translate", "ru", "--release", "2025-01-10 10:00", "--root", str(sample_root))  # fmt: skip
    folder = sample_root / "releases" / "2025" / "2025-01-10-snow-plan"
    assert sorted(p.name for p in folder.iterdir()) == ["en.md", "ru.md"]
    check = json.loads(invoke("check", "--root", str(sample_root), "--format", "json"))
    assert check["errors"] == 0
    todo = [d for d in check["diagnostics"] if "snow-plan" in d["path"] and "TODO" in d["message"]]
    assert len(todo) == 2  # the original and the translation still say TODO

    original = folder / "en.md"
    filled_in = {
        "TODO: one or two": "One or two",
        "status: draft": "status: published",
        "TODO: the first paragraph": "The first paragraph",
        'TODO: a quote," said TODO': 'We are ready," said the commissioner',
    }
    text = original.read_text()
    for placeholder, real in filled_in.items():
        text = text.replace(placeholder, real)
    original.write_text(text)
    (folder / "ru.md").unlink()
    check = json.loads(invoke("check", "--root", str(sample_root), "--format", "json"))
    assert [d for d in check["diagnostics"] if "snow-plan" in d["path"]] == []


def test_new_refuses_unknown_office_with_the_fix(sample_root: Path) -> None:
    result = runner.invoke(app, ["new", "x", "--office", "mayor", "--root", str(sample_root)])
    assert result.exit_code == 1
    assert "office 'mayor' is unknown (fix: one of governor" in result.stderr


def test_publish_refuses_invalid_releases_and_names_them(sample_root: Path) -> None:
    bad = sample_root / "releases" / "2024" / "2024-12-19-bad" / "en.md"
    bad.parent.mkdir()
    bad.write_text("---\ntitle: Bad\n---\n")
    result = runner.invoke(app, ["publish", "--root", str(sample_root), "--now", NOW])
    assert result.exit_code == 1
    assert "releases/2024/2024-12-19-bad/en.md:1: error: kind: required field is missing" in result.stderr
    assert "nothing was published" in result.stderr


def test_publish_twice_does_no_new_work_the_second_time(sample_root: Path) -> None:
    first = invoke("publish", "--root", str(sample_root), "--now", NOW)
    second = invoke("publish", "--root", str(sample_root), "--now", NOW)
    assert "gate: 5 public, 1 withdrawn" in first
    assert second == first or "0 rendered" in second


def test_bad_now_is_a_clear_error(sample_root: Path) -> None:
    result = runner.invoke(app, ["status", "--root", str(sample_root), "--now", "tomorrow"])
    assert result.exit_code == 1
    assert "--now / NEWSROOM_NOW" in result.stderr


def test_missing_newsroom_toml_says_where_to_run(tmp_path: Path) -> None:
    result = runner.invoke(app, ["check", "--root", str(tmp_path)])
    assert result.exit_code == 1
    assert "no newsroom.toml" in result.stderr
