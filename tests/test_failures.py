"""Every failure is data: a document that fails is an error row that says whose fault it
was, goes on the retry list and into every digest until a later run stores it, while the
search window moves on; a regwatch bug is told apart from bad input; a full disk is one line
and a rerun converges."""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import pytest
from conftest import free_port, mailing, point_at, run_day
from crashes import SmallRun, state
from scrapy.http import Request, TextResponse

from crawler import config as config_module
from crawler.demo.replay import Corpus, Fault, ReplayServer
from crawler.fetch import pipelines
from crawler.fetch.items import FetchedDocument
from crawler.snapshot import federal_register as fr_snapshot
from storage import ErrorKind, RunStatus, Store

MON, TUE = date(2026, 10, 5), date(2026, 10, 6)


def test_a_failed_document_is_retried_by_every_run_and_shown_until_stored(tmp_path):
    fault = Fault(r"/2026-21001\.xml$", truncate=900)
    with ReplayServer(Corpus.demo(), faults=[fault]) as server:
        config = point_at(config_module.load(None, env={}), server, tmp_path)
        assert run_day(config, MON).status == "degraded"
        store = Store.open(config.store_path)
        [row] = store.retry_list()
        assert (row.target, row.kind, row.attempts) == ("fr:2026-21001", "input", 1)
        monday = (config.digest_dir / "2026-10-05.txt").read_text()
        assert "!! FR Doc. 2026-21001 not stored yet (failed once since 2026-10-05" in monday
        assert store.last_good_until("federal_register") == "2026-10-05"  # the window moved on
        server.faults.clear()
        report = run_day(config, TUE)
        assert report.ok, report.errors
        assert store.latest_version("fr:2026-21001") is not None  # fetched from the retry list
        assert store.retry_list() == []
        assert "not stored yet" not in (config.digest_dir / "2026-10-06.txt").read_text()
        asked = [path for path, _ in server.requests]
        assert any(path.endswith("/documents/2026-21001.json") for path in asked)


def _pipeline(tmp_path: Path) -> pipelines.StorePipeline:
    """The pipeline of a crawl, on a real store, outside a Scrapy process."""
    config = config_module.load(None, env={})
    config = config_module.from_dict({**config_module.to_dict(config), "root": str(tmp_path)})
    store = Store.open(config.store_path)
    run = store.start_run("daily", "2026-10-05", "2026-10-05T11:30:00+00:00")
    store.source_started(run, "federal_register", "t0", "2026-10-05", "2026-10-05")
    store.close()
    crawler = SimpleNamespace(
        settings=_Settings(REGWATCH_CONFIG=config, REGWATCH_RUN=run, REGWATCH_NOW="2026-10-05"),
        spider=SimpleNamespace(name="federal_register"),
        engine=None,
    )
    pipeline = pipelines.StorePipeline(crawler)
    pipeline.open_spider()
    return pipeline


class _Settings(dict):
    def getint(self, key: str) -> int:
        return int(self[key])


def _document(number: str, json: bytes) -> FetchedDocument:
    corpus = Corpus.demo()
    return FetchedDocument(
        "federal_register", number, "u", json, "x", corpus.xml[number], "2026-10-05"
    )


def test_a_bug_while_reading_is_recorded_as_a_bug_not_as_bad_input(tmp_path, monkeypatch):
    pipeline = _pipeline(tmp_path)
    good = Corpus.demo().documents["2026-21001"]

    def broken(*_args, **_kwargs):
        raise KeyError("effective_on")

    monkeypatch.setattr(fr_snapshot, "parse_document", broken)
    pipeline.process_item(_document("2026-21001", good))
    monkeypatch.undo()
    pipeline.process_item(_document("2026-21002", b'{"results": []}'))  # not a document
    pipeline.close_spider()
    store = Store.open(pipeline.config.store_path)
    bug, bad = store.errors([pipeline.run])
    assert (bug.target, bug.kind) == ("fr:2026-21001", ErrorKind.BUG)
    assert bug.message.startswith("regwatch failed while reading fr:2026-21001: KeyError")
    assert bug.message.endswith("(a regwatch bug: rerun with --verbose for the traceback)")
    assert (bad.target, bad.kind) == ("fr:2026-21002", ErrorKind.INPUT)
    assert "regwatch bug" not in bad.message
    assert {r.target for r in store.retry_list()} == {"fr:2026-21001", "fr:2026-21002"}
    assert store.run_sources([pipeline.run])[0].status == "degraded"


def test_an_exception_in_a_spider_callback_becomes_a_bug_row_for_its_document():
    spider = SimpleNamespace(name="federal_register")
    middleware = pipelines.CallbackErrors(SimpleNamespace(spider=spider))
    request = Request("http://127.0.0.1/api/v1/documents/2026-1.json", meta={"target": "fr:2026-1"})
    response = TextResponse(request.url, body=b"{}", request=request)
    [item] = middleware.process_spider_exception(response, TypeError("'int' is not iterable"))
    assert (item.target, item.kind, item.fatal) == ("fr:2026-1", ErrorKind.BUG, False)
    assert "TypeError: 'int' is not iterable (a regwatch bug" in item.message


def test_a_full_disk_is_one_line_and_the_rerun_converges(small_disk, tmp_path):
    with ReplayServer(Corpus.demo()) as server:
        clean = SmallRun(tmp_path / "clean", server.base, free_port())  # no SMTP: mail waits
        full = SmallRun(small_disk / "run", server.base, clean.smtp_port)
        for run in (clean, full):
            assert run.run(day="2026-10-05", fork=True) in (0, 3)
        assert clean.run(day="2026-10-06", fork=True) in (0, 3)
        filler = small_disk / "filler"
        filler.write_bytes(b"\0" * (shutil.disk_usage(small_disk).free - 100 * 1024))
        command = ["run", "--date", "2026-10-06"]
        proc = subprocess.run(
            [sys.executable, "-m", "crawler", "--config", str(full.config), *command],
            capture_output=True,
            text=True,
            check=False,
        )
        assert proc.returncode == 2, proc.stderr
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
        assert re.search("disk is full|No space left|disk I/O error", lines[0]), lines[0]
        filler.unlink()
        assert full.run(day="2026-10-06", fork=True) in (0, 3)
        assert state(full.folder)["versions"] == state(clean.folder)["versions"]
        store = Store.open(full.folder / "regwatch.db")
        statuses = [r.status for r in store.runs_on("2026-10-06")]
        assert RunStatus.RUNNING not in statuses
        store.close()


def test_a_read_only_store_is_one_line_and_nothing_is_half_written(small_disk, tmp_path):
    with ReplayServer(Corpus.demo()) as server:
        run = SmallRun(small_disk / "run", server.base, free_port())
        assert run.run(day="2026-10-05", fork=True) in (0, 3)
        before = state(run.folder)
        remounted = subprocess.run(
            ["mount", "-o", "remount,ro", str(small_disk)], capture_output=True, check=False
        )
        assert remounted.returncode == 0, remounted.stderr
        command = ["run", "--date", "2026-10-06"]
        proc = subprocess.run(
            [sys.executable, "-m", "crawler", "--config", str(run.config), *command],
            capture_output=True,
            text=True,
            check=False,
        )
        lines = proc.stderr.strip().splitlines()
        assert proc.returncode == 2 and len(lines) == 1, proc.stderr
        assert "Traceback" not in proc.stderr and "read-only" in lines[0].lower(), lines[0]
        subprocess.run(["mount", "-o", "remount,rw", str(small_disk)], check=True)
        assert state(run.folder) == before


def test_an_output_folder_that_cannot_be_written_fails_the_run_with_one_line(demo_config, tmp_path):
    (tmp_path / "blocker").write_text("a file where the digests folder should be")
    config = dataclasses.replace(
        demo_config, output=dataclasses.replace(demo_config.output, digests="blocker/digests")
    )
    report = run_day(config, MON)
    assert report.status == "failed"
    [error] = [e for e in report.errors if e.source == "output"]
    assert error.kind == ErrorKind.STORAGE
    assert error.message.startswith("cannot write ") and "Not a directory" in error.message
    assert "\n" not in error.message
    store = Store.open(config.store_path)
    assert store.known_keys("fr:") == {"fr:2026-21001", "fr:2026-21002"}  # the crawl is kept
    assert (tmp_path / "feeds" / "all.atom").exists()  # the other outputs are still written


def test_a_rule_whose_redlines_fail_does_not_stop_the_others_and_is_tried_again(
    demo_server, tmp_path, monkeypatch
):
    from crawler.amend import store as amend_store

    real = amend_store._project

    def broken(store, version, run, fetched_at):
        if version.document == "fr:2026-21001":
            raise KeyError("label")
        return real(store, version, run, fetched_at)

    monkeypatch.setattr(amend_store, "_project", broken)
    config = point_at(config_module.load(None, env={}), demo_server, tmp_path, first_run_days=1)
    report = run_day(config, TUE)  # Monday's rule 2026-21001, Tuesday's proposed 2026-21110
    [error] = [e for e in report.errors if e.target == "fr:2026-21001"]
    assert error.kind == ErrorKind.BUG and "every run tries again" in error.message
    store = Store.open(config.store_path)
    kinds = ("Rule", "Proposed Rule")
    assert [v.document for v in store.unredlined("fr:", kinds)] == ["fr:2026-21001"]
    monkeypatch.setattr(amend_store, "_project", real)
    run_day(config, TUE)
    assert store.unredlined("fr:", kinds) == []


def test_a_day_whose_run_was_killed_before_it_reported_is_reported_by_the_next_run(
    demo_server, tmp_path, monkeypatch
):
    from aiosmtpd.controller import Controller

    from crawler.jobs import daily as job

    class Inbox:
        def __init__(self) -> None:
            self.subjects: list[str] = []

        async def handle_DATA(self, server, session, envelope):
            for line in envelope.content.decode().splitlines():
                if line.startswith("Subject:"):
                    self.subjects.append(line[9:])
            return "250 OK"

    config = mailing(point_at(config_module.load(None, env={}), demo_server, tmp_path))

    def killed(*_args, **_kwargs):
        raise KeyboardInterrupt  # as a kill: nothing after it runs, the run stays "running"

    monkeypatch.setattr(job, "_report", killed)
    with pytest.raises(KeyboardInterrupt):
        run_day(config, MON)
    monkeypatch.undo()
    assert not (config.digest_dir / "2026-10-05.txt").exists()
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=config.smtp.port)
    controller.start()
    try:
        run_day(config, TUE)
    finally:
        controller.stop()
    store = Store.open(config.store_path)
    assert [r.status for r in store.runs_on("2026-10-05")] == [RunStatus.INTERRUPTED]
    monday = (config.digest_dir / "2026-10-05.txt").read_text()
    assert "Additions to the Entity List" in monday
    assert sorted(inbox.subjects) == [
        "regwatch all: 2026-10-05 - 2 new, 0 changed",  # its run was killed after the crawl
        "regwatch all: 2026-10-06 - 2 new, 0 changed",
    ]


def test_a_sender_that_cannot_connect_leaves_what_another_sender_claimed(tmp_path, monkeypatch):
    from crawler.deliver import email

    config = config_module.load(None, env={})
    config = dataclasses.replace(
        config, smtp=config_module.SmtpConfig(host="127.0.0.1", port=9, security="none")
    )
    store = Store.open(tmp_path / "s.db")
    store.outbox_add("2026-10-05/all", "email", "a@x.org", "<m@x>", "s", b"m", "2026-10-05")

    def meanwhile(*_args):  # another sender sends it while this one connects, then it fails
        with store.lock("send:other"):
            [row] = store.outbox_due("2026-10-05T12:00:00")
            assert store.outbox_claim(row, "send:other")
            store.outbox_mark(row.id, status="sent", sent_at="t", attempts=1)
        raise ConnectionRefusedError(111, "Connection refused")

    monkeypatch.setattr(email, "_connect", meanwhile)
    with store.lock("send:me"):
        report = email.send_due(store, config, utc(2026, 10, 5, 12), {}, holder="send:me")
    assert report.retry == 0
    [row] = store.outbox()
    assert row.status == "sent"  # not put back to be sent again


def test_an_exception_in_a_spiders_start_fails_the_source_with_one_line():
    import asyncio

    spider = SimpleNamespace(name="federal_register")
    middleware = pipelines.CallbackErrors(SimpleNamespace(spider=spider))

    async def start():
        yield "first request"
        raise RuntimeError("the store went away")

    async def drain():
        return [item async for item in middleware.process_start(start())]

    first, error = asyncio.run(drain())
    assert first == "first request"
    assert (error.kind, error.fatal) == (ErrorKind.BUG, True)
    assert "regwatch failed starting federal_register: RuntimeError" in error.message


def test_a_retry_after_of_unicode_digits_is_no_wait_not_a_crash():
    from crawler.fetch.policy import retry_after_seconds

    assert retry_after_seconds("²", utc(2026, 10, 5, 12)) is None
    assert retry_after_seconds("120", utc(2026, 10, 5, 12)) == 120.0


def test_a_source_another_run_is_crawling_is_skipped_and_said_not_checked(demo_server, tmp_path):
    config = point_at(config_module.load(None, env={}), demo_server, tmp_path, bis=True)
    config = dataclasses.replace(config, store=dataclasses.replace(config.store, lock_wait=0.2))
    store = Store.open(config.store_path)
    with store.lock("source:bis"):  # a backfill of bis holds it
        report = run_day(config, MON)
    states = {s.source: s.status for s in report.sources}
    assert states["bis"] == "failed" and states["federal_register"] == "ok"
    [error] = [e for e in report.errors if e.source == "bis"]
    assert error.message == "another regwatch run is crawling bis; not checked by this run"
    text = (config.digest_dir / "2026-10-05.txt").read_text()
    assert "Additions to the Entity List" in text and "not checked" in text


def utc(*parts: int):
    from datetime import UTC, datetime

    return datetime(*parts, tzinfo=UTC)


def test_every_crawl_failing_fails_the_run_even_when_mail_went_out(tmp_path):
    from aiosmtpd.controller import Controller

    class Inbox:
        async def handle_DATA(self, server, session, envelope):
            return "250 OK"

    fault = Fault(r"^/api/v1/documents\.json", html=True)
    with ReplayServer(Corpus.demo(), faults=[fault]) as server:
        config = mailing(point_at(config_module.load(None, env={}), server, tmp_path))
        controller = Controller(Inbox(), hostname="127.0.0.1", port=config.smtp.port)
        controller.start()
        try:
            report = run_day(config, MON)
        finally:
            controller.stop()
    states = {s.source: s.status for s in report.sources}
    assert states == {"email": "ok", "federal_register": "failed"}
    assert report.status == "failed"  # the mail that said so does not make it "degraded"


def test_a_crawl_that_ends_without_finishing_a_source_fails_it(demo_config, monkeypatch):
    from crawler.jobs import daily as job

    monkeypatch.setattr(job, "run_crawl", lambda *args, **kwargs: None)  # ended, said nothing
    report = run_day(demo_config, MON)
    [line] = report.sources
    assert (line.source, line.status) == ("federal_register", "failed")
    [error] = report.errors
    assert error.kind == ErrorKind.BUG
    assert error.message.startswith("the crawl ended without finishing federal_register")


def test_only_what_a_spider_fetches_again_goes_on_the_retry_list(tmp_path):
    from crawler.fetch.items import CrawlError

    pipeline = _pipeline(tmp_path)
    for item in (
        CrawlError("federal_register", "fr:2026-1", "HTTP 500 from h/x"),  # retried
        CrawlError("federal_register", "search 2026-10-05..2026-10-05", "bad page", fatal=True),
        CrawlError("federal_register", "cfr:15:744 on 2026-10-09", "HTTP 500"),  # eCFR: by date
        CrawlError("federal_register", "bis:/news-updates", "no links", fatal=True),  # a listing
    ):
        pipeline.process_item(item)
    pipeline.close_spider()
    store = Store.open(pipeline.config.store_path)
    assert [r.target for r in store.retry_list()] == ["fr:2026-1"]
    assert len(store.errors([pipeline.run])) == 4
