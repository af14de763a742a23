"""Which release files there are, and their names, sizes and mtimes: what the loader compares with
its cache to find the folders to read again.

Nothing here imports more than the standard library, so that `newsroom build` can start scanning
the moment Python is up (see `start_early`), while it imports the rest of newsroom.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Sequence
from functools import partial
from pathlib import Path
from typing import NamedTuple

from newsroom.forked import Forked

Signature = tuple[tuple[str, int, int], ...]  # a folder's files: (relative path, mtime ns, size)


class Folder(NamedTuple):
    """A folder holding .md files, as one scandir listing saw it."""

    order: tuple[str, ...]  # its path below releases/: sorts like the folder's Path
    path: str
    files: list[str]  # names of its .md files, sorted
    signature: Signature  # for the cache: its files' names, mtimes and sizes; () without a cache


ReleaseScan = tuple[Folder, ...]


def scan_releases(releases_dir: Path) -> ReleaseScan:
    """The release folders and the names, sizes and mtimes of their files: equal scans mean
    nothing a build reads under releases/ changed."""
    return tuple(release_folders(releases_dir, signatures=True))


class BackgroundScan:
    """`scan_releases` in forked children while this process does something else (reads the
    release cache, which takes about as long: 0.15-0.2 s each at 10,000 releases). Two children,
    each with every other top-level folder: while this process is busy they share the other core,
    and they finish together with it. Iterating waits for them; if one could not start or failed,
    the scan is done here."""

    PARTS = 2

    def __init__(self, releases_dir: Path) -> None:
        self.releases_dir = releases_dir
        self.found: ReleaseScan | None = None
        self.children = [
            Forked(partial(release_folders, releases_dir, signatures=True, part=(part, self.PARTS)))
            for part in range(self.PARTS)
        ]

    def __iter__(self) -> Iterator[Folder]:
        if self.found is None:
            parts = [child.result() for child in self.children]
            if all(part is not None for part in parts):
                found = [folder for part in parts if part is not None for folder in part]
                self.found = tuple(sorted(found, key=lambda folder: folder.order))
            else:
                self.found = scan_releases(self.releases_dir)
        return iter(self.found)


# --- started before the rest of newsroom is imported ----------------------------------------------

# Commands whose first step is loading the releases against the release cache.
EARLY_COMMANDS = frozenset({"build", "publish"})
# Here, not in config (which imports pydantic): where a newsroom's settings and release cache are.
CONFIG_NAME = "newsroom.toml"
RELEASE_CACHE = Path("var", "cache", "releases.pickle")  # its shards are in releases.d/ (see memo)
_early: tuple[Path, BackgroundScan] | None = None


def start_early(argv: Sequence[str]) -> None:
    """Start the scan for `newsroom build` (or `publish`) before the command is even parsed: a
    build's first 0.1-0.2 s go to importing newsroom, on one core, and the scan (0.3 s of CPU at
    10,000 releases) then fits beside it on the other: a rebuild's scan used to compete with reading
    the release cache, a first build's ran while the other core idled. What the command does not take
    (it failed, or was only asked for --help) ends with the process."""
    global _early
    command = next((arg for arg in argv if not arg.startswith("-")), "")
    if command not in EARLY_COMMANDS or "--help" in argv:
        return
    try:
        root = newsroom_root(Path(_root_option(argv) or "."))
    except OSError:  # a working folder that is gone, say: the command reports what it meets
        return
    if root is not None and (root / "releases").is_dir():
        _early = root / "releases", BackgroundScan(root / "releases")


def take_early(releases_dir: Path) -> BackgroundScan | None:
    """The scan start_early began for `releases_dir`, once; None if it began none (or for elsewhere)."""
    global _early
    if _early is None or _early[0].resolve() != releases_dir.resolve():
        return None
    scan, _early = _early[1], None
    return scan


def _root_option(argv: Sequence[str]) -> str | None:
    for index, arg in enumerate(argv):
        if arg == "--root" and index + 1 < len(argv):
            return argv[index + 1]
        if arg.startswith("--root="):
            return arg.removeprefix("--root=")
    return None


def newsroom_root(start: Path) -> Path | None:
    """The directory holding newsroom.toml: `start` or one of its parents; None if there is none
    (config.find_root says so to the user)."""
    start = start.resolve()
    return next((folder for folder in (start, *start.parents) if (folder / CONFIG_NAME).is_file()), None)


# --- the scan -------------------------------------------------------------------------------------


def release_folders(
    releases_dir: Path, *, signatures: bool = False, part: tuple[int, int] = (0, 1)
) -> list[Folder]:
    """Folders with .md files, in path order: what `releases_dir.rglob("*.md")` finds, less hidden
    files and folders, from one scandir per folder (rglob plus a stat per file was 2 s at 10,000).
    With `part` (k, n), only what is below every n-th top-level folder (by name) from the k-th, and
    with k = 0 the top level's own files: the parts of a scan split between processes."""
    if not releases_dir.is_dir() or any(name.startswith(".") for name in releases_dir.parts):
        return []
    found: list[Folder] = []
    _scan(str(releases_dir), (), found, signatures, part)
    found.sort(key=lambda folder: folder.order)
    return found


def _scan(
    directory: str,
    order: tuple[str, ...],
    found: list[Folder],
    signatures: bool,
    part: tuple[int, int] = (0, 1),
) -> None:
    try:
        with os.scandir(directory) as listing:
            entries = sorted(listing, key=lambda entry: entry.name) if part[1] > 1 else list(listing)
    except PermissionError:  # rglob skips what it may not read
        return
    files = []
    folders = 0
    for entry in entries:
        name = entry.name
        if name.startswith("."):
            continue
        if entry.is_dir(follow_symlinks=False):  # like rglob, symlinked folders are not followed
            if folders % part[1] == part[0]:
                _scan(entry.path, (*order, name), found, signatures)
            folders += 1
        elif name.endswith(".md") and part[0] == 0 and _is_file(entry):
            files.append(name)
    if files:
        signature = listing_signature(directory, entries) if signatures else ()
        found.append(Folder(order, directory, sorted(files), signature))


def _is_file(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_file()
    except OSError:
        return False


def folder_signature(folder: Path) -> Signature:
    """Every file under `folder` (recursively) as (relative path, mtime, size), sorted."""
    entries = []
    for directory, _, names in os.walk(folder):
        for name in names:
            stat = os.stat(os.path.join(directory, name))
            entries.append(
                (os.path.relpath(os.path.join(directory, name), folder), stat.st_mtime_ns, stat.st_size)
            )
    return tuple(sorted(entries))


def listing_signature(folder: str, entries: list[os.DirEntry[str]]) -> Signature:
    """folder_signature from the folder's own scandir entries: one stat per file, no second listing.

    A folder with subfolders (rare: assets in a subfolder) takes the recursive os.walk route.
    """
    files = []
    for entry in entries:
        try:
            is_dir = entry.is_dir()
        except OSError:
            is_dir = False
        if is_dir:
            return folder_signature(Path(folder))
        stat = entry.stat()  # follows symlinks, like os.stat in folder_signature
        files.append((sys.intern(entry.name), stat.st_mtime_ns, stat.st_size))
    return tuple(sorted(files))
