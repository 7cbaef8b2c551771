"""The daily job and backfills: open a run, crawl in a subprocess, close the run, report."""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from crawler.clock import stamp
from crawler.config import Config
from crawler.errors import Busy, CrawlFailed, StorageError, UsageError
from crawler.fetch.spiders import SOURCES, get
from crawler.jobs.crawl import CrawlRequest, run_crawl
from crawler.records import SourceState
from crawler.snapshot.versioning import review_held
from storage import (
    ErrorKind,
    ErrorRow,
    Held,
    LockBusy,
    RunSourceRow,
    RunStatus,
    Store,
    StoreMissing,
    StoreOpenError,
    failure_line,
)

log = logging.getLogger(__name__)

CORRECTIONS_DAYS = 7  # how far back a run looks for mailed digests to correct


@dataclass(frozen=True)
class RunReport:
    run: int
    status: RunStatus  # ok, degraded, failed
    sources: tuple[RunSourceRow, ...]
    errors: tuple[ErrorRow, ...]
    digest: tuple[Path, ...]

    @property
    def ok(self) -> bool:
        return self.status == RunStatus.OK


def open_store(config: Config, *, create: bool = True) -> Store:
    """The configured store; commands that only read pass ``create=False`` and get one
    line naming the path and how to make a store when there is none."""
    try:
        return Store.open(config.store_path, create=create)
    except StoreMissing as exc:
        raise StorageError(f"{exc}: make one with `regwatch run` or `regwatch demo`") from None
    except StoreOpenError as exc:
        raise StorageError(str(exc)) from None


def enabled_sources(config: Config) -> list[str]:
    return [name for name in SOURCES if getattr(config.sources, name).enabled]


def _federal_register_window(config: Config, store: Store, day: date) -> tuple[str, dict[str, str]]:
    """From the end of the last window that went without error (or ``first_run_days``
    back) to ``day``; the day's Public Inspection list."""
    last = store.last_good_until("federal_register")
    first = day - timedelta(days=config.sources.federal_register.first_run_days)
    since = min(date.fromisoformat(last), day) if last else first
    return since.isoformat(), {
        "since": since.isoformat(),
        "until": day.isoformat(),
        "public_inspection_on": day.isoformat(),
    }


def _ecfr_window(config: Config, store: Store, day: date) -> tuple[None, dict[str, str]]:
    """The spider works out per part what changed since it was stored; never past ``day``."""
    return None, {"until": day.isoformat()}


def _bis_window(config: Config, store: Store, day: date) -> tuple[None, dict[str, str]]:
    """Web pages have no history to ask for: what they say on ``day``."""
    return None, {"day": day.isoformat()}


DAILY = {
    "federal_register": _federal_register_window,
    "ecfr": _ecfr_window,
    "bis": _bis_window,
}


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
            since, args = DAILY[name](config, store, day)
            store.source_started(run, name, stamp(now), since, day.isoformat())
            crawls.append(CrawlRequest(name, args))
        _crawl(store, run, config, now, clock, crawls, verbose, False)
        _redlines(store, run, now, clock)
        _review_held(store, run, config, clock)  # a rule just redlined may confirm
        digest = _report(store, config, run, day, now, clock, env or {})
        return _closed(store, run, clock, digest)


def _review_held(store: Store, run: int, config: Config, clock: Callable[[], datetime]) -> None:
    try:
        review_held(store, run, config.sources.ecfr)
    except (SQLAlchemyError, OSError):
        raise
    except Exception as exc:  # a held fetch that cannot be judged must not cost the digest
        log.error("reviewing held eCFR fetches failed", exc_info=exc)
        store.record_error(
            run,
            "ecfr",
            "held eCFR fetches",
            f"regwatch failed while reviewing held eCFR fetches: {type(exc).__name__}: {exc}"
            " (a regwatch bug: rerun with --verbose for the traceback)",
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
    return RunReport(run, status, sources, errors, digest)


def _report(
    store: Store,
    config: Config,
    run: int,
    day: date,
    now: datetime,
    clock: Callable[[], datetime],
    env: Mapping[str, str],
) -> tuple[Path, ...]:
    """Feeds, mail, the day's digest files and the site; a folder that cannot be written is
    an error on the run (which then fails), never a traceback."""
    from crawler.deliver.feeds import write_feeds
    from crawler.deliver.site import write_site
    from crawler.digest.report import write_digest

    _output(
        store, run, config.root / config.output.feeds, lambda: write_feeds(store, config), clock
    )
    missed = _missed_days(store, day)
    if mail_enabled(config):
        _mail(store, config, run, day, missed, now, clock, env)
    written: list[tuple[Path, ...]] = []

    def digests() -> None:
        for past in missed:  # days whose run was killed before it reported
            write_digest(store, past, config)
        written.append(tuple(write_digest(store, day, config)))

    _output(store, run, config.digest_dir, digests, clock)
    _output(store, run, config.root / "site", lambda: write_site(store, config), clock)
    return written[0] if written else ()


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


def _redlines(store: Store, run: int, now: datetime, clock: Callable[[], datetime]) -> None:
    """Publication-day redlines for every stored rule that has none yet (not only this
    run's: a killed run's rules get theirs from the next run)."""
    from crawler.amend.store import project_rules

    def failed(key: str, exc: Exception) -> None:  # a redline that cannot be made
        log.error("publication-day redlines of %s failed", key, exc_info=exc)
        store.record_error(
            run,
            "federal_register",
            key,
            f"regwatch failed while making the publication-day redlines of {key}: "
            f"{type(exc).__name__}: {exc} (a regwatch bug: rerun with --verbose for the "
            "traceback; every run tries again)",
            stamp(clock()),
            ErrorKind.BUG,
        )

    project_rules(store, run, stamp(now), failed)


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
                f"another regwatch run is crawling {', '.join(busy)} in {config.store_path} "
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
    with store.lock("runs", wait=30.0):
        store.close_interrupted(stamp(now))
        run = store.start_run(kind, day.isoformat() if day else None, stamp(now), command)
        alive = store.lock(f"run:{run}", unique=True)
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
    day: date,
    missed: list[date],
    now: datetime,
    clock: Callable[[], datetime],
    env: Mapping[str, str],
) -> SourceState:
    """Queue and send the day's digests; a failure is recorded on the run as source
    "email" (and makes the run degraded), never lost: queued mail waits for the next run."""
    from crawler.deliver.email import queue_digests, send_due
    from crawler.digest.report import digest_for

    digest = digest_for(store, day, config)  # as it stands before mailing
    store.source_started(run, "email", stamp(now), None, day.isoformat())
    queue_digests(store, config, digest, now)
    # a digest mailed while sources failed in the last week is corrected if it now says
    # more; a day whose run was killed before mailing gets its digest now
    since = (day - timedelta(days=CORRECTIONS_DAYS)).isoformat()
    earlier = {date.fromisoformat(d) for d in store.outbox_degraded_days(since)} | set(missed)
    for past in sorted(d for d in earlier if d < day):
        queue_digests(store, config, digest_for(store, past, config), now)
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
) -> RunReport:
    """Fetch every document of ``source`` published from ``since`` to ``until`` (for the
    eCFR: every version of ``title`` CFR ``part`` that took effect in that range)."""
    get(source)
    args = {"since": since.isoformat(), "until": until.isoformat()}
    if source == "ecfr":
        if title is None or part is None:
            raise UsageError("backfill ecfr needs --title and --part (e.g. --title 15 --part 744)")
        args |= {"title": str(title), "part": part}
    with _run(config, [source], "crawl", None, now, command) as (store, run):
        store.source_started(run, source, stamp(now), since.isoformat(), until.isoformat())
        _crawl(store, run, config, now, clock, [CrawlRequest(source, args)], verbose, progress)
        return _closed(store, run, clock, ())


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
