"""`newsroom build` on the command line: a summary on success, one clear message on bad input."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from newsroom.cli import app

NOW = "2024-12-20 09:00 America/New_York"


def test_build_command_builds_then_reports_nothing_changed(sample_root: Path) -> None:
    runner = CliRunner()
    first = runner.invoke(app, ["build", "--root", str(sample_root), "--now", NOW])
    assert first.exit_code == 0, first.output
    assert "units rendered" in first.output
    assert (sample_root / "site/ru/index.html").is_file()
    second = runner.invoke(app, ["build", "--root", str(sample_root), "--now", NOW])
    assert second.exit_code == 0 and "nothing changed" in second.output


def test_build_command_names_the_broken_file_and_exits_non_zero(sample_root: Path) -> None:
    original = next(sample_root.glob("releases/*/*-labor-statement-winter-jobs/en.md"))
    original.write_text(original.read_text().replace("office: labor", "office: nowhere"), encoding="utf-8")
    result = CliRunner().invoke(app, ["build", "--root", str(sample_root), "--now", NOW])
    assert result.exit_code == 1
    message = result.output + str(result.exception or "")
    assert "labor-statement-winter-jobs/en.md:6:" in message and "unknown office 'nowhere'" in message
    assert not (sample_root / "site").exists()


def test_a_preview_build_without_pdfs_then_a_full_build_adds_them(sample_root: Path) -> None:
    runner = CliRunner()
    quick = runner.invoke(app, ["build", "--no-pdf", "--root", str(sample_root), "--now", NOW])
    assert quick.exit_code == 0, quick.output
    site = sample_root / "site"
    assert (site / "ru/releases/new-york-experience/index.html").is_file()
    assert list(site.rglob("*.pdf")) == []
    full = runner.invoke(app, ["build", "--root", str(sample_root), "--now", NOW])
    assert full.exit_code == 0, full.output
    assert (site / "ru/releases/new-york-experience/new-york-experience-ru.pdf").is_file()


def test_the_real_command_prints_its_summary_through_a_pipe_and_exits_cleanly(sample_root: Path) -> None:
    """`python -m newsroom build` ends a successful build without tearing down its heap (os._exit):
    what it printed must still arrive through a pipe, and a refused build still exits 1."""
    root = str(sample_root)
    command = [sys.executable, "-m", "newsroom", "build", "--no-pdf", "--root", root, "--now", NOW]
    built = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert built.returncode == 0, built.stderr
    assert built.stdout.startswith("site: ") and "units rendered" in built.stdout
    original = next(sample_root.glob("releases/*/*-labor-statement-winter-jobs/en.md"))
    original.write_text(original.read_text().replace("office: labor", "office: nowhere"), encoding="utf-8")
    refused = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert refused.returncode == 1
    assert "unknown office 'nowhere'" in refused.stderr
