import sqlite3

import pytest
from sqlalchemy import create_engine

from crawler.snapshot.rows import text_hash
from storage import NewVersion, Outcome, Store, StoreOpenError, migrate


def version(text: str, run: int, **changes) -> NewVersion:
    tree = f'{{"title":"{text}"}}'.encode()
    values = dict(
        key="fr:2026-1",
        kind="Rule",
        source="federal_register",
        title=text,
        url="https://example.test/1",
        published="2026-10-05",
        meta={},
        raw={"json": b'{"document_number": "2026-1"}' * 10, "xml": tree * 20},
        tree=tree,
        text_hash=text_hash(tree),
        valid_from="2026-10-05",
        fetched_at="2026-10-05T11:00:00+00:00",
        run=run,
    )
    values.update(changes)
    return NewVersion(**values)


@pytest.fixture
def store(tmp_path):
    store = Store.open(tmp_path / "regwatch.db")
    yield store
    store.close()


def test_same_content_twice_is_one_version(store):
    run = store.start_run("daily", "2026-10-05", "2026-10-05T11:00:00+00:00")
    assert store.snapshot(version("Entity List", run)).outcome is Outcome.NEW
    assert store.snapshot(version("Entity List", run)).outcome is Outcome.UNCHANGED
    assert store.counts()["versions"] == 1 and store.counts()["changes"] == 0


def test_a_typography_only_edit_is_kept_as_a_non_substantive_change(store):
    run = store.start_run("daily", "2026-10-05", "2026-10-05T11:00:00+00:00")
    store.snapshot(version("Entity List - China", run))
    result = store.snapshot(version("Entity List \u2014 China", run, substantive=False))
    assert result.outcome is Outcome.CHANGED
    [change] = store.changes_in([run])
    assert change.substantive is False


def test_changed_content_is_a_new_version_and_a_change(store):
    run = store.start_run("daily", "2026-10-05", "2026-10-05T11:00:00+00:00")
    store.snapshot(version("Entity List", run))
    result = store.snapshot(
        version("Entity List; Correction", run, change_stats={"fields": ["title"]})
    )
    assert result.outcome is Outcome.CHANGED
    assert store.latest_version("fr:2026-1").seq == 2
    assert store.changes_in([run])[0].stats == {"fields": ["title"]}


def test_payloads_are_stored_once_compressed_and_read_back(store, tmp_path):
    run = store.start_run("daily", "2026-10-05", "2026-10-05T11:00:00+00:00")
    first = version("A", run)
    store.snapshot(first)
    store.snapshot(version("B", run, raw=first.raw))  # same raw payloads, new tree
    latest = store.latest_version("fr:2026-1")
    assert store.blob(latest.raw_blobs["xml"]) == first.raw["xml"]
    rows = (
        sqlite3.connect(tmp_path / "regwatch.db")
        .execute("select codec, size, length(data), base from blobs")
        .fetchall()
    )
    assert len(rows) == 4  # json, xml, two trees: the shared payloads once
    for codec, size, stored, base in rows:
        assert codec in ("raw", "zstd", "zstd+dict") and stored <= size
        assert (base is not None) == (codec == "zstd+dict")


def test_a_new_version_of_a_large_payload_is_stored_as_a_small_delta(store, tmp_path):
    import random

    rng = random.Random(5)
    vocabulary = ["".join(rng.choices("abcdefghijklmnopqrstuvwxyz", k=7)) for _ in range(3_000)]
    words = [rng.choice(vocabulary) for _ in range(200_000)]
    run = store.start_run("daily", "2026-10-05", "2026-10-05T11:00:00+00:00")
    first = " ".join(words).encode()
    words[123_456] = "CHANGED"
    second = " ".join(words).encode()
    store.snapshot(version("A", run, raw={"xml": first}))
    store.snapshot(version("B", run, raw={"xml": second}))
    sizes = dict(
        sqlite3.connect(tmp_path / "regwatch.db")
        .execute("select size, length(data) from blobs where size > 100000")
        .fetchall()
    )
    assert sizes[len(first)] < len(first) / 3
    assert sizes[len(second)] < 1_000  # a delta against the first version
    fresh = Store.open(tmp_path / "regwatch.db")  # no cache: read through the chain
    assert fresh.blob(fresh.latest_version("fr:2026-1").raw_blobs["xml"]) == second


def test_runs_record_per_source_status_and_errors(store):
    run = store.start_run("daily", "2026-10-05", "2026-10-05T11:00:00+00:00")
    store.source_started(run, "federal_register", "t0", "2026-10-01", "2026-10-05")
    store.record_error(run, "federal_register", "fr:2026-1", "XML truncated", "t1")
    store.source_finished(run, "federal_register", "t2", "degraded", {"error": 1})
    [line] = store.run_sources([run])
    assert (line.status, line.stats) == ("degraded", {"error": 1})
    assert store.errors([run])[0].message == "XML truncated"
    # a document that failed is on the retry list: the window itself was searched
    assert store.last_good_until("federal_register") == "2026-10-05"
    store.source_finished(run, "federal_register", "t3", "failed", {"error": 1})
    assert store.last_good_until("federal_register") is None


def test_a_new_store_is_made_at_alembics_head_and_reopened_without_migrating(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 's.db'}")
    with engine.connect() as conn:  # what opening a new store, then opening it again, applies
        made = migrate.upgrade(conn, "s.db")
        again = migrate.upgrade(conn, "s.db")
    engine.dispose()
    assert made == [s.revision for s in reversed(list(migrate.scripts().walk_revisions()))]
    assert made[-1] == migrate.head() and again == []
    Store.open(tmp_path / "s.db").close()  # and a store opens on it as it is
    with sqlite3.connect(tmp_path / "s.db") as db:
        assert db.execute("select version_num from alembic_version").fetchall() == [
            (migrate.head(),)
        ]


def test_a_store_from_a_newer_regwatch_is_refused(tmp_path):
    Store.open(tmp_path / "s.db").close()
    with sqlite3.connect(tmp_path / "s.db") as conn:
        conn.execute("update alembic_version set version_num = 'r9999'")
    with pytest.raises(StoreOpenError, match="r9999, which this regwatch does not know"):
        Store.open(tmp_path / "s.db")


def test_missing_store_folder_is_a_clear_error(tmp_path):
    with pytest.raises(StoreOpenError, match="does not exist"):
        Store.open(tmp_path / "nope" / "s.db")


def test_store_url_takes_a_sqlite_path_or_a_postgresql_url_never_a_url_as_a_path(tmp_path):
    from crawler import config as config_module
    from crawler.errors import ConfigError

    file = tmp_path / "config.toml"
    file.write_text('[store]\nurl = "data/r.db"\n')
    assert config_module.load(file, env={}).store_url == str(tmp_path / "data" / "r.db")
    file.write_text('[store]\npath = "old.db"\n')  # the old key still reads as url
    assert config_module.load(file, env={}).store_url == str(tmp_path / "old.db")
    url = "postgresql+psycopg://regwatch:secret@db.example.org:5432/regwatch"
    config = config_module.load(file, env={"REGWATCH_STORE__URL": url})
    assert config.store_url == url  # not a file in the config's folder
    assert config.store_label == "postgresql+psycopg://regwatch:***@db.example.org:5432/regwatch"
    file.write_text('[store]\npath = "a.db"\nurl = "b.db"\n')
    with pytest.raises(ConfigError, match="both 'url' and 'path'"):
        config_module.load(file, env={})
    file.write_text('[store]\nurl = "mysql://x@y/z"\n')
    with pytest.raises(ConfigError, match="mysql:// stores are not supported"):
        config_module.load(file, env={})


def test_a_missing_postgresql_store_is_not_made_by_a_command_that_only_reads(pg_url):
    from storage import StoreMissing

    with pytest.raises(StoreMissing, match="no store at postgresql"):
        Store.open(pg_url, create=False)
    Store.open(pg_url).close()
    Store.open(pg_url, create=False).close()
