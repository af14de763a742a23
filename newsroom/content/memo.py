"""A cache of loaded release folders, so a rebuild re-reads only the folders that changed.

A folder's signature is the name, size and mtime of every file in it; a folder whose signature
matches the cached one reuses its Release and diagnostics without reading a byte. The whole cache is
dropped when the settings or the content code change. It is a set of plain pickles ("shards") in a
folder under var/cache/, each written atomically and only when one of its folders changed, so an edit
to one release rewrites about 1/64 of the cache; deleting any of it is always safe.
"""

from __future__ import annotations

import copyreg
import gc
import hashlib
import io
import os
import pickle
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from newsroom.config import Settings
from newsroom.content.models import FOLDER_TEXT, PACKED_META, Release, Translation, folder_text, packed_meta
from newsroom.content.scan import Signature
from newsroom.diagnostics import Diagnostic

Entry = tuple[Signature, Release | None, list[Diagnostic]]
CODE_DIR = Path(__file__).resolve().parent
KEYS_CODE = CODE_DIR.parent / "keys.py"
SHARDS = 64  # 10,000 releases make ~80 MB of cache: ~1.2 MB rewritten per edited release
PATH_TYPE = type(Path())
# From this many cached folders on, what was unpickled is frozen (gc.freeze): else the collector, once
# on again, scans it all at its next few collections, for nothing. Frozen objects are still freed by
# reference counting (a Release holds no reference cycles); below this, freezing saves nothing, and
# would keep forever the cyclic garbage of a long process that loads small newsrooms (the tests).
FREEZE_FROM = 1000
# What unpickling a damaged shard, or one written by other code, raises
UNREADABLE = (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, TypeError, ValueError)


def _generation(settings: Settings) -> str:
    """What every cached entry depends on besides its own files: settings and the loader's code
    (with the hash that makes a release's fingerprint)."""
    code = sorted((p.name, p.stat().st_mtime_ns) for p in (*CODE_DIR.glob("*.py"), KEYS_CODE))
    return hashlib.sha256(repr((settings.file.model_dump_json(), code)).encode()).hexdigest()


def shard_of(key: str) -> int:
    return zlib.crc32(key.encode("utf-8", "surrogateescape")) % SHARDS


class FolderMemo:
    """Entries keyed by the folder's path (a str), in SHARDS pickles in a folder beside `path`.

    `path` names the cache (var/cache/releases.pickle); the shards are in var/cache/releases.d/.
    """

    def __init__(self, path: Path, settings: Settings) -> None:
        self.legacy = path  # the single-file cache of earlier versions, removed on the next save
        self.path = path.with_suffix(".d")
        self.generation = _generation(settings)
        self.changed: set[int] = set()  # shards to write at save()
        self.restamp = False  # readers wrote shards: stamp them at save()
        with collector_paused():
            self.shards = [self._read(index) for index in range(SHARDS)]
            if sum(len(shard) for shard in self.shards) >= FREEZE_FROM:
                gc.freeze()
        self.entries = {folder: entry for shard in self.shards for folder, entry in shard.items()}
        self.shard_stamps = self.stamp_shards()

    def stamp_shards(self) -> list[tuple[int, int] | None]:
        """Each shard file's (mtime, size), None when missing: tells whether the files on disk are
        still the ones this memo read or wrote."""
        stamps: list[tuple[int, int] | None] = []
        for index in range(SHARDS):
            try:
                info = os.stat(self._shard_path(index))
            except OSError:
                stamps.append(None)
            else:
                stamps.append((info.st_mtime_ns, info.st_size))
        return stamps

    def _shard_path(self, index: int) -> Path:
        return self.path / f"{index:02x}.pickle"

    def _read(self, index: int) -> dict[str, Entry]:
        try:
            with self._shard_path(index).open("rb") as file:
                stored: dict[str, Any] = pickle.load(file)
        except FileNotFoundError:
            return {}
        except UNREADABLE:
            stored = {}  # damaged, or written by other code: a miss, never a failed build
        if not isinstance(stored, dict) or stored.get("generation") != self.generation:
            self.changed.add(index)  # rewritten at the next save, even if none of its folders is left
            return {}
        entries: dict[str, Entry] = stored.get("folders", {})
        return entries

    def get(self, folder: str, signature: Signature) -> Entry | None:
        entry = self.entries.get(folder)
        return entry if entry is not None and entry[0] == signature else None

    def put(self, folder: str, entry: Entry) -> None:
        index = shard_of(folder)
        self.shards[index][folder] = self.entries[folder] = entry
        self.changed.add(index)

    def keep_only(self, folders: set[str]) -> None:
        for gone in self.entries.keys() - folders:
            index = shard_of(gone)
            del self.entries[gone]
            self.shards[index].pop(gone, None)
            self.changed.add(index)

    def is_empty(self, index: int) -> bool:
        return not self.shards[index]

    def write_shard(self, index: int, data: bytes) -> None:
        """Replace one shard file atomically (readers of a cold load write theirs in parallel)."""
        self.path.mkdir(parents=True, exist_ok=True)
        target = self._shard_path(index)
        partial = target.with_suffix(f".{os.getpid()}.tmp")
        partial.write_bytes(data)
        os.replace(partial, target)

    def adopt(self, index: int, entries: dict[str, Entry], *, written: bool) -> None:
        """Entries a reader process made for shard `index`; `written` when it wrote the shard file."""
        self.shards[index].update(entries)
        self.entries.update(entries)
        if written:
            self.restamp = True
            self.changed.discard(index)  # a stale shard it replaced need not be written again
        else:
            self.changed.add(index)

    def save(self) -> None:
        if not self.changed and not self.restamp:
            return
        for index in sorted(self.changed):
            self.write_shard(index, shard_bytes(self.generation, self.shards[index]))
        self.changed.clear()
        self.restamp = False
        self.shard_stamps = self.stamp_shards()
        if self.legacy.is_file():
            self.legacy.unlink()


_LAST: FolderMemo | None = None  # the memo last opened: a long-lived `serve` keeps it between builds


def open_memo(path: Path, settings: Settings) -> FolderMemo:
    """The cache at `path`: read from disk, or kept in memory from this process's previous load of
    the same cache (its entries are checked against the folders' signatures either way)."""
    global _LAST
    reusable = (
        _LAST is not None
        and _LAST.legacy == path
        and _LAST.generation == _generation(settings)
        and _LAST.shard_stamps == _LAST.stamp_shards()  # no other process wrote or damaged it
    )
    if not reusable or _LAST is None:
        _LAST = FolderMemo(path, settings)
    return _LAST


@contextmanager
def collector_paused(*, freeze: bool = False) -> Iterator[None]:
    """No cyclic garbage collection while releases are read or unpickled: every object made is kept,
    so the collector, scanning them again and again as they were made, only wasted time (1.2 s of
    1.7 s at 10,000). With `freeze`, what was made is then frozen (see FREEZE_FROM): else the first
    collection after would scan it all at once (0.2 s at 10,000)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
        if freeze:
            gc.freeze()
    finally:
        if was_enabled:
            gc.enable()


# Path(parent) / name parses `name` again (2 us); this private shortcut (0.4 us) is in CPython 3.11-3.13
_join = getattr(PATH_TYPE, "_make_child_relpath", PATH_TYPE.__truediv__)


def _child(parent: Path, name: str) -> Path:
    path: Path = _join(parent, name)
    return path


class _Pickler(pickle.Pickler):
    """Pickles a Path as (its parent, its name), each parent once per shard. Without `bodies` (the
    cache's shards), a release or translation is pickled without its Markdown body, with its front
    matter pickled on its own and its folder as a string, each made again when asked for (see
    models._missing): a rebuild keys every release by the fields Release copies out of its front
    matter, and renders a few.

    A plain Path pickles as all its parts, and unpickling re-parses every one of them: that was half
    the load time (readers still send their releases' folders back as Paths). Bodies were 85% of the
    cache (76 MB at 10,000 releases) and half the time it took to load it. With the front matter
    packed and the folders as strings, loading 10,000 releases took 0.11 s instead of 0.3 s.
    """

    def __init__(self, file: IO[bytes], *, bodies: bool) -> None:
        super().__init__(file, pickle.HIGHEST_PROTOCOL)
        self.dispatch_table = copyreg.dispatch_table.copy()
        self.dispatch_table[PATH_TYPE] = self._reduce_path
        if not bodies:
            self.dispatch_table[Release] = self.dispatch_table[Translation] = _reduce_without_body
        self.seen: dict[str, Path] = {}  # kept alive so the pickle memo can refer back to each path

    def _reduce_path(self, path: Path) -> tuple[Any, tuple[Any, ...]]:
        self.seen.setdefault(str(path), path)
        parent = path.parent
        if parent == path or not path.name:
            return PATH_TYPE, (str(path),)
        return _child, (self.seen.setdefault(str(parent), parent), path.name)


def shard_bytes(generation: str, entries: dict[str, Entry], *, bodies: bool = False) -> bytes:
    """A shard file's bytes: its entries pickled (Paths by parent and name, no bodies unless asked
    for: see _Pickler) with the generation."""
    buffer = io.BytesIO()
    _Pickler(buffer, bodies=bodies).dump({"generation": generation, "folders": entries})
    return buffer.getvalue()


_LEFT_OUT = frozenset(("body", "meta", "folder"))  # read again, unpickled, made: when asked for


def _reduce_without_body(text: Release | Translation) -> tuple[Any, tuple[Any, ...]]:
    """Without the body, with the front matter pickled on its own and the folder as a string (see
    models._missing)."""
    state = {name: value for name, value in text.__dict__.items() if name not in _LEFT_OUT}
    state[PACKED_META] = packed_meta(text)
    state[FOLDER_TEXT] = folder_text(text)
    return _restore, (type(text), state)


def _restore(kind: type[Release | Translation], state: dict[str, Any]) -> Release | Translation:
    text = object.__new__(kind)
    text.__dict__.update(state)  # frozen dataclasses: no __setattr__
    return text


def read_shard(data: bytes) -> dict[str, Entry]:
    with collector_paused():
        entries: dict[str, Entry] = pickle.loads(data)["folders"]
    return entries
