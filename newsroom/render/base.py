"""The contract between renderers and the static-output builder.

A renderer turns the gate's `Published` view into `Unit`s. A unit names the files it produces and a
`key`: a hash of every input it reads, computed cheaply *without* rendering. The builder renders a
unit only when its key differs from the previous build's, which is what makes rebuilds incremental;
`render` must be a picklable top-level function (units run in worker processes on both cores).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from functools import cache
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar, cast

if TYPE_CHECKING:
    from newsroom.content.models import Release


class Artifact(NamedTuple):
    path: str  # relative to the site root, no leading slash, e.g. "ru/releases/nyx/index.html"
    data: bytes


class Unit(NamedTuple):
    """A tuple, not a frozen dataclass: a build makes one per page (27,000 at 10,000 releases),
    and a frozen dataclass's __init__ sets each field through object.__setattr__ (3x slower)."""

    name: str  # stable and unique, e.g. "page:ru:new-york-experience"
    key: str  # hash of all inputs; same key => same artifacts
    render: Callable[..., list[Artifact]]
    args: tuple[Any, ...] = ()
    heavy: bool = False  # PDFs: run in the long-lived PDF worker pool
    # Units of one group (a release's pages, short links, PDFs) are handed to the same worker, so a
    # worker touches fewer releases and copies less of the parent's memory (fork copy-on-write).
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


def fast_key(*parts: str) -> str:
    """`digest` for flat strings: one join and one hash (unit keys are computed for every page of
    every build, so they must cost microseconds). Parts must not contain the unit separator."""
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:24]


class _Prints(NamedTuple):
    release: Release  # held, so that its id cannot be reused while it is cached
    whole: str  # the fingerprint of the release
    texts: dict[str, str]  # language -> the fingerprint of its translation
    names_files: bool  # it shows files from its folder (images, attachments)
    remembered: dict[str, Any]  # see `remember`


_FINGERPRINTS: dict[int, _Prints] = {}  # id(release) -> what is known of it
_FINGERPRINTS_MAX = 200_000  # a long-lived `serve` reloads releases; start over rather than grow


def release_fingerprint(release: Release) -> str:
    """Everything a release's outputs read: the original file (its revision holds status and all
    metadata) and each translation's text. Computed once per loaded release: the site, feed, PDF and
    SMS units of one build all ask for it."""
    return _fingerprints(release).whole


def names_files(release: Release) -> bool:
    """Whether the release shows files from its folder: images or attachments in its front matter,
    or images in a body (most releases have none, and their units need not look at the disk)."""
    return _fingerprints(release).names_files


def text_fingerprint(release: Release, language: str) -> str:
    """What the release's text in `language` is made of: the original file and, if there is one,
    that language's translation (for outputs in one language, like a PDF)."""
    texts = _fingerprints(release).texts
    return fast_key(_loader_code(), release.revision, texts.get(language, ""))


def remember(release: Release, key: str, compute: Callable[[], T]) -> T:
    """`compute()`, once per loaded release and `key`. A long-lived `serve` loads a changed folder
    into a new Release (and keeps the others), so what is remembered of the others stays right."""
    remembered = _fingerprints(release).remembered
    if key not in remembered:
        remembered[key] = compute()
    return cast(T, remembered[key])


@cache
def _loader_code() -> str:
    """The content package's code: a release is what the loader makes of its files."""
    from newsroom.content.memo import CODE_DIR  # the folder the release cache's generation reads

    return digest(*(path.read_bytes() for path in sorted(CODE_DIR.glob("*.py"))))


def _fingerprints(release: Release) -> _Prints:
    hit = _FINGERPRINTS.get(id(release))
    if hit is not None and hit[0] is release:
        return hit
    if len(_FINGERPRINTS) >= _FINGERPRINTS_MAX:
        _FINGERPRINTS.clear()
    # the files' bytes are all a release is made of (the loader hashed them); the loader's code says how
    texts = {language: translation.digest for language, translation in sorted(release.translations.items())}
    shows = bool(release.meta.images or release.meta.attachments) or release.body_images
    entry = _Prints(release, fast_key(_loader_code(), release.revision, *texts.values()), texts, shows, {})
    _FINGERPRINTS[id(release)] = entry
    return entry
