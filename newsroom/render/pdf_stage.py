"""The `pdf` publish stage: render only the PDFs whose inputs changed, in parallel, and write them.

A stand-in until the static-output builder drives every unit provider: it keeps its own cache
(unit name -> key and file) in `var/pdf-cache.json`, renders missing or changed units on the
`PdfPool`, writes files only when their bytes differ, and deletes PDFs of releases that are no
longer public (withdrawn, or moved back under embargo by a corrected release time).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from newsroom.gate import Published
from newsroom.render.base import Unit
from newsroom.render.pdf import pdf_units
from newsroom.render.pdf_pool import PdfPool, render_units

if TYPE_CHECKING:
    from newsroom.build import Run

CACHE_VERSION = 1


@dataclass(frozen=True)
class PdfReport:
    rendered: int  # PDFs rendered in this run
    reused: int  # PDFs whose key matched the cache and whose file was in place
    removed: int  # PDFs deleted because their release is no longer public

    def summary(self) -> str:
        return f"{self.rendered} rendered, {self.reused} unchanged, {self.removed} removed"


def render_pdfs(
    published: Published, out_dir: Path, cache_path: Path, pool: PdfPool | None = None
) -> PdfReport:
    """Bring every public PDF under `out_dir` up to date; a second identical run renders nothing."""
    cache = _read_cache(cache_path)
    units = list(pdf_units(published))
    stale = [unit for unit in units if not _is_fresh(unit, cache, out_dir)]
    results = render_units(stale, pool)
    entries = {name: entry for name, entry in cache.items() if name in {u.name for u in units}}
    for unit in stale:
        paths = []
        for artifact in results[unit.name]:
            _write_if_changed(out_dir / artifact.path, artifact.data)
            paths.append(artifact.path)
        entries[unit.name] = {"key": unit.key, "paths": paths}
    removed = _remove_gone(cache, entries, out_dir)
    _write_cache(cache_path, entries)
    return PdfReport(rendered=len(stale), reused=len(units) - len(stale), removed=removed)


def pdf_stage(run: Run) -> str:
    """The publish stage: PDFs into the site folder, cache under var/."""
    report = render_pdfs(run.published, run.settings.site_dir, run.settings.var_dir / "pdf-cache.json")
    return report.summary()


def _is_fresh(unit: Unit, cache: dict[str, dict[str, object]], out_dir: Path) -> bool:
    entry = cache.get(unit.name)
    if entry is None or entry.get("key") != unit.key:
        return False
    paths = entry.get("paths")
    return isinstance(paths, list) and all((out_dir / str(path)).is_file() for path in paths)


def _remove_gone(old: dict[str, dict[str, object]], kept: dict[str, dict[str, object]], out_dir: Path) -> int:
    keep = {str(path) for entry in kept.values() for path in _paths(entry)}
    removed = 0
    for name, entry in old.items():
        if name in kept:
            continue
        for path in _paths(entry):
            if path not in keep and (out_dir / path).is_file():
                (out_dir / path).unlink()
                removed += 1
    return removed


def _paths(entry: dict[str, object]) -> list[str]:
    paths = entry.get("paths")
    return [str(path) for path in paths] if isinstance(paths, list) else []


def _read_cache(path: Path) -> dict[str, dict[str, object]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (json.JSONDecodeError, UnicodeDecodeError):
        return {}  # a damaged cache only costs a full re-render
    if not isinstance(data, dict) or data.get("version") != CACHE_VERSION:
        return {}
    units = data.get("units")
    return units if isinstance(units, dict) else {}


def _write_cache(path: Path, entries: dict[str, dict[str, object]]) -> None:
    data = {"version": CACHE_VERSION, "units": dict(sorted(entries.items()))}
    _write_if_changed(path, json.dumps(data, indent=1, ensure_ascii=False).encode("utf-8"))


def _write_if_changed(path: Path, data: bytes) -> None:
    """Atomic write, skipped when the bytes are already there (untouched files keep their mtime)."""
    try:
        if path.read_bytes() == data:
            return
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)
