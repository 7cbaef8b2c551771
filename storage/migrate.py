"""Alembic, run on open: a new store is created at the head revision, an older one upgraded in
place; a store made before Alembic gets its pending hand-made steps (storage.legacy) and is
stamped at r0001 first. The scripts live in storage/revisions/ (shipped in the wheel), so users
need no alembic.ini. The caller holds the store's ``migrations`` lock."""

from __future__ import annotations

import functools
import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

from storage import legacy

SCRIPTS = Path(__file__).resolve().parent / "revisions"
LEGACY_REVISION = "r0001"  # where the hand-made migrations (0001 .. 0007) leave a store

logging.getLogger("alembic").setLevel(logging.WARNING)  # no INFO lines in regwatch's output


class MigrationError(Exception):
    """The store cannot be brought to this regwatch's schema (one line)."""


@functools.cache
def scripts() -> ScriptDirectory:
    return ScriptDirectory(str(SCRIPTS))


def head() -> str:
    found = scripts().get_current_head()
    assert found is not None
    return found


def current(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


def up_to_date(conn: Connection, revision: str | None) -> bool:
    """Whether a store at ``revision`` (``current(conn)``) is at this regwatch's head already."""
    try:
        return revision == head() and not legacy.is_legacy(conn)
    finally:
        conn.rollback()


def upgrade(conn: Connection, where: str) -> list[str]:
    """Bring the store to head; returns what was applied (legacy step names, revisions)."""
    done: list[str] = []
    if legacy.is_legacy(conn):
        unknown = legacy.applied(conn) - legacy.known_names()
        if unknown:
            raise MigrationError(
                f"{where} has migrations this regwatch does not know ({sorted(unknown)[0]}): "
                "upgrade regwatch"
            )
        done += legacy.bring_up(conn)
        MigrationContext.configure(conn).stamp(scripts(), LEGACY_REVISION)
        conn.commit()
    before = current(conn)
    conn.rollback()
    if before is not None and before not in {s.revision for s in scripts().walk_revisions()}:
        raise MigrationError(
            f"{where} is at schema revision {before}, which this regwatch does not know: "
            "upgrade regwatch"
        )
    if before == head():
        return done
    config = Config()
    config.set_main_option("script_location", str(SCRIPTS))
    config.attributes["connection"] = conn
    command.upgrade(config, "head")
    conn.commit()
    revisions = [s.revision for s in scripts().walk_revisions(base=before or "base")]
    return done + [r for r in reversed(revisions) if r != before]
