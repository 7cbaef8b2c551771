"""The daily job and backfills: open a run, crawl in a subprocess, close the run, report."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from crawler.clock import stamp
from crawler.config import Config
from crawler.crawl import CrawlRequest, run_crawl
from crawler.errors import CrawlFailed, StorageError, UsageError
from crawler.records import SourceState
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
    nothing that is already stored and mails nothing twice."""
    store = open_store(config)
    try:
        run = store.start_run("daily", day.isoformat(), stamp(now), command)
        crawls = []
        for name in enabled_sources(config):
            since, args = DAILY[name](config, store, day)
            store.source_started(run, name, stamp(now), since, day.isoformat())
            crawls.append(CrawlRequest(name, args))
        report = _crawl_and_close(store, config, run, now, clock, crawls, verbose, False)
        from crawler.amend.store import project_rules  # the report half: only after a crawl
        from crawler.report import write_digest

        try:
            project_rules(store, run, stamp(now))
        except Exception as exc:  # a redline that cannot be made must not cost the digest
            store.record_error(
                run,
                "federal_register",
                "publication-day redlines",
                f"{type(exc).__name__}: {exc}",
                stamp(clock()),
            )

        from crawler.deliver.feeds import write_feeds

        write_feeds(store, config)
        status = report.status
        if mail_enabled(config):
            status = _mail(store, config, run, day, now, clock, env or {}) or status
        digest = write_digest(store, day, config)
        from crawler.deliver.site import write_site

        write_site(store, config)
        return RunReport(
            report.run, status, tuple(store.run_sources([run])), tuple(store.errors([run])), digest
        )
    finally:
        store.close()


def mail_enabled(config: Config) -> bool:
    return bool(config.smtp.host and any(s.recipients for s in config.subscriptions))


def _mail(
    store: Store,
    config: Config,
    run: int,
    day: date,
    now: datetime,
    clock: Callable[[], datetime],
    env: Mapping[str, str],
) -> str | None:
    """Queue and send the day's digests; a failure is recorded on the run as source
    "email" (and makes the run degraded), never lost: queued mail waits for the next run."""
    from crawler.deliver.email import queue_digests, send_due
    from crawler.report import digest_for

    digest = digest_for(store, day, config)  # as it stands before mailing
    store.source_started(run, "email", stamp(now), None, day.isoformat())
    queue_digests(store, config, digest, now)
    sent = send_due(store, config, now, env)
    at = stamp(clock())
    for line in sent.errors:
        store.record_error(run, "email", "smtp", line, at)
    state = SourceState.OK if not (sent.retry or sent.failed) else SourceState.DEGRADED
    store.source_finished(
        run, "email", at, state, {"sent": sent.sent, "retry": sent.retry, "failed": sent.failed}
    )
    if state != SourceState.OK:
        store.finish_run(run, at, SourceState.DEGRADED)
        return SourceState.DEGRADED
    return None


def send(config: Config, now: datetime, env: Mapping[str, str]):
    """``regwatch send``: whatever is due in the outbox, now."""
    from crawler.deliver.email import send_due

    store = open_store(config)
    try:
        return send_due(store, config, now, env)
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
    store = open_store(config)
    try:
        run = store.start_run("crawl", None, stamp(now), command)
        store.source_started(run, source, stamp(now), since.isoformat(), until.isoformat())
        crawl = CrawlRequest(source, args)
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
