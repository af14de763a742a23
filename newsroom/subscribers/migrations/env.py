"""Alembic environment: always run from code (`newsroom.subscribers.db.migrate`) with a live connection."""

from __future__ import annotations

from alembic import context

from newsroom.subscribers.store import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through newsroom.subscribers.db.migrate(engine), not the alembic CLI")

context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
