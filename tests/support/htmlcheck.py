"""HTML validation with the Nu Html Checker (vnu.jar from npm's vnu-jar).

    from tests.support.htmlcheck import validate_html
    errors = validate_html(sorted(site.rglob("*.html")))
    assert errors == [], "\n".join(errors)

vnu refuses loopback URLs ("Forbidden host"), so it checks files.  One JVM start
(~1 s) checks many files: the paths are passed in batches on one command line.
Needs Java (Debian's default-jre-headless) and node_modules (scripts/setup-node.sh).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VNU_JAR = ROOT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"

# Files per JVM: keeps the command line far below ARG_MAX for long paths.
BATCH = 500


def java_path() -> str | None:
    return shutil.which("java")


def vnu_available() -> bool:
    return java_path() is not None and VNU_JAR.is_file()


def validate_html(paths: Iterable[Path | str], *, timeout: float = 600) -> list[str]:
    """Validate HTML files; return vnu's error lines (GNU format), [] when all are valid.

    Each line looks like
        "file:/abs/path/page.html":12.5-12.40: error: Element “foo” not allowed ...
    Raises FileNotFoundError for a path that is not a file (vnu itself silently skips
    missing files) and RuntimeError when vnu fails without reporting errors.
    """
    files = [Path(p).resolve() for p in paths]
    for f in files:
        if not f.is_file():
            raise FileNotFoundError(f"not a file: {f}")
    if not files:
        return []
    java = java_path()
    if java is None:
        raise FileNotFoundError("java not found: install default-jre-headless (scripts/setup-debian.sh)")
    if not VNU_JAR.is_file():
        raise FileNotFoundError(f"{VNU_JAR} missing: run scripts/setup-node.sh")

    errors: list[str] = []
    for i in range(0, len(files), BATCH):
        batch = files[i : i + BATCH]
        proc = subprocess.run(
            [
                java,
                "-Xss4m",
                "-jar",
                str(VNU_JAR),
                "--errors-only",
                "--no-langdetect",
                "--format",
                "gnu",
                "--stdout",
                *(str(f) for f in batch),
            ],
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            timeout=timeout,
            env={**os.environ, "LC_ALL": "C.UTF-8"},
        )
        lines = [line for line in proc.stdout.splitlines() if line.strip()]
        if proc.returncode not in (0, 1) or (proc.returncode == 1 and not lines):
            raise RuntimeError(
                f"vnu failed (exit {proc.returncode}) on {len(batch)} file(s):\n"
                f"{proc.stderr.strip()}\n{proc.stdout.strip()}"
            )
        errors.extend(lines)
    return errors
