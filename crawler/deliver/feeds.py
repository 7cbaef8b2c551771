"""Atom and RSS 2.0 feeds: one for everything and one per subscription, written with
feedgen. An entry's id is derived from what it is (``urn:regwatch:fr:2026-21001``,
``urn:regwatch:change:cfr:15:744.11:2026-10-09``), so rebuilding the feeds from the store
always gives the same ids; its ``updated`` is when regwatch stored that version, so it
changes only when the entry does.

Content can't break a feed: every text is stripped of control characters (a store written
before the parsers removed them may still hold some), every href goes through the same
safe-URL filter as the HTML templates, an RSS description is the summary as escaped text
(never live markup), and every Atom entry has an author (RFC 4287 4.1.1): the issuing
agencies, or regwatch."""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from feedgen.feed import FeedGenerator

from crawler.config import Config
from crawler.deliver.files import subscription_slug, write_atomic
from crawler.diff.cite import cited_diff, fr_sources, official_links
from crawler.digest.render import render, safe_url
from crawler.digest.select import Facets, change_facets, document_facets, matches
from crawler.digest.topics import all_topics
from crawler.keys import CFR, FR
from crawler.parse.text import clean, squash
from crawler.query.citations import display
from crawler.records import FrDocument, Node, from_json
from storage import Store

FEED_ID = "urn:regwatch:feed:"
AUTHOR = "regwatch"  # the author of the feeds, and of entries no agency issued


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


def feed_items(store: Store, config: Config) -> list[FeedItem]:
    """Every FR document and eCFR change in the store as a feed item, newest first."""
    topics = all_topics(config)
    built = [
        _document(store, row, topics)
        for row in store.documents(prefix=FR)
        if not row.meta.get("reference_for")
    ]
    built += [_change(store, change, topics) for change in store.all_changes(CFR)]
    items = [i for i in built if i is not None]
    return sorted(items, key=lambda i: (i.updated, i.id), reverse=True)


def _document(store: Store, row, topics) -> FeedItem | None:
    history = store.history(row.key)
    if not history:
        return None
    doc = from_json(FrDocument, store.blob(history[-1].tree_blob))
    facets = document_facets(doc, topics)
    found = facets.topics
    return FeedItem(
        id=f"urn:regwatch:{row.key}",
        title=f"{doc.type}: {doc.title}",
        link=doc.html_url,
        updated=datetime.fromisoformat(history[-1].fetched_at),
        summary=doc.abstract or doc.action or doc.title,
        content=render("feeds/document.html.j2", doc=doc),
        categories=(doc.type, *found),
        facets=facets,
        authors=doc.agencies,
    )


def _change(store: Store, change: dict, topics) -> FeedItem | None:
    row = store.document(change["document"])
    if row is None or row.kind in ("part", "as-amended"):
        return None
    old_v, new_v = store.version(change["from_version"]), store.version(change["to_version"])
    old = from_json(Node, store.blob(old_v.tree_blob))
    new = from_json(Node, store.blob(new_v.tree_blob))
    diff = cited_diff(row.key, old, new)
    citation = display(row.key)
    facets = change_facets(row.key, row.title, diff, topics)
    found = facets.topics
    quiet = "" if diff.substantive else " (typography only)"
    return FeedItem(
        id=f"urn:regwatch:change:{row.key}:{new_v.valid_from}",
        title=f"{citation} changed, in effect {new_v.valid_from}{quiet}",
        link=row.url,
        updated=datetime.fromisoformat(new_v.fetched_at),
        summary=f"{citation} ({row.title}): {diff.counted()} since {old_v.valid_from}.",
        content=render(
            "feeds/change.html.j2",
            diff=diff,
            citation=citation,
            title=row.title,
            old_day=old_v.valid_from,
            new_day=new_v.valid_from,
            official=official_links(row.key, fr_sources(old, new)),
        ),
        categories=("eCFR", *found),
        facets=facets,
    )


def render_feed(items: list[FeedItem], name: str, title: str, config: Config, fmt: str) -> bytes:
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
    newest = max(
        (i.updated for i in items), default=datetime.fromisoformat("2017-01-01T00:00:00+00:00")
    )
    feed.updated(newest)
    for item in reversed(items):
        _add_entry(feed, item)
    return feed.atom_str(pretty=True) if fmt == "atom" else feed.rss_str(pretty=True)


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


def write_feeds(store: Store, config: Config) -> list[Path]:
    """all.atom / all.rss, and one pair per subscription, into the feeds folder."""
    items = feed_items(store, config)
    feeds = [("all", "regwatch: everything", items)]
    for sub in config.subscriptions:
        chosen = [i for i in items if matches(sub, i.facets)]
        feeds.append((subscription_slug(sub.name), f"regwatch: {sub.name}", chosen))
    written = []
    folder = config.root / config.output.feeds
    for name, title, chosen in feeds:
        chosen = chosen[: config.output.feed_entries]
        for fmt in ("atom", "rss"):
            data = render_feed(chosen, name, title, config, fmt).decode()
            written.append(write_atomic(folder / f"{name}.{fmt}", data))
    return written
