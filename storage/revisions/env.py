"""Alembic's environment for regwatch's store: run programmatically by storage.migrate on the
connection the store opened (no alembic.ini), batch mode on SQLite (ALTER by copy)."""

from __future__ import annotations

from alembic import context

from storage.schema import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    transaction_per_migration=True,
)
with context.begin_transaction():
    context.run_migrations()
