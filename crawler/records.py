"""The typed records handed from stage to stage, in flow order.

fetch (crawler.fetch.items) -> parse (these records) -> snapshot (storage) -> digest (contexts).
All are frozen and JSON-serialisable through ``to_json``/``from_json`` so a parsed version
can be stored as a derived blob and read back by the report half.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import hashlib
import json
import typing
from dataclasses import dataclass
from datetime import date
from typing import Any

from crawler import keys
from storage.outcomes import (
    AlertKind,
    ErrorKind,
    HeldStatus,
    OutboxState,
    Outcome,
    RunStatus,
    SourceState,
)

# re-exported: one vocabulary, defined beside the store that persists it
__all__ = [
    "AlertKind",
    "ErrorKind",
    "HeldStatus",
    "OutboxState",
    "Outcome",
    "RunStatus",
    "SourceState",
]


class ProjectionOp(enum.StrEnum):
    """What a rule's amendatory instructions do to one unit, as projected (crawler.amend)."""

    REVISED = "revised"
    ADDED = "added"
    RESERVED = "reserved"
    REMOVED = "removed"
    FLAGGED = "flagged"  # nothing could be applied mechanically


# --- parse: Federal Register XML ---------------------------------------------------------


@dataclass(frozen=True)
class Amendment:
    """One amendatory instruction (AMDPAR), kept as text, with what it names."""

    text: str
    number: str | None  # the instruction's own number ("2."), if any
    verbs: tuple[str, ...]  # revise, add, remove, reserve, redesignate, amend, continue
    targets: tuple[str, ...]  # "744.11", "744.11(a)(1)", "744:supp-4", "744" (the part)
    page: str = ""  # the FR page it is printed on ("70103"); "" on the document's first page


@dataclass(frozen=True)
class Table:
    """A GPOTABLE as rows of cell text; ``headers`` joins stacked column heads with ' / '."""

    title: str
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Section:
    """A section given in a REGTEXT. ``paragraphs`` keeps '* * * * *' where text was elided."""

    number: str  # "744.11"
    subject: str
    paragraphs: tuple[str, ...]
    tables: tuple[Table, ...] = ()
    tags: tuple[str, ...] = ()  # each paragraph's kind: "P", "HD3", "NOTE", "STARS" ...


@dataclass(frozen=True)
class RegText:
    """One REGTEXT block: the amendments to one CFR part and the text they carry."""

    title: int | None
    part: str
    amendments: tuple[Amendment, ...]
    sections: tuple[Section, ...]
    text: tuple[str, ...]  # headings and paragraphs outside any SECTION (supplements)
    tables: tuple[Table, ...]  # tables outside any SECTION (Entity List additions)


class DateKind(enum.StrEnum):
    """What a date in a rule's life is (crawler.parse.rule_dates, crawler.query.timeline)."""

    FILED = "filed"  # on Public Inspection (a datetime, Eastern)
    PUBLISHED = "published"
    COMMENTS_DUE = "comments_due"
    OBJECTIONS_DUE = "objections_due"  # objections and requests for a hearing
    EFFECTIVE = "effective"
    EFFECTIVE_UNTIL = "effective_until"  # a temporary rule's last day
    APPLICABLE = "applicable"
    COMPLIANCE = "compliance"
    IBR_APPROVED = "ibr_approved"  # incorporation by reference approved as of
    DELAYED = "delayed"  # a document moves another rule's effective date to this one
    CORRECTED = "corrected"  # a correction of the rule was published
    IN_ECFR = "in_ecfr"  # the eCFR first showed the rule's text in a unit

    @property
    def words(self) -> str:
        return _DATE_WORDS[self]


_DATE_WORDS = {
    DateKind.FILED: "filed for public inspection",
    DateKind.PUBLISHED: "published",
    DateKind.COMMENTS_DUE: "comments due",
    DateKind.OBJECTIONS_DUE: "objections due",
    DateKind.EFFECTIVE: "takes effect",
    DateKind.EFFECTIVE_UNTIL: "in effect until",
    DateKind.APPLICABLE: "applicable from",
    DateKind.COMPLIANCE: "compliance required from",
    DateKind.IBR_APPROVED: "incorporation by reference approved",
    DateKind.DELAYED: "effective date moved to",
    DateKind.CORRECTED: "corrected",
    DateKind.IN_ECFR: "in the eCFR",
}


@dataclass(frozen=True)
class RuleDate:
    """One date in a rule's life, with where regwatch read it ("DATES", "FRDOC line", "FR
    API", "Public Inspection", "FR Doc. 2016-08776", "eCFR 15 CFR 744.11")."""

    kind: DateKind
    day: str | None  # ISO date (a datetime for FILED); None: the source says it is not set
    note: str = ""  # "special filing", "47 CFR 64.2011: delayed indefinitely", "to OMB" ...
    source: str = ""


@dataclass(frozen=True)
class Delay:
    """A notice's postponement of another rule's effective date ("The effective date of the
    interim final rule published March 1, 2016 (81 FR 10477) is delayed from April 15, 2016
    to May 16, 2016"): the rule by its FR citation, and its old and new effective dates."""

    citation: str  # "81 FR 10477"
    published: date | None  # the delayed rule's publication date, when the notice gives it
    from_date: date | None  # its effective date before this notice, when given
    to_date: date  # its effective date now


@dataclass(frozen=True)
class FrXmlDocument:
    """What the full-text XML of one FR document says about itself."""

    element: str  # RULE, PRORULE, NOTICE, PRESDOCU
    agency: str
    subagencies: tuple[str, ...]
    cfr: str  # "15 CFR Parts 734 and 744"
    cfr_parts: tuple[str, ...]  # ("15:734", "15:744")
    dockets: tuple[str, ...]
    rins: tuple[str, ...]
    subject: str
    action: str
    summary: str
    dates: str  # the DATES/EFFDATE block as text
    effective_date: date | None
    comment_deadline: date | None
    regtexts: tuple[RegText, ...]
    tables: tuple[Table, ...]  # every GPOTABLE, in document order
    body: tuple[str, ...]  # the narrative outside the preamble and REGTEXT, by paragraph
    frdoc: str  # "2024-02801" from the FRDOC line, if present
    billing_code: str
    delays: tuple[Delay, ...] = ()  # other rules' effective dates this document postpones


# --- parse: Federal Register API -----------------------------------------------------------


@dataclass(frozen=True)
class FrDocument:
    """One published FR document: the API's JSON merged with its parsed XML."""

    number: str
    publication_date: date
    type: str  # "Rule", "Proposed Rule", "Notice", "Presidential Document"
    title: str
    citation: str | None  # "91 FR 70123"
    html_url: str
    pdf_url: str | None
    agencies: tuple[str, ...]  # agency names, parent first as the API lists them
    agency_slugs: tuple[str, ...]
    cfr_parts: tuple[str, ...]  # "15:744", from the API and the XML together
    effective_on: date | None
    comments_close_on: date | None
    correction_of: str | None  # document number this one corrects
    abstract: str
    action: str
    dockets: tuple[str, ...]
    rins: tuple[str, ...]
    xml: FrXmlDocument | None

    @property
    def key(self) -> str:
        return keys.fr_key(self.number)


@dataclass(frozen=True)
class PublicInspectionDocument:
    """A document filed for public inspection, before it is published."""

    number: str
    available_on: date
    publication_date: date | None
    type: str
    title: str
    agencies: tuple[str, ...]
    html_url: str
    pdf_url: str | None
    filed_at: str | None
    special_filing: bool

    @property
    def key(self) -> str:
        return keys.pi_key(self.number)


@dataclass(frozen=True)
class InspectionList:
    """One day's Public Inspection list as one fetch returned it. Complete when it holds as
    many documents as its ``count`` says: only a complete list can show a withdrawal."""

    available_on: date
    count: int
    documents: tuple[PublicInspectionDocument, ...]

    @property
    def complete(self) -> bool:
        return self.count == len(self.documents)


# --- parse: web pages (bis.gov) --------------------------------------------------------------


@dataclass(frozen=True)
class WebBlock:
    """One block of a page's main content: a heading, a paragraph, a list item or a table
    row (cells joined with " | ")."""

    kind: str  # heading, paragraph, item, row
    text: str


@dataclass(frozen=True)
class WebPage:
    """The main content of one web page, without navigation, footer or scripts."""

    path: str  # "/press-release/commerce-adds-entities"
    url: str
    kind: str  # "Press Release", "News", "Web Page"
    title: str
    published: date | None  # as the page states it, if it does
    blocks: tuple[WebBlock, ...]

    @property
    def key(self) -> str:
        return keys.bis_key(self.path)


# --- serialisation -------------------------------------------------------------------------


def to_jsonable(value: Any) -> Any:
    if type(value) is Node:
        return _node_jsonable(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple | list):
        return [to_jsonable(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    return value


def _node_jsonable(node: Node) -> dict[str, Any]:
    """``to_jsonable`` of a Node, the same dict made directly (trees are most of what is
    stored and loaded)."""
    return {
        "label": node.label,
        "kind": node.kind,
        "title": node.title,
        "text": node.text,
        "children": [_node_jsonable(c) for c in node.children],
        "fields": [list(f) for f in node.fields],
    }


def _node(value: dict[str, Any]) -> Node:
    """``_from(Node, value)`` made directly."""
    return Node(
        value["label"],
        value.get("kind", "paragraph"),
        value.get("title", ""),
        value.get("text", ""),
        tuple(_node(c) for c in value.get("children", ())),
        tuple((f[0], f[1]) for f in value.get("fields", ())),
    )


def to_json(record: Any) -> bytes:
    """Canonical JSON (sorted keys, no spaces): equal records give equal bytes."""
    return json.dumps(
        to_jsonable(record), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode()


def from_json(cls: type, data: bytes | dict) -> Any:
    raw = json.loads(data) if isinstance(data, bytes | str) else data
    return _from(cls, raw)


@functools.cache
def _type_hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)  # evaluated once per class: decoding is hot


def _from(hint: Any, value: Any) -> Any:
    if value is None:
        return None
    if hint is Node:
        return _node(value)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        hints = _type_hints(hint)
        return hint(**{k: _from(hints[k], v) for k, v in value.items() if k in hints})
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin is tuple:
        return tuple(_from(args[0], v) for v in value)
    if args and type(None) in args:
        return _from(next(a for a in args if a is not type(None)), value)
    if hint is date:
        return date.fromisoformat(value)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return hint(value)
    return value


# --- parse: regulation text as a tree (eCFR, eRegs, FR REGTEXT) -----------------------------


@dataclass(frozen=True)
class Node:
    """One labelled node of a regulation: part, subpart, section, paragraph, table, row.

    ``label`` is unique among siblings ("744.11", "a", "1", "Subpart A", or a table row's
    key such as "IRAN|Pars Aero Parts Trading"). Table rows carry their cells in ``fields``.
    ``digest`` hashes the whole subtree, so equal subtrees are skipped without being read."""

    label: str
    kind: str = "paragraph"
    title: str = ""
    text: str = ""
    children: tuple[Node, ...] = ()
    fields: tuple[tuple[str, str], ...] = ()

    @functools.cached_property
    def digest(self) -> bytes:
        h = hashlib.blake2b(digest_size=16)
        for part in (self.label, self.kind, self.title, self.text):
            h.update(part.encode())
            h.update(b"\x00")
        for name, value in self.fields:
            h.update(f"{name}\x01{value}\x00".encode())
        for child in self.children:
            h.update(child.digest)
        return h.digest()

    def child(self, label: str) -> Node | None:
        if len(self.children) < 16:
            return next((c for c in self.children if c.label == label), None)
        return self._by_label.get(label)

    @functools.cached_property
    def _by_label(self) -> dict[str, Node]:
        """Children by label, made once for a node with many (an Entity List table, the
        CCL): the first of a repeated label, as the scan finds it."""
        out: dict[str, Node] = {}
        for c in self.children:
            out.setdefault(c.label, c)
        return out

    def find(self, path: tuple[str, ...]) -> Node | None:
        """The node at ``path`` (labels below this one), or None."""
        node: Node | None = self
        for label in path:
            node = node.child(label) if node else None
        return node


UNIT_REMOVED = "removed"  # the kind of a unit's tree once its part no longer holds it


def removed_unit(label: str) -> Node:
    """The stub version of a unit no longer in its part (no parser made it)."""
    return Node(label, UNIT_REMOVED)
