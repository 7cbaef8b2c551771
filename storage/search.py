"""The full-text index of stored versions: one entry per version (its id), the words of its
text. SQLite: an FTS5 table without content (the words only, Porter-stemmed); PostgreSQL: a
``tsvector`` column with a GIN index. Made by revision r0003, written as versions are stored,
made again whole by ``regwatch rebuild``; read by the web app's search."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from sqlalchemy import text

TABLE = "search_index"
_WORD = re.compile(r"\w[\w'.-]*\w|\w", re.UNICODE)
_PHRASE = re.compile(r'"([^"]*)"')


def create(conn: Any) -> None:
    if conn.dialect.name == "sqlite":
        conn.execute(
            text(
                f"CREATE VIRTUAL TABLE IF NOT EXISTS {TABLE} USING fts5("
                "body, content='', tokenize='porter unicode61 remove_diacritics 2')"
            )
        )
        return
    conn.execute(
        text(
            f"CREATE TABLE IF NOT EXISTS {TABLE} ("
            "version INTEGER PRIMARY KEY REFERENCES versions(id), body TSVECTOR NOT NULL)"
        )
    )
    conn.execute(text(f"CREATE INDEX IF NOT EXISTS {TABLE}_body ON {TABLE} USING GIN (body)"))


def drop(conn: Any) -> None:
    conn.execute(text(f"DROP TABLE IF EXISTS {TABLE}"))


def add(conn: Any, version: int, body: str) -> None:
    if not body:
        return
    if conn.dialect.name == "sqlite":
        conn.execute(
            text(f"INSERT INTO {TABLE}(rowid, body) VALUES (:v, :b)"), {"v": version, "b": body}
        )
        return
    conn.execute(
        text(
            f"INSERT INTO {TABLE}(version, body) VALUES (:v, to_tsvector('english', :b)) "
            "ON CONFLICT (version) DO UPDATE SET body = excluded.body"
        ),
        {"v": version, "b": body},
    )


def clear(conn: Any) -> None:
    """Empty the index (a contentless FTS5 table forgets a row only with its old text)."""
    if conn.dialect.name == "sqlite":
        conn.execute(text(f"INSERT INTO {TABLE}({TABLE}) VALUES ('delete-all')"))
    else:
        conn.execute(text(f"DELETE FROM {TABLE}"))


def holds(conn: Any, version: int) -> bool:
    if conn.dialect.name == "sqlite":
        found = conn.execute(text(f"SELECT 1 FROM {TABLE}_docsize WHERE id = :v"), {"v": version})
    else:
        found = conn.execute(text(f"SELECT 1 FROM {TABLE} WHERE version = :v"), {"v": version})
    return found.first() is not None


def count(conn: Any) -> int:
    if conn.dialect.name == "sqlite":  # a contentless table counts its documents here
        found = conn.execute(text(f"SELECT count(*) FROM {TABLE}_docsize")).scalar()
    else:
        found = conn.execute(text(f"SELECT count(*) FROM {TABLE}")).scalar()
    return int(found or 0)


def terms(query: str) -> list[str]:
    """A query as people type it: "quoted phrases" and words, every one required."""
    phrases = [p.strip() for p in _PHRASE.findall(query) if p.strip()]
    rest = _PHRASE.sub(" ", query)
    return phrases + _WORD.findall(rest)


def matching(conn: Any, query: str, limit: int) -> list[int]:
    """The ids of versions whose text has every term of ``query`` (a phrase as a phrase)."""
    wanted = terms(query)
    if not wanted:
        return []
    if conn.dialect.name == "sqlite":
        fts = " AND ".join('"' + " ".join(_WORD.findall(t)) + '"' for t in wanted)
        rows = conn.execute(
            text(f"SELECT rowid FROM {TABLE} WHERE {TABLE} MATCH :q LIMIT :n"),
            {"q": fts, "n": limit},
        )
        return [r[0] for r in rows]
    pg = " ".join('"' + t.replace('"', " ") + '"' if " " in t else t for t in wanted)
    rows = conn.execute(
        text(
            f"SELECT version FROM {TABLE} "
            "WHERE body @@ websearch_to_tsquery('english', :q) LIMIT :n"
        ),
        {"q": pg, "n": limit},
    )
    return [r[0] for r in rows]


def index_all(conn: Any, texts: Iterable[tuple[int, str]]) -> int:
    """Replace the whole index with ``texts`` (version id, its text)."""
    clear(conn)
    done = 0
    for version, body in texts:
        add(conn, version, body)
        done += 1
    return done
