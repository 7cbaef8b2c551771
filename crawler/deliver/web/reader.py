"""What the web app reads, in one place: the store (opened read-only), the config, and the
questions its pages and API ask. Never writes, never fetches: a version the store lacks is
NotStored, naming the command that fetches it."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Generic, TypeVar

from crawler.config import Config
from crawler.diff.cite import OfficialLink
from crawler.diff.in_context import Block, blocks
from crawler.diff.model import DocumentDiff
from crawler.digest.context import DocumentEntry, Report
from crawler.digest.federal_register import document_entry
from crawler.digest.report import day_scope, stored_report
from crawler.errors import UsageError
from crawler.keys import (
    CFR,
    FR,
    cfr_key,
    fr_number,
    is_projection,
    projection_key,
    readable,
    title_part,
)
from crawler.query.lookup import Comparison, History, Lookup
from crawler.query.timeline import Timeline, timelines
from crawler.records import Node
from storage import DocumentRow, RunRow, RunSourceRow, Store, VersionRow

T = TypeVar("T")
PAGE = 50  # items per page of a list, unless asked for fewer
DATE = r"^\d{4}-\d{2}-\d{2}$"  # a day as a query parameter gives it
MOST = 200  # the most items a list gives at once


@dataclass(frozen=True)
class Page(Generic[T]):
    items: Sequence[T]
    offset: int
    limit: int
    total: int

    @property
    def next_offset(self) -> int | None:
        return self.offset + self.limit if self.offset + self.limit < self.total else None

    @property
    def previous_offset(self) -> int | None:
        return max(self.offset - self.limit, 0) if self.offset > 0 else None


def paged(items: Sequence[T], offset: int, limit: int) -> Page[T]:
    limit = max(1, min(limit, MOST))
    offset = max(0, offset)
    return Page(items[offset : offset + limit], offset, limit, len(items))


@dataclass(frozen=True)
class CompareView:
    """Two versions of a unit compared, as the compare page and the API give them: what
    they need of the trees, not the trees (kept in the cache, small)."""

    key: str
    title: str
    old: VersionRow
    new: VersionRow
    diff: DocumentDiff
    blocks: tuple[Block, ...]  # the whole unit with its changes in place
    official: tuple[OfficialLink, ...]
    model: dict[str, Any]  # `regwatch diff --format json`'s
    stored: bool  # the two are one stored change (what the digest said)
    rule: str = ""  # the old side is what this FR document said the unit would read


@dataclass(frozen=True)
class Variant:
    """How a comparison is asked for: the page (inline or side by side, changes only, long
    unchanged runs sent folded) or the diff model as JSON."""

    format: str = "html"  # or "json"
    view: str = "inline"  # or "side"
    only: bool = False
    full: bool = False


@dataclass(frozen=True)
class Span:
    """Consecutive versions of a document that have the words searched for."""

    appeared: str  # the day the first of them took effect
    disappeared: str | None  # the day of the first later version without them; None: still


@dataclass(frozen=True)
class Hit:
    row: DocumentRow
    spans: tuple[Span, ...]


@dataclass(frozen=True)
class Searched:
    query: str
    hits: tuple[Hit, ...]
    indexed: int  # versions the index holds
    complete: bool  # False: versions stored before the index are not in it (`regwatch rebuild`)


@dataclass(frozen=True)
class RunView:
    run: RunRow
    sources: tuple[RunSourceRow, ...]
    errors: tuple[str, ...]


class Cache:
    """The most recently used answers (comparisons, rendered pages, trees), by keys that
    name the stored versions' trees (their blob hashes): a version is never changed in place
    but by `regwatch rebuild`, which gives its tree a new hash, so no entry goes stale."""

    def __init__(self, size: int = 64, max_bytes: int | None = None) -> None:
        self.size = size
        self.max_bytes = max_bytes  # for caches of bytes: their total length at most
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable, make: Callable[[], T]) -> T:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                found: T = self._items[key]
                return found
        made = make()  # outside the lock: two threads may make one answer twice, harmlessly
        with self._lock:
            if key not in self._items:
                self._items[key] = made
                self._bytes += _weight(made)
            while len(self._items) > 1 and (
                len(self._items) > self.size
                or (self.max_bytes is not None and self._bytes > self.max_bytes)
            ):
                _, dropped = self._items.popitem(last=False)
                self._bytes -= _weight(dropped)
        return made


def _weight(value: Any) -> int:
    return len(value) if isinstance(value, bytes) else 0


class Reader:
    def __init__(self, store: Store, config: Config, now: Callable[[], datetime]) -> None:
        self.store = store
        self.config = config
        self.now = now
        self.cache = Cache(size=48)  # comparisons (a CCL's holds thousands of blocks)
        self.pages = Cache(size=1024, max_bytes=256 << 20)  # rendered pages and JSON
        self.trees = Cache(size=12)  # parsed trees (a CCL's is tens of MB in memory)
        # renders a comparison elsewhere (crawler.deliver.web.compute: other processes), or
        # None: here
        self.worker: Callable[[str, int, int, Variant], bytes] | None = None

    def lookup(self) -> Lookup:
        return Lookup(self.store, self.config, self.now(), fetch=False, trees=self.trees.get)

    # --- days ------------------------------------------------------------------------------

    def days(self) -> list[str]:
        return self.store.report_days()

    def report(self, day: str | None = None) -> Report | None:
        """The latest revision of ``day``'s report (the newest day's by default)."""
        if day is None:
            days = self.store.report_days(limit=1)
            if not days:
                return None
            day = days[0]
        return stored_report(self.store, _day(day))

    # --- CFR units -------------------------------------------------------------------------

    def unit_key(self, title: str, unit: str) -> str:
        """The stored unit ``unit`` of title ``title`` ("744.11", "744:supp-4", "744")."""
        if not title.isdigit():
            raise UsageError(f"CFR title {title!r} is not a number")
        key = cfr_key(title, unit)
        if is_projection(key) or self.store.latest_version(key) is None:
            raise UsageError(f"{readable(key)} is not in the store")
        return key

    def unit_keys(self) -> list[str]:
        return [k for k in self.store.keys(CFR) if not is_projection(k)]

    def units(self) -> list[DocumentRow]:
        """The stored CFR units and parts (one query), in key order."""
        rows = [r for r in self.store.documents(prefix=CFR) if not is_projection(r.key)]
        return sorted(rows, key=lambda r: r.key.encode())

    def history(self, key: str) -> History:
        return self.lookup().history(key)

    def current(self, key: str) -> Node:
        """The tree of the latest stored version of ``key``."""
        latest = self.store.latest_version(key)
        if latest is None:
            raise UsageError(f"{readable(key)} is not in the store")
        return self.lookup().tree(key, latest)

    def pair(self, key: str, old: str | None, new: str | None) -> tuple[VersionRow, VersionRow]:
        """The versions in effect on the two days (defaults as `regwatch diff` has them)."""
        return self.lookup().pair(key, _day(old) if old else None, _day(new) if new else None)

    def compare(self, key: str, old: str | None, new: str | None) -> CompareView:
        """The versions in effect on the two days compared (kept in the cache)."""
        return self.compare_versions(key, *self.pair(key, old, new))

    def compare_versions(self, key: str, before: VersionRow, after: VersionRow) -> CompareView:
        """Two stored versions compared, here (kept in the cache)."""
        return self.cache.get(
            ("compare", key, before.id, before.tree_blob, after.id, after.tree_blob),
            lambda: self.view(key, before, after),
        )

    def compare_change(self, key: str, old: str, new: str) -> CompareView:
        """The stored versions that took effect on ``old`` and ``new`` compared: a change as
        a report told it, whatever the eCFR checks cover (the static site's pages)."""
        history = self.store.history(key)
        before = [v for v in history if v.valid_from == old]
        after = [v for v in history if v.valid_from == new]
        if not before or not after:
            return self.compare(key, old, new)
        return self.compare_versions(key, before[-1], after[-1])

    def compare_rule(self, key: str, number: str) -> CompareView:
        """The unit as FR Doc. ``number`` said it would read (its publication-day redline)
        against the latest stored eCFR text: whether the eCFR now says what the rule said.
        Kept in the cache by the two trees, looked up before anything is diffed."""
        projected = self.store.latest_version(projection_key(key, fr_number(number)))
        latest = self.store.latest_version(key)
        trees = (projected.tree_blob if projected else "", latest.tree_blob if latest else "")

        def make() -> CompareView:
            found = self.lookup().compare_rule(key, number, None)
            return _view_of(found, stored=False, rule=number)

        return self.cache.get(("rule", key, number, *trees), make)

    def view(self, key: str, old: VersionRow, new: VersionRow) -> CompareView:
        """``old`` and ``new`` compared, read from the store and diffed here."""
        stored = any(
            c.from_version == old.id and c.to_version == new.id for c in self.store.changes_of(key)
        )
        return _view_of(self.lookup().compare_versions(key, old, new), stored=stored)

    # --- FR documents ----------------------------------------------------------------------

    def documents(self) -> list[DocumentRow]:
        rows = self.store.documents(prefix=FR)
        return sorted(rows, key=lambda r: (r.published or "", r.key), reverse=True)

    def document(self, number: str) -> DocumentRow:
        row = self.store.document(FR + number)
        if row is None:
            raise UsageError(f"FR Doc. {number} is not in the store")
        return row

    def rule(self, number: str) -> DocumentEntry:
        """FR Doc. ``number`` as the digest shows it, with its publication-day redlines."""
        row = self.document(number)
        day = date.fromisoformat(row.published) if row.published else self.now().date()
        scope = day_scope(self.store, day, self.config)
        return document_entry(self.store, row, scope)

    def timeline(self, number: str) -> Timeline:
        """FR Doc. ``number``'s life: filed, published, due, effective, in the eCFR."""
        return timelines(self.store, self.config, self.now())(number)

    def corrections(self, number: str) -> list[DocumentRow]:
        """The stored documents that correct FR Doc. ``number``."""
        keys = self.store.linking_to(FR + number, "corrects")
        return [r for r in map(self.store.document, keys) if r is not None]

    # --- search ----------------------------------------------------------------------------

    def search(
        self,
        query: str,
        kind: str = "",
        part: str = "",
        agency: str = "",
        since: str = "",
        until: str = "",
    ) -> Searched:
        """Documents whose stored text had ``query``, each with the spans of dates it did
        (a phrase that appeared with one version and went with a later one), filtered by
        document type, CFR part ("15 CFR 744", "744"), agency and date."""
        found: dict[str, set[int]] = {}
        for version in self.store.search(query):
            found.setdefault(version.document, set()).add(version.id)
        hits = []
        for key in sorted(found, key=lambda k: k.encode()):
            row = self.store.document(key)
            if row is None or not _wanted(row, kind, part, agency):
                continue
            spans = _spans(self.store.history(key), found[key])
            spans = [s for s in spans if (not since or (s.disappeared or "9999") > since)]
            spans = [s for s in spans if (not until or s.appeared <= until)]
            if spans:
                hits.append(Hit(row, tuple(spans)))
        complete = self.store.index_complete(("section", "appendix", "Rule", "Notice"))
        return Searched(query, tuple(hits), self.store.indexed(), complete)

    # --- runs ------------------------------------------------------------------------------

    def runs(self, limit: int, offset: int = 0) -> list[RunView]:
        found = self.store.recent_runs(limit, offset)
        sources = self.store.run_sources([r.id for r in found])
        errors = self.store.errors([r.id for r in found])
        return [
            RunView(
                run,
                tuple(s for s in sources if s.run == run.id),
                tuple(f"{e.source}: {e.target}: {e.message}" for e in errors if e.run == run.id),
            )
            for run in found
        ]


def _view_of(found: Comparison, stored: bool, rule: str = "") -> CompareView:
    return CompareView(
        key=found.key,
        title=found.title,
        old=found.old.version,
        new=found.new.version,
        diff=found.diff,
        blocks=tuple(blocks(found.key, found.old.tree, found.new.tree, found.diff)),
        official=found.official(),
        model=found.to_json(rule or None),
        stored=stored,
        rule=rule,
    )


def _wanted(row: DocumentRow, kind: str, part: str, agency: str) -> bool:
    if kind and row.kind != kind:
        return False
    if part:
        number = part.split()[-1]
        parts = [p.split(":")[-1] for p in row.meta.get("cfr_parts", ())]
        in_part = row.key.startswith(CFR) and title_part(row.key)[1] == number
        if not in_part and number not in parts:
            return False
    if agency:
        names = " ".join(row.meta.get("agencies", ())).casefold()
        if agency.casefold() not in names:
            return False
    return True


def _spans(history: Sequence[VersionRow], matched: set[int]) -> list[Span]:
    out: list[Span] = []
    start: str | None = None
    for version in history:
        if version.id in matched and start is None:
            start = version.valid_from
        elif version.id not in matched and start is not None:
            out.append(Span(start, version.valid_from))
            start = None
    if start is not None:
        out.append(Span(start, None))
    return out


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"{text!r} is not a date (YYYY-MM-DD)") from None
