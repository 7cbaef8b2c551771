"""Assemble the day's Report from the sources' parts and the day's runs. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from crawler.digest.context import AlertEntry, PartRef, Report, SourceLine
from crawler.digest.source import Part
from crawler.keys import readable
from crawler.records import AlertKind, SourceState
from storage import ErrorRow, RetryRow, RunSourceRow

MAIL = "email"  # the source line of the day's mail
NOUNS = {MAIL: "sent"}
# the alerts the report leads with; the others (a filing on public inspection) are shown by
# their source's section, and reach the feeds and the site as alert entries
LOUD = (
    AlertKind.SOURCE_MOVED,
    AlertKind.SOURCE_MISSING,
    AlertKind.WITHDRAWN,
    AlertKind.RESTORED,
)  # what the count of a line that is not a source counts


@dataclass(frozen=True)
class Day:
    """What every part of the report shares: the day's runs and how they went."""

    day: date
    sources: tuple[RunSourceRow, ...]  # the latest run of each source on the day
    errors: tuple[ErrorRow, ...]  # errors of those runs
    source_titles: dict[str, str]  # enabled sources (and mail): name -> title
    retrying: tuple[RetryRow, ...] = ()  # documents that failed and are not stored yet
    notices: tuple[AlertEntry, ...] = ()  # the day's alert records
    mailed: int = 0  # messages of the day's digests sent so far (whichever run sent them)
    polls: str = ""  # the Public Inspection polls that failed during the day, in one line


@dataclass(frozen=True)
class SourcePart:
    """A source's part of the report, with its registry name and what its count counts."""

    name: str
    noun: str
    part: Part
    partial: str = ""  # the template partial that renders it (default: ``name``)
    title: str = ""  # the source as people name it (default: ``name``)


def build_report(day: Day, parts: tuple[SourcePart, ...], tz: ZoneInfo) -> Report:
    found = {p.name: p.part.found for p in parts} | {MAIL: day.mailed}
    nouns = {p.name: p.noun for p in parts}
    lines, degraded = source_lines(day, found, nouns, tz)
    every = [p.part for p in parts]
    return Report(
        day=day.day.isoformat(),
        day_long=f"{day.day:%A, %B} {day.day.day}, {day.day.year}",
        sections=tuple(s for p in every for s in p.sections),
        corrections=tuple(e for p in every for e in p.corrections),
        changes=tuple(e for p in every for e in p.changes),
        quiet_changes=sum(p.quiet_changes for p in every),
        cfr_changes=tuple(e for p in every for e in p.cfr_changes),
        cfr_quiet=tuple(e for p in every for e in p.cfr_quiet),
        inspection=tuple(e for p in every for e in p.inspection),
        sources=lines,
        total_new=sum(len(s.entries) for p in every for s in p.sections)
        + sum(len(p.corrections) for p in every),
        degraded=degraded,
        ran=bool(day.sources),
        web=tuple(e for p in every for e in p.web),
        web_quiet=tuple(e for p in every for e in p.web_quiet),
        alerts=tuple(a.line for a in day.notices if a.kind in LOUD)
        + tuple(line for p in every for line in p.alerts)
        + tuple(retry_alert(r, tz) for r in day.retrying)
        + ((day.polls,) if day.polls else ()),
        notices=day.notices,
        parts=tuple(PartRef(p.name, p.partial or p.name, p.title or p.name) for p in parts),
    )


def source_lines(
    day: Day, found: dict[str, int], nouns: dict[str, str], tz: ZoneInfo
) -> tuple[tuple[SourceLine, ...], bool]:
    """The "Sources checked" lines, and whether the report is degraded: a source that did
    not go cleanly (mail is sent from the report before the email line can say how sending
    went)."""
    nouns = nouns | NOUNS
    lines = tuple(
        _source_line(name, title, day, found.get(name, 0), nouns.get(name, "new"), tz)
        for name, title in sorted(day.source_titles.items())
    )
    degraded = bool(day.sources) and any(
        line.status != SourceState.OK and (line.name, line.status) != (MAIL, SourceState.NOT_RUN)
        for line in lines
    )
    return lines, degraded


def retry_alert(row: RetryRow, tz: ZoneInfo) -> str:
    """The alert line of a document on the retry list: it stays in every digest until a
    run stores it."""
    try:
        since = f"{datetime.fromisoformat(row.first_failed).astimezone(tz):%Y-%m-%d %H:%M %Z}"
    except ValueError:
        since = row.first_failed
    times = "once" if row.attempts == 1 else f"{row.attempts} times"
    return (
        f"{readable(row.target)} not stored yet (failed {times} since {since}; "
        f"every run retries it): {row.message}"
    )


def _source_line(name: str, title: str, day: Day, new: int, noun: str, tz: ZoneInfo) -> SourceLine:
    row = next((r for r in day.sources if r.source == name), None)
    if row is None:
        return SourceLine(name, title, SourceState.NOT_RUN, "", 0, noun, ())
    checked = row.finished or row.started
    local = datetime.fromisoformat(checked).astimezone(tz)
    errors = tuple(
        f"{readable(e.target)}: {e.message}"
        for e in day.errors
        if e.source == name and e.run == row.run
    )
    reason = ""
    if row.status == SourceState.FAILED:  # it checked nothing: say why instead of "nothing new"
        reason, errors = (errors[0], errors[1:]) if errors else ("no reason recorded", ())
    return SourceLine(
        name,
        title,
        SourceState(row.status),
        f"{local:%Y-%m-%d %H:%M %Z}",
        new,
        noun,
        errors,
        reason,
    )
