"""Named migrations, applied in order when a store is opened.

Each migration is a function over a connection, registered under a name that never changes.
``0001_initial`` creates the tables of schema.py; a later migration that alters a table must
also update schema.py and be written so that it is a no-op on a store 0001 just created
(check before ALTER), since 0001 always creates the current shape.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import Connection, inspect, select, text

from storage.schema import held_fetches, metadata, redlined, retries, schema_migrations

Migration = Callable[[Connection], None]
MIGRATIONS: list[tuple[str, Migration]] = []


def migration(name: str) -> Callable[[Migration], Migration]:
    def register(fn: Migration) -> Migration:
        MIGRATIONS.append((name, fn))
        return fn

    return register


@migration("0001_initial")
def _initial(conn: Connection) -> None:
    metadata.create_all(conn, checkfirst=True)


@migration("0002_blob_bases")
def _blob_bases(conn: Connection) -> None:
    columns = {c["name"] for c in inspect(conn).get_columns("blobs")}
    if "base" not in columns:
        conn.execute(text("ALTER TABLE blobs ADD COLUMN base VARCHAR(64)"))


@migration("0003_outbox_messages")
def _outbox_messages(conn: Connection) -> None:
    columns = {c["name"] for c in inspect(conn).get_columns("outbox")}
    for name, kind in (
        ("message_blob", "VARCHAR(64)"),
        ("subject", "TEXT"),
        ("last_error", "TEXT"),
    ):
        if name not in columns:
            conn.execute(text(f"ALTER TABLE outbox ADD COLUMN {name} {kind}"))


@migration("0004_failures_and_revisions")
def _failures_and_revisions(conn: Connection) -> None:
    """Error kinds, the retry list, redlined rules, digest revisions and outbox claims."""
    _add_columns(conn, "run_errors", (("kind", "VARCHAR NOT NULL DEFAULT 'input'"),))
    _add_columns(
        conn,
        "outbox",
        (
            ("revision", "INTEGER NOT NULL DEFAULT 1"),
            ("degraded", "BOOLEAN NOT NULL DEFAULT 0"),
            ("fingerprint", "VARCHAR(64)"),
            ("claimed_by", "TEXT"),
        ),
    )
    metadata.create_all(conn, tables=[retries, redlined], checkfirst=True)


def _add_columns(conn: Connection, table: str, columns: tuple[tuple[str, str], ...]) -> None:
    present = {c["name"] for c in inspect(conn).get_columns(table)}
    for name, kind in columns:
        if name not in present:
            conn.execute(text(f"ALTER TABLE {table} ADD COLUMN {name} {kind}"))


@migration("0005_held_fetches")
def _held_fetches(conn: Connection) -> None:
    """Implausible eCFR fetches kept apart until confirmed (issue 11)."""
    metadata.create_all(conn, tables=[held_fetches], checkfirst=True)


@migration("0006_parser_version")
def _parser_version(conn: Connection) -> None:
    """The parser version that made each stored tree; trees stored before are version 1."""
    _add_columns(conn, "versions", (("parser_version", "INTEGER NOT NULL DEFAULT 1"),))


def pending(conn: Connection) -> list[str]:
    if not inspect(conn).has_table("schema_migrations"):
        return [name for name, _ in MIGRATIONS]
    done = set(conn.scalars(select(schema_migrations.c.name)))
    return [name for name, _ in MIGRATIONS if name not in done]


def apply(conn: Connection) -> list[str]:
    """Apply the pending migrations in one transaction each; returns their names."""
    todo = pending(conn)
    for name, fn in MIGRATIONS:
        if name in todo:
            fn(conn)
            schema_migrations.create(conn, checkfirst=True)
            conn.execute(
                schema_migrations.insert().values(
                    name=name, applied_at=datetime.now(UTC).isoformat(timespec="seconds")
                )
            )
            conn.commit()
    return todo


def known_names() -> set[str]:
    return {name for name, _ in MIGRATIONS}
