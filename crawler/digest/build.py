"""Build the digest context for one day from what the store holds about it. Pure."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from crawler.diff.cite import cited_diff, official_links, pin_cite
from crawler.diff.views import text_view
from crawler.digest.context import (
    CfrChangeEntry,
    ChangeEntry,
    CitedDocument,
    CorrectedEntry,
    Digest,
    DocumentEntry,
    InspectionEntry,
    Instruction,
    RedlineEntry,
    Section,
    SourceLine,
    WebEntry,
)
from crawler.digest.select import change_facets, document_facets, web_facets
from crawler.digest.topics import Topic
from crawler.keys import fr_key, pi_number, title_part, unit_label
from crawler.query.citations import display
from crawler.query.entities import ENTITY_LIST
from crawler.query.entities import summary as entity_summary
from crawler.records import FrDocument, Node, ProjectionOp, SourceState
from storage import DocumentRow, ErrorRow, HeldFetchRow, RetryRow, RunSourceRow

KIND_ORDER = (
    ("Rule", "Final rules"),
    ("Proposed Rule", "Proposed rules"),
    ("Notice", "Notices"),
    ("Presidential Document", "Presidential documents"),
)


@dataclass(frozen=True)
class DayRecords:
    """Everything the store knows about one day, gathered by crawler.digest.report."""

    day: date
    documents: tuple[tuple[DocumentRow, FrDocument], ...]
    originals: dict[str, DocumentRow]  # corrected document key -> its row
    changes: tuple[tuple[DocumentRow, tuple[str, ...], bool], ...]  # row, fields, substantive
    inspection: tuple[DocumentRow, ...]
    sources: tuple[RunSourceRow, ...]  # the latest run of each source on the day
    errors: tuple[ErrorRow, ...]  # errors of those runs
    source_titles: dict[str, str]
    cfr: tuple[CfrRecord, ...] = ()
    topics: tuple[Topic, ...] = ()
    redlines: dict[str, tuple[RedlineRecord, ...]] = field(default_factory=dict)
    web: tuple[WebRecord, ...] = ()
    held: tuple[HeldFetchRow, ...] = ()  # implausible eCFR fetches still held (issue 11)
    retrying: tuple[RetryRow, ...] = ()  # documents that failed and are not stored yet
    mailed: int = 0  # messages of the day's digests sent so far (whichever run sent them)


@dataclass(frozen=True)
class WebRecord:
    """A BIS web page first seen (``old`` None) or changed in the day's runs."""

    row: DocumentRow
    old: Node | None
    new: Node


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


@dataclass(frozen=True)
class CfrRecord:
    """A CFR unit that changed in the day's runs: its two versions as trees."""

    row: DocumentRow
    old: Node | None  # None: the unit is new in its part
    new: Node | None  # None: the unit was removed from its part
    from_date: str
    to_date: str
    caused_by: tuple[CitedDocument, ...]


def build_digest(records: DayRecords, tz: ZoneInfo) -> Digest:
    entries = [_entry(row, doc, records) for row, doc in records.documents]
    regular = [e for e in entries if e.corrects is None]
    sections = []
    for kind, heading in KIND_ORDER:
        chosen = tuple(e for e in regular if e.kind == kind)
        if chosen:
            sections.append(Section(heading, chosen))
    others = tuple(e for e in regular if e.kind not in dict(KIND_ORDER))
    if others:
        sections.append(Section("Other documents", others))
    cfr = [_cfr_entry(r, records.topics) for r in records.cfr]
    web = [_web_entry(r, records.topics) for r in records.web]
    found = {"federal_register": len(entries), "ecfr": len(cfr), "bis": len(web)}
    found["email"] = records.mailed
    lines = tuple(
        _source_line(name, title, records, found.get(name, 0), tz)
        for name, title in sorted(records.source_titles.items())
    )
    latest = {r.source: r.run for r in records.sources}
    return Digest(
        day=records.day.isoformat(),
        day_long=f"{records.day:%A, %B} {records.day.day}, {records.day.year}",
        sections=tuple(sections),
        corrections=tuple(e for e in entries if e.corrects is not None),
        changes=tuple(
            ChangeEntry(r.key, r.title, r.url, field_names(fields))
            for r, fields, real in records.changes
            if real
        ),
        quiet_changes=sum(1 for *_, real in records.changes if not real),
        cfr_changes=tuple(e for e in cfr if e.substantive),
        cfr_quiet=tuple(e for e in cfr if not e.substantive),
        inspection=tuple(_inspection(r) for r in records.inspection),
        sources=lines,
        total_new=len(entries),
        # mail is sent from the digest before the email line can say how sending went
        degraded=bool(records.sources)
        and any(
            line.status != SourceState.OK
            and (line.name, line.status) != ("email", SourceState.NOT_RUN)
            for line in lines
        ),
        ran=bool(records.sources),
        web=tuple(e for e in web if e.substantive),
        web_quiet=tuple(e for e in web if not e.substantive),
        alerts=tuple(
            f"{e.target}: {e.message}"
            for e in records.errors
            if e.message.startswith(ALERTS) and latest.get(e.source) == e.run
        )
        + tuple(held_alert(h) for h in records.held)
        + tuple(retry_alert(r, tz) for r in records.retrying),
    )


ALERTS = ("source moved", "source missing")


def retry_alert(row: RetryRow, tz: ZoneInfo) -> str:
    """The alert line of a document on the retry list: it stays in every digest until a
    run stores it."""
    try:
        since = f"{datetime.fromisoformat(row.first_failed).astimezone(tz):%Y-%m-%d %H:%M %Z}"
    except ValueError:
        since = row.first_failed
    times = "once" if row.attempts == 1 else f"{row.attempts} times"
    return (
        f"{row.target} not stored yet (failed {times} since {since}; "
        f"every run retries it): {row.message}"
    )


def held_alert(held: HeldFetchRow) -> str:
    """The alert line of a held fetch: "eCFR 15 CFR part 744 as of 2026-10-09: 4 of 4
    sections missing - held, not applied; ..." (what would confirm it follows)."""
    title, part = title_part(held.document)
    return (
        f"eCFR {title} CFR part {part} as of {held.valid_from}: {held.reason} - held, not "
        "applied; it is applied once the eCFR versions API marks them removed, an FR rule "
        "removes them, or a later day's fetch returns the same content"
    )


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


def _entry(row: DocumentRow, doc: FrDocument, records: DayRecords) -> DocumentEntry:
    corrects = None
    if doc.correction_of:
        original = records.originals.get(fr_key(doc.correction_of))
        corrects = CorrectedEntry(
            number=doc.correction_of,
            title=original.title if original else "",
            citation=(original.meta.get("citation") or "") if original else "",
            url=original.url if original else "",
        )
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
        late=doc.publication_date < records.day,
        corrects=corrects,
        redlines=tuple(_redline(r, doc) for r in records.redlines.get(doc.number, ())),
        facets=document_facets(doc, records.topics),
    )


def _cfr(part: str) -> str:
    title, _, number = part.partition(":")
    return f"{title} CFR {number}"


def _inspection(row: DocumentRow) -> InspectionEntry:
    return InspectionEntry(
        number=pi_number(row.key),
        kind=row.kind,
        title=row.title,
        url=row.url,
        publication_date=row.meta.get("publication_date") or "",
        special_filing=bool(row.meta.get("special_filing")),
    )


def _cfr_entry(record: CfrRecord, topics: tuple[Topic, ...]) -> CfrChangeEntry:
    label = record.row.meta.get("label") or record.row.key
    empty = Node(label, "removed")
    old, new = record.old or empty, record.new or empty
    diff = cited_diff(record.row.key, old, new)
    op = "added" if record.old is None else "removed" if record.new is None else "changed"
    return CfrChangeEntry(
        key=record.row.key,
        citation=display(record.row.key),
        title=record.row.title,
        url=record.row.url,
        from_date=record.from_date,
        to_date=record.to_date,
        op=op,
        substantive=bool(diff.substantive) or op != "changed",
        diff=diff,
        text=text_view(diff),
        caused_by=record.caused_by,
        facets=change_facets(record.row.key, record.row.title, diff, topics),
        summary=entity_summary(diff) if record.row.key == ENTITY_LIST else "",
        official=official_links(
            record.row.key, tuple((d.citation, d.url) for d in record.caused_by)
        ),
    )


def _web_entry(record: WebRecord, topics: tuple[Topic, ...]) -> WebEntry:
    row, new = record.row, record.new
    if record.old is None:
        diff, op, substantive = None, "new", True
        said = [c.text for c in new.children if c.kind != "heading" and c.text != row.title]
        summary = _clip(" ".join(t for t in said if len(t) > 40) or " ".join(said))
        text = " ".join(c.text for c in new.children)
    else:
        diff, op, summary = cited_diff(row.key, record.old, new), "changed", ""
        substantive = bool(diff.substantive)
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
    )


def _clip(text: str, limit: int = 400) -> str:
    """``text`` cut at a word boundary near ``limit`` characters, marked when cut."""
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0] + " ..."


NOUNS = {"ecfr": "changed", "email": "sent", "bis": "new or changed"}


def _redline(record: RedlineRecord, doc: FrDocument) -> RedlineEntry:
    diff = None
    if record.new is not None or record.old is not None:
        label = unit_label(record.unit)
        diff = cited_diff(
            record.unit, record.old or Node(label, "removed"), record.new or Node(label, "removed")
        )
    pages = instruction_pages(doc)
    return RedlineEntry(
        citation=display(record.unit),
        op=record.op,
        flags=record.flags,
        instructions=tuple(
            Instruction(t, pages.get(" ".join(t.split()), "")) for t in record.instructions
        ),
        given=record.given,
        diff=diff,
        text=text_view(diff) if diff is not None else "",
    )


def instruction_pages(doc: FrDocument) -> dict[str, str]:
    """Each amendatory instruction of ``doc`` (by its text) -> its pin cite ("79 FR 17028")."""
    regtexts = doc.xml.regtexts if doc.xml else ()
    return {
        " ".join(a.text.split()): pin_cite(doc.citation, a.page)
        for regtext in regtexts
        for a in regtext.amendments
    }


def _source_line(name: str, title: str, records: DayRecords, new: int, tz: ZoneInfo) -> SourceLine:
    row = next((r for r in records.sources if r.source == name), None)
    if row is None:
        return SourceLine(name, title, SourceState.NOT_RUN, "", 0, NOUNS.get(name, "new"), ())
    checked = row.finished or row.started
    local = datetime.fromisoformat(checked).astimezone(tz)
    errors = tuple(
        f"{e.target}: {e.message}" for e in records.errors if e.source == name and e.run == row.run
    )
    reason = ""
    if row.status == SourceState.FAILED:  # it checked nothing: say why instead of "nothing new"
        reason, errors = (errors[0], errors[1:]) if errors else ("no reason recorded", ())
    return SourceLine(
        name,
        title,
        SourceState(row.status),
        f"{local:%Y-%m-%d %H:%M %Z}",
        new,
        NOUNS.get(name, "new"),
        errors,
        reason,
    )
