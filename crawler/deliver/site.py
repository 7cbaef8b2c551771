"""The static site: plain HTML files, openable from disk or any web server, for people without
`regwatch serve`. The app's own pages (crawler.deliver.web.views, templates/web/), rendered
from the day's Report with relative links (crawler.deliver.web.layout.SiteLinks):

    index.html                    every day with a report
    days/2026-10-09.html          the day's report, as the app's Today shows it
    rules/2026-21390.html         each FR document the day reported: its redlines, corrections
    cfr/15-744.11.html            each unit the day changed: its text now and its timeline
    compare/15-744.11_A_B.html    each change the day reported, the whole unit in context
    static/app.css, favicon.svg   the app's stylesheet and icon

Written incrementally: a day writes its own pages, the previous day's (its link onward), the
pages of earlier rules on the units it changed (what the eCFR now says of them) and the index,
never the history again. A link goes only to a file that is there: what the site
has no page for (search, other dates) is named without a link."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from pathlib import Path

from crawler.config import Config
from crawler.deliver.files import write_atomic
from crawler.deliver.web.layout import (
    STATIC,
    Frame,
    Links,
    SiteLinks,
    compare_file,
    day_file,
    render_page,
    rule_file,
    unit_file,
)
from crawler.deliver.web.reader import Page, Reader
from crawler.deliver.web.views import compare_page, day_page, neighbours, rule_page, unit_page
from crawler.diff.model import Op
from crawler.digest.context import CfrChangeEntry, DocumentEntry, Report
from crawler.digest.report import latest_report, stored_report
from crawler.keys import fr_key
from crawler.query.reconcile import rules_of
from storage import Store

ASSETS = ("app.css", "favicon.svg")


def write_site(store: Store, config: Config, report: Report | None = None) -> list[Path]:
    """The report's pages (the latest stored report by default), then the index."""
    folder = config.root / "site"
    report = report or latest_report(store)
    written = [_asset(folder, name) for name in ASSETS]
    if report is None:
        return [*written, _index(store, config, folder, set())]
    day = date.fromisoformat(report.day)
    reader = Reader(store, config, lambda: datetime.combine(day, time(12), UTC))
    documents = [e for s in report.sections for e in s.entries] + list(report.corrections)
    changes = [e for e in (*report.cfr_changes, *report.cfr_quiet) if e.from_date]
    units = {e.key for e in (*report.cfr_changes, *report.cfr_quiet) if e.op != Op.REMOVED}
    finder = Links(reader.unit_keys)  # the stored units, read once
    cited = (finder.cited_key(r.citation) for e in documents for r in e.redlines)
    units |= {k for k in cited if k}
    planned = {day_file(report.day)}
    planned |= {rule_file(e.number) for e in documents}
    planned |= {compare_file(e.key, e.from_date, e.to_date) for e in changes}
    planned |= {unit_file(k) for k in units}
    links = _links(reader.unit_keys, config, folder, planned, "../")
    for change in changes:
        written.append(_compare(reader, links, folder, change))
    for key in sorted(units):
        written.append(write_atomic(folder / unit_file(key), unit_page(reader, key, links)))
    for entry in documents:
        written.append(_rule(reader, links, folder, entry))
    # the pages of earlier rules on the units the day changed: what the eCFR now says of them
    earlier = {n for k in units for n in rules_of(store, k)} - {e.number for e in documents}
    for number in sorted(earlier):
        if (folder / rule_file(number)).is_file() and store.document(fr_key(number)):
            written.append(_rule(reader, links, folder, reader.rule(number)))
    every = store.report_days()  # newest first
    newer, older = neighbours(every, report.day)
    written.append(
        write_atomic(folder / day_file(report.day), day_page(report, links, newer, older))
    )
    if older and (folder / day_file(older)).is_file():  # its link onward, to this day
        before = stored_report(store, date.fromisoformat(older))
        if before is not None:
            page = day_page(before, links, report.day, neighbours(every, older)[1])
            written.append(write_atomic(folder / day_file(older), page))
    written.append(_index(store, config, folder, planned))
    return written


def _links(
    units: Callable[[], list[str]], config: Config, folder: Path, planned: set[str], prefix: str
) -> SiteLinks:
    feeds = config.root / config.output.feeds
    relative = os.path.relpath(feeds, folder) if feeds.is_relative_to(config.root) else None
    return SiteLinks(
        units,
        prefix,
        lambda path: path in planned or (folder / path).is_file(),
        Path(relative).as_posix() if relative else None,
    )


def _compare(reader: Reader, links: SiteLinks, folder: Path, change: CfrChangeEntry) -> Path:
    found = reader.compare_change(change.key, change.from_date, change.to_date)
    page = compare_page(found, links, view="inline", only=False, full=True)
    return write_atomic(folder / compare_file(change.key, change.from_date, change.to_date), page)


def _rule(reader: Reader, links: SiteLinks, folder: Path, entry: DocumentEntry) -> Path:
    today = reader.now().date()  # the report's day
    timeline = reader.timeline(entry.number)
    page = rule_page(entry, reader.corrections(entry.number), links, timeline, today)
    return write_atomic(folder / rule_file(entry.number), page)


def _index(store: Store, config: Config, folder: Path, planned: set[str]) -> Path:
    """Every day with a report, newest first, linked where its page was written."""
    links = _links(list, config, folder, planned, "")
    days = store.report_days()
    listed = Page(days, 0, len(days), len(days))
    page = render_page("web/days.html.j2", Frame("Days", "/days"), links, listed=listed, base="")
    return write_atomic(folder / "index.html", page)


def _asset(folder: Path, name: str) -> Path:
    path = folder / "static" / name
    body = STATIC.joinpath(name).read_text(encoding="utf-8")
    if not path.is_file() or path.read_text(encoding="utf-8") != body:
        return write_atomic(path, body)
    return path
