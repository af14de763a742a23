"""Helpers for the site tests: build a sample newsroom at a moment, read the built tree."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

from newsroom.config import load_settings
from newsroom.render.builder import BuildReport, build_at


def build(root: Path, now: datetime) -> BuildReport:
    return build_at(load_settings(root, environ={}), now)


def tree(site: Path) -> dict[str, bytes]:
    """Every file under site/ (through the symlink) by relative path."""
    site = site.resolve()
    return {str(p.relative_to(site)): p.read_bytes() for p in sorted(site.rglob("*")) if p.is_file()}


def stamps(site: Path) -> dict[str, tuple[int, int]]:
    """(inode, mtime_ns) of every file: unchanged when a file was not written again."""
    site = site.resolve()
    result = {}
    for path in sorted(site.rglob("*")):
        if path.is_file():
            info = os.stat(path)
            result[str(path.relative_to(site))] = (info.st_ino, info.st_mtime_ns)
    return result


def page(root: Path, url: str) -> str:
    return (root / "site" / url.lstrip("/") / "index.html").read_text(encoding="utf-8")
