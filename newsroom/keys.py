"""Quick content keys, shared by the loader (a release's fingerprint) and the renderers (unit keys)."""

from __future__ import annotations

import hashlib


def fast_key(*parts: str) -> str:
    """A hash of flat strings: one join and one hash (unit keys are computed for every page of every
    build, so they must cost microseconds). Parts must not contain the unit separator."""
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:24]
