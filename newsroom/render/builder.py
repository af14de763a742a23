"""The static-output builder: renders `Unit`s beside the live `site/` and swaps them in.

Layout on disk (all under the newsroom root):

    site -> .site-builds/a/public       a symlink to the live tree: what the web server serves
    .site-builds/{a,b}/public           two trees: the live one and a spare
    .site-builds/{a,b}/manifest.marshal per tree: each unit's key and files, each file's hash
    .site-builds/incoming/              a small change's files (in one folder, named by a hash of
                                        their paths), and its plan once they are all there

Only units whose key differs from the live manifest's are rendered (when there are many, on every
core: by this process and forked children, each taking the next chunk of units by index and writing
their files itself; a child sends back only their hashes). What happens next depends on the size of
the change.

A small change (up to PATCH_UNITS units: editing, adding or withdrawing a few releases) is patched
into the live tree. The rendered files whose bytes differ are written to `incoming/`; only when every
unit has rendered is a plan written there (one `os.replace`: the commit point), and then each file
is moved into the live tree with `os.replace`, new files first and removals last, so a page is in
place before a listing links to it and leaves only after no listing does. Each file switches
atomically; the whole change takes a millisecond or so. A build interrupted after the commit point
is finished by the next one (it carries out the plan first); one interrupted before it leaves the
live site as it was. This costs what changed, not the size of the site: a spare tree would first
have to be filled with hard links to all of it (at 10,000 releases, 2 s the first time).

A bigger change (a template or the settings: most of the site) goes to the spare tree instead: the
rendered files are written into it where its bytes differ, every other file the live tree has is
hard-linked from it, files no unit makes any more are removed, and `site` is switched to it with one
`os.replace` of a symlink: readers see the old site or the new one, never a mixture.

Either way a file is replaced, never written through (the trees share inodes), so nothing a build does
before its switch (or its commit point) touches the live site: a render failure or a crash leaves it
as it was. A build where nothing changed writes nothing at all. Same inputs => same bytes.
"""

from __future__ import annotations

import contextlib
import fcntl
import gc
import hashlib
import marshal
import os
import pickle
import shutil
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import NamedTuple

from newsroom.config import Settings
from newsroom.content.memo import collector_paused
from newsroom.content.scan import ReleaseScan
from newsroom.errors import RenderError
from newsroom.forked import Forked, Tickets
from newsroom.gate import Published, gate
from newsroom.render.base import Artifact, Unit, UnitProvider

BUILDS_DIR = ".site-builds"
PUBLIC = "public"
MANIFEST = "manifest.marshal"
LEGACY_MANIFEST = "manifest.pickle"  # of earlier versions: removed when a tree's manifest is written
MANIFEST_FORMAT = 3
LOCK = ".lock"
TREES = ("a", "b")
INCOMING = "incoming"
PLAN = "plan.pickle"
# Up to this many units to render, the change is patched into the live tree (see the docstring). One
# release changed re-renders about 60; a template or settings change, thousands.
PATCH_UNITS = 1_000
# Below this many units to render, forking children (of a process that may hold 10,000 releases)
# costs more than it saves: a one-release change renders about 30 units in-process.
POOL_THRESHOLD = 100
# Children grow as they render (caches, copied pages, a fragmented heap): fresh ones after this many
# units (a release's pages are one unit) keep a 10,000-release cold build well under 1 GiB (they
# start warm: see _warm_up): 4,000 units a batch peaked at 650 MiB, 10,000 at 800 MiB.
POOL_BATCH = 4_000

HeavyRenderer = Callable[[Sequence[Unit]], dict[str, list[Artifact]]]  # unit name -> its artifacts


@dataclass
class Manifest:
    """What a tree holds. Written with marshal, not JSON or pickle: at 10,000 releases (35,000
    files) JSON took ten times as long to load, and pickle twice as long to write (43 ms against
    18 ms); every rebuild reads one and writes one. A manifest from another Python version may not
    load: then everything is rendered again, which is always safe."""

    keys: dict[str, str] = field(default_factory=dict)  # unit name -> key
    paths: dict[str, tuple[str, ...]] = field(default_factory=dict)  # unit name -> its files
    files: dict[str, str] = field(default_factory=dict)  # path -> sha256 (128 bits, hex)


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
    *,
    split: bool = False,
) -> BuildReport:
    """Render what changed since the live build and swap the result in; see the module docstring.

    `heavy_renderer` renders the heavy units (PDFs) elsewhere, e.g. in a long-lived pool that keeps
    WeasyPrint warm; without it they are rendered with the pages (first: see render_units).
    With `split`, a rebuild works out the keys of the feeds, sitemaps and short links (and renders
    the few that changed) in a forked child while this process does the pages: see _split_rebuild."""
    # A build makes hundreds of thousands of objects (units, keys, manifests) and no cyclic garbage:
    # the collector only slowed it; what the build keeps is frozen with the releases.
    with collector_paused(freeze=True):
        chosen = unit_providers() if providers is None else providers
        builds = settings.root / BUILDS_DIR
        builds.mkdir(exist_ok=True)
        with _exclusive(builds / LOCK):
            live = _live_tree(settings.site_dir, builds)
            _finish_patch(builds, live)  # one an earlier build committed to but did not carry out
            previous = _read_manifest(live)
            if split and live is not None:
                report = _split_rebuild(settings, published, chosen, builds, live, previous, heavy_renderer)
                if report is not None:
                    return report
            units = collect_units(published, chosen)
            return _build_locked(settings, units, builds, live, previous, heavy_renderer)


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
    settings: Settings,
    units: list[Unit],
    builds: Path,
    live: Path | None,
    previous: Manifest,
    heavy_renderer: HeavyRenderer | None,
) -> BuildReport:
    stale = _stale(units, previous)
    keys = {unit.name: unit.key for unit in units}
    if not stale and len(previous.keys) == len(units):
        return BuildReport([], len(units), 0, 0, False, settings.site_dir)
    if len(stale) >= POOL_THRESHOLD:
        _warm_up(settings)
    if live is not None and len(stale) <= PATCH_UNITS:
        incoming = _fresh_incoming(builds)
        with _dropped_on_failure(incoming):
            rendered = _render_stale(stale, _incoming_output(incoming, previous), heavy_renderer)
        return _patch_live(settings, keys, [unit.name for unit in stale], rendered, incoming, live, previous)
    target = builds / (TREES[1] if live is not None and live.name == TREES[0] else TREES[0])
    output = Output(target / PUBLIC, _open_for_writing(target))
    rendered = _render_stale(stale, output, heavy_renderer)
    manifest = _new_manifest(keys, rendered, previous)
    report = _report(settings, len(units), [unit.name for unit in stale], previous, manifest)
    _finish_tree(target, manifest, output.holds, rendered, live)
    if live is not None and manifest.files == previous.files:
        _write_manifest(live, manifest)  # new keys, same bytes: the public tree stays as it is
        report.changed = False
        return report
    _swap_in(settings.site_dir, target)
    _remove_strays(builds)
    return report


def _stale(units: list[Unit], previous: Manifest) -> list[Unit]:
    """The units whose key differs from the live build's: they must be rendered again."""
    return [unit for unit in units if previous.keys.get(unit.name) != unit.key]


def _render_stale(stale: list[Unit], output: Output, heavy_renderer: HeavyRenderer | None) -> UnitFiles:
    if heavy_renderer is None:
        return render_units(stale, output)
    rendered = render_units([u for u in stale if not u.heavy], output)
    rendered.update(_write_rendered(heavy_renderer([u for u in stale if u.heavy]), output))
    return rendered


def _report(
    settings: Settings, unit_count: int, stale: list[str], previous: Manifest, manifest: Manifest
) -> BuildReport:
    return BuildReport(
        stale, unit_count - len(stale), _count_written(previous, manifest),
        _count_removed(previous, manifest), True, settings.site_dir,
    )  # fmt: skip


# --- a rebuild on both cores -----------------------------------------------------------------------


def _child_providers() -> tuple[UnitProvider, ...]:
    """What a split rebuild keys (and renders, when few changed) in a forked child: about half the
    keying work at 10,000 releases (the pages' keys are the other half)."""
    from newsroom.render.feeds import feed_units
    from newsroom.render.sitemaps import sitemap_units
    from newsroom.render.sms import sms_redirect_units

    return (feed_units, sitemap_units, sms_redirect_units)


class _Keyed(NamedTuple):
    """What the child of a split rebuild sends back."""

    keys: dict[str, str]  # every unit of its providers: name -> key
    stale: list[str]  # the units whose key changed, in order
    rendered: UnitFiles  # their files, written into incoming/


def _split_rebuild(
    settings: Settings,
    published: Published,
    providers: Sequence[UnitProvider],
    builds: Path,
    live: Path,
    previous: Manifest,
    heavy_renderer: HeavyRenderer | None,
) -> BuildReport | None:
    """A small change, with the keys worked out on both cores: working out every unit's key is most
    of a rebuild (0.25 s of 1 s at 10,000 releases), on one core while the other idled. A forked child
    keys the feeds, sitemaps and short links and renders those that changed into incoming/, while
    this process keys and renders the pages. None when the change is not small or the child failed:
    then the build goes the usual way (and meets the child's error, if any, itself)."""
    theirs = [provider for provider in providers if provider in _child_providers()]
    ours = [provider for provider in providers if provider not in theirs]
    if not theirs:
        return None
    incoming = _fresh_incoming(builds)
    output = _incoming_output(incoming, previous)
    with _dropped_on_failure(incoming):
        child = Forked(partial(_key_and_render, published, theirs, previous, output))
        units = collect_units(published, ours)
        stale = _stale(units, previous)
        # a few changed pages are rendered while the child finishes (no pool is started beside it)
        few = len(stale) < POOL_THRESHOLD
        rendered = _render_stale(stale, output, heavy_renderer) if few else {}
        keyed = child.result()
        if keyed is None or len(stale) + len(keyed.stale) > PATCH_UNITS:
            shutil.rmtree(incoming)
            return None
        keys = {unit.name: unit.key for unit in units}
        clashes = sorted(keys.keys() & keyed.keys.keys())
        if clashes:
            raise RenderError(f"two units are named {clashes[0]!r}: unit names must be unique")
        keys.update(keyed.keys)
        if not stale and not keyed.stale and len(previous.keys) == len(keys):
            shutil.rmtree(incoming)
            return BuildReport([], len(keys), 0, 0, False, settings.site_dir)
        if not few:
            _warm_up(settings)
            rendered = _render_stale(stale, output, heavy_renderer)
        rendered.update(keyed.rendered)
    names = [unit.name for unit in stale] + keyed.stale
    return _patch_live(settings, keys, names, rendered, incoming, live, previous)


def _key_and_render(
    published: Published, providers: Sequence[UnitProvider], previous: Manifest, output: Output
) -> _Keyed | None:
    """The child's work; None when too many of its units changed to render them here."""
    units = collect_units(published, providers)
    stale = _stale(units, previous)
    if len(stale) >= POOL_THRESHOLD:
        return None
    rendered = render_units(stale, output)
    return _Keyed({unit.name: unit.key for unit in units}, [unit.name for unit in stale], rendered)


# --- a small change: patched into the live tree ----------------------------------------------------


@dataclass
class Plan:
    """What a small change does to the live tree, written once all its files are in `incoming/`."""

    moves: list[str]  # paths, in the order they go in: new files first, then replaced ones
    removals: list[str]  # paths no unit makes any more
    # and incoming/manifest.pickle: the live tree's manifest afterwards


def _fresh_incoming(builds: Path) -> Path:
    incoming = builds / INCOMING
    shutil.rmtree(incoming, ignore_errors=True)
    incoming.mkdir()
    return incoming


def _incoming_output(incoming: Path, previous: Manifest) -> Output:
    """Where a patch's files go: files whose bytes the live tree already has are not written."""
    (incoming / PUBLIC).mkdir(exist_ok=True)
    return Output(incoming / PUBLIC, previous.files, replaces=False, flat=True)


def staged_name(path: str) -> str:
    """A patch's file for site path `path`, in incoming/: all in one folder, so that staging one
    release's change makes and removes no folders (70 of them, 50 ms on this ext4)."""
    return hashlib.sha1(path.encode("utf-8"), usedforsecurity=False).hexdigest()


@contextmanager
def _dropped_on_failure(incoming: Path) -> Iterator[None]:
    try:
        yield
    except BaseException:
        shutil.rmtree(incoming, ignore_errors=True)
        raise


def _patch_live(
    settings: Settings,
    keys: dict[str, str],
    stale: list[str],
    rendered: UnitFiles,
    incoming: Path,
    live: Path,
    previous: Manifest,
) -> BuildReport:
    """Commit the rendered files in `incoming/` as a plan and carry it out (see the docstring)."""
    with _dropped_on_failure(incoming):
        manifest = _new_manifest(keys, rendered, previous)
    old = previous.files
    moves = sorted(
        (path for files in rendered.values() for path, sha in files.items() if old.get(path) != sha),
        key=lambda path: (path in old, path),
    )
    removals = sorted(path for path in old if path not in manifest.files)
    changed = bool(moves or removals)
    report = BuildReport(stale, len(keys) - len(stale), len(moves), len(removals), changed, settings.site_dir)
    _write_manifest(incoming, manifest)
    plan = Plan(moves, removals)
    _commit(incoming, plan)
    _carry_out(incoming, live, plan)
    return report


def _commit(incoming: Path, plan: Plan) -> None:
    scratch = incoming / f".{PLAN}.new"
    scratch.write_bytes(pickle.dumps((MANIFEST_FORMAT, plan), pickle.HIGHEST_PROTOCOL))
    os.replace(scratch, incoming / PLAN)


def _carry_out(incoming: Path, live: Path, plan: Plan) -> None:
    """Move the plan's files into the live tree, remove the files it names, put the manifest in.
    Safe to repeat after an interruption: a file already moved is no longer in `incoming/`."""
    staged, public = incoming / PUBLIC, live / PUBLIC
    for path in plan.moves:
        source, destination = os.path.join(staged, staged_name(path)), os.path.join(public, path)
        if not os.path.lexists(source):
            continue  # moved before the interruption
        try:
            os.replace(source, destination)
        except FileNotFoundError:
            os.makedirs(os.path.dirname(destination), exist_ok=True)
            os.replace(source, destination)
    for path in plan.removals:
        (public / path).unlink(missing_ok=True)
        _remove_empty_parents(public / path, public)
    if (incoming / MANIFEST).exists():
        manifest = _read_manifest(incoming)  # remembered: written by this process, or read once
        os.replace(incoming / MANIFEST, live / MANIFEST)
        _remember(_stamp(live / MANIFEST, (live / MANIFEST).stat()), manifest)
        (live / LEGACY_MANIFEST).unlink(missing_ok=True)
    shutil.rmtree(incoming)


def _finish_patch(builds: Path, live: Path | None) -> None:
    """Carry out a committed plan an earlier build left (it was interrupted), or drop the files of
    one that never reached its commit point."""
    incoming = builds / INCOMING
    if not incoming.exists():
        return
    plan = _read_plan(incoming) if live is not None else None
    if live is not None and plan is not None:
        _carry_out(incoming, live, plan)
    else:
        shutil.rmtree(incoming, ignore_errors=True)


def _read_plan(incoming: Path) -> Plan | None:
    """The committed plan; None when there is none (never committed) or this code cannot read it.
    Plans and manifests share MANIFEST_FORMAT: a plan written in another format comes with a live
    manifest this code cannot read either, so the next build renders every unit again anyway."""
    try:
        with (incoming / PLAN).open("rb") as file:
            stored = pickle.load(file)
    except (OSError, pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError):
        return None
    if isinstance(stored, tuple) and len(stored) == 2 and stored[0] == MANIFEST_FORMAT:
        plan = stored[1]
        return plan if isinstance(plan, Plan) else None
    return None


def prepare_renderers(settings: Settings, cold: bool, *, pdfs: bool = True) -> None:
    """Import the renderers and warm them up (all of it for a cold build; see _warm_up): done while the
    releases are still being scanned or read (load_newsroom's `meanwhile`). A failure here (a broken
    template, say) is left to the build, which meets it again and reports it after the releases'."""
    with contextlib.suppress(Exception):
        unit_providers(pdfs=pdfs)
        _warm_up(settings, templates=cold)


def _warm_up(settings: Settings, *, templates: bool = True) -> None:
    """Load what every page needs (compiled templates, catalogs, locale data) once, before the
    workers fork: they share it, instead of each worker of each batch loading its own copy.
    A rebuild compiles the few templates it renders when it renders them, but loads the catalogs
    and Babel's locale data here: both its processes need them (50 ms at six languages), and here
    they are loaded while the releases are being scanned, before the forked child that renders the
    feeds and short links."""
    from datetime import date

    from newsroom.render import i18n, site_pages

    if templates:
        environment = site_pages.environment()
        for name in environment.list_templates():
            environment.get_template(name)
    for language in settings.language_codes:
        for domain in ("site", "feeds", "sms"):
            i18n.translations(language, domain)
        i18n.long_date(date(2024, 1, 1), language)
        i18n.language_name(language, language)


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


# --- rendering ---------------------------------------------------------------------------------

_PENDING: Sequence[Unit] = ()  # the units a forked worker can see, by index


@dataclass(frozen=True)
class Output:
    """Where rendered files go: the tree being built and what it holds now (path -> sha256)."""

    public: Path
    holds: dict[str, str]
    replaces: bool = True  # False: `holds` describes another tree; `public` starts empty
    flat: bool = False  # True: files go straight into `public`, under their staged_name


_OUTPUT = Output(Path(), {})  # what forked workers write to
_FOLDERS: set[str] = set()  # folders this process knows exist in the tree being written

UnitFiles = dict[str, dict[str, str]]  # unit name -> {path: sha256 of its bytes}


def render_units(units: Sequence[Unit], output: Output) -> UnitFiles:
    """Render units on every core (heavy ones first, so they do not finish last) and write their
    files to `output`; returns the files each unit made, with their hashes."""
    global _PENDING, _OUTPUT
    order = sorted(range(len(units)), key=lambda i: (not units[i].heavy, units[i].group))
    _FOLDERS.clear()
    _PENDING, _OUTPUT = units, output
    try:
        if len(units) < POOL_THRESHOLD or (os.cpu_count() or 1) < 2:
            return {units[i].name: _render_index(i) for i in order}
        gc.freeze()  # the children's collector then never walks (and so copies) this process's objects
        made: dict[int, dict[str, str]] = {}
        for start in range(0, len(order), POOL_BATCH):
            made.update(_render_shared(order[start : start + POOL_BATCH]))
        return {units[i].name: made[i] for i in order}
    finally:
        _PENDING, _OUTPUT = (), Output(Path(), {})


def _render_shared(order: list[int]) -> dict[int, dict[str, str]]:
    """On every core: this process renders its share too (see Tickets), instead of idling while a
    pool's workers did it all, each copying the pages of this process it touched (16,000 pages each
    in a cold build at 1,000 releases) and sending every result through the pool's queue."""
    chunks = _chunks(order, _PENDING)

    def render_chunk(number: int) -> dict[int, dict[str, str]]:
        return {index: _render_index(index) for index in chunks[number]}

    with Tickets(len(chunks), render_chunk) as tickets:
        done = tickets.share(render_chunk, lambda _, files: files)
    made: dict[int, dict[str, str]] = {}
    for files in done.values():
        made.update(files)
    return made


def _chunks(order: list[int], units: Sequence[Unit]) -> list[list[int]]:
    """Chunks of about 64 units (some 30 ms), smaller and smaller towards the end (a 32nd of what
    is left), down to one unit: whoever finishes first then idles for a unit or two, not a chunk.
    A chunk ends where a group does (`order` has each group's units together): a language's feeds
    share the entries they list, made once per process (feeds._made)."""
    chunks: list[list[int]] = []
    start = 0
    while start < len(order):
        end = start + max(1, min((len(order) - start) // 32, 64))
        group = units[order[end - 1]].group
        while group and end < len(order) and units[order[end]].group == group:
            end += 1
        chunks.append(order[start:end])
        start = end
    return chunks


def _render_index(index: int) -> dict[str, str]:
    unit = _PENDING[index]
    return _write_artifacts(_render_one(unit), _OUTPUT)


def _render_one(unit: Unit) -> list[Artifact]:
    try:
        artifacts = list(unit.render(*unit.args))
    except RenderError as exc:
        raise RenderError(f"{unit.name}: {exc}") from exc
    for artifact in artifacts:
        _check_path(unit.name, artifact.path)
    return artifacts


def _write_rendered(rendered: dict[str, list[Artifact]], output: Output) -> UnitFiles:
    """Write artifacts rendered elsewhere (the heavy renderer's), as a worker would."""
    for name, artifacts in rendered.items():
        for artifact in artifacts:
            _check_path(name, artifact.path)
    return {name: _write_artifacts(artifacts, output) for name, artifacts in rendered.items()}


def _write_artifacts(artifacts: list[Artifact], output: Output) -> dict[str, str]:
    files: dict[str, str] = {}
    for artifact in artifacts:
        sha = _sha(artifact.data)
        files[artifact.path] = sha
        if output.holds.get(artifact.path) != sha:
            if output.flat:
                _write_file(os.path.join(output.public, staged_name(artifact.path)), artifact.data)
                continue
            _put(
                output.public,
                artifact.path,
                artifact.data,
                replace=output.replaces and artifact.path in output.holds,
            )
    return files


def _sha(data: bytes) -> str:
    # 128 bits tell files apart; shorter hashes keep a 10,000-release manifest quick to read
    return hashlib.sha256(data).hexdigest()[:32]


def _put(public: Path, path: str, data: bytes, *, replace: bool) -> None:
    # os.open, not open(): a file object costs three more system calls per file (fstat, isatty,
    # lseek), and a build writes tens of thousands of files
    _write_file(_make_room(public, path, replace=replace), data)


def _write_file(destination: str, data: bytes) -> None:
    descriptor = os.open(destination, _CREATE, 0o666)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(descriptor, view) :]
    finally:
        os.close(descriptor)


_CREATE = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC


def _make_room(public: Path, path: str, *, replace: bool) -> str:
    """Where `path` goes under `public`, its folder made (once per build) and the old file removed:
    it may be a hard link shared with the live tree, so it is never written through."""
    destination = os.path.join(public, path)
    folder = os.path.dirname(destination)
    if folder not in _FOLDERS:
        try:
            os.mkdir(folder)  # most folders are new and their parent exists: one system call
        except FileExistsError:
            pass
        except FileNotFoundError:
            os.makedirs(folder, exist_ok=True)
        _FOLDERS.add(folder)
    if replace:
        # already gone when a child that failed had unlinked it and this process renders it again
        with contextlib.suppress(FileNotFoundError):
            os.unlink(destination)
    return destination


_BAD_PARTS = frozenset({"", ".", ".."})


def _check_path(name: str, path: str) -> None:
    # a set test, not PurePosixPath: a cold build checks 10,000s of paths, and parsing each was 2.5%
    # of the workers' time. An empty part is a leading, trailing or doubled "/" (or no path at all).
    if _BAD_PARTS.intersection(path.split("/")):
        raise RenderError(f"{name}: artifact path {path!r} must be relative, inside the site, a file")


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
    """The tree's manifest; an empty one when there is none or it cannot be read (then everything
    is rendered again, which is always safe)."""
    if tree is None:
        return Manifest()
    path = tree / MANIFEST
    try:
        info = path.stat()
    except OSError:
        return Manifest()
    stamp = _stamp(path, info)
    if stamp in _MANIFESTS:  # `serve` reads the two manifests it wrote in its last two builds
        return _MANIFESTS[stamp]
    gc.disable()  # a quarter of a million small objects, none of them cyclic
    try:
        stored = marshal.loads(path.read_bytes())  # marshal.load(file) reads it a value at a time
    except (OSError, EOFError, ValueError, TypeError):
        return Manifest()
    finally:
        gc.enable()
    if not (isinstance(stored, tuple) and len(stored) == 4 and stored[0] == MANIFEST_FORMAT):
        return Manifest()
    manifest = Manifest(*stored[1:])
    _remember(stamp, manifest)
    return manifest


Stamp = tuple[str, int, int, int]
_MANIFESTS: dict[Stamp, Manifest] = {}  # the two last read or written, by the file's path and stat


def _stamp(path: Path, info: os.stat_result) -> Stamp:
    return str(path), info.st_mtime_ns, info.st_size, info.st_ino


def _remember(stamp: Stamp, manifest: Manifest) -> None:
    _MANIFESTS[stamp] = manifest
    while len(_MANIFESTS) > len(TREES):
        del _MANIFESTS[next(iter(_MANIFESTS))]


def _write_manifest(tree: Path, manifest: Manifest) -> None:
    scratch = tree / f".{MANIFEST}.new"
    stored = (MANIFEST_FORMAT, manifest.keys, manifest.paths, manifest.files)
    scratch.write_bytes(marshal.dumps(stored))
    os.replace(scratch, tree / MANIFEST)
    (tree / LEGACY_MANIFEST).unlink(missing_ok=True)
    _remember(_stamp(tree / MANIFEST, (tree / MANIFEST).stat()), manifest)


def _new_manifest(keys: dict[str, str], rendered: UnitFiles, previous: Manifest) -> Manifest:
    """The live manifest with the rendered units' files in place of their old ones (and the files
    of units that are gone taken out): a rebuild touches the entries of what changed, not all.
    `keys`: every unit's name and key."""
    files = dict(previous.files)
    for name, old in previous.paths.items():
        if name in rendered or name not in keys:
            for path in old:
                del files[path]
    made_paths: dict[str, tuple[str, ...]] = {}
    for name, made in rendered.items():
        for path, sha in made.items():
            if path in files:
                owner = _owner(path, made_paths, previous, rendered)
                raise RenderError(f"units {owner!r} and {name!r} both write {path!r}")
            files[path] = sha
        made_paths[name] = tuple(made)
    unit_paths = {name: made_paths[name] if name in made_paths else previous.paths[name] for name in keys}
    return Manifest(keys, unit_paths, files)


def _owner(path: str, made_paths: dict[str, tuple[str, ...]], previous: Manifest, rendered: UnitFiles) -> str:
    """Which other unit writes `path`: one rendered before, or one reused from the live build."""
    for name, made in made_paths.items():
        if path in made:
            return name
    return next(name for name, old in previous.paths.items() if path in old and name not in rendered)


def _count_removed(previous: Manifest, manifest: Manifest) -> int:
    return sum(1 for path in previous.files if path not in manifest.files)


def _count_written(previous: Manifest, manifest: Manifest) -> int:
    old = previous.files
    return sum(1 for path, sha in manifest.files.items() if old.get(path) != sha)


# --- writing and swapping --------------------------------------------------------------------------


def _open_for_writing(tree: Path) -> dict[str, str]:
    """Mark `tree` dirty until its manifest is written again; return what it holds (path -> sha).

    A tree without a manifest (never built, or a build was interrupted) is started from nothing."""
    current = _read_manifest(tree)
    if not current.keys:
        shutil.rmtree(tree, ignore_errors=True)
    (tree / MANIFEST).unlink(missing_ok=True)
    (tree / PUBLIC).mkdir(parents=True, exist_ok=True)
    return current.files


def _finish_tree(
    tree: Path, manifest: Manifest, holds: dict[str, str], rendered: UnitFiles, live: Path | None
) -> None:
    """After the rendered files are written: link the other units' files from the live tree (they
    are unchanged since it was built), remove the files no unit makes any more, write the manifest."""
    public = tree / PUBLIC
    wanted = manifest.files
    written = {path for files in rendered.values() for path in files}
    _FOLDERS.clear()
    for path, sha in wanted.items():
        if path in written or holds.get(path) == sha:
            continue
        assert live is not None, "without a live tree every unit is rendered"
        _link(live / PUBLIC / path, public, path, replace=path in holds)
    for path in set(holds) - set(wanted):
        (public / path).unlink(missing_ok=True)
        _remove_empty_parents(public / path, public)
    _write_manifest(tree, manifest)


def _link(source: Path, public: Path, path: str, *, replace: bool) -> None:
    os.link(source, _make_room(public, path, replace=replace))


def _remove_empty_parents(path: Path, top: Path) -> None:
    folder = path.parent
    while folder != top and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
        folder = folder.parent


def _remove_strays(builds: Path) -> None:
    """Anything in .site-builds but the two trees and the lock (e.g. from older layouts)."""
    for path in builds.iterdir():
        if path.name not in (*TREES, LOCK, INCOMING):
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


def build_at(
    settings: Settings,
    now: datetime,
    *,
    strict: bool = False,
    pdfs: bool = True,
    scan: ReleaseScan | None = None,
) -> BuildReport:
    """`newsroom build`: check every release, apply the embargo gate at `now`, build site/.

    Without `pdfs` the build holds no PDFs (their files leave site/ too): a quick preview."""
    from newsroom.build import valid_newsroom

    newsroom = valid_newsroom(
        settings,
        strict=strict,
        refusal="the site was not built",
        scan=scan,
        meanwhile=partial(prepare_renderers, settings, pdfs=pdfs),
    )
    return build_site(settings, gate(newsroom, now), unit_providers(pdfs=pdfs), split=True)
