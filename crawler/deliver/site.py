"""A static site of plain HTML files, openable from disk or any web server, written from the
day's Report (crawler.digest.report): a page per day listing what it reported, a page per
document or web page, a page per change with its redline (stored when the change was), a
page per month listing its days and digests, and an index of the newest days and the months.
Written incrementally: a day writes its own pages, its month's and the index, never the
history again. All links are relative; every page is rendered from templates/site/
(autoescaped)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from crawler.config import Config
from crawler.deliver.files import write_atomic
from crawler.diff.views import html_view
from crawler.digest.context import CfrChangeEntry, DocumentEntry, Report, WebEntry
from crawler.digest.render import render
from crawler.digest.report import latest_report
from crawler.records import Outcome
from storage import Store

DOCUMENTS, CHANGES, DAYS, MONTHS = "documents", "changes", "days", "months"
RECENT = 14  # the days the index lists itself (every day is on its month's page)


@dataclass(frozen=True)
class PageLink:
    href: str
    title: str
    note: str


def page_name(key: str) -> str:
    return re.sub(r"[^A-Za-z0-9.-]+", "_", key) + ".html"


def write_site(store: Store, config: Config, report: Report | None = None) -> list[Path]:
    """The report's pages (the latest stored report by default) and the index."""
    folder = config.root / "site"
    report = report or latest_report(store)
    written: list[Path] = []
    if report is not None:
        documents = [_document(folder, e) for s in report.sections for e in s.entries]
        documents += [_document(folder, e) for e in report.corrections]
        changes = [change_page(folder, e) for e in (*report.cfr_changes, *report.cfr_quiet)]
        web = [_web(folder, e, report.day) for e in (*report.web, *report.web_quiet)]
        written += [p for p, _ in (*documents, *changes, *web)]
        written.append(
            write_atomic(
                folder / DAYS / f"{report.day}.html",
                render(
                    "site/day.html.j2",
                    digest=report,
                    documents=[link for _, link in documents],
                    changes=[link for _, link in changes],
                    web=[link for _, link in web],
                ),
            )
        )
        written.append(_month(store, config, folder, report.day))
    written.append(_index(store, folder))
    return written


def _document(folder: Path, entry: DocumentEntry) -> tuple[Path, PageLink]:
    name = page_name(entry.key)
    path = write_atomic(folder / DOCUMENTS / name, render("site/document.html.j2", entry=entry))
    note = f"{entry.kind}, {entry.publication_date}"
    return path, PageLink(f"../{DOCUMENTS}/{name}", entry.title, note)


def change_page(folder: Path, entry: CfrChangeEntry) -> tuple[Path, PageLink]:
    name = page_name(f"{entry.key}@{entry.to_date}")
    title = f"{entry.citation} ({entry.title})"
    page = html_view(entry.diff, title, entry.from_date, entry.to_date, entry.official)
    path = write_atomic(folder / CHANGES / name, page)
    return path, PageLink(f"../{CHANGES}/{name}", entry.citation, f"in effect {entry.to_date}")


def _web(folder: Path, entry: WebEntry, day: str) -> tuple[Path, PageLink]:
    if entry.op == Outcome.NEW or entry.diff is None:
        name = page_name(entry.key)
        path = write_atomic(folder / DOCUMENTS / name, render("site/web.html.j2", entry=entry))
        return path, PageLink(f"../{DOCUMENTS}/{name}", entry.title, f"{entry.kind}, new")
    name = page_name(f"{entry.key}@{day}")
    page = html_view(entry.diff, entry.title, entry.from_date or "before", day)
    path = write_atomic(folder / CHANGES / name, page)
    return path, PageLink(f"../{CHANGES}/{name}", entry.title, f"{entry.kind}, changed {day}")


def _month(store: Store, config: Config, folder: Path, day: str) -> Path:
    """The page of ``day``'s month: its days, each with its digest."""
    month = day[:7]
    days = store.report_days(prefix=month)
    digests = Path("..", "..", config.output.digests).as_posix()
    links = [PageLink(f"../{DAYS}/{d}.html", d, f"{digests}/{d}.html") for d in days]
    page = render("site/month.html.j2", month=month, days=links)
    return write_atomic(folder / MONTHS / f"{month}.html", page)


def _index(store: Store, folder: Path) -> Path:
    """The index: the newest days, and every month."""
    recent = [PageLink(f"{DAYS}/{d}.html", d, "") for d in store.report_days(limit=RECENT)]
    months = [PageLink(f"{MONTHS}/{m}.html", m, "") for m in store.report_months()]
    page = render("site/index.html.j2", days=recent, months=months)
    return write_atomic(folder / "index.html", page)
