"""Database fixtures for subscriber and delivery tests (see tests/support/delivery.py).

Use in a test module with `pytest_plugins = ["tests.support.delivery_fixtures"]`.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import Engine, text

from newsroom.config import Settings, load_settings
from newsroom.subscribers.db import engine_for, migrate

PG_VARIABLE = "NEWSROOM_TEST_DATABASE_URL"


def _pg_url(schema: str) -> str:
    base = os.environ[PG_VARIABLE]
    joiner = "&" if "?" in base else "?"
    return f"{base}{joiner}options={quote(f'-csearch_path={schema}')}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL to an empty database: a SQLite file, or a PostgreSQL schema of its own."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'var' / 'newsroom.db'}"
        return
    if not os.environ.get(PG_VARIABLE):
        pytest.skip(f"{PG_VARIABLE} is not set")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = engine_for(os.environ[PG_VARIABLE])
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield _pg_url(schema)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """A migrated engine on the test database."""
    engine = engine_for(database_url)
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def db_settings(sample_root: Path, database_url: str) -> Settings:
    """The sample newsroom's settings, pointing at the test database."""
    return load_settings(sample_root, environ={"NEWSROOM_DATABASE_URL": database_url})
