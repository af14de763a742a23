"""The static-output builder: renders `Unit`s into a tree beside the live `site/` and swaps it in.

Layout on disk (all under the newsroom root), double-buffered:

    site -> .site-builds/a/public       a symlink to the live tree: what the web server serves
    .site-builds/{a,b}/public           two trees: the live one and the next one
    .site-builds/{a,b}/manifest.json    per tree: unit name -> {"key", "files": {path: sha256}}

A build
1. renders only units whose key differs from the live manifest's (in a pool of forked processes,
   one per core; only an index goes to a worker and only the artifacts come back);
2. brings the *other* tree up to date: files it already has with the right bytes are left alone,
   files the live tree has with the right bytes are hard-linked from it (same inode and mtime),
   new bytes are written (to a temporary name, then renamed), files of vanished units are removed;
3. swaps `site` over to that tree with one `os.replace` of a symlink: readers see the old site or
   the new one, never a mixture.
The other tree is one build behind, so a build costs what changed in the last two builds, not the
size of the site. A render failure happens before anything is touched; a failure while syncing leaves
the other tree without a manifest (it is rebuilt from the live tree next time) and the live tree
intact. A build where nothing changed writes nothing at all. Same inputs => same bytes.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import multiprocessing
import os
import shutil
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath

from newsroom.config import Settings
from newsroom.errors import RenderError
from newsroom.gate import Published, gate
from newsroom.render.base import Artifact, Unit, UnitProvider

BUILDS_DIR = ".site-builds"
PUBLIC = "public"
MANIFEST = "manifest.json"
LOCK = ".lock"
TREES = ("a", "b")
# Below this many units to render, starting a pool (forking a process that may hold 10,000 releases)
# costs more than it saves: a one-release change renders about 30 units in-process.
POOL_THRESHOLD = 100

HeavyRenderer = Callable[[Sequence[Unit]], dict[str, list[Artifact]]]  # unit name -> its artifacts
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
        if not self.changed and not self.rendered:
            return f"nothing changed ({self.reused} units reused)"
        if not self.changed:
            return f"{len(self.rendered)} units rendered, {self.reused} reused; no file changed"
        return (
            f"{len(self.rendered)} units rendered, {self.reused} reused; "
            f"{self.written} files written, {self.removed} removed"
        )


def unit_providers(*, pdfs: bool = True) -> list[UnitProvider]:
    """Everything that goes into site/: pages, feeds and sitemaps, SMS short links, PDFs (heavy units)."""
    from newsroom.render.feeds import feed_units
    from newsroom.render.pdf import pdf_units
    from newsroom.render.site import site_units
    from newsroom.render.sitemaps import sitemap_units
    from newsroom.render.sms import sms_redirect_units

    return [site_units, feed_units, sitemap_units, sms_redirect_units, *([pdf_units] if pdfs else [])]


def build_site(
    settings: Settings,
    published: Published,
    providers: Sequence[UnitProvider] | None = None,
    heavy_renderer: HeavyRenderer | None = None,
) -> BuildReport:
    """Render what changed since the live build and swap the result in; see the module docstring.

    `heavy_renderer` renders the heavy units (PDFs) elsewhere, e.g. in a long-lived pool that keeps
    WeasyPrint warm; without it they share the fork pool with the pages (started first)."""
    units = collect_units(published, unit_providers() if providers is None else providers)
    builds = settings.root / BUILDS_DIR
    builds.mkdir(exist_ok=True)
    with _exclusive(builds / LOCK):
        return _build_locked(settings, units, builds, heavy_renderer)


@contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    """One build at a time per newsroom (`serve` and a `build` in another terminal, say)."""
    with lock_path.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _build_locked(
    settings: Settings, units: list[Unit], builds: Path, heavy_renderer: HeavyRenderer | None
) -> BuildReport:
    live = _live_tree(settings.site_dir, builds)
    previous = _read_manifest(live)
    stale = [unit for unit in units if not _reusable(unit, previous.get(unit.name))]
    if not stale and set(previous) == {unit.name for unit in units}:
        return BuildReport([], len(units), 0, 0, False, settings.site_dir)
    if heavy_renderer is None:
        rendered = render_units(stale)
    else:
        rendered = render_units([u for u in stale if not u.heavy])
        rendered.update(heavy_renderer([u for u in stale if u.heavy]))
    manifest = _new_manifest(units, rendered, previous)
    report = BuildReport(
        [unit.name for unit in stale], len(units) - len(stale), _count_written(previous, manifest),
        _count_removed(previous, manifest), True, settings.site_dir,
    )  # fmt: skip
    if live is not None and _hashes(manifest) == _hashes(previous):
        _write_manifest(live, manifest)  # new keys, same bytes: the public tree stays as it is
        report.changed = False
        return report
    target = builds / (TREES[1] if live is not None and live.name == TREES[0] else TREES[0])
    _sync_tree(target, manifest, rendered, live, previous)
    _swap_in(settings.site_dir, target)
    _remove_strays(builds)
    return report


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


def _live_tree(site_dir: Path, builds: Path) -> Path | None:
    """The tree `site` points to (None on the first build or when site/ is a plain folder)."""
    if not site_dir.is_symlink():
        return None
    public = site_dir.resolve()
    tree = public.parent
    if public.is_dir() and tree.parent == builds.resolve() and tree.name in TREES:
        return builds / tree.name
    return None


def _read_manifest(tree: Path | None) -> Manifest:
    if tree is None or not (tree / MANIFEST).is_file():
        return {}
    try:
        data = json.loads((tree / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # unreadable: render everything again
    return data if isinstance(data, dict) else {}


def _write_manifest(tree: Path, manifest: Manifest) -> None:
    scratch = tree / f".{MANIFEST}.new"
    scratch.write_bytes(_manifest_bytes(manifest))
    os.replace(scratch, tree / MANIFEST)


def _reusable(unit: Unit, entry: dict[str, object] | None) -> bool:
    return entry is not None and entry.get("key") == unit.key


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
    # No indent: json's C encoder only runs without one (10x faster on a 10,000-release manifest).
    return json.dumps(manifest, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def _count_removed(previous: Manifest, manifest: Manifest) -> int:
    return len(set(_hashes(previous)) - set(_hashes(manifest)))


def _count_written(previous: Manifest, manifest: Manifest) -> int:
    old = _hashes(previous)
    return sum(1 for path, sha in _hashes(manifest).items() if old.get(path) != sha)


# --- writing and swapping --------------------------------------------------------------------------


def _sync_tree(
    tree: Path,
    manifest: Manifest,
    rendered: dict[str, list[Artifact]],
    live: Path | None,
    live_manifest: Manifest,
) -> None:
    """Make `tree` hold exactly `manifest`'s files, touching only those that differ."""
    current = _read_manifest(tree)
    if not current:  # never built, or a sync was interrupted: start from nothing
        shutil.rmtree(tree, ignore_errors=True)
    (tree / MANIFEST).unlink(missing_ok=True)  # the tree is dirty until its manifest is back
    public = tree / PUBLIC
    public.mkdir(parents=True, exist_ok=True)
    have, in_live, wanted = _hashes(current), _hashes(live_manifest), _hashes(manifest)
    fresh = {a.path: a.data for artifacts in rendered.values() for a in artifacts}
    for path, sha in wanted.items():
        if have.get(path) == sha:
            continue
        destination = public / path
        destination.parent.mkdir(parents=True, exist_ok=True)
        scratch = destination.with_name(f".{destination.name}.new")
        scratch.unlink(missing_ok=True)
        if live is not None and in_live.get(path) == sha:
            os.link(live / PUBLIC / path, scratch)
        else:
            scratch.write_bytes(fresh[path])
        os.replace(scratch, destination)
    for path in set(have) - set(wanted):
        (public / path).unlink(missing_ok=True)
        _remove_empty_parents(public / path, public)
    _write_manifest(tree, manifest)


def _remove_empty_parents(path: Path, top: Path) -> None:
    folder = path.parent
    while folder != top and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
        folder = folder.parent


def _hashes(manifest: Manifest) -> dict[str, str]:
    return {path: sha for entry in manifest.values() for path, sha in entry["files"].items()}  # type: ignore[attr-defined]


def _remove_strays(builds: Path) -> None:
    """Anything in .site-builds but the two trees and the lock (e.g. from older layouts)."""
    for path in builds.iterdir():
        if path.name not in (*TREES, LOCK):
            shutil.rmtree(path) if path.is_dir() and not path.is_symlink() else path.unlink()


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


def build_at(settings: Settings, now: datetime, *, strict: bool = False, pdfs: bool = True) -> BuildReport:
    """`newsroom build`: check every release, apply the embargo gate at `now`, build site/.

    Without `pdfs` the build holds no PDFs (their files leave site/ too): a quick preview."""
    from newsroom.build import valid_newsroom

    newsroom = valid_newsroom(settings, strict=strict, refusal="the site was not built")
    return build_site(settings, gate(newsroom, now), unit_providers(pdfs=pdfs))
