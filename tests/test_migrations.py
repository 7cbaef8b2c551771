"""Alembic migrations: a new store is made at head with exactly schema.py's shape, on SQLite
and on PostgreSQL; stores written by older regwatch (commit 6b57cc6, and 9e5af47, the main
issue 13 started from) are upgraded in place: their pending hand-made steps, a stamp at
r0001, then the revisions, with every row kept and a new run working on them."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from datetime import date
from pathlib import Path

import pgserver
import pytest
from conftest import ROOT, STRICT, point_at, require, run_day
from sqlalchemy import Engine, create_engine, inspect

from crawler import config as config_module
from storage import RunStatus, Store, migrate, search
from storage.schema import metadata

COMMITS = {
    "6b57cc6": "bis fixes, before the retry list, held fetches and parser versions",
    "9e5af47": "the main issue 13 started from (hand-made migrations 0001 .. 0006)",
}
TABLES = ("documents", "versions", "changes", "blobs", "runs", "run_sources", "links", "outbox")


def shape(url: str) -> dict[str, object]:
    """Tables, columns (name, type, nullable), primary keys, unique keys and indexes."""
    engine = create_engine(url)
    try:
        inspector = inspect(engine)
        out: dict[str, object] = {}
        for table in sorted(inspector.get_table_names()):
            if table in ("alembic_version", "apscheduler_jobs"):
                continue
            columns = {
                c["name"]: (
                    type(c["type"]).__name__.upper().replace("TEXT", "VARCHAR"),
                    c["nullable"],
                )
                for c in inspector.get_columns(table)
            }
            out[table] = (
                columns,
                sorted(inspector.get_pk_constraint(table)["constrained_columns"]),
                sorted(tuple(u["column_names"]) for u in inspector.get_unique_constraints(table)),
                sorted((i["name"], tuple(i["column_names"])) for i in inspector.get_indexes(table)),
            )
        return out
    finally:
        engine.dispose()


def _reference(engine: Engine) -> None:
    """The schema as schema.py states it, with the full-text index (dialect-specific DDL,
    storage/search.py)."""
    metadata.create_all(engine)
    with engine.begin() as conn:
        search.create(conn)
    engine.dispose()


def test_a_new_store_made_by_the_revisions_has_exactly_the_schema_of_schema_py(tmp_path):
    Store.open(tmp_path / "s.db").close()
    engine = create_engine(f"sqlite:///{tmp_path / 'reference.db'}")
    _reference(engine)
    assert shape(f"sqlite:///{tmp_path / 's.db'}") == shape(
        f"sqlite:///{tmp_path / 'reference.db'}"
    )


def test_a_new_store_on_postgresql_has_exactly_the_schema_of_schema_py(pg_url, pg_server):
    Store.open(pg_url).close()
    reference = pgserver.fresh_database(pg_server)
    try:
        _reference(create_engine(reference))
        assert shape(pg_url) == shape(reference)
    finally:
        pgserver.drop_database(reference)
    engine = create_engine(pg_url)
    with engine.connect() as conn:
        assert migrate.current(conn) == migrate.head()
    engine.dispose()


def _history_present(commit: str) -> bool:
    found = subprocess.run(
        ["git", "-C", str(ROOT), "cat-file", "-e", f"{commit}^{{commit}}"],
        capture_output=True,
        check=False,
    )
    return found.returncode == 0


def _old_run(commit: str, folder: Path, server: str) -> Path:
    """The daily job of 2026-10-05 as regwatch at ``commit`` ran it (its own code, from git
    archive, in a process of its own) against the replay server: every source."""
    tree = folder / f"regwatch-{commit}"
    tree.mkdir()
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", commit], capture_output=True, check=True
    )
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive.stdout, check=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGWATCH_")}
    env["PYTHONPATH"] = str(tree)
    store = folder / "store"
    store.mkdir()
    config = store / "regwatch.toml"
    config.write_text(
        '[store]\npath = "regwatch.db"\n[http]\npolite = false\n'
        f'[sources.federal_register]\napi_base = "{server}/api/v1"\nsite_base = "{server}"\n'
        f'[sources.ecfr]\napi_base = "{server}/api/versioner/v1"\nwatches = ["15:744"]\n'
        f'[sources.bis]\nsite_base = "{server}"\n'
    )
    ran = subprocess.run(
        [sys.executable, "-m", "crawler", "--config", str(config), "run", "--date", "2026-10-05"],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert ran.returncode == 0, ran.stderr
    return store / "regwatch.db"


def _rows(db: Path) -> dict[str, object]:
    with sqlite3.connect(db) as conn:
        rows: dict[str, object] = {
            t: conn.execute(f"select count(*) from {t}").fetchone()[0] for t in TABLES
        }
        rows["versions"] = sorted(
            conn.execute("select document, seq, valid_from, text_hash from versions").fetchall()
        )
        return rows


@pytest.mark.parametrize("commit", COMMITS)
def test_a_store_written_by_an_older_regwatch_is_upgraded_in_place(commit, tmp_path, demo_server):
    require(
        _history_present(commit),
        f"git history with commit {commit} ({COMMITS[commit]}) is not in this checkout",
    )
    db = _old_run(commit, tmp_path, demo_server.base)
    with sqlite3.connect(db) as conn:
        legacy = {name for (name,) in conn.execute("select name from schema_migrations")}
    assert "0007_reports_and_alerts" not in legacy  # it has hand-made steps pending
    before = _rows(db)

    Store.open(db).close()  # today's regwatch: pending hand-made steps, stamp, revisions
    assert _rows(db) == before  # every row kept
    with sqlite3.connect(db) as conn:
        assert conn.execute("select version_num from alembic_version").fetchall() == [
            (migrate.head(),)
        ]
    fresh = tmp_path / "fresh.db"
    Store.open(fresh).close()
    assert shape(f"sqlite:///{db}") == shape(f"sqlite:///{fresh}")  # as if made today

    config = point_at(config_module.load(None, env={}), demo_server, db.parent, ecfr=True, bis=True)
    again = run_day(config, date(2026, 10, 5))  # today's run of the same day adds nothing
    assert again.status is RunStatus.OK, again.errors
    assert _rows(db)["versions"] == before["versions"]
    later = run_day(config, date(2026, 10, 9))  # and a later day stores what is new
    assert later.status is RunStatus.OK, later.errors
    store = Store.open(db)
    try:
        assert store.run(later.run).status is RunStatus.OK
        assert store.counts()["versions"] > len(before["versions"])
    finally:
        store.close()


def test_strict_mode_is_what_makes_missing_history_fail(monkeypatch):
    """The skip above goes through ``require``: under REGWATCH_TEST_STRICT=1 it fails."""
    monkeypatch.setenv(STRICT, "1")
    with pytest.raises(pytest.fail.Exception):
        require(False, "no history")
