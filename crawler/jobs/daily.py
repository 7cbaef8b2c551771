"""The daily job and backfills: open a run, crawl in a subprocess, close the run, report."""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy.exc import SQLAlchemyError

from crawler.clock import stamp
from crawler.config import Config
from crawler.errors import Busy, CrawlFailed, StorageError, UsageError, bug_line
from crawler.fetch.spiders import SOURCES, enabled
from crawler.jobs.crawl import CrawlRequest, run_crawl
from crawler.records import SourceState
from crawler.snapshot.federal_register import NAME as FEDERAL_REGISTER
from crawler.snapshot.source import every as every_snapshot
from crawler.snapshot.source import snapshot_of
from crawler.workdays import EASTERN
from storage import (
    AlertKind,
    AlertRow,
    ErrorKind,
    ErrorRow,
    Held,
    LockBusy,
    NewAlert,
    RunSourceRow,
    RunStatus,
    Store,
    StoreMissing,
    StoreOpenError,
    failure_line,
)

if TYPE_CHECKING:
    from crawler.digest.context import Report

log = logging.getLogger(__name__)

CORRECTIONS_DAYS = 7  # how far back a run looks for mailed digests to correct


@dataclass(frozen=True)
class RunReport:
    run: int
    status: RunStatus  # ok, degraded, failed
    sources: tuple[RunSourceRow, ...]
    errors: tuple[ErrorRow, ...]
    digest: tuple[Path, ...]
    alerts: tuple[AlertRow, ...] = ()  # the alerts the run kept

    @property
    def ok(self) -> bool:
        return self.status == RunStatus.OK


def open_store(config: Config, *, create: bool = True, readonly: bool = False) -> Store:
    """The configured store; commands that only read pass ``create=False`` and get one
    line naming the path and how to make a store when there is none; ``readonly`` (the web
    app): the database refuses writes, and the schema is never upgraded."""
    try:
        return Store.open(config.store_url, create=create, readonly=readonly)
    except StoreMissing as exc:
        raise StorageError(f"{exc}: make one with `regwatch run` or `regwatch demo`") from None
    except StoreOpenError as exc:
        raise StorageError(str(exc)) from None


def enabled_sources(config: Config) -> list[str]:
    return [source.name for source in enabled(config)]


def daily(
    config: Config,
    day: date,
    now: datetime,
    clock: Callable[[], datetime],
    *,
    verbose: bool = False,
    command: str = "run",
    env: Mapping[str, str] | None = None,
) -> RunReport:
    """Crawl every enabled source from where it last succeeded up to ``day``, write the day's
    digest and feeds, and mail the digest to the subscriptions. Rerunning a day adds
    nothing that is already stored and mails nothing twice; a run killed at any moment is
    closed as ``interrupted`` by the next, which redoes what it left undone."""
    names = enabled_sources(config)
    with _run(config, names, "daily", day, now, command) as (store, run):
        busy = {s.source for s in store.run_sources([run])}
        crawls = []
        for name in (n for n in names if n not in busy):
            window = snapshot_of(name).window(config, store, day)
            store.source_started(run, name, stamp(now), window.since, day.isoformat())
            crawls.append(CrawlRequest(name, window.args))
        _crawl(store, run, config, now, clock, crawls, verbose, False)
        _settle(store, run, config, now, clock)
        digest = _report(store, config, run, day, now, clock, env or {})
        return _closed(store, run, clock, digest)


def _settle(
    store: Store, run: int, config: Config, now: datetime, clock: Callable[[], datetime]
) -> None:
    """Each source's work once the run's crawls are stored (crawler.snapshot.source
    ``Snapshot.settle``: publication-day redlines, then held eCFR fetches judged again), in
    registry order. One that fails is a bug recorded on the run, never a lost digest."""
    for snapshot in every_snapshot():
        try:
            snapshot.settle(store, run, config, now, clock)
        except (SQLAlchemyError, OSError):
            raise
        except Exception as exc:
            log.error("settling %s failed", snapshot.name, exc_info=exc)
            store.record_error(
                run,
                snapshot.name,
                snapshot.name,
                bug_line(f"after crawling {snapshot.name}", exc),
                stamp(clock()),
                ErrorKind.BUG,
            )


@contextmanager
def _run(
    config: Config, names: list[str], kind: str, day: date | None, now: datetime, command: str
) -> Iterator[tuple[Store, int]]:
    """The store and a new run holding the crawl locks of ``names``; a store or disk that
    fails on the way is one line (StorageError), the run closed by the next one."""
    store = open_store(config)
    try:
        with (
            _crawling(store, config, names) as busy,
            _opened(store, kind, day, now, command) as run,
        ):
            at = stamp(now)
            for name in busy:  # another run is crawling it: not checked by this one
                store.source_started(run, name, at, None, None)
                store.record_error(
                    run,
                    name,
                    name,
                    f"another regwatch run is crawling {name}; not checked by this run",
                    at,
                    ErrorKind.FETCH,
                )
                store.source_finished(run, name, at, SourceState.FAILED, {"error": 1})
            yield store, run
    except (SQLAlchemyError, OSError) as exc:
        raise StorageError(failure_line(exc, "the store or an output folder")) from None
    finally:
        store.close()


def _closed(
    store: Store, run: int, clock: Callable[[], datetime], digest: tuple[Path, ...]
) -> RunReport:
    status = _close(store, run, clock)
    sources, errors = tuple(store.run_sources([run])), tuple(store.errors([run]))
    return RunReport(run, status, sources, errors, digest, tuple(store.alerts_of_run(run)))


def _report(
    store: Store,
    config: Config,
    run: int,
    day: date,
    now: datetime,
    clock: Callable[[], datetime],
    env: Mapping[str, str],
) -> tuple[Path, ...]:
    """The day's report, built once and kept (a new revision when it says more), then every
    channel renders it: mail, the digest files, the feeds and the site. A folder that cannot
    be written is an error on the run (which then fails), never a traceback."""
    from crawler.digest.report import day_scope, keep, make_report, record_alerts, refreshed

    at = stamp(now)
    scope = day_scope(store, day, config)  # what the day's runs stored: read once
    record_alerts(store, run, day, config, at, scope)
    report = make_report(store, day, config, run, at, scope)
    # days whose run was killed before it reported get their report now
    reports = [make_report(store, past, config, run, at) for past in _missed_days(store, day)]
    if mail_enabled(config):
        _mail(store, config, run, report, reports, now, clock, env)
        report = keep(store, refreshed(store, report, config), run, at)  # how mailing went
    reports.append(report)
    return _render(store, config, run, reports, clock)


def _render(
    store: Store,
    config: Config,
    run: int,
    reports: list[Report],
    clock: Callable[[], datetime],
) -> tuple[Path, ...]:
    """Every file channel renders each report (a day whose run was killed too): the feeds,
    the digest files, the site. Returns the last report's digest files."""
    from crawler.deliver.feeds import write_feeds
    from crawler.deliver.site import write_site

    written: list[tuple[Path, ...]] = []
    feeds = config.root / config.output.feeds
    for each in reports:
        _output(store, run, feeds, partial(write_feeds, store, config, each), clock)
    _output(store, run, config.digest_dir, lambda: written.extend(_digests(reports, config)), clock)
    for each in reports:
        _output(store, run, config.root / "site", partial(write_site, store, config, each), clock)
    return written[-1] if written else ()


def _digests(reports: list[Report], config: Config) -> list[tuple[Path, ...]]:
    from crawler.digest.report import write_report

    return [tuple(write_report(r, config)) for r in reports]


def _output(
    store: Store, run: int, folder: Path, write: Callable[[], object], clock: Callable[[], datetime]
) -> None:
    try:
        write()
    except OSError as exc:
        where = exc.filename or folder
        reason = exc.strerror or type(exc).__name__
        store.source_started(run, "output", stamp(clock()), None, None)
        store.record_error(
            run,
            "output",
            str(where),
            f"cannot write {where}: {reason}",
            stamp(clock()),
            ErrorKind.STORAGE,
        )
        store.source_finished(run, "output", stamp(clock()), SourceState.FAILED, {"error": 1})


@contextmanager
def _crawling(store: Store, config: Config, names: list[str]) -> Iterator[list[str]]:
    """Hold the crawl lock of each source: two runs never crawl one source at once. A
    source another run holds for longer than ``[store] lock_wait`` seconds is given back as
    busy (the run goes on without it, and says so); all of them busy is one line (Busy)."""
    held: list[Held] = []
    busy: list[str] = []
    try:
        for name in sorted(names):
            try:
                held.append(store.lock(f"source:{name}", wait=config.store.lock_wait))
            except LockBusy:
                busy.append(name)
        if names and len(busy) == len(names):
            raise Busy(
                f"another regwatch run is crawling {', '.join(busy)} in {config.store_label} "
                f"(waited {config.store.lock_wait:g} s); try again when it is done"
            )
        yield busy
    finally:
        for lock in held:
            lock.release()


@contextmanager
def _opened(
    store: Store, kind: str, day: date | None, now: datetime, command: str
) -> Iterator[int]:
    """A new run, holding its ``run:<id>`` lock while it lasts (a run found ``running``
    without its lock was killed: closed as ``interrupted`` here, before the new one)."""
    run, alive = store.open_run(kind, day.isoformat() if day else None, stamp(now), command)
    try:
        yield run
    finally:
        alive.release()


def mail_enabled(config: Config) -> bool:
    return bool(config.smtp.host and any(s.recipients for s in config.subscriptions))


def _missed_days(store: Store, day: date) -> list[date]:
    """Days of the last week before ``day`` whose latest daily run was killed (closed as
    ``interrupted``): their digests were never written or mailed, so this run does it."""
    since = (day - timedelta(days=CORRECTIONS_DAYS)).isoformat()
    out = []
    for past in store.interrupted_days(since, day.isoformat()):
        daily = [r for r in store.runs_on(past) if r.kind == "daily"]
        if daily and daily[-1].status == RunStatus.INTERRUPTED:
            out.append(date.fromisoformat(past))
    return out


def _mail(
    store: Store,
    config: Config,
    run: int,
    report: Report,
    earlier: list[Report],
    now: datetime,
    clock: Callable[[], datetime],
    env: Mapping[str, str],
) -> SourceState:
    """Queue and send the day's digests; a failure is recorded on the run as source
    "email" (and makes the run degraded), never lost: queued mail waits for the next run."""
    from crawler.deliver.email import queue_digests, send_due
    from crawler.digest.report import make_report

    store.source_started(run, "email", stamp(now), None, report.day)
    queue_digests(store, config, report, now)
    # a digest mailed while sources failed in the last week is corrected if it now says
    # more (its report's next revision); a day whose run was killed gets its digest now
    day = date.fromisoformat(report.day)
    since = (day - timedelta(days=CORRECTIONS_DAYS)).isoformat()
    missed = {date.fromisoformat(r.day): r for r in earlier}
    for past in sorted(date.fromisoformat(d) for d in store.outbox_degraded_days(since)):
        if past < day and past not in missed:
            missed[past] = make_report(store, past, config, run, stamp(now))
    for past in sorted(d for d in missed if d < day):
        queue_digests(store, config, missed[past], now)
    sent = send_due(store, config, now, env, holder=f"run:{run}")  # the run holds its lock
    at = stamp(clock())
    for line in sent.errors:
        store.record_error(run, "email", "smtp", line, at)
    state = SourceState.OK if not (sent.retry or sent.failed) else SourceState.DEGRADED
    store.source_finished(
        run, "email", at, state, {"sent": sent.sent, "retry": sent.retry, "failed": sent.failed}
    )
    return state


def send(config: Config, now: datetime, env: Mapping[str, str]):
    """``regwatch send``: whatever is due in the outbox, now."""
    from crawler.deliver.email import send_due

    store = open_store(config, create=False)
    holder = f"send:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    try:
        with store.lock(holder, unique=True):  # each claim lives as long as this lock
            return send_due(store, config, now, env, holder=holder)
    finally:
        store.close()


def default_source() -> str:
    """The source a backfill crawls when none is named: the registry's first."""
    return next(iter(SOURCES))


def backfill_since(source: str, until: date) -> date:
    """A backfill's first day when none is given (the source's: the eCFR's history starts
    in 2017; the others look back 30 days)."""
    return snapshot_of(source).first_day(until)


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
    title: int | None = None,
    part: str | None = None,
    env: Mapping[str, str] | None = None,
) -> RunReport:
    """Fetch every document of ``source`` published from ``since`` to ``until`` (for the
    eCFR: every version of ``title`` CFR ``part`` that took effect in that range)."""
    options = {"title": str(title) if title is not None else "", "part": part or ""}
    args = snapshot_of(source).backfill(since, until, {k: v for k, v in options.items() if v})
    with _run(config, [source], "crawl", None, now, command) as (store, run):
        store.source_started(run, source, stamp(now), since.isoformat(), until.isoformat())
        _crawl(store, run, config, now, clock, [CrawlRequest(source, args)], verbose, progress)
        _alerts(store, config, run, now, clock, env)
        return _closed(store, run, clock, ())


def inspect(
    config: Config,
    now: datetime,
    clock: Callable[[], datetime],
    *,
    verbose: bool = False,
    command: str = "inspect",
    env: Mapping[str, str] | None = None,
) -> RunReport:
    """The intraday Public Inspection poll: fetch today's list (Eastern) for the configured
    agencies, keep each filing and the list as fetched, and alert at once (mail through the
    outbox, a feed entry) on a filing never seen before and on one withdrawn (a later
    complete list of the day lacks it, and it was not published). A poll that fails is an
    error on its run; it never reports a withdrawal."""
    fr = config.sources.federal_register
    if not (fr.enabled and fr.public_inspection):
        raise UsageError(
            "regwatch inspect: the Federal Register's Public Inspection is turned off in the "
            "config ([sources.federal_register] enabled and public_inspection)"
        )
    from crawler.digest.report import DAILY, INSPECTION

    today = now.astimezone(EASTERN).date()
    day = today.isoformat()
    with _run(config, [FEDERAL_REGISTER], INSPECTION, today, now, command) as (store, run):
        store.source_started(run, FEDERAL_REGISTER, stamp(now), None, None)  # no window
        args = {"since": day, "until": day, "public_inspection_on": day, "inspection_only": "1"}
        request = CrawlRequest(FEDERAL_REGISTER, args)
        _crawl(store, run, config, now, clock, [request], verbose, False)
        _poll_failed(store, config, run, now, clock)
        # what the day's runs stored (a poll killed before it alerted is alerted now)
        runs = tuple(r.id for r in store.runs_on(day) if r.kind in (DAILY, INSPECTION))
        _alerts(store, config, run, now, clock, env, runs=runs)
        return _closed(store, run, clock, ())


def _poll_failed(
    store: Store, config: Config, run: int, now: datetime, clock: Callable[[], datetime]
) -> None:
    """A poll that could not see the whole list is an alert, once a day (a longer outage
    is not mailed every ten minutes; the digest counts the polls that failed)."""
    line = next((s for s in store.run_sources([run]) if s.source == FEDERAL_REGISTER), None)
    if line is None or line.status == SourceState.OK:
        return
    errors = [e for e in store.errors([run]) if e.source == FEDERAL_REGISTER]
    why = f"{errors[0].target}: {errors[0].message}" if errors else "no reason recorded"
    local = now.astimezone(EASTERN)
    store.record_alert(
        NewAlert(
            AlertKind.POLL_FAILED,
            FEDERAL_REGISTER,
            f"public inspection {local.date()}",
            f"Public Inspection poll failed at {local:%H:%M} Eastern ({why}): filings made "
            "meanwhile are alerted when a poll next sees the whole list",
            now.astimezone(ZoneInfo(config.timezone)).date().isoformat(),
            stamp(clock()),
            run,
        )
    )


def _alerts(
    store: Store,
    config: Config,
    run: int,
    now: datetime,
    clock: Callable[[], datetime],
    env: Mapping[str, str] | None,
    *,
    runs: tuple[int, ...] = (),
) -> None:
    """What a run outside the daily rhythm found to alert about (a watched page moved or
    missing; what ``runs`` stored: a new filing, a withdrawal): kept as alert records,
    mailed on their own through the outbox (sent now when ``env`` is given, else by the
    next `regwatch send`), and put in the feeds."""
    from crawler.deliver.email import queue_alerts, send_due
    from crawler.deliver.feeds import write_alerts
    from crawler.digest.report import alert_entry, make_report, record_alerts, runs_scope

    at = stamp(clock())
    day = now.astimezone(ZoneInfo(config.timezone)).date()
    scope = runs_scope(store, tuple(sorted({*runs, run})), day, config) if runs else None
    record_alerts(store, run, day, config, at, scope)
    alerts = store.alerts_of_run(run)
    if alerts and store.report(day.isoformat()) is not None:
        # the day's report was made already: its next revision says them, in every channel
        _render(store, config, run, [make_report(store, day, config, run, at)], clock)
    elif alerts:  # no report yet: the feeds now, the report later (the same entries)
        entries = [alert_entry(a) for a in alerts]
        feeds = config.root / config.output.feeds
        write = partial(write_alerts, store, config, entries, day.isoformat())
        _output(store, run, feeds, write, clock)
    if not alerts or not mail_enabled(config):
        return
    queue_alerts(store, config, alerts, now)
    if env is not None:
        sent = send_due(store, config, now, env, holder=f"run:{run}")
        for line in sent.errors:
            store.record_error(run, "email", "smtp", line, stamp(clock()))


def _crawl(
    store: Store,
    run: int,
    config: Config,
    now: datetime,
    clock: Callable[[], datetime],
    crawls: list[CrawlRequest],
    verbose: bool,
    progress: bool,
) -> None:
    """Run the crawls; a crawl process that died, or ended without finishing a source,
    fails the sources it left running (never "ok, nothing new")."""
    message, kind = "", ErrorKind.BUG
    try:
        if crawls:
            run_crawl(config, run, stamp(now), crawls, verbose=verbose, progress=progress)
    except CrawlFailed as exc:
        message, kind = str(exc), ErrorKind.STORAGE if exc.storage else ErrorKind.BUG
    at, crawled = stamp(clock()), {c.source for c in crawls}
    for line in store.run_sources([run]):
        if line.status == SourceState.RUNNING and line.source in crawled:
            why = message or (
                f"the crawl ended without finishing {line.source}: nothing it fetched can be"
                " trusted to be complete (a regwatch bug: rerun with --verbose)"
            )
            store.record_error(run, line.source, line.source, why, at, kind)
            store.source_finished(run, line.source, at, SourceState.FAILED, {"error": 1})


def _close(store: Store, run: int, clock: Callable[[], datetime]) -> RunStatus:
    """Finish the run: failed if every source failed (or an output could not be written),
    degraded if any source did not go cleanly, else ok."""
    sources = store.run_sources([run])
    states = {s.status for s in sources}
    output_failed = any(s.source == "output" for s in sources)
    crawls = {s.status for s in sources if s.source not in ("email", "output")}
    crawled = states - {SourceState.OK} if sources else set()
    if output_failed or (crawls and crawls <= {SourceState.FAILED}):
        status = RunStatus.FAILED
    elif crawled:
        status = RunStatus.DEGRADED
    else:
        status = RunStatus.OK
    store.finish_run(run, stamp(clock()), status)
    return status
