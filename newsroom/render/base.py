"""The contract between renderers and the static-output builder.

A renderer turns the gate's `Published` view into `Unit`s. A unit names the files it produces and a
`key`: a hash of every input it reads, computed cheaply *without* rendering. The builder renders a
unit only when its key differs from the previous build's, which is what makes rebuilds incremental;
`render` must be a picklable top-level function (units run in worker processes on both cores).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, NamedTuple


class Artifact(NamedTuple):
    path: str  # relative to the site root, no leading slash, e.g. "ru/releases/nyx/index.html"
    data: bytes


@dataclass(frozen=True)
class Unit:
    name: str  # stable and unique, e.g. "page:ru:new-york-experience"
    key: str  # hash of all inputs; same key => same artifacts
    render: Callable[..., list[Artifact]]
    args: tuple[Any, ...] = ()
    heavy: bool = False  # PDFs: run in the long-lived PDF worker pool


UnitProvider = Callable[..., Iterable[Unit]]


def digest(*parts: object) -> str:
    """A stable hash of the given parts (strings, bytes, numbers, nested tuples/lists)."""
    hasher = hashlib.sha256()
    _feed(hasher, parts)
    return hasher.hexdigest()[:24]


def _feed(hasher: Any, value: object) -> None:
    if isinstance(value, bytes):
        hasher.update(b"b" + len(value).to_bytes(8, "big") + value)
    elif isinstance(value, str):
        _feed(hasher, value.encode("utf-8"))
    elif isinstance(value, list | tuple):
        hasher.update(b"[" + len(value).to_bytes(8, "big"))
        for item in value:
            _feed(hasher, item)
    else:
        _feed(hasher, repr(value))
