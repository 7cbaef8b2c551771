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
from crawler.keys import CFR, FR, cfr_key, is_projection, readable
from crawler.query.lookup import Comparison, History, Lookup
from crawler.records import Node
from storage import DocumentRow, RunRow, RunSourceRow, Store

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


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"{text!r} is not a date (YYYY-MM-DD)") from None
