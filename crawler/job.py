"""The daily job and backfills: open a run, crawl in a subprocess, close the run, report."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from crawler.clock import stamp
from crawler.config import Config
from crawler.crawl import CrawlRequest, run_crawl
from crawler.errors import CrawlFailed, StorageError
from crawler.records import SourceState
from crawler.report import write_digest
from crawler.spiders import SOURCES, get
from storage import ErrorRow, RunSourceRow, Store, StoreOpenError


@dataclass(frozen=True)
class RunReport:
    run: int
    status: str  # ok, degraded, failed
    sources: tuple[RunSourceRow, ...]
    errors: tuple[ErrorRow, ...]
    digest: tuple[Path, ...]

    @property
    def ok(self) -> bool:
        return self.status == SourceState.OK


def open_store(config: Config) -> Store:
    try:
        return Store.open(config.store_path)
    except StoreOpenError as exc:
        raise StorageError(str(exc)) from None


def enabled_sources(config: Config) -> list[str]:
    return [name for name in SOURCES if getattr(config.sources, name).enabled]


def daily(
    config: Config,
    day: date,
    now: datetime,
    clock: Callable[[], datetime],
    *,
    verbose: bool = False,
    command: str = "run",
) -> RunReport:
    """Crawl every enabled source from where it last succeeded up to ``day``, then write
    the day's digest. Rerunning a day adds nothing that is already stored."""
    store = open_store(config)
    try:
        run = store.start_run("daily", day.isoformat(), stamp(now), command)
        crawls = []
        for name in enabled_sources(config):
            last = store.last_good_until(name)
            first = day - timedelta(days=getattr(config.sources, name).first_run_days)
            since = min(date.fromisoformat(last), day) if last else first
            store.source_started(run, name, stamp(now), since.isoformat(), day.isoformat())
            crawls.append(
                CrawlRequest(
                    name,
                    {
                        "since": since.isoformat(),
                        "until": day.isoformat(),
                        "public_inspection_on": day.isoformat(),
                    },
                )
            )
        report = _crawl_and_close(store, config, run, now, clock, crawls, verbose, False)
        digest = write_digest(store, day, config)
        return RunReport(report.run, report.status, report.sources, report.errors, digest)
    finally:
        store.close()


def backfill(
    config: Config,
    source: str,
    since: date,
    until: date,
    now: datetime,
    clock: Callable[[], datetime],
    *,
    verbose: bool = False,
    progress: bool = True,
    command: str = "crawl",
) -> RunReport:
    """Fetch every document of ``source`` published from ``since`` to ``until``."""
    get(source)
    store = open_store(config)
    try:
        run = store.start_run("crawl", None, stamp(now), command)
        store.source_started(run, source, stamp(now), since.isoformat(), until.isoformat())
        crawl = CrawlRequest(source, {"since": since.isoformat(), "until": until.isoformat()})
        return _crawl_and_close(store, config, run, now, clock, [crawl], verbose, progress)
    finally:
        store.close()


def _crawl_and_close(
    store: Store,
    config: Config,
    run: int,
    now: datetime,
    clock: Callable[[], datetime],
    crawls: list[CrawlRequest],
    verbose: bool,
    progress: bool,
) -> RunReport:
    try:
        if crawls:
            run_crawl(config, run, stamp(now), crawls, verbose=verbose, progress=progress)
    except CrawlFailed as exc:
        at = stamp(clock())
        for line in store.run_sources([run]):
            if line.status == "running":
                store.record_error(run, line.source, line.source, str(exc), at)
                store.source_finished(run, line.source, at, SourceState.FAILED, {"error": 1})
    sources = tuple(store.run_sources([run]))
    states = {s.status for s in sources}
    status = (
        SourceState.FAILED
        if states and states <= {SourceState.FAILED}
        else SourceState.DEGRADED
        if states - {SourceState.OK}
        else SourceState.OK
    )
    store.finish_run(run, stamp(clock()), status)
    return RunReport(run, status, sources, tuple(store.errors([run])), ())
