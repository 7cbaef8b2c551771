"""Atom and RSS 2.0 feeds: one for everything and one per subscription, written with
feedgen from the day's Report (crawler.digest.report), the one record every channel renders.
An entry's id is derived from what it is (``urn:regwatch:fr:2026-21001``,
``urn:regwatch:change:cfr:15:744.11:2026-10-09``), so writing a feed again always gives the
same ids; its ``updated`` is when regwatch stored that version, so it changes only when the
entry does.

Feeds are written incrementally: a day's report adds its own entries to the entries the
feed file already holds (read back as XML, never built or rendered again), so the cost of a
day is the day's entries and the feed's length, never the history. A feed not written yet is
seeded from the reports the store keeps.

Content can't break a feed: every text is stripped of control characters (a store written
before the parsers removed them may still hold some), every href goes through the same
safe-URL filter as the HTML templates, an RSS description is the summary as escaped text
(never live markup), and every Atom entry has an author (RFC 4287 4.1.1): the issuing
agencies, or regwatch."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape as xml_escape

from feedgen.feed import FeedGenerator
from lxml import etree

from crawler.config import Config, SubscriptionConfig
from crawler.deliver.files import subscription_slug, write_atomic
from crawler.digest.context import (
    AlertEntry,
    CalendarEntry,
    CfrChangeEntry,
    ChangeEntry,
    DocumentEntry,
    Report,
    WebEntry,
)
from crawler.digest.render import render, safe_url
from crawler.digest.report import decode, latest_report
from crawler.digest.select import Facets, matches
from crawler.parse.text import clean, squash
from crawler.records import Outcome, SourceState
from storage import Store

FEED_ID = "urn:regwatch:feed:"
AUTHOR = "regwatch"  # the author of the feeds, and of entries no agency issued
SEED_DAYS = 366  # how far back a feed with no kept entries is seeded from stored reports
EPOCH = "2017-01-01T00:00:00+00:00"


@dataclass(frozen=True)
class FeedItem:
    id: str
    title: str
    link: str
    updated: datetime
    summary: str
    content: str  # HTML, rendered from templates/feeds/
    categories: tuple[str, ...]
    facets: Facets
    authors: tuple[str, ...] = ()  # the issuing agencies; none: regwatch


def report_items(report: Report) -> list[FeedItem]:
    """The report's documents, unit changes, web pages and alerts as feed items."""
    documents = [e for s in report.sections for e in s.entries] + list(report.corrections)
    items = [_document(e) for e in documents]
    items += [_unit_change(e) for e in (*report.cfr_changes, *report.cfr_quiet)]
    items += [_web(e, report.day) for e in (*report.web, *report.web_quiet)]
    items += [_alert(a) for a in report.notices]
    items += [_document_change(e, report.day) for e in report.changes]
    items += _day_alerts(report)
    items += [_date(e, report.day) for e in report.calendar if e.kind != "lag"]  # daily
    return newest_first(items)


def _document_change(entry: ChangeEntry, day: str) -> FeedItem:
    fields = ", ".join(entry.fields)
    return FeedItem(
        id=f"urn:regwatch:change:{entry.key}:{day}",
        title=f"Changed: {entry.title} ({fields})",
        link=entry.url,
        updated=_when("", f"{day}T00:00:00+00:00"),
        summary=f"{entry.title} changed since regwatch last saw it: {fields}.",
        content=render("feeds/document_change.html.j2", entry=entry, day=day),
        categories=("Changed",),
        facets=Facets(text=entry.title),
    )


def _day_alerts(report: Report) -> list[FeedItem]:
    """One entry for a day whose sources failed or that has alerts the notices do not
    carry (held eCFR fetches, documents being retried): a feed reader never takes a day
    it could not check for a quiet one."""
    lines = report.standing
    if not (report.degraded or lines):
        return []
    failed = ", ".join(s.title for s in report.sources if s.status == SourceState.FAILED)
    title = f"regwatch {report.day}: " + (
        f"sources failed ({failed})" if failed else "sources degraded" if report.degraded else ""
    )
    if lines:
        title += ("; " if report.degraded else "") + f"{len(lines)} alert(s)"
    return [
        FeedItem(
            id=f"urn:regwatch:day:{report.day}",
            title=title,
            link="",
            updated=_when("", f"{report.day}T23:59:59+00:00"),
            summary="; ".join(lines) or title,
            content=render("feeds/day_alerts.html.j2", digest=report, lines=lines),
            categories=("Alert",),
            facets=Facets(text=" ".join(lines)),
        )
    ]


def newest_first(items: list[FeedItem]) -> list[FeedItem]:
    return sorted(items, key=lambda i: (i.updated, i.id), reverse=True)


def _when(stamp: str, fallback: str) -> datetime:
    return datetime.fromisoformat(stamp or fallback)


def _document(entry: DocumentEntry) -> FeedItem:
    return FeedItem(
        id=f"urn:regwatch:{entry.key}",
        title=f"{entry.kind}: {entry.title}",
        link=entry.url,
        updated=_when(
            entry.stored[-1] if entry.stored else "", f"{entry.publication_date}T00:00:00+00:00"
        ),
        summary=entry.summary or entry.action or entry.title,
        content=render("feeds/document.html.j2", entry=entry),
        categories=(entry.kind, *entry.facets.topics),
        facets=entry.facets,
        authors=entry.agencies,
    )


def _unit_change(entry: CfrChangeEntry) -> FeedItem:
    quiet = "" if entry.diff.substantive else " (typography only)"
    return FeedItem(
        id=f"urn:regwatch:change:{entry.key}:{entry.to_date}",
        title=f"{entry.citation} changed, in effect {entry.to_date}{quiet}",
        link=entry.url,
        updated=_when(entry.stored, f"{entry.to_date}T00:00:00+00:00"),
        summary=(
            f"{entry.citation} ({entry.title}): {entry.diff.counted()} since {entry.from_date}."
        ),
        content=render("feeds/change.html.j2", entry=entry),
        categories=("eCFR", *entry.facets.topics),
        facets=entry.facets,
    )


def _web(entry: WebEntry, day: str) -> FeedItem:
    new = entry.op == Outcome.NEW
    return FeedItem(
        id=f"urn:regwatch:{entry.key}" if new else f"urn:regwatch:change:{entry.key}:{day}",
        title=f"{entry.kind}: {entry.title}" + ("" if new else " (page changed)"),
        link=entry.url,
        updated=_when(entry.stored, f"{day}T00:00:00+00:00"),
        summary=entry.summary or (entry.diff.counted() if entry.diff else "") or entry.title,
        content=render("feeds/web.html.j2", entry=entry),
        categories=(entry.kind, *entry.facets.topics),
        facets=entry.facets,
    )


def _alert(alert: AlertEntry) -> FeedItem:
    return FeedItem(
        id=f"urn:regwatch:alert:{alert.kind.replace(' ', '-')}:{alert.target}:{alert.day}",
        title=f"Alert: {alert.line}",
        link=alert.url,
        updated=_when(alert.at, f"{alert.day}T00:00:00+00:00"),
        summary=alert.line,
        content=render("feeds/alert.html.j2", alert=alert),
        categories=("Alert", str(alert.kind)),
        facets=Facets(text=alert.title),
    )


def _date(entry: CalendarEntry, day: str) -> FeedItem:
    """A rule's date that matters on ``day`` (it takes effect, comments are due, the eCFR
    shows it or still does not), one entry per line and day."""
    line = re.sub(r"[^a-z0-9]+", "-", entry.line.lower()).strip("-")[:80]
    return FeedItem(
        id=f"urn:regwatch:date:{entry.number}:{day}:{line}",
        title=f"{entry.line}: {entry.title}",
        link=entry.url,
        updated=_when("", f"{day}T00:00:00+00:00"),
        summary=f"{entry.line} (FR Doc. {entry.number}): {entry.title}",
        content=render("feeds/date.html.j2", entry=entry, day=day),
        categories=("Dates",),
        facets=entry.facets,
    )


def render_feed(items: list[FeedItem], name: str, title: str, config: Config, fmt: str) -> bytes:
    newest = max((i.updated for i in items), default=datetime.fromisoformat(EPOCH))
    feed = _feed(name, title, config, fmt, newest)
    for item in reversed(items):
        _add_entry(feed, item)
    return feed.atom_str(pretty=True) if fmt == "atom" else feed.rss_str(pretty=True)


def _feed(name: str, title: str, config: Config, fmt: str, newest: datetime) -> FeedGenerator:
    feed = FeedGenerator()
    feed.id(FEED_ID + name)
    feed.title(clean(title))
    feed.description(clean(f"regwatch: {title}"))
    feed.language("en")
    feed.author(name=AUTHOR)
    base = config.output.base_url.rstrip("/")
    home = f"{base}/{config.output.feeds}/{name}.{fmt}" if base else f"{name}.{fmt}"
    feed.link(href=safe_url(home), rel="self")
    feed.link(href=safe_url(base or "https://www.federalregister.gov"), rel="alternate")
    feed.updated(newest)
    return feed


def _add_entry(feed: FeedGenerator, item: FeedItem) -> None:
    entry = feed.add_entry()
    entry.id(item.id)
    entry.guid(item.id, permalink=False)
    entry.title(clean(item.title))
    link = safe_url(item.link)
    if link != "#":  # an unsafe or empty link is left out, not turned into a dead one
        entry.link(href=link)
    names = [name for a in item.authors if (name := squash(a))] or [AUTHOR]
    entry.author([{"name": name} for name in dict.fromkeys(names)])
    entry.updated(item.updated)
    entry.published(item.updated)
    summary = clean(item.summary)
    entry.summary(summary)  # Atom: type="text", shown as text
    entry.description(html.escape(summary))  # RSS: HTML by convention, so escaped
    entry.content(clean(item.content), type="html")  # after description: Atom keeps the HTML
    for category in item.categories:
        entry.category(term=clean(category))


ATOM = "{http://www.w3.org/2005/Atom}"


def write_feeds(store: Store, config: Config, report: Report | None = None) -> list[Path]:
    """all.atom / all.rss, and one pair per subscription, into the feeds folder: the
    report's entries (the latest stored report by default) added to the entries each feed
    has already, which are kept as written (never built or rendered again)."""
    report = report or latest_report(store)
    new = report_items(report) if report is not None else []
    return add_to_feeds(store, config, new, report.day if report is not None else None)


def write_alerts(store: Store, config: Config, alerts: list[AlertEntry], day: str) -> list[Path]:
    """Alerts found outside the daily rhythm (a filing seen by the intraday poll), added to
    the feeds at once; the day's report carries them later under the same ids (one entry)."""
    return add_to_feeds(store, config, [_alert(a) for a in alerts], day)


def add_to_feeds(store: Store, config: Config, new: list[FeedItem], day: str | None) -> list[Path]:
    """``new`` added to the entries each feed has already (kept as written); a feed not
    written yet is seeded first from the reports kept before ``day``."""
    feeds: list[tuple[str, str, Callable[[FeedItem], bool]]] = [
        ("all", "regwatch: everything", lambda item: True)
    ]
    for sub in config.subscriptions:
        feeds.append((subscription_slug(sub.name), f"regwatch: {sub.name}", _wants(sub)))
    folder = config.root / config.output.feeds
    written: list[Path] = []
    limit = config.output.feed_entries
    seeded: list[list[FeedItem]] = []  # the stored reports' items, read once if needed
    for name, title, wanted in feeds:
        paths = {fmt: folder / f"{name}.{fmt}" for fmt in FORMATS}
        added = [i for i in new if wanted(i)]
        if all(p.is_file() for p in paths.values()):
            if not added:
                continue  # nothing new for it: the feed stays as written
            texts = {fmt: p.read_text(encoding="utf-8") for fmt, p in paths.items()}
            spliced = _spliced(added, texts, _feed_header(name, title, config), limit)
            if spliced is not None:
                written += [write_atomic(paths[fmt], spliced[fmt]) for fmt in FORMATS]
                continue
            kept = {fmt: etree.fromstring(texts[fmt].encode(), PARSER) for fmt in FORMATS}
        else:  # a feed not written yet: seeded from the reports the store keeps
            if not seeded:
                seeded.append(_seed(store, day))
            seed = [i for i in seeded[0] if wanted(i)]
            kept = {fmt: _parsed(seed, name, title, config, fmt) for fmt in FORMATS}
        fresh = {fmt: _parsed(added, name, title, config, fmt) for fmt in FORMATS}
        for fmt, root in _merged(fresh, kept, limit).items():
            data = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
            written.append(write_atomic(paths[fmt], data.decode()))
    return written


# where entries start and end in a written feed, and the line that closes them
MARKS = {
    "atom": ("  <entry>", "</entry>\n", "</feed>"),
    "rss": ("    <item>", "</item>\n", "  </channel>"),
}
Header = Callable[[list[FeedItem], str], str]


def _feed_header(name: str, title: str, config: Config) -> Header:
    return lambda items, fmt: render_feed(items, name, title, config, fmt).decode()


def _spliced(
    items: list[FeedItem], texts: dict[str, str], render_items: Header, limit: int
) -> dict[str, str] | None:
    """The common case cheaply: the day's entries are newer than every entry the feed holds
    and none of them is in it yet, so the feed is its new header and entries followed by the
    entries already written, as text. None: merge them entry by entry instead."""
    atom = texts["atom"]
    newest = re.search(r"<entry>.*?<updated>([^<]+)</updated>", atom, re.DOTALL)
    if newest and min(i.updated for i in items) < datetime.fromisoformat(newest.group(1)):
        return None
    if len(items) > limit or any(f"<id>{xml_escape(i.id)}</id>" in atom for i in items):
        return None
    out = {}
    for fmt in FORMATS:
        start, stop, close = MARKS[fmt]
        old, fresh = texts[fmt], render_items(items, fmt)
        first, end = old.find(start), old.rfind(close)
        region = old[first:end] if first != -1 else ""
        cut = 0
        for _ in range(limit - len(items)):
            found = region.find(stop, cut)
            if found == -1:
                cut = len(region)
                break
            cut = found + len(stop)
        at = fresh.rfind(close)
        out[fmt] = fresh[:at] + region[:cut] + fresh[at:]
    return out


FORMATS = ("atom", "rss")
PARSER = etree.XMLParser(remove_blank_text=True, resolve_entities=False, no_network=True)


def _parsed(
    items: list[FeedItem], name: str, title: str, config: Config, fmt: str
) -> etree._Element:
    return etree.fromstring(render_feed(items, name, title, config, fmt), PARSER)


def _merged(
    fresh: dict[str, etree._Element], kept: dict[str, etree._Element], limit: int
) -> dict[str, etree._Element]:
    """The fresh feeds (header and the day's entries) with the kept feeds' entries after
    them: an entry of the day replaces a kept one with its id; newest first, ``limit`` at
    most; the feed's updated time is its newest entry's."""
    atom, rss = fresh["atom"], fresh["rss"].find("channel")
    assert rss is not None
    ids = {e.findtext(f"{ATOM}id") for e in atom.iter(f"{ATOM}entry")}
    old = [e for e in kept["atom"].iter(f"{ATOM}entry") if e.findtext(f"{ATOM}id") not in ids]
    items = {i.findtext("guid"): i for i in kept["rss"].iter("item")}
    entries = list(atom.iter(f"{ATOM}entry")) + old
    entries.sort(key=lambda e: (_when_of(e), e.findtext(f"{ATOM}id") or ""), reverse=True)
    fresh_items = {i.findtext("guid"): i for i in rss.iter("item")}
    for element in [*atom.iter(f"{ATOM}entry"), *rss.iter("item")]:
        element.getparent().remove(element)  # type: ignore[union-attr]
    for entry in entries[:limit]:
        atom.append(entry)
        key = entry.findtext(f"{ATOM}id")
        item = fresh_items[key] if key in fresh_items else items.get(key)
        if item is not None:
            rss.append(item)
    if entries:
        newest = datetime.fromisoformat(entries[0].findtext(f"{ATOM}updated") or EPOCH)
        atom.find(f"{ATOM}updated").text = newest.isoformat()  # type: ignore[union-attr]
        rss.find("lastBuildDate").text = format_datetime(newest)  # type: ignore[union-attr]
    return {"atom": atom, "rss": fresh["rss"]}


def _when_of(entry: etree._Element) -> datetime:
    return datetime.fromisoformat(entry.findtext(f"{ATOM}updated") or EPOCH)


def _wants(subscription: SubscriptionConfig) -> Callable[[FeedItem], bool]:
    return lambda item: matches(subscription, item.facets)


def _seed(store: Store, day: str | None) -> list[FeedItem]:
    """The items of the reports kept before ``day`` (newest first, a year back)."""
    if day is None:
        return []
    items: list[FeedItem] = []
    for n, row in enumerate(store.recent_reports(day)):
        if n > SEED_DAYS:
            break
        if row.day != day:
            items += report_items(decode(store.blob(row.report_blob)))
    return items
