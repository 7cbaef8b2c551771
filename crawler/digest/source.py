"""A source as the digest stage sees it. Each source's module ``crawler/digest/<name>.py``
exposes one ``DIGEST`` object (a ``SourceDigest``) that gathers what the store holds about
the source for one day and builds the source's part of the day's report; its template
partials are ``templates/digest/sources/<name>.{txt,html}.j2``. The report finds them
through the source registry (crawler.fetch.spiders) and never spells a source's name."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from crawler.diff import stored as stored_diff
from crawler.diff.model import DocumentDiff
from crawler.digest.context import (
    CfrChangeEntry,
    ChangeEntry,
    DocumentEntry,
    InspectionEntry,
    Section,
    WebEntry,
)
from crawler.digest.topics import Topic
from crawler.fetch.spiders import Source, Stage, each
from crawler.records import Node, from_json, removed_unit, to_json
from storage import ChangeRow, DocumentRow, NewAlert, Store


@dataclass(frozen=True)
class Scope:
    """The day a report is for, as every source's digest reads it."""

    day: date
    runs: tuple[int, ...]  # the day's daily runs
    changes: tuple[ChangeRow, ...]  # the changes those runs stored
    topics: tuple[Topic, ...]
    tz: ZoneInfo
    stored: tuple[str, ...] = ()  # the documents those runs stored a version of

    def changes_of(self, source: Source) -> tuple[ChangeRow, ...]:
        return tuple(c for c in self.changes if source.owns(c.document))

    def first_seen(self, store: Store, source: Source) -> list[DocumentRow]:
        """The source's documents first stored by the day's runs."""
        rows = (store.document(k) for k in self.stored if source.owns(k))
        return [r for r in rows if r is not None and r.first_run in self.runs]


@dataclass(frozen=True)
class Part:
    """One source's part of the day's report: what it adds to each of the report's lists,
    and how many things it found (its line in "Sources checked")."""

    found: int = 0
    sections: tuple[Section, ...] = ()
    corrections: tuple[DocumentEntry, ...] = ()
    changes: tuple[ChangeEntry, ...] = ()
    quiet_changes: int = 0
    cfr_changes: tuple[CfrChangeEntry, ...] = ()
    cfr_quiet: tuple[CfrChangeEntry, ...] = ()
    web: tuple[WebEntry, ...] = ()
    web_quiet: tuple[WebEntry, ...] = ()
    inspection: tuple[InspectionEntry, ...] = ()
    alerts: tuple[str, ...] = ()  # lines for the report's alerts (held fetches ...)


class SourceDigest:
    """The digest stage's protocol for a source."""

    noun: ClassVar[str] = "new"  # what its count in "Sources checked" counts
    # the template partial that renders its part (templates/digest/sources/<partial>.*.j2);
    # "": the source's own name. Sources of one kind share one (web pages: "web").
    partial: ClassVar[str] = ""

    def gather(self, store: Store, scope: Scope, source: Source) -> Any:
        """What the store holds about the source for ``scope``'s day (all reads here)."""
        raise NotImplementedError

    def build(self, records: Any, scope: Scope) -> Part:
        """The source's part of the report from what ``gather`` read. Pure."""
        raise NotImplementedError

    def alerts(self, store: Store, scope: Scope, source: Source, at: str) -> list[NewAlert]:
        """What the day's runs saw of the source that is news outside the daily rhythm (a
        filing put on public inspection), to keep as alert records; none by default."""
        return []


def digests() -> list[tuple[Source, SourceDigest]]:
    """Every source with its digest-stage object, in registry order."""
    return [(source, digest) for source, digest in each(Stage.DIGEST)]


def change_diff(store: Store, change: ChangeRow, keep: bool = True) -> DocumentDiff:
    """The change's diff as stored when its version was; a change stored before diffs were
    kept is diffed now, and its diff kept (unless not ``keep``: a reader that never writes)."""
    if change.diff_blob is not None:
        return stored_diff.decode(store.blob(change.diff_blob))
    old = store.blob(store.version(change.from_version).tree_blob) if change.from_version else b""
    new = store.blob(store.version(change.to_version).tree_blob)
    diff = stored_diff.compute(change.document, old or _empty(new), new)
    if keep:
        store.set_change_diff(change.id, stored_diff.encode(diff))
    return diff


def _empty(tree: bytes) -> bytes:
    return to_json(removed_unit(from_json(Node, tree).label))
