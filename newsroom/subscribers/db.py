"""Opening the subscribers database: SQLite under var/ by default, PostgreSQL (psycopg 3) at scale.

`open_database(settings)` is the one entry point: it creates the engine and brings the schema up to
date with the Alembic migrations in `migrations/` (so the database is created on first use).

SQLite notes: WAL journal (readers never block the writer), a 30 s busy timeout, foreign keys on, and
every transaction opened with BEGIN IMMEDIATE, so two workers never both read "pending" and then
both write: the second waits for the first's write lock instead of failing half-way.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import Connection, make_url

from newsroom.config import Settings

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# Any constant works; it only has to be the same for every newsroom process migrating one database.
_MIGRATION_LOCK_ID = 7_146_420_501


def open_database(settings: Settings) -> Engine:
    """The engine for settings.database_url, with the schema created or upgraded."""
    engine = engine_for(settings.database_url)
    migrate(engine)
    return engine


def engine_for(url: str, **options: Any) -> Engine:
    """An engine for `url` (sqlite:///path or postgresql://...), configured for the delivery queue."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, **options)
        _configure_sqlite(engine)
        return engine
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return create_engine(parsed, pool_pre_ping=True, **options)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves (see below)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        if connection.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
            connection.exec_driver_sql("BEGIN IMMEDIATE")


def alembic_config() -> Config:
    """Alembic's configuration, built in code: no alembic.ini to find or keep in sync."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def migrate(engine: Engine, revision: str = "head") -> None:
    """Create or upgrade the schema; safe when several processes start at once."""
    config = alembic_config()
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # Serialises concurrent first runs; SQLite's BEGIN IMMEDIATE already does.
            connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _MIGRATION_LOCK_ID})
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
