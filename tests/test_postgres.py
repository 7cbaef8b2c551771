"""The pipeline on SQLite and on PostgreSQL: the daily job against the replay server (every
source), run twice (the second adds nothing); a NUL byte in a document's address, one input
error; and the demo, whose digests are byte-identical on both databases. ``-k postgresql``
selects the PostgreSQL pass of the suite."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from conftest import counts, on_store, point_at, run_day

from crawler import config as config_module
from crawler.demo.replay import Corpus, ReplayServer
from crawler.demo.tour import run_demo
from storage import ErrorKind, RunStatus, Store


def test_the_daily_job_stores_every_source_and_a_rerun_adds_nothing(
    store_at, demo_server, tmp_path
):
    config = on_store(
        point_at(config_module.load(None, env={}), demo_server, tmp_path, ecfr=True, bis=True),
        store_at,
    )
    day = date(2026, 10, 5)
    first = run_day(config, day)
    assert first.status is RunStatus.OK, first.errors
    after = counts(config)
    assert after["documents"] and after["versions"]
    again = run_day(config, day)
    assert again.status is RunStatus.OK, again.errors
    assert counts(config)["versions"] == after["versions"]
    assert (tmp_path / "digests" / "2026-10-05.txt").read_text().strip()
    store = Store.open(config.store_url)
    try:  # the full-text index, written as versions were stored (FTS5 / tsvector)
        found = {v.document for v in store.search('"Pars Aero Parts Trading" entity')}
        assert "cfr:15:744:supp-4" in found and "fr:2026-21001" in found
        assert store.search("nowhere-to-be-found-xyzzy") == []
        assert store.index_complete(("section", "appendix", "Rule"))
    finally:
        store.close()


def _digests(folder: Path, server: str) -> dict[str, bytes]:
    """The digests, with the replay server's address (a new port each demo) masked."""
    return {
        p.name: p.read_bytes().replace(server.encode(), b"http://replay")
        for p in sorted((folder / "digests").iterdir())
    }


def test_the_demo_digests_are_byte_identical_on_sqlite_and_postgresql(pg_url, tmp_path):
    base = config_module.load(None, env={})
    on_sqlite = run_demo(base, tmp_path / "sqlite")
    on_postgresql = run_demo(on_store(base, pg_url), tmp_path / "postgresql")
    assert on_postgresql.store.startswith("postgresql+psycopg://")
    assert [d.report.status for d in on_postgresql.days] == [
        d.report.status for d in on_sqlite.days
    ]
    assert on_postgresql.after == on_sqlite.after
    sqlite_digests = _digests(tmp_path / "sqlite", on_sqlite.server)
    assert len(sqlite_digests) == 2 * len(on_sqlite.days)  # .txt and .html per day
    assert _digests(tmp_path / "postgresql", on_postgresql.server) == sqlite_digests


def test_a_nul_byte_in_a_documents_url_is_one_input_error_on_the_run(store_at, tmp_path):
    """The parsers drop control characters from text; what they pass through as is (an
    address) is refused by the store in one line, on both databases alike."""
    corpus = Corpus.demo()
    corpus.documents["2026-21001"]["html_url"] += "\u0000x"
    with ReplayServer(corpus) as server:
        config = on_store(point_at(config_module.load(None, env={}), server, tmp_path), store_at)
        report = run_day(config, date(2026, 10, 5))
    assert report.status is RunStatus.DEGRADED  # the rest was stored
    [error] = report.errors
    assert (error.target, error.kind) == ("fr:2026-21001", ErrorKind.INPUT)
    assert error.message == (
        "fr:2026-21001: a NUL byte in its url: not stored (text may not hold one)"
    )
    assert counts(config)["documents"] >= 1
