"""A cache of loaded release folders, so a rebuild re-reads only the folders that changed.

A folder's signature is the name, size and mtime of every file in it; a folder whose signature
matches the cached one reuses its Release and diagnostics without reading a byte. The whole cache is
dropped when the settings or the content code change. It is a plain pickle under var/cache/, written
atomically and only when something changed; deleting it is always safe.
"""

from __future__ import annotations

import hashlib
import os
import pickle
from pathlib import Path
from typing import Any

from newsroom.config import Settings
from newsroom.content.models import Release
from newsroom.diagnostics import Diagnostic

Signature = tuple[tuple[str, int, int], ...]
Entry = tuple[Signature, Release | None, list[Diagnostic]]
CODE_DIR = Path(__file__).resolve().parent


def folder_signature(folder: Path) -> Signature:
    entries = []
    for directory, _, names in os.walk(folder):
        for name in names:
            stat = os.stat(os.path.join(directory, name))
            entries.append(
                (os.path.relpath(os.path.join(directory, name), folder), stat.st_mtime_ns, stat.st_size)
            )
    return tuple(sorted(entries))


def _generation(settings: Settings) -> str:
    """What every cached entry depends on besides its own files: settings and the loader's code."""
    code = sorted((p.name, p.stat().st_mtime_ns) for p in CODE_DIR.glob("*.py"))
    return hashlib.sha256(repr((settings.file.model_dump_json(), code)).encode()).hexdigest()


class FolderMemo:
    def __init__(self, path: Path, settings: Settings) -> None:
        self.path = path
        self.generation = _generation(settings)
        self.entries: dict[str, Entry] = self._read()
        self.changed = False

    def _read(self) -> dict[str, Entry]:
        try:
            with self.path.open("rb") as file:
                stored: dict[str, Any] = pickle.load(file)
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, TypeError):
            return {}
        if stored.get("generation") != self.generation:
            return {}
        entries: dict[str, Entry] = stored.get("folders", {})
        return entries

    def get(self, folder: Path, signature: Signature) -> Entry | None:
        entry = self.entries.get(str(folder))
        return entry if entry is not None and entry[0] == signature else None

    def put(self, folder: Path, entry: Entry) -> None:
        self.entries[str(folder)] = entry
        self.changed = True

    def keep_only(self, folders: set[str]) -> None:
        for gone in set(self.entries) - folders:
            del self.entries[gone]
            self.changed = True

    def save(self) -> None:
        if not self.changed:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_suffix(".tmp")
        with partial.open("wb") as file:
            pickle.dump(
                {"generation": self.generation, "folders": self.entries}, file, pickle.HIGHEST_PROTOCOL
            )
        os.replace(partial, self.path)
