"""What the web app reads, in one place: the store (opened read-only), the config, and the
questions its pages and API ask. Never writes, never fetches: a version the store lacks is
NotStored, naming the command that fetches it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Generic, TypeVar

from crawler.config import Config
from crawler.digest.context import DocumentEntry, Report
from crawler.digest.federal_register import document_entry
from crawler.digest.report import day_scope, stored_report
from crawler.errors import UsageError
from crawler.keys import CFR, FR, cfr_key, is_projection, readable, title_part
from crawler.query.lookup import Comparison, History, Lookup
from crawler.records import Node
from storage import DocumentRow, RunRow, RunSourceRow, Store, VersionRow

T = TypeVar("T")
PAGE = 50  # items per page of a list, unless asked for fewer
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


class Reader:
    def __init__(self, store: Store, config: Config, now: Callable[[], datetime]) -> None:
        self.store = store
        self.config = config
        self.now = now

    def lookup(self) -> Lookup:
        return Lookup(self.store, self.config, self.now(), fetch=False)

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
        if is_projection(key) or not self.store.history(key):
            raise UsageError(f"{readable(key)} is not in the store")
        return key

    def unit_keys(self) -> list[str]:
        return [k for k in self.store.keys(CFR) if not is_projection(k)]

    def units(self) -> list[DocumentRow]:
        rows = [self.store.document(k) for k in self.unit_keys()]
        return [r for r in rows if r is not None]

    def history(self, key: str) -> History:
        return self.lookup().history(key)

    def current(self, key: str) -> Node:
        lookup = self.lookup()
        latest = self.store.latest_version(key)
        if latest is None:
            raise UsageError(f"{readable(key)} is not in the store")
        return lookup.side(key, _day(latest.valid_from)).tree

    def compare(self, key: str, old: str | None, new: str | None) -> Comparison:
        return self.lookup().compare(key, _day(old) if old else None, _day(new) if new else None)

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
