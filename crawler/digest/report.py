"""The report half for one day: gather what the store holds about it (each source through
its digest module), build the day's Report once, keep it in the store, write its files."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from crawler.config import Config
from crawler.deliver.files import write_atomic
from crawler.digest.build import MAIL, Day, SourcePart, build_report, source_lines
from crawler.digest.calendar import calendar_for
from crawler.digest.context import AlertEntry, Report
from crawler.digest.render import render
from crawler.digest.source import Part, Scope, digests
from crawler.digest.topics import all_topics
from crawler.fetch.spiders import enabled
from crawler.keys import readable
from crawler.parse.text import one_line
from crawler.records import SourceState, from_json, to_json, to_jsonable
from storage import AlertKind, AlertRow, NewAlert, OutboxState, RunRow, RunStatus, Store

log = logging.getLogger(__name__)

DAILY = "daily"  # the runs whose findings make a day's report
INSPECTION = "inspection"  # the intraday Public Inspection polls (`regwatch inspect`)
OUTPUT = "output"  # the source line of a run's files that could not be written
# the alerts a run's error says (its message starts with the kind): a watched page moved
SAID_BY_ERRORS = (AlertKind.SOURCE_MOVED, AlertKind.SOURCE_MISSING)


def _daily_runs(store: Store, day: date) -> list[RunRow]:
    return [r for r in store.runs_on(day.isoformat()) if r.kind == DAILY]


def _day(store: Store, day: date, config: Config, daily: list[RunRow]) -> Day:
    """What the report says of the day's runs: sources, errors, retries, alerts, mail."""
    iso = day.isoformat()
    last_started = max((r.started for r in daily), default="")
    latest: dict[str, int] = {}
    lines = store.run_sources([r.id for r in daily])
    for line in lines:
        latest[line.source] = line.run
    titles = {s.name: s.title for s in enabled(config)}
    if config.smtp.host and config.subscriptions:
        titles[MAIL] = "Email"
    return Day(
        day=day,
        sources=tuple(r for r in lines if latest.get(r.source) == r.run),
        errors=tuple(store.errors(sorted(set(latest.values())))),
        source_titles=titles,
        # still failing, and failing already when the day's last run started
        retrying=tuple(r for r in store.retry_list() if r.first_failed <= last_started),
        notices=tuple(alert_entry(a) for a in store.alerts_on(iso)),
        mailed=sum(1 for row in store.outbox(f"{iso}/") if row.status == OutboxState.SENT),
        polls=_polls(store, day, ZoneInfo(config.timezone)),
    )


def _polls(store: Store, day: date, tz: ZoneInfo) -> str:
    """A line for the Public Inspection polls (`regwatch inspect`) of the day and the day
    before (the daily job runs before the day's polls) that did not see the whole list
    (failed, killed, or a list shorter than its count): a filing they would have seen was
    alerted only by a later poll, or not at all."""
    polls = [
        r
        for d in (day - timedelta(days=1), day)
        for r in store.runs_on(d.isoformat())
        if r.kind == INSPECTION and r.status != RunStatus.RUNNING
    ]
    lines = store.run_sources([r.id for r in polls])
    fr = {s.run: s.status for s in lines if s.source not in (MAIL, OUTPUT)}  # the crawl
    bad = [
        r
        for r in polls
        if r.status == RunStatus.INTERRUPTED or fr.get(r.id, SourceState.FAILED) != SourceState.OK
    ]
    if not bad:
        return ""
    last = bad[-1]
    errors = [e for e in store.errors([last.id]) if e.source not in (MAIL, OUTPUT)]
    why = f": {readable(errors[0].target)}: {errors[0].message}" if errors else ""
    at = datetime.fromisoformat(last.started).astimezone(tz)
    return one_line(
        f"Public Inspection: {len(bad)} of {len(polls)} polls since {polls[0].day} did not see "
        f"the whole list (the last at {at:%Y-%m-%d %H:%M %Z}{why})",
        400,
    )


def day_scope(store: Store, day: date, config: Config) -> Scope:
    """The day's daily runs and what they stored: read once by the daily job, for the
    day's alerts and its report."""
    return runs_scope(store, tuple(r.id for r in _daily_runs(store, day)), day, config)


def runs_scope(store: Store, runs: tuple[int, ...], day: date, config: Config) -> Scope:
    """What ``runs`` stored, as the report of ``day`` would read it (a run outside the
    daily rhythm, for its alerts)."""
    return Scope(
        day=day,
        runs=runs,
        changes=tuple(store.changes_in(runs)) if runs else (),
        stored=tuple(dict.fromkeys(v.document for v in store.versions_in(runs))) if runs else (),
        topics=all_topics(config),
        tz=ZoneInfo(config.timezone),
    )


def alert_entry(row: AlertRow) -> AlertEntry:
    """An alert record as the channels show it."""
    url = str(row.detail.get("url") or "")
    return AlertEntry(row.kind, row.source, row.target, row.title, row.day, row.at, url)


def report_for(store: Store, day: date, config: Config, scope: Scope | None = None) -> Report:
    """The day's report as the store holds it now (built, not kept); ``scope``: the day's
    scope when the caller has read it already."""
    scope = scope or day_scope(store, day, config)
    shared = _day(store, day, config, _daily_runs(store, day))
    parts = []
    for source, digest in digests():
        try:
            part = digest.build(digest.gather(store, scope, source), scope)
        except Exception as exc:  # one source's bug never costs the day's report
            log.exception("the %s part of the report of %s", source.name, day)
            line = one_line(f"{type(exc).__name__}: {exc}")
            part = Part(
                alerts=(
                    f"{source.title}: its part of this report could not be made "
                    f"({line}): a regwatch bug, rerun with --verbose",
                )
            )
        parts.append(SourcePart(source.name, digest.noun, part, digest.partial, source.title))
    report = build_report(shared, tuple(parts), scope.tz)
    try:
        calendar = calendar_for(store, day, config)
    except Exception as exc:  # a bug here never costs the day's report either
        log.exception("the rules' dates of the report of %s", day)
        line = one_line(f"{type(exc).__name__}: {exc}")
        alert = f"Rules' dates: this part of the report could not be made ({line})"
        return dataclasses.replace(report, alerts=(*report.alerts, alert))
    return dataclasses.replace(report, calendar=calendar)


def make_report(
    store: Store, day: date, config: Config, run: int, now: str, scope: Scope | None = None
) -> Report:
    """Build the day's report once and keep it: a new revision when it says something the
    latest revision did not."""
    return keep(store, report_for(store, day, config, scope), run, now)


def keep(store: Store, report: Report, run: int, now: str) -> Report:
    row = store.put_report(report.day, run, now, fingerprint(report), encode(report))
    return dataclasses.replace(report, revision=row.revision)


def refreshed(store: Store, report: Report, config: Config) -> Report:
    """``report`` with its "Sources checked" lines as the runs stand now (after mailing,
    say): what it reports is not built again."""
    day = date.fromisoformat(report.day)
    shared = _day(store, day, config, _daily_runs(store, day))
    found = {line.name: line.new for line in report.sources} | {MAIL: shared.mailed}
    nouns = {line.name: line.noun for line in report.sources}
    lines, degraded = source_lines(shared, found, nouns, ZoneInfo(config.timezone))
    return dataclasses.replace(report, sources=lines, degraded=degraded)


def stored_report(store: Store, day: date) -> Report | None:
    """The latest revision of the day's report as it was kept."""
    row = store.report(day.isoformat())
    if row is None:
        return None
    return dataclasses.replace(decode(store.blob(row.report_blob)), revision=row.revision)


CONTENT = ("sections", "corrections", "changes", "cfr_changes", "inspection", "web")


def fingerprint(report: Report) -> str:
    """What a report says of the day's documents and changes, without its source lines and
    alerts (which tell how and when runs went, and change with every run)."""
    said = {name: _unsaid(to_jsonable(getattr(report, name))) for name in CONTENT}
    blob = json.dumps(said, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()


def _unsaid(value: Any) -> Any:
    """``value`` without its provenance, wherever it is (an eCFR change's, a rule's
    redline's): how a change is cited is not news, and a report kept before regwatch cited
    it is not corrected for it."""
    if isinstance(value, dict):
        return {k: _unsaid(v) for k, v in value.items() if k != "provenance"}
    if isinstance(value, list):
        return [_unsaid(v) for v in value]
    return value


def encode(report: Report) -> bytes:
    return to_json(report)


def decode(data: bytes) -> Report:
    report: Report = from_json(Report, data)
    return report


def write_digest(store: Store, day: date, config: Config) -> tuple[Path, Path]:
    """Render the day's digest from the store again (``regwatch digest``)."""
    return write_report(report_for(store, day, config), config)


def write_report(report: Report, config: Config) -> tuple[Path, Path]:
    """The report's digest as text and HTML in the digest folder; returns the paths."""
    folder = config.digest_dir
    text = write_atomic(folder / f"{report.day}.txt", render("digest/digest.txt.j2", digest=report))
    html = write_atomic(
        folder / f"{report.day}.html", render("digest/digest.html.j2", digest=report)
    )
    return text, html


def latest_report(store: Store) -> Report | None:
    """The latest revision of the newest day's report."""
    days = store.report_days(limit=1)
    return stored_report(store, date.fromisoformat(days[0])) if days else None


def record_alerts(
    store: Store, run: int, day: date, config: Config, at: str, scope: Scope | None = None
) -> int:
    """Keep the day's alerts as records: the run's errors that are alerts (a watched page
    moved or missing: the message starts with the alert's kind), and what each source's
    digest calls news outside the daily rhythm. Returns how many are new."""
    added = 0
    for error in store.errors([run]):
        kind = next((k for k in SAID_BY_ERRORS if error.message.startswith(f"{k}: ")), None)
        if kind is not None:
            iso = day.isoformat()
            known = store.document(error.target)
            detail = {"url": known.url} if known else {}
            new = NewAlert(
                kind, error.source, error.target, error.message, iso, error.at, run, detail
            )
            added += store.record_alert(new)
    scope = scope or day_scope(store, day, config)
    for source, digest in digests():
        added += sum(store.record_alert(a) for a in digest.alerts(store, scope, source, at))
    return added
