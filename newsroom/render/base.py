"""The contract between renderers and the static-output builder.

A renderer turns the gate's `Published` view into `Unit`s. A unit names the files it produces and a
`key`: a hash of every input it reads, computed cheaply *without* rendering. The builder renders a
unit only when its key differs from the previous build's, which is what makes rebuilds incremental;
`render` must be a picklable top-level function (units run in worker processes on both cores).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar, cast

from newsroom.content.models import content_code
from newsroom.keys import fast_key

if TYPE_CHECKING:
    from newsroom.content.models import Release


class Artifact(NamedTuple):
    path: str  # relative to the site root, no leading slash, e.g. "ru/releases/nyx/index.html"
    data: bytes


class Unit(NamedTuple):
    """A tuple, not a frozen dataclass: a build makes 10,000s (10,200 at 10,000 releases), and a
    frozen dataclass's __init__ sets each field through object.__setattr__ (3x slower)."""

    name: str  # stable and unique, e.g. "site:release:new-york-experience"
    key: str  # hash of all inputs; same key => same artifacts
    render: Callable[..., list[Artifact]]
    args: tuple[Any, ...] = ()
    heavy: bool = False  # PDFs: run in the long-lived PDF worker pool
    # Units of one group (a release's pages, short links, PDFs; a language's feeds) are handed to
    # the same worker, so a worker touches fewer releases and copies less of the parent's memory
    # (fork copy-on-write), and makes a feed entry once (builder._chunks never splits a group).
    group: str = ""


UnitProvider = Callable[..., Iterable[Unit]]
T = TypeVar("T")


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


class _Remembered(NamedTuple):
    release: Release  # held, so that its id cannot be reused while it is cached
    values: dict[str, Any]  # see `remember`


_REMEMBERED: dict[int, _Remembered] = {}  # id(release) -> what was remembered of it
_REMEMBERED_MAX = 200_000  # a long-lived `serve` reloads releases; start over rather than grow


def release_fingerprint(release: Release) -> str:
    """Everything a release's outputs read: the original file (its revision holds status and all
    metadata), each translation's file and the loader's code. The loader works it out once per
    folder, and the release cache keeps it: a rebuild asks for all 10,000 of them, in two processes."""
    return release.fingerprint


def text_files(release: Release, language: str) -> tuple[str, str]:
    """The files the release's text in `language` is made of: the original's revision and, if
    there is one, that language's translation's digest ("" when there is none)."""
    translation = release.translations.get(language)
    return release.revision, translation.digest if translation is not None else ""


def text_fingerprint(release: Release, language: str) -> str:
    """What the release's text in `language` is made of: its files and the code that loads them
    (for outputs in one language, like a PDF)."""
    return fast_key(content_code(), *text_files(release, language))


def remember_across_builds() -> None:
    """Have `remember` keep what it computes: for a process that builds again and again (`serve`)."""
    global _REMEMBERING
    _REMEMBERING = True


_REMEMBERING = False  # a process that builds once would only pay for the bookkeeping (40 ms at 10,000)


def remember(release: Release, key: str, compute: Callable[[], T]) -> T:
    """`compute()`, once per loaded release and `key` once `remember_across_builds()` was called.
    A long-lived `serve` loads a changed folder into a new Release (and keeps the others), so what
    is remembered of the others stays right."""
    if not _REMEMBERING:
        return compute()
    hit = _REMEMBERED.get(id(release))
    if hit is None or hit.release is not release:
        if len(_REMEMBERED) >= _REMEMBERED_MAX:
            _REMEMBERED.clear()
        hit = _REMEMBERED[id(release)] = _Remembered(release, {})
    if key not in hit.values:
        hit.values[key] = compute()
    return cast(T, hit.values[key])
