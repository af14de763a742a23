"""The static-output builder: renders `Unit`s into a new tree beside the live `site/` and swaps it in.

Layout on disk (all under the newsroom root):

    site -> .site-builds/<build id>/public      a symlink: what the web server serves
    .site-builds/<build id>/manifest.json       unit name -> key -> {path: sha256} of that build

A build is
1. Incremental: a unit whose key equals the live manifest's is not rendered; its files are hard
   links to the live build's (same inode, same mtime). A rendered file whose bytes did not change is
   linked too, so untouched files keep their timestamps.
2. Atomic: the new tree is complete before `site` is switched to it with one `os.replace` of a
   symlink. Any failure removes the half-built tree and leaves the live one byte-for-byte intact.
3. Idle when nothing changed: same units and keys => nothing is written at all.
4. Parallel: units render in a pool of forked processes (one per core); only an index goes to a
   worker and only the artifacts come back.
The build id is a hash of the new manifest, so the same inputs give the same directory name.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import shutil
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath

from newsroom.config import Settings
from newsroom.errors import ContentError, RenderError
from newsroom.gate import Published, gate
from newsroom.render.base import Artifact, Unit, UnitProvider

BUILDS_DIR = ".site-builds"
PUBLIC = "public"
MANIFEST = "manifest.json"
# Below this many units to render, forking a pool costs more than it saves.
POOL_THRESHOLD = 16

Manifest = dict[str, dict[str, object]]  # unit name -> {"key": str, "files": {path: sha256}}


@dataclass
class BuildReport:
    rendered: list[str]  # names of units rendered in this build
    reused: int  # units whose key was unchanged
    written: int  # files written with new bytes
    removed: int  # files of the previous build that are gone
    changed: bool  # False when nothing at all was written
    path: Path  # the live tree

    def summary(self) -> str:
        if not self.changed:
            return f"nothing changed ({self.reused} units reused)"
        return (
            f"{len(self.rendered)} units rendered, {self.reused} reused; "
            f"{self.written} files written, {self.removed} removed"
        )


def unit_providers() -> list[UnitProvider]:
    """Everything that goes into site/, in order. Other outputs (feeds, PDFs) append their provider."""
    from newsroom.render.site import site_units

    return [site_units]


def build_site(
    settings: Settings, published: Published, providers: Sequence[UnitProvider] | None = None
) -> BuildReport:
    """Render what changed since the live build and swap the result in; see the module docstring."""
    units = collect_units(published, unit_providers() if providers is None else providers)
    builds = settings.root / BUILDS_DIR
    live_dir = _live_build(settings.site_dir)
    previous = _read_manifest(live_dir)
    stale = [unit for unit in units if not _reusable(unit, previous.get(unit.name), live_dir)]
    if not stale and set(previous) == {unit.name for unit in units}:
        return BuildReport([], len(units), 0, 0, False, settings.site_dir)
    rendered = render_units(stale)
    manifest = _new_manifest(units, rendered, previous)
    build_id = hashlib.sha256(_manifest_bytes(manifest)).hexdigest()[:16]
    target = builds / build_id
    if live_dir is not None and live_dir.resolve() == target.resolve():
        return BuildReport([u.name for u in stale], len(units) - len(stale), 0, 0, False, settings.site_dir)
    written = _write_tree(target, manifest, rendered, live_dir)
    _swap_in(settings.site_dir, target)
    removed = _count_removed(previous, manifest)
    if live_dir is not None and live_dir.resolve() != target.resolve():
        shutil.rmtree(live_dir, ignore_errors=True)
    return BuildReport(
        [u.name for u in stale], len(units) - len(stale), written, removed, True, settings.site_dir
    )


def collect_units(published: Published, providers: Iterable[UnitProvider]) -> list[Unit]:
    units: list[Unit] = []
    seen: set[str] = set()
    for provider in providers:
        for unit in provider(published):
            if unit.name in seen:
                raise RenderError(f"two units are named {unit.name!r}: unit names must be unique")
            seen.add(unit.name)
            units.append(unit)
    return units


# --- rendering -------------------------------------------------------------------------------------

_PENDING: Sequence[Unit] = ()  # the units a forked worker can see, by index


def render_units(units: Sequence[Unit]) -> dict[str, list[Artifact]]:
    """Render units on every core (heavy ones first, so they do not finish last)."""
    global _PENDING
    order = sorted(range(len(units)), key=lambda i: not units[i].heavy)
    if len(units) < POOL_THRESHOLD or (os.cpu_count() or 1) < 2:
        return {units[i].name: _render_one(units[i]) for i in order}
    _PENDING = units
    try:
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=os.cpu_count(), mp_context=context) as pool:
            results = pool.map(_render_index, order, chunksize=max(1, len(order) // 64))
            return {units[i].name: artifacts for i, artifacts in zip(order, results, strict=True)}
    finally:
        _PENDING = ()


def _render_index(index: int) -> list[Artifact]:
    return _render_one(_PENDING[index])


def _render_one(unit: Unit) -> list[Artifact]:
    try:
        artifacts = list(unit.render(*unit.args))
    except RenderError as exc:
        raise RenderError(f"{unit.name}: {exc}") from exc
    for artifact in artifacts:
        _check_path(unit, artifact.path)
    return artifacts


def _check_path(unit: Unit, path: str) -> None:
    pure = PurePosixPath(path)
    if pure.is_absolute() or ".." in pure.parts or not pure.parts or path.endswith("/"):
        raise RenderError(f"{unit.name}: artifact path {path!r} must be relative, inside the site, a file")


# --- manifests -------------------------------------------------------------------------------------


def _live_build(site_dir: Path) -> Path | None:
    """The build folder `site` points to (None on the first build or when site/ is a plain folder)."""
    if site_dir.is_symlink() and site_dir.resolve().is_dir():
        return site_dir.resolve().parent
    return None


def _read_manifest(build_dir: Path | None) -> Manifest:
    if build_dir is None or not (build_dir / MANIFEST).is_file():
        return {}
    try:
        data = json.loads((build_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # unreadable: rebuild everything
    return data if isinstance(data, dict) else {}


def _reusable(unit: Unit, entry: dict[str, object] | None, live_dir: Path | None) -> bool:
    if entry is None or live_dir is None or entry.get("key") != unit.key:
        return False
    files = entry.get("files")
    return isinstance(files, dict) and all((live_dir / PUBLIC / path).is_file() for path in files)


def _new_manifest(units: list[Unit], rendered: dict[str, list[Artifact]], previous: Manifest) -> Manifest:
    manifest: Manifest = {}
    owners: dict[str, str] = {}
    for unit in units:
        if unit.name in rendered:
            files = {a.path: hashlib.sha256(a.data).hexdigest() for a in rendered[unit.name]}
        else:
            files = dict(previous[unit.name]["files"])  # type: ignore[call-overload]
        for path in files:
            if path in owners:
                raise RenderError(f"units {owners[path]!r} and {unit.name!r} both write {path!r}")
            owners[path] = unit.name
        manifest[unit.name] = {"key": unit.key, "files": dict(sorted(files.items()))}
    return dict(sorted(manifest.items()))


def _manifest_bytes(manifest: Manifest) -> bytes:
    return json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True).encode("utf-8")


def _count_removed(previous: Manifest, manifest: Manifest) -> int:
    def paths(m: Manifest) -> set[str]:
        return {path for entry in m.values() for path in entry["files"]}  # type: ignore[attr-defined]

    return len(paths(previous) - paths(manifest))


# --- writing and swapping --------------------------------------------------------------------------


def _write_tree(
    target: Path, manifest: Manifest, rendered: dict[str, list[Artifact]], live_dir: Path | None
) -> int:
    """Write the complete new tree; unchanged files are hard links into the live build."""
    if target.exists():
        shutil.rmtree(target)  # a leftover of a crashed build with the same id
    scratch = target.with_name(target.name + ".partial")
    shutil.rmtree(scratch, ignore_errors=True)
    written = 0
    old_hashes = _hashes(_read_manifest(live_dir))
    try:
        public = scratch / PUBLIC
        public.mkdir(parents=True)
        fresh = {a.path: a.data for artifacts in rendered.values() for a in artifacts}
        for entry in manifest.values():
            for path, sha in entry["files"].items():  # type: ignore[attr-defined]
                destination = public / path
                destination.parent.mkdir(parents=True, exist_ok=True)
                if live_dir is not None and old_hashes.get(path) == sha:
                    os.link(live_dir / PUBLIC / path, destination)
                else:
                    destination.write_bytes(fresh[path])
                    written += 1
        (scratch / MANIFEST).write_bytes(_manifest_bytes(manifest))
        scratch.rename(target)
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    return written


def _hashes(manifest: Manifest) -> dict[str, str]:
    return {path: sha for entry in manifest.values() for path, sha in entry["files"].items()}  # type: ignore[attr-defined]


def _swap_in(site_dir: Path, target: Path) -> None:
    """Point `site` at the new tree with one atomic rename of a symlink."""
    link = site_dir.with_name(f".{site_dir.name}.link")
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(os.path.relpath(target / PUBLIC, site_dir.parent))
    if site_dir.is_dir() and not site_dir.is_symlink():
        # A plain site/ folder from before: move it aside (the one moment site/ is missing).
        aside = site_dir.with_name(f".{site_dir.name}.old")
        shutil.rmtree(aside, ignore_errors=True)
        site_dir.rename(aside)
        os.replace(link, site_dir)
        shutil.rmtree(aside, ignore_errors=True)
        return
    os.replace(link, site_dir)


def build_at(settings: Settings, now: datetime, *, strict: bool = False) -> BuildReport:
    """`newsroom build`: check every release, apply the embargo gate at `now`, build site/."""
    from newsroom.build import check
    from newsroom.diagnostics import errors

    newsroom, diagnostics = check(settings, strict=strict)
    problems = errors(diagnostics)
    if problems:
        listing = "\n".join(d.format() for d in problems)
        raise ContentError(f"{listing}\n{len(problems)} error(s): the site was not built")
    return build_site(settings, gate(newsroom, now))
