"""The ``ecfr`` source in the digest: sections and appendices whose text changed in the
day's runs, each with its stored redline and the FR documents its source note newly cites;
eCFR fetches held as implausible, as alert lines."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from crawler.diff import stored as stored_diff
from crawler.diff.cite import official_links
from crawler.diff.model import DocumentDiff, Op
from crawler.diff.provenance import provenance, provenance_line
from crawler.diff.views import text_view
from crawler.digest.context import CfrChangeEntry, CitedDocument
from crawler.digest.select import change_facets
from crawler.digest.source import Part, Scope, SourceDigest, change_diff
from crawler.digest.topics import Topic
from crawler.fetch.spiders import Source
from crawler.keys import fr_number, readable, title_part
from crawler.parse.cfr_units import fr_citations
from crawler.query.entities import ENTITY_LIST
from crawler.query.entities import summary as entity_summary
from crawler.records import UNIT_REMOVED, Node, from_json
from storage import DocumentRow, HeldFetchRow, Store


@dataclass(frozen=True)
class UnitChange:
    """A CFR unit that changed in the day's runs, with its stored diff."""

    row: DocumentRow
    op: Op  # added (back), removed, changed
    diff: DocumentDiff
    from_date: str
    to_date: str
    stored: str
    caused_by: tuple[CitedDocument, ...]
    provenance: tuple[str, ...] = ()


@dataclass(frozen=True)
class Records:
    changes: tuple[UnitChange, ...]
    held: tuple[HeldFetchRow, ...] = ()  # implausible fetches still held (issue 11)


class EcfrDigest(SourceDigest):
    noun: ClassVar[str] = "changed"

    def gather(self, store: Store, scope: Scope, source: Source) -> Records:
        changes = []
        for change in scope.changes_of(source):
            row = store.document(change.document)
            if row is None or not stored_diff.diffed(row.kind) or change.from_version is None:
                continue
            old_version = store.version(change.from_version)
            new_version = store.version(change.to_version)
            old = from_json(Node, store.blob(old_version.tree_blob))
            new = from_json(Node, store.blob(new_version.tree_blob))
            op = (
                Op.ADDED
                if old.kind == UNIT_REMOVED
                else Op.REMOVED
                if new.kind == UNIT_REMOVED
                else Op.CHANGED
            )
            changes.append(
                UnitChange(
                    row=row,
                    op=op,
                    diff=change_diff(store, change),
                    from_date=old_version.valid_from,
                    to_date=new_version.valid_from,
                    stored=new_version.fetched_at,
                    caused_by=_cited(store, old, new),
                    provenance=(
                        provenance_line("from", provenance(old_version, old)),
                        provenance_line("to", provenance(new_version, new)),
                    ),
                )
            )
        last = max(scope.runs, default=0)
        held = tuple(h for h in store.held_fetches() if scope.runs and h.run <= last)
        return Records(tuple(changes), held)

    def build(self, records: Records, scope: Scope) -> Part:
        entries = [_entry(c, scope.topics) for c in records.changes]
        return Part(
            found=len(entries),
            cfr_changes=tuple(e for e in entries if e.substantive),
            cfr_quiet=tuple(e for e in entries if not e.substantive),
            alerts=tuple(held_alert(h) for h in records.held),
        )


DIGEST = EcfrDigest()


def _entry(change: UnitChange, topics: tuple[Topic, ...]) -> CfrChangeEntry:
    row, diff = change.row, change.diff
    return CfrChangeEntry(
        key=row.key,
        citation=readable(row.key),
        title=row.title,
        url=row.url,
        from_date=change.from_date,
        to_date=change.to_date,
        op=change.op,
        substantive=bool(diff.substantive) or change.op != Op.CHANGED,
        diff=diff,
        text=text_view(diff),
        caused_by=change.caused_by,
        facets=change_facets(row.key, row.title, diff, topics),
        summary=entity_summary(diff) if row.key == ENTITY_LIST else "",
        official=official_links(row.key, tuple((d.citation, d.url) for d in change.caused_by)),
        stored=change.stored,
        provenance=change.provenance,
    )


def _cited(store: Store, old: Node, new: Node) -> tuple[CitedDocument, ...]:
    """FR documents newly named in the unit's source note (CITA): the rules behind it."""
    out = []
    for citation in sorted(fr_citations(new) - fr_citations(old)):
        found = store.by_citation(citation)
        doc = found[0] if found else None
        out.append(
            CitedDocument(
                citation,
                fr_number(doc.key) if doc else "",
                doc.title if doc else "",
                doc.url if doc else "",
            )
        )
    return tuple(out)


def held_alert(held: HeldFetchRow) -> str:
    """The alert line of a held fetch: "eCFR 15 CFR part 744 as of 2026-10-09: 4 of 4
    sections missing - held, not applied; ..." (what would confirm it follows)."""
    title, part = title_part(held.document)
    return (
        f"eCFR {title} CFR part {part} as of {held.valid_from}: {held.reason} - held, not "
        "applied; it is applied once the eCFR versions API marks them removed, an FR rule "
        "removes them, or a later day's fetch returns the same content"
    )
