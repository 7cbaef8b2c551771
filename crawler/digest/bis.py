"""The ``bis`` source in the digest: BIS web pages first seen in the day's runs (press
releases, news) and watched pages that changed, with their stored redlines."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from crawler.diff.model import DocumentDiff
from crawler.diff.views import text_view
from crawler.digest.context import WebEntry
from crawler.digest.select import web_facets
from crawler.digest.source import Part, Scope, SourceDigest, change_diff
from crawler.digest.topics import Topic
from crawler.fetch.spiders import Source
from crawler.records import Node, Outcome, from_json
from storage import DocumentRow, Store

HEADING = "heading"  # a page's headings are not what it says


@dataclass(frozen=True)
class Page:
    """A page first seen (``diff`` None: ``tree`` is what it says) or changed."""

    row: DocumentRow
    tree: Node  # the version shown
    diff: DocumentDiff | None
    stored: str
    from_date: str = ""


@dataclass(frozen=True)
class Records:
    source: str  # the registry name of the source the pages are from
    pages: tuple[Page, ...]


class BisDigest(SourceDigest):
    """Web pages: new items and changed watched pages (any web source can use it)."""

    noun: ClassVar[str] = "new or changed"
    partial: ClassVar[str] = "web"

    def gather(self, store: Store, scope: Scope, source: Source) -> Records:
        # in a stable order (by date, then key), not the order a concurrent crawl stored them
        first = sorted(scope.first_seen(store, source), key=lambda r: (r.published or "", r.key))
        pages = [_first_seen(store, row) for row in first]
        for change in sorted(scope.changes_of(source), key=lambda c: c.document):
            row = store.document(change.document)
            if row is not None and row.first_run not in scope.runs:  # new today: shown as new
                old = store.version(change.from_version) if change.from_version else None
                new = store.version(change.to_version)
                tree = from_json(Node, store.blob(new.tree_blob))
                diff = change_diff(store, change)
                from_date = old.valid_from if old else ""
                pages.append(Page(row, tree, diff, new.fetched_at, from_date))
        return Records(source.name, tuple(pages))

    def build(self, records: Records, scope: Scope) -> Part:
        entries = [_entry(p, scope.topics, records.source) for p in records.pages]
        return Part(
            found=len(entries),
            web=tuple(e for e in entries if e.substantive),
            web_quiet=tuple(e for e in entries if not e.substantive),
        )


DIGEST = BisDigest()


def _first_seen(store: Store, row: DocumentRow) -> Page:
    version = store.latest_version(row.key)
    assert version is not None, row.key
    return Page(row, from_json(Node, store.blob(version.tree_blob)), None, version.fetched_at)


def _entry(page: Page, topics: tuple[Topic, ...], source: str) -> WebEntry:
    row, new, diff = page.row, page.tree, page.diff
    if diff is None:
        op, substantive = Outcome.NEW, True
        said = [c.text for c in new.children if c.kind != HEADING and c.text != row.title]
        summary = _clip(" ".join(t for t in said if len(t) > 40) or " ".join(said))
        text = " ".join(c.text for c in new.children)
    else:
        op, summary, substantive = Outcome.CHANGED, "", bool(diff.substantive)
        text = " ".join(
            [f.new for c in diff.changes for f in c.fields]
            + [c.node.text for c in diff.changes if c.node]
        )
    return WebEntry(
        key=row.key,
        kind=row.kind,
        title=row.title,
        url=row.url,
        published=row.meta.get("published") or "",
        op=op,
        summary=summary,
        diff=diff,
        text=text_view(diff) if diff is not None else "",
        substantive=substantive,
        facets=web_facets(row.kind, row.title, text, topics),
        stored=page.stored,
        from_date=page.from_date,
        source=source,
    )


def _clip(text: str, limit: int = 400) -> str:
    """``text`` cut at a word boundary near ``limit`` characters, marked when cut."""
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0] + " ..."
