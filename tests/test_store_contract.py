"""The store's contract under concurrency and crashes, through its interface only (no SQL,
no SQLite internals): each test runs on SQLite and on PostgreSQL (``store_at``). Two writers
of one document, first opens racing in migrations, two senders of one outbox, locks that die
with their holder (flock files; advisory locks), runs left ``running`` by a killed process,
the retry list, ordering by bytes whatever the collation, NUL bytes refused in one line."""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
import signal

import pytest
from sqlalchemy.exc import SQLAlchemyError
from test_store import version

from storage import (
    AlertKind,
    ErrorKind,
    LockBusy,
    NewAlert,
    OutboxRow,
    OutboxState,
    Outcome,
    RunStatus,
    SourceState,
    Store,
    StoreInputError,
)

CTX = multiprocessing.get_context("spawn")  # a clean interpreter, as a second regwatch is


def _store_same(path: str, barrier, results) -> None:
    store = Store.open(path)
    run = store.start_run("crawl", None, "2026-10-05T11:00:00+00:00")
    barrier.wait()
    results.put(store.snapshot(version("Entity List", run)).outcome.value)
    store.close()


def _open(path: str, barrier, results) -> None:
    barrier.wait()
    try:
        Store.open(path).close()
        results.put("ok")
    except Exception as exc:  # reported to the test, which fails on it
        results.put(f"{type(exc).__name__}: {exc}")


def _hold_then_die(path: str, name: str, ready) -> None:
    store = Store.open(path)
    store.lock(name)
    ready.set()
    signal.pause()


def _claim_all(path: str, holder: str, barrier, results) -> None:
    store = Store.open(path)
    with store.lock(holder):
        barrier.wait()
        mine = [
            row.id
            for row in store.outbox_due("2026-10-05T12:00:00+00:00")
            if store.outbox_claim(row, holder)
        ]
        barrier.wait()  # both senders alive until both are done (a dead one's claims are due)
    results.put(mine)
    store.close()


def _together(target, args_list) -> list:
    results = CTX.Queue()
    barrier = CTX.Barrier(len(args_list))
    procs = [CTX.Process(target=target, args=(*args, barrier, results)) for args in args_list]
    for proc in procs:
        proc.start()
    got = [results.get(timeout=60) for _ in procs]
    for proc in procs:
        proc.join(timeout=60)
        assert proc.exitcode == 0
    return got


def test_two_writers_storing_the_same_new_document_store_it_once(store_at: str) -> None:
    path = store_at
    Store.open(path).close()
    outcomes = _together(_store_same, [(path,), (path,), (path,)])
    assert sorted(outcomes) == ["new", "unchanged", "unchanged"]
    store = Store.open(path)
    assert len(store.history("fr:2026-1")) == 1


def test_first_opens_racing_on_a_fresh_store_migrate_it_once(store_at: str) -> None:
    path = store_at
    assert _together(_open, [(path,)] * 4) == ["ok"] * 4
    store = Store.open(path)
    run = store.start_run("daily", "2026-10-05", "t0")  # the schema is whole
    assert store.run(run).status == RunStatus.RUNNING


def test_a_lock_is_exclusive_and_dies_with_its_holder(store_at: str) -> None:
    path = store_at
    store = Store.open(path)
    ready = CTX.Event()
    holder = CTX.Process(target=_hold_then_die, args=(path, "source:ecfr", ready))
    holder.start()
    assert ready.wait(30)
    with pytest.raises(LockBusy):
        store.lock("source:ecfr", wait=0.2)
    assert store.is_locked("source:ecfr")
    os.kill(holder.pid, signal.SIGKILL)
    holder.join()
    with store.lock("source:ecfr", wait=5):
        assert store.is_locked("source:ecfr")
    assert not store.is_locked("source:ecfr")


def test_a_run_whose_process_died_is_closed_as_interrupted_a_live_one_is_not(store_at):
    path = store_at
    store = Store.open(path)
    dead = store.start_run("daily", "2026-10-05", "t0")
    store.source_started(dead, "email", "t0", None, "2026-10-05")
    alive = store.start_run("daily", "2026-10-05", "t1")
    ready = CTX.Event()
    holder = CTX.Process(target=_hold_then_die, args=(path, f"run:{alive}", ready))
    holder.start()
    assert ready.wait(30)
    try:
        assert store.close_interrupted("t2") == [dead]
        assert store.run(dead).status == RunStatus.INTERRUPTED
        assert store.run_sources([dead])[0].status == RunStatus.INTERRUPTED  # not "running"
        assert store.run(alive).status == RunStatus.RUNNING
    finally:
        os.kill(holder.pid, signal.SIGKILL)
        holder.join()
    assert store.close_interrupted("t3") == [alive]


def test_two_senders_never_claim_the_same_message(store_at: str) -> None:
    path = store_at
    store = Store.open(path)
    for n in range(20):
        store.outbox_add(
            f"2026-10-05/s{n}", "email", "a@example.com", f"<{n}@x>", "s", b"m", "2026-10-05"
        )
    claimed = _together(_claim_all, [(path, "send:a"), (path, "send:b")])
    assert sorted(claimed[0] + claimed[1]) == sorted(r.id for r in store.outbox())
    # both senders are gone: what they claimed and did not mark is due again
    assert len(store.outbox_due("2026-10-05T12:00:00+00:00")) == 20


def test_a_message_claimed_by_a_live_sender_is_not_due_and_keeps_its_message_id(store_at):
    store = Store.open(store_at)
    store.outbox_add("2026-10-05/all", "email", "a@example.com", "<m@x>", "s", b"m", "t")
    [row] = store.outbox_due("t")
    with store.lock("send:me"):
        assert store.outbox_claim(row, "send:me")
        assert not store.outbox_claim(row, "send:other")  # changed under it: refused
        assert store.outbox_due("t") == []
    [again] = store.outbox_due("t")  # its sender died before marking it
    assert again.status is OutboxState.SENDING and again.message_id == "<m@x>"
    assert store.outbox_claim(again, "send:next")


def test_queuing_a_digest_twice_is_a_no_op(store_at):
    store = Store.open(store_at)
    args = ("2026-10-05/all", "email", "a@example.com", "<m@x>", "s", b"m", "t")
    assert store.outbox_add(*args)
    assert not store.outbox_add(*args)
    assert len(store.outbox()) == 1


def test_a_failed_document_stays_on_the_retry_list_until_stored(store_at):
    store = Store.open(store_at)
    run = store.start_run("daily", "2026-10-05", "t0")
    store.retry_failed(run, "federal_register", "fr:2026-1", ErrorKind.INPUT, "truncated", "t1")
    store.retry_failed(run, "federal_register", "fr:2026-1", ErrorKind.BUG, "KeyError", "t2")
    [row] = store.retry_list()
    assert (row.target, row.attempts, row.first_failed) == ("fr:2026-1", 2, "t1")
    assert row.kind is ErrorKind.BUG
    assert [e.kind for e in store.errors([run])] == ["input", "bug"]
    assert store.snapshot(version("Entity List", run)).outcome is Outcome.NEW
    store.retry_done(["fr:2026-1"])
    assert store.retry_list() == []


def test_a_full_disk_leaves_nothing_half_written_and_the_store_works_after(small_disk):
    store = Store.open(small_disk / "s.db")
    run = store.start_run("daily", "2026-10-05", "t0")
    store.snapshot(version("small", run))
    big = version("big", run, raw={"xml": os.urandom(12_000_000)}, valid_from="2026-10-06")
    with pytest.raises(SQLAlchemyError, match="disk is full"):
        store.snapshot(big)
    assert [v.valid_from for v in store.history("fr:2026-1")] == ["2026-10-05"]
    smaller = version("smaller", run, raw={"xml": os.urandom(1_000_000)}, valid_from="2026-10-06")
    assert store.snapshot(smaller).outcome is Outcome.CHANGED  # what fits is stored whole
    store.close()


def test_a_corrected_revision_is_its_own_message_and_rows_are_typed(store_at):
    store = Store.open(store_at)
    args = ("2026-10-05/all", "email", "a@example.com", "<m@x>", "s", b"m", "t")
    assert store.outbox_add(*args)
    assert store.outbox_add(*args, revision=2, degraded=False)  # keyed by revision too
    latest = store.outbox_latest("2026-10-05/all", "email", "a@example.com")
    assert isinstance(latest, OutboxRow) and latest.revision == 2
    assert latest.status is OutboxState.PENDING and latest.degraded is False
    run = store.start_run("daily", "2026-10-05", "t0")
    store.source_started(run, "bis", "t0", None, "2026-10-05")
    assert store.run(run).status is RunStatus.RUNNING
    assert store.run_sources([run])[0].status is SourceState.RUNNING


def test_keys_sources_and_targets_are_ordered_by_bytes_whatever_the_collation(store_at):
    store = Store.open(store_at)
    run = store.start_run("daily", "2026-10-05", "t0")
    keys = ["fr:20261", "fr:2026-1a", "fr:2026-10", "fr:B", "fr:a"]
    for key in keys:
        store.snapshot(version(key, run, key=key))
        store.retry_failed(run, "federal_register", key, ErrorKind.INPUT, "x", "t1")
    for source in ("bis", "Zeta", "ecfr"):
        store.source_started(run, source, "t0", None, None)
    assert store.keys("fr:") == sorted(keys)  # Python sorts str by code point, as bytes
    assert [d.key for d in store.documents(prefix="fr:")] == sorted(keys)
    assert [r.target for r in store.retry_list()] == sorted(keys)
    assert [r.source for r in store.run_sources([run])] == ["Zeta", "bis", "ecfr"]


def test_a_nul_byte_in_text_is_refused_in_one_line_naming_the_document(store_at):
    store = Store.open(store_at)
    run = store.start_run("daily", "2026-10-05", "t0")
    with pytest.raises(StoreInputError) as refused:
        store.snapshot(version("Entity\x00List", run))
    assert (
        str(refused.value)
        == "fr:2026-1: a NUL byte in its title: not stored (text may not hold one)"
    )
    store.record_error(run, "federal_register", "fr:2026-1", "bad title Entity\x00List", "t1")
    assert store.errors([run])[0].message == "bad title Entity\\x00List"
    assert store.snapshot(version("Entity List", run)).outcome is Outcome.NEW  # store works on


def test_keeping_an_alert_twice_in_a_day_keeps_it_once(store_at):
    store = Store.open(store_at)
    run = store.start_run("daily", "2026-10-06", "t0")
    new = NewAlert(
        AlertKind.SOURCE_MOVED, "bis", "bis:/a", "source moved: /a", "2026-10-06", "t1", run
    )
    assert store.record_alert(new)
    assert not store.record_alert(new)  # the same kind, target and day
    assert store.record_alert(dataclasses.replace(new, day="2026-10-07"))
    assert [a.day for a in store.alerts_of_run(run)] == ["2026-10-06", "2026-10-07"]
