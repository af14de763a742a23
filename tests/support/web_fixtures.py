"""Fixtures for web-app tests; a test module asks for them with
`pytest_plugins = ["tests.support.web_fixtures"]`."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.web_support import postgres_database


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Each test's own database: a SQLite file, or a fresh PostgreSQL database dropped afterwards."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'subscribers.db'}"
        return
    if not os.environ.get("NEWSROOM_TEST_DATABASE_URL"):
        pytest.skip("NEWSROOM_TEST_DATABASE_URL is not set")
    with postgres_database() as url:
        yield url
