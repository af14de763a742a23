"""Shared fixtures: a private copy of the sample newsroom and fixed clocks."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from newsroom.config import Settings, load_settings

REPO = Path(__file__).resolve().parents[1]
# After every sample release but the far-future embargoed one.
SAMPLE_NOW = datetime(2024, 12, 20, 14, 0, tzinfo=UTC)
EMBARGOED_SLUG = "future-embargoed-announcement"
EMBARGOED_WORDS = ("Hudson Skyway", "future-embargoed-announcement", "gondola")


@pytest.fixture
def sample_root(tmp_path: Path) -> Path:
    """A writable copy of the repository's sample newsroom (newsroom.toml + releases/)."""
    root = tmp_path / "newsroom"
    root.mkdir()
    shutil.copy(REPO / "newsroom.toml", root / "newsroom.toml")
    shutil.copytree(REPO / "releases", root / "releases")
    return root


@pytest.fixture
def sample_settings(sample_root: Path) -> Settings:
    return load_settings(sample_root, environ={})


@pytest.fixture(autouse=True)
def _no_ambient_now(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Tests choose their own `now`; the environment's must not leak in."""
    monkeypatch.delenv("NEWSROOM_NOW", raising=False)
    yield
