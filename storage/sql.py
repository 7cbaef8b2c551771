"""The few SQL constructs that differ between SQLite and PostgreSQL, chosen by the
connection's dialect: upserts (INSERT .. ON CONFLICT) and byte-order sorting."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, String, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement


def insert(conn: Connection, table: Table) -> Any:
    """``INSERT`` with ``on_conflict_do_nothing`` / ``on_conflict_do_update`` for the
    connection's database (both dialects spell them the same)."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


class bytewise(FunctionElement[str]):  # lower case: it reads as SQL, ORDER BY bytewise(key)
    """A text column sorted by its bytes (code points), whatever the database's collation:
    as is on SQLite (BINARY is its default), ``COLLATE "C"`` on PostgreSQL, so that both
    order keys, sources and targets the same."""

    type = String()
    name = "bytewise"
    inherit_cache = True


@compiles(bytewise)
def _bytewise_default(element: bytewise, compiler: Any, **kw: Any) -> str:
    return str(compiler.process(element.clauses, **kw))


@compiles(bytewise, "postgresql")
def _bytewise_postgresql(element: bytewise, compiler: Any, **kw: Any) -> str:
    return f'({compiler.process(element.clauses, **kw)}) COLLATE "C"'
