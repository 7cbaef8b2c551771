"""Implausible content is held, not applied (issue 11).

A fetch of a CFR part is judged against the version of the part in effect before it. When it
loses more than ``max_section_loss`` of the part's units (sections and appendices), or one of
its tables keyed by country + entity (the Entity List) loses more than ``max_entity_loss`` of
its entries, the loss is not believed: an empty but valid part, a whitespace bomb or a
half-served table would otherwise become removals. The loss is believed once confirmed:

- by the eCFR versions API, which marks each removed unit ``removed`` on its date;
- by an FR rule whose amendatory instructions remove the units or entries (its
  publication-day redline, ``<unit>~fr:<number>``, made by ``crawler.amend``);
- by the same payload fetched again on a later day.

Confirmed losses are taken out; if what remains is plausible, the fetch is applied.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Set
from dataclasses import dataclass
from fractions import Fraction

from crawler.config import EcfrConfig
from crawler.fetch.items import FetchedCfrPart
from crawler.keys import cfr_key, projection_parts, projections_of, readable
from crawler.parse.cfr_units import unit_refs
from crawler.parse.entity_list import ENTRY, entry_keys
from crawler.records import Node, ProjectionOp, from_json
from storage import HeldFetchRow, NewVersion, Store

_ENTRY_JSON = f'"kind":"{ENTRY}"'.encode()  # a cheap test before parsing a stored tree


@dataclass(frozen=True)
class TableLoss:
    """Entries of one unit's keyed table (the Entity List) missing from the new payload."""

    unit: str  # cfr:15:744:supp-4
    entries: int  # entries in the version before
    lost: tuple[str, ...]  # their keys: "IRAN|Pars Aero Parts Trading"


@dataclass(frozen=True)
class Loss:
    """What a part's new payload no longer holds, against the version in effect before it."""

    units: int  # sections and appendices in the version before
    units_lost: tuple[str, ...]  # their keys
    tables: tuple[TableLoss, ...] = ()

    def implausible(self, limits: EcfrConfig) -> bool:
        return self.sections_implausible(limits) or bool(self.suspect_tables(limits))

    def sections_implausible(self, limits: EcfrConfig) -> bool:
        return _over(len(self.units_lost), self.units, limits.max_section_loss)

    def suspect_tables(self, limits: EcfrConfig) -> tuple[str, ...]:
        """The units whose keyed table lost implausibly many entries."""
        return tuple(
            t.unit for t in self.tables if _over(len(t.lost), t.entries, limits.max_entity_loss)
        )

    def less(self, units: Iterable[str], entries: Iterable[tuple[str, str]]) -> Loss:
        """The loss without what was confirmed: whole units, or (unit, entry) pairs."""
        units, entries = set(units), set(entries)
        tables = tuple(
            TableLoss(t.unit, t.entries, tuple(e for e in t.lost if (t.unit, e) not in entries))
            for t in self.tables
            if t.unit not in units
        )
        return Loss(self.units, tuple(k for k in self.units_lost if k not in units), tables)

    def describe(self) -> str:
        """ "212 of 220 sections missing; 30 of 600 entries of 15 CFR 744 Supp. No. 4 missing"."""
        parts = []
        if self.units_lost:
            parts.append(f"{len(self.units_lost)} of {self.units} sections missing")
        for table in self.tables:
            if table.lost:
                parts.append(
                    f"{len(table.lost)} of {table.entries} entries of "
                    f"{readable(table.unit)} missing"
                )
        return "; ".join(parts) or "nothing missing"


@dataclass(frozen=True)
class Verdict:
    """Whether a part's payload is applied, and what confirmed an implausible loss.
    ``only``: when the part as a whole is plausible and only some keyed tables lost too
    much, just those units are held; the rest of the part is applied."""

    loss: Loss
    held: bool
    confirmed_by: tuple[str, ...] = ()
    only: tuple[str, ...] = ()


def _over(lost: int, total: int, limit: float) -> bool:
    """``lost`` is more than ``limit`` of ``total`` (exact: 1 of 10 is not over 0.1)."""
    return total > 0 and Fraction(lost, total) > Fraction(str(limit))


def judge(
    store: Store,
    item: FetchedCfrPart,
    before: Node,
    since: str,
    news: list[NewVersion],
    limits: EcfrConfig,
    unchanged: Iterable[str] = (),
) -> Verdict:
    """``news`` (the part's units as ``item`` gives them, less the ``unchanged`` ones, whose
    XML is what it was) against ``before``, the manifest of the part in effect on ``since``."""
    loss = measure(store, before, item.day.isoformat(), news, set(unchanged))
    if not loss.implausible(limits):
        return Verdict(loss, held=False)
    units, entries, by = confirmations(store, item, loss, since)
    rest = loss.less(units, entries)
    if (units or entries) and not rest.implausible(limits):
        return Verdict(loss, held=False, confirmed_by=by)
    again = seen_before(store, item)
    if again is not None:
        seen = f"the same content fetched on {again.fetched_at[:10]} and {item.fetched_at[:10]}"
        return Verdict(loss, held=False, confirmed_by=(seen,))
    only = () if rest.sections_implausible(limits) else rest.suspect_tables(limits)
    return Verdict(rest, held=True, only=only)


def measure(
    store: Store, before: Node, day: str, news: list[NewVersion], unchanged: Set[str] = frozenset()
) -> Loss:
    """Units of ``before`` that neither ``news`` nor ``unchanged`` holds, and entries lost
    from keyed tables."""
    now = {n.key: n for n in news if n.kind != "part"}
    refs = unit_refs(before)
    tables = []
    for key, digest in refs:
        new = now.get(key)
        if key in unchanged or (new is not None and new.text_hash.startswith(digest)):
            continue  # unchanged: loses nothing
        old = _entries_before(store, key, day)
        if old:
            kept = (
                entry_keys(from_json(Node, new.tree)) if new and _ENTRY_JSON in new.tree else set()
            )
            tables.append(TableLoss(key, len(old), tuple(sorted(old - kept))))
    lost = tuple(k for k, _ in refs if k not in now and k not in unchanged)
    return Loss(len(refs), lost, tuple(tables))


def _entries_before(store: Store, key: str, day: str) -> set[str]:
    version = store.version_at(key, day)
    if version is None:
        return set()
    tree = store.blob(version.tree_blob)
    return entry_keys(from_json(Node, tree)) if _ENTRY_JSON in tree else set()


def confirmations(
    store: Store, item: FetchedCfrPart, loss: Loss, since: str
) -> tuple[set[str], set[tuple[str, str]], tuple[str, ...]]:
    """Lost units and entries that the versions API or an FR rule removed after ``since``
    and by the payload's date; and who said so."""
    day = item.day.isoformat()
    api = {key for key, when in item.removed if since < when <= day}
    units = {k for k in loss.units_lost if k in api}
    by = ["the eCFR versions API"] if units else []
    entries: set[tuple[str, str]] = set()
    for key in loss.units_lost:
        if key not in units and (rule := _removing_rule(store, key, since, day)):
            units.add(key)
            by.append(f"FR Doc. {rule}")
    for table in loss.tables:
        for rule, gone in _rule_removals(store, table.unit, since, day):
            hits = {(table.unit, e) for e in table.lost if e in gone}
            if hits:
                entries |= hits
                by.append(f"FR Doc. {rule}")
    return units, entries, tuple(dict.fromkeys(by))


def _rules(store: Store, unit: str, since: str, day: str) -> Iterable[tuple[str, dict, int]]:
    """(FR document number, redline meta, redline version id) of each rule amending ``unit``
    that took effect after ``since`` and by ``day``."""
    for key in store.keys(projections_of(unit)):
        row = store.document(key)
        version = store.latest_version(key)
        if row is not None and version is not None and since < version.valid_from <= day:
            yield str(row.meta.get("fr", projection_parts(key)[1])), row.meta, version.id


def _removing_rule(store: Store, unit: str, since: str, day: str) -> str | None:
    """An FR rule that removes ``unit`` as a whole."""
    return next(
        (
            n
            for n, meta, _ in _rules(store, unit, since, day)
            if meta.get("op") == ProjectionOp.REMOVED
        ),
        None,
    )


def _rule_removals(store: Store, unit: str, since: str, day: str) -> Iterable[tuple[str, set[str]]]:
    """(FR document number, entries its redline of ``unit`` removes from the prior text)."""
    for number, meta, version in _rules(store, unit, since, day):
        base = meta.get("base_version")
        if not base or meta.get("op") == ProjectionOp.REMOVED:
            continue
        after = entry_keys(from_json(Node, store.blob(store.version(version).tree_blob)))
        if after:  # a redline that could not be made has no table: it removes nothing
            prior = entry_keys(from_json(Node, store.blob(store.version(base).tree_blob)))
            yield number, prior - after


def seen_before(store: Store, item: FetchedCfrPart) -> HeldFetchRow | None:
    """The same payload for the same date, held from a fetch on an earlier day."""
    sha = hashlib.sha256(item.body).hexdigest()
    part = cfr_key(item.title, item.part)
    return next(
        (
            row
            for row in store.held_fetches(part)
            if row.valid_from == item.day.isoformat()
            and row.raw_blob == sha
            and row.fetched_at[:10] < item.fetched_at[:10]
        ),
        None,
    )
