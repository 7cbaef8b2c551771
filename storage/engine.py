"""Where a store lives: a SQLite file (a path) or a PostgreSQL database (a
``postgresql+psycopg://`` URL). One engine and one lock backend per store; what differs
between the two databases is decided here and nowhere else."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.exc import ArgumentError

from storage.locks import AdvisoryLocks, FileLocks, Locks

POSTGRESQL = "postgresql+psycopg"


class TargetError(ValueError):
    """A store address that is neither a SQLite path nor a PostgreSQL URL regwatch uses."""


@dataclass(frozen=True)
class Target:
    """A store address: ``path`` for SQLite, ``url`` for PostgreSQL."""

    path: Path | None = None
    url: str | None = None

    @property
    def is_sqlite(self) -> bool:
        return self.path is not None

    def __str__(self) -> str:
        """For messages: the path, or the URL without its password."""
        if self.path is not None:
            return str(self.path)
        return make_url(str(self.url)).render_as_string(hide_password=True)


def is_url(text: str | Path) -> bool:
    return isinstance(text, str) and "://" in text


def target(where: str | Path) -> Target:
    """A path (SQLite, as it has always been) or a URL: only ``postgresql+psycopg://`` (and
    ``sqlite:///PATH``) are taken; any other URL is refused rather than read as a path."""
    if not is_url(where):
        return Target(path=Path(where))
    try:
        url = make_url(str(where))
    except ArgumentError:
        raise TargetError(f"{where!r} is not a database URL") from None
    if url.drivername == "sqlite" and url.database:
        return Target(path=Path(url.database))
    if url.drivername in (POSTGRESQL, "postgresql"):
        return Target(url=url.set(drivername=POSTGRESQL).render_as_string(hide_password=False))
    raise TargetError(
        f"{url.drivername}:// stores are not supported: give a SQLite path or a "
        f"{POSTGRESQL}://user@host/database URL"
    )


def make_engine(where: Target, readonly: bool = False) -> tuple[Engine, Locks]:
    """The engine and locks of ``where``; ``readonly``: every connection refuses writes
    (SQLite ``query_only``, PostgreSQL read-only transactions), whatever the code asks."""
    if where.path is not None:
        engine = create_engine(f"sqlite:///{where.path}")
        event.listen(engine, "connect", _sqlite_pragmas)
        if readonly:
            event.listen(engine, "connect", _sqlite_query_only)
        event.listen(engine, "begin", _sqlite_begin)
        return engine, FileLocks(where.path.with_name(where.path.name + ".locks"))
    url = str(where.url)
    options = {"options": "-c default_transaction_read_only=on"} if readonly else {}
    engine = create_engine(url, pool_pre_ping=True, connect_args=options)
    return engine, AdvisoryLocks(lambda: _pg_connect(url))


def first_line(exc: BaseException) -> str:
    """An error as one line (a database driver's first line, not its SQL or parameters)."""
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0][:200] if text else type(exc).__name__


def _pg_connect(url: str) -> Any:
    """A connection of its own (autocommit), outside the engine's pool."""
    import psycopg

    conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        return psycopg.connect(conninfo, autocommit=True)
    except psycopg.OperationalError as exc:  # one line, as any OSError is reported
        raise ConnectionError(first_line(exc)) from None


def _sqlite_begin(conn: Any) -> None:
    """pysqlite's own BEGIN is disabled (see _sqlite_pragmas): write transactions start
    with BEGIN IMMEDIATE, reads with a plain (deferred) BEGIN."""
    immediate = conn.get_execution_options().get("immediate")
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _sqlite_query_only(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.execute("PRAGMA query_only=ON")


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.isolation_level = None  # regwatch emits BEGIN itself (_sqlite_begin)
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()
