"""The ``federal_register`` source in the digest: the day's documents by kind, corrections
with what they correct, changes to documents seen before, publication-day redlines, and the
Public Inspection list."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar

from crawler.diff.cite import cited_diff, pin_cite
from crawler.diff.provenance import provenance, provenance_line
from crawler.diff.views import text_view
from crawler.digest.context import (
    ChangeEntry,
    CorrectedEntry,
    DocumentEntry,
    InspectionEntry,
    Instruction,
    RedlineEntry,
    Section,
)
from crawler.digest.select import document_facets
from crawler.digest.source import Part, Scope, SourceDigest
from crawler.fetch.spiders import Source
from crawler.keys import (
    CFR,
    FR,
    PI,
    fr_key,
    is_projection,
    pi_key,
    pi_number,
    projection_parts,
    readable,
    unit_label,
)
from crawler.records import FrDocument, Node, ProjectionOp, from_json, removed_unit
from crawler.workdays import EASTERN
from storage import AlertKind, AlertRow, DocumentRow, InspectionListRow, NewAlert, Store

KIND_ORDER = (
    ("Rule", "Final rules"),
    ("Proposed Rule", "Proposed rules"),
    ("Notice", "Notices"),
    ("Presidential Document", "Presidential documents"),
)
REDLINED = ("Rule", "Proposed Rule")  # the kinds whose amendments are redlined


@dataclass(frozen=True)
class RedlineRecord:
    """A unit as a new rule would leave it (crawler.amend), read back from the store."""

    unit: str
    op: ProjectionOp
    flags: tuple[str, ...]
    instructions: tuple[str, ...]
    given: tuple[str, ...]
    old: Node | None
    new: Node | None
    provenance: tuple[str, ...] = ()  # the prior text's version, the rule's version


@dataclass(frozen=True)
class StoredDocument:
    """A document of the day: its listing row, its latest record, when each version was
    stored."""

    row: DocumentRow
    doc: FrDocument
    stored: tuple[str, ...] = ()


@dataclass(frozen=True)
class Records:
    """What the store holds about the Federal Register for one day."""

    documents: tuple[StoredDocument, ...]
    originals: dict[str, DocumentRow] = field(default_factory=dict)  # corrected key -> row
    changes: tuple[tuple[DocumentRow, tuple[str, ...], bool], ...] = ()  # fields, substantive
    inspection: tuple[DocumentRow, ...] = ()
    withdrawn: frozenset[str] = frozenset()  # filings withdrawn that day (keys)
    redlines: dict[str, tuple[RedlineRecord, ...]] = field(default_factory=dict)  # by number


class FederalRegisterDigest(SourceDigest):
    noun: ClassVar[str] = "new"

    def gather(self, store: Store, scope: Scope, source: Source) -> Records:
        iso = scope.day.isoformat()
        published = store.documents(published=iso, prefix=FR)
        seen = {r.key for r in published}
        late = [r for r in scope.first_seen(store, source) if r.key.startswith(FR)]
        rows = sorted(
            [*published, *(r for r in late if r.key not in seen)],
            key=lambda r: ((r.published or "").encode(), r.key.encode()),
        )
        chosen = [r for r in rows if r.published == iso or not r.meta.get("reference_for")]
        documents = tuple(_stored(store, row) for row in chosen)
        originals = {}
        for stored in documents:
            number = stored.doc.correction_of
            if number and (original := store.document(fr_key(number))):
                originals[original.key] = original
        changes = []
        for change in scope.changes_of(source):
            row = store.document(change.document)
            if row is not None:
                stats = change.stats
                fields = stats.get("substantive_fields") or stats.get("fields", ())
                changes.append((row, tuple(fields), change.substantive))
        wanted = {s.doc.number for s in documents if s.doc.type in REDLINED}
        return Records(
            documents=documents,
            originals=originals,
            changes=tuple(changes),
            inspection=tuple(store.documents(published=iso, prefix=PI)),
            withdrawn=_still_withdrawn(store.alerts_on(iso)),
            redlines={n: r for n, r in _redlines(store, wanted).items() if r},
        )

    def build(self, records: Records, scope: Scope) -> Part:
        entries = [_entry(s, records, scope) for s in records.documents]
        regular = [e for e in entries if e.corrects is None]
        sections = []
        for kind, heading in KIND_ORDER:
            chosen = tuple(e for e in regular if e.kind == kind)
            if chosen:
                sections.append(Section(heading, chosen))
        others = tuple(e for e in regular if e.kind not in dict(KIND_ORDER))
        if others:
            sections.append(Section("Other documents", others))
        return Part(
            found=len(entries),
            sections=tuple(sections),
            corrections=tuple(e for e in entries if e.corrects is not None),
            changes=tuple(
                ChangeEntry(r.key, r.title, r.url, field_names(fields))
                for r, fields, real in records.changes
                if real
            ),
            quiet_changes=sum(1 for *_, real in records.changes if not real),
            inspection=tuple(
                _inspection(r, r.key in records.withdrawn) for r in records.inspection
            ),
        )

    def alerts(self, store: Store, scope: Scope, source: Source, at: str) -> list[NewAlert]:
        """A filing first seen on the Public Inspection list by the scope's runs; one that
        two later complete lists of the same day lack, not published (withdrawn); one
        withdrawn that a later complete list holds again. Each is kept by the latest run
        (the one recording it: alerts a killed run never recorded are recorded now)."""
        run = max(scope.runs, default=0)
        iso = scope.day.isoformat()
        lists = [lst for each in scope.runs for lst in store.inspection_lists(each)]
        said = store.alerts_on(iso)
        return (
            self._filings(store, scope, source, at, run)
            + [
                _withdrawal(store, number, lst, source.name, iso, at, run)
                for lst in lists
                for number in withdrawn(store, lst)
            ]
            + [
                _restored(store, number, lst, source.name, iso, at, run)
                for lst in lists
                for number in restored(lst, said)
            ]
        )

    def _filings(
        self, store: Store, scope: Scope, source: Source, at: str, run: int
    ) -> list[NewAlert]:
        return [
            NewAlert(
                AlertKind.FILING,
                source.name,
                row.key,
                f"on public inspection: {row.title} ({_filed(row)})",
                scope.day.isoformat(),
                at,
                run,
                {"url": row.url},
            )
            for row in scope.first_seen(store, source)
            if row.key.startswith(PI)
        ]


DIGEST = FederalRegisterDigest()


def _filed(row: DocumentRow) -> str:
    """'Rule, FR Doc. 2026-22003, special filing 2026-10-06 11:10 Eastern, to be published
    2026-10-07': what a filing's alert says of it."""
    said = [row.kind, f"FR Doc. {pi_number(row.key)}"]
    filed = str(row.meta.get("filed_at") or "")
    try:
        when = datetime.fromisoformat(filed).astimezone(EASTERN)
    except ValueError:
        when = None
    kind = "special filing" if row.meta.get("special_filing") else "filed"
    if when is not None:
        said.append(f"{kind} {when:%Y-%m-%d %H:%M} Eastern")
    elif row.meta.get("special_filing"):
        said.append(kind)
    if day := row.meta.get("publication_date"):
        said.append(f"to be published {day}")
    return ", ".join(said)


def withdrawn(store: Store, listed: InspectionListRow) -> list[str]:
    """The numbers of the filings a complete list of the day held that the next two
    complete lists of the same day and agencies lack (``listed`` the second: one list that
    lacks a filing may be a stale copy), and that were not published: no FR document stored
    under the number, and not yet due on the day the list was fetched (a filing leaves the
    list when its publication day comes). A list that was not complete, or a fetch that
    failed (no list), shows no withdrawal."""
    before = store.complete_list_before(listed) if listed.complete else None
    earlier = store.complete_list_before(before) if before is not None else None
    if before is None or earlier is None:
        return []
    today = max(
        listed.day, datetime.fromisoformat(listed.at).astimezone(EASTERN).date().isoformat()
    )
    out = []
    for number in sorted(set(earlier.numbers) - set(before.numbers) - set(listed.numbers)):
        if store.document(fr_key(number)) is not None:
            continue  # published
        filing = store.document(pi_key(number))
        due = filing.meta.get("publication_date") if filing else None
        if due and str(due) <= today:
            continue  # its day has come: published, not withdrawn
        out.append(number)
    return out


def _still_withdrawn(said: list[AlertRow]) -> frozenset[str]:
    """The keys of filings reported withdrawn and not back on the list since."""
    out: set[str] = set()
    for alert in sorted(said, key=lambda a: a.at):
        if alert.kind == AlertKind.WITHDRAWN:
            out.add(alert.target)
        elif alert.kind == AlertKind.RESTORED:
            out.discard(alert.target)
    return frozenset(out)


def restored(listed: InspectionListRow, said: list[AlertRow]) -> list[str]:
    """The numbers of filings reported withdrawn (``said``: the day's alerts) before this
    complete list, which holds them again."""
    if not listed.complete:
        return []
    gone = {a.target for a in said if a.kind == AlertKind.WITHDRAWN and a.at <= listed.at}
    return sorted(n for n in listed.numbers if pi_key(n) in gone)


def _restored(
    store: Store, number: str, listed: InspectionListRow, source: str, day: str, at: str, run: int
) -> NewAlert:
    return _filing_alert(
        store,
        number,
        lambda title, _due: (
            f"back on public inspection: {title} (FR Doc. {number}, reported withdrawn "
            f"earlier; on the list of {listed.day} as fetched at {listed.at})"
        ),
        NewAlert(AlertKind.RESTORED, source, pi_key(number), "", day, at, run),
    )


def _withdrawal(
    store: Store, number: str, listed: InspectionListRow, source: str, day: str, at: str, run: int
) -> NewAlert:
    return _filing_alert(
        store,
        number,
        lambda title, due: (
            f"withdrawn from public inspection: {title} (FR Doc. {number}"
            + (f", was to be published {due}" if due else "")
            + f"; not on the lists of {listed.day} since it was fetched at {listed.at})"
        ),
        NewAlert(AlertKind.WITHDRAWN, source, pi_key(number), "", day, at, run),
    )


def _filing_alert(
    store: Store,
    number: str,
    say: Callable[[str, str | None], str],
    alert: NewAlert,
) -> NewAlert:
    """``alert`` about a stored filing, its title said by ``say(title, publication day)``
    and linking to the filing (a filing not stored is named by its number)."""
    filing = store.document(pi_key(number))
    title = filing.title if filing else f"FR Doc. {number}"
    due = filing.meta.get("publication_date") if filing else None
    detail = {"url": filing.url} if filing else {}
    return dataclasses.replace(alert, title=say(title, due), detail=detail)


def document_entry(store: Store, row: DocumentRow, scope: Scope) -> DocumentEntry:
    """A stored FR document as the digest shows it (its redlines and what it corrects),
    for any day: the web app's page of a rule."""
    stored = _stored(store, row)
    number = stored.doc.correction_of
    original = store.document(fr_key(number)) if number else None
    redlines = _redlines(store, {stored.doc.number}) if stored.doc.type in REDLINED else {}
    records = Records(
        documents=(stored,),
        originals={original.key: original} if original else {},
        redlines=redlines,
    )
    return _entry(stored, records, scope)


def _stored(store: Store, row: DocumentRow) -> StoredDocument:
    history = store.history(row.key)
    assert history, row.key
    doc = from_json(FrDocument, store.blob(history[-1].tree_blob))
    return StoredDocument(row, doc, tuple(v.fetched_at for v in history))


def _redlines(store: Store, numbers: set[str]) -> dict[str, tuple[RedlineRecord, ...]]:
    """The publication-day redlines of the rules numbered ``numbers``, by number."""
    keys: dict[str, list[str]] = {}
    for key in store.keys(CFR) if numbers else ():
        if is_projection(key) and projection_parts(key)[1] in numbers:
            keys.setdefault(projection_parts(key)[1], []).append(key)
    return {number: _redline_records(store, found) for number, found in keys.items()}


def _redline_records(store: Store, keys: list[str]) -> tuple[RedlineRecord, ...]:
    """The redlines of one rule (``keys``: its projection keys)."""
    rule = store.latest_version(fr_key(projection_parts(keys[0])[1])) if keys else None
    by_rule = [provenance_line("rule", provenance(rule, None))] if rule else []
    out = []
    for key in keys:
        version = store.latest_version(key)
        row = store.document(key)
        if version is None or row is None:
            continue
        meta = row.meta
        tree = from_json(Node, store.blob(version.tree_blob))
        base = store.version(meta["base_version"]) if meta.get("base_version") else None
        old = from_json(Node, store.blob(base.tree_blob)) if base else None
        said = [provenance_line("prior text", provenance(base, old))] if base else []
        out.append(
            RedlineRecord(
                unit=meta["unit"],
                op=ProjectionOp(meta["op"]),
                flags=tuple(meta.get("flags", ())),
                instructions=tuple(meta.get("instructions", ())),
                given=tuple(meta.get("given", ())),
                old=old,
                new=None if tree.kind in (ProjectionOp.FLAGGED, ProjectionOp.REMOVED) else tree,
                provenance=(*said, *by_rule),
            )
        )
    return tuple(out)


FIELD_NAMES = {
    "title": "title",
    "abstract": "summary",
    "action": "action",
    "citation": "citation",
    "effective_on": "effective date",
    "comments_close_on": "comment deadline",
    "cfr_parts": "CFR parts",
    "xml.regtexts": "regulatory text",
    "xml.tables": "tables",
    "xml.body": "body text",
    "xml.summary": "summary",
    "xml.dates": "dates",
    "xml.subject": "title",
    "xml.effective_date": "effective date",
    "xml.comment_deadline": "comment deadline",
    "special_filing": "special filing",
}


def field_names(fields: tuple[str, ...]) -> tuple[str, ...]:
    """Stored field keys as a reader would name them, each once."""
    return tuple(dict.fromkeys(FIELD_NAMES.get(f, f.removeprefix("xml.")) for f in fields))


def _entry(stored: StoredDocument, records: Records, scope: Scope) -> DocumentEntry:
    row, doc = stored.row, stored.doc
    corrects = None
    if doc.correction_of:
        original = records.originals.get(fr_key(doc.correction_of))
        corrects = CorrectedEntry(
            number=doc.correction_of,
            title=original.title if original else "",
            citation=(original.meta.get("citation") or "") if original else "",
            url=original.url if original else "",
        )
    pages = instruction_pages(doc)  # each instruction's pin cite, for all its redlines
    return DocumentEntry(
        key=row.key,
        number=doc.number,
        kind=doc.type,
        title=doc.title,
        citation=doc.citation or "",
        url=doc.html_url,
        publication_date=doc.publication_date.isoformat(),
        effective_on=doc.effective_on.isoformat() if doc.effective_on else "",
        comments_close_on=doc.comments_close_on.isoformat() if doc.comments_close_on else "",
        cfr_parts=tuple(_cfr(p) for p in doc.cfr_parts),
        agencies=doc.agencies,
        action=doc.action,
        summary=doc.abstract,
        late=doc.publication_date < scope.day,
        corrects=corrects,
        redlines=tuple(_redline(r, pages) for r in records.redlines.get(doc.number, ())),
        facets=document_facets(doc, scope.topics),
        stored=stored.stored,
    )


def _cfr(part: str) -> str:
    title, _, number = part.partition(":")
    return f"{title} CFR {number}"


def _inspection(row: DocumentRow, withdrawn: bool) -> InspectionEntry:
    return InspectionEntry(
        number=pi_number(row.key),
        kind=row.kind,
        title=row.title,
        url=row.url,
        publication_date=row.meta.get("publication_date") or "",
        special_filing=bool(row.meta.get("special_filing")),
        withdrawn=withdrawn,
    )


def _redline(record: RedlineRecord, pages: dict[str, str]) -> RedlineEntry:
    diff = None
    if record.new is not None or record.old is not None:
        label = unit_label(record.unit)
        diff = cited_diff(
            record.unit, record.old or removed_unit(label), record.new or removed_unit(label)
        )
    return RedlineEntry(
        citation=readable(record.unit),
        op=record.op,
        flags=record.flags,
        instructions=tuple(
            Instruction(t, pages.get(" ".join(t.split()), "")) for t in record.instructions
        ),
        given=record.given,
        diff=diff,
        text=text_view(diff) if diff is not None else "",
        provenance=record.provenance,
    )


def instruction_pages(doc: FrDocument) -> dict[str, str]:
    """Each amendatory instruction of ``doc`` (by its text) -> its pin cite ("79 FR 17028")."""
    regtexts = doc.xml.regtexts if doc.xml else ()
    return {
        " ".join(a.text.split()): pin_cite(doc.citation, a.page)
        for regtext in regtexts
        for a in regtext.amendments
    }
