"""The hand-made migrations regwatch used before Alembic (0001_initial .. 0007), kept only to
bring a store made then up to Alembic's first revision (r0001), where ``storage.migrate``
stamps it. Each step works on the frozen tables of r0001, never on schema.py (which moves on
with later revisions), and checks before it alters, as it always did."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Column, Connection, MetaData, String, Table, inspect, select, text

from storage.revisions.versions import r0001_base

Step = Callable[[Connection, MetaData], None]
STEPS: list[tuple[str, Step]] = []

# the hand-made bookkeeping table, dropped once the store is stamped with Alembic's revision
schema_migrations = Table(
    "schema_migrations",
    MetaData(),
    Column("name", String, primary_key=True),
    Column("applied_at", String, nullable=False),
)


def step(name: str) -> Callable[[Step], Step]:
    def register(fn: Step) -> Step:
        STEPS.append((name, fn))
        return fn

    return register


def _add_columns(conn: Connection, table: str, columns: tuple[tuple[str, str], ...]) -> None:
    present = {c["name"] for c in inspect(conn).get_columns(table)}
    for name, kind in columns:
        if name not in present:
            conn.execute(text(f"ALTER TABLE {table} ADD COLUMN {name} {kind}"))


def _create(conn: Connection, frozen: MetaData, *names: str) -> None:
    frozen.create_all(conn, tables=[frozen.tables[n] for n in names], checkfirst=True)


@step("0001_initial")
def _initial(conn: Connection, frozen: MetaData) -> None:
    frozen.create_all(conn, checkfirst=True)


@step("0002_blob_bases")
def _blob_bases(conn: Connection, frozen: MetaData) -> None:
    _add_columns(conn, "blobs", (("base", "VARCHAR(64)"),))


@step("0003_outbox_messages")
def _outbox_messages(conn: Connection, frozen: MetaData) -> None:
    _add_columns(
        conn,
        "outbox",
        (("message_blob", "VARCHAR(64)"), ("subject", "TEXT"), ("last_error", "TEXT")),
    )


@step("0004_failures_and_revisions")
def _failures_and_revisions(conn: Connection, frozen: MetaData) -> None:
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
    _create(conn, frozen, "retries", "redlined")


@step("0005_held_fetches")
def _held_fetches(conn: Connection, frozen: MetaData) -> None:
    """Implausible eCFR fetches kept apart until confirmed (issue 11)."""
    _create(conn, frozen, "held_fetches")


@step("0006_parser_version")
def _parser_version(conn: Connection, frozen: MetaData) -> None:
    """The parser version that made each stored tree; trees stored before are version 1."""
    _add_columns(conn, "versions", (("parser_version", "INTEGER NOT NULL DEFAULT 1"),))


@step("0007_reports_and_alerts")
def _reports_and_alerts(conn: Connection, frozen: MetaData) -> None:
    """The day's report kept once per revision, and alerts as records (issue 13)."""
    _create(conn, frozen, "reports", "alerts")


def is_legacy(conn: Connection) -> bool:
    return inspect(conn).has_table("schema_migrations")


def applied(conn: Connection) -> set[str]:
    return set(conn.scalars(select(schema_migrations.c.name)))


def known_names() -> set[str]:
    return {name for name, _ in STEPS}


def bring_up(conn: Connection) -> list[str]:
    """Apply the pending hand-made steps (one transaction in all, with the caller's), then
    drop their bookkeeping table; returns the names applied. The caller stamps r0001."""
    done = applied(conn)
    frozen = r0001_base.frozen()
    todo = [(name, fn) for name, fn in STEPS if name not in done]
    for _, fn in todo:
        fn(conn, frozen)
    schema_migrations.drop(conn)
    return [name for name, _ in todo]
