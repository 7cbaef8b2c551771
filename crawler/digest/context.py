"""The documented context of the digest templates: every field a template may use."""

from __future__ import annotations

from dataclasses import dataclass, field

from crawler.diff.cite import OfficialLink
from crawler.diff.model import DocumentDiff, Op
from crawler.digest.select import Facets
from crawler.records import AlertKind, Outcome, ProjectionOp, SourceState


@dataclass(frozen=True)
class DocumentEntry:
    key: str
    number: str
    kind: str  # Rule, Proposed Rule, Notice, ...
    title: str
    citation: str  # "91 FR 70123", or "" while unknown
    url: str
    publication_date: str  # ISO
    effective_on: str  # ISO or ""
    comments_close_on: str  # ISO or ""
    cfr_parts: tuple[str, ...]  # "15 CFR 744"
    agencies: tuple[str, ...]
    action: str
    summary: str
    late: bool  # published before the digest's day, first seen on it
    corrects: CorrectedEntry | None
    redlines: tuple[RedlineEntry, ...] = ()  # the rule against the prior text, by unit
    facets: Facets = field(default_factory=Facets)  # what subscriptions filter on
    stored: tuple[str, ...] = ()  # when regwatch stored each of its versions, oldest first


@dataclass(frozen=True)
class RedlineEntry:
    """One unit a new rule amends, against its prior (eCFR) text, on publication day."""

    citation: str  # "15 CFR 744.11"
    op: ProjectionOp
    flags: tuple[str, ...]  # what regwatch could not apply mechanically
    instructions: tuple[Instruction, ...]
    given: tuple[str, ...]  # the rule's own text, shown when flagged
    diff: DocumentDiff | None
    text: str  # the redline as plain text
    # what was compared (crawler.diff.provenance): the prior text's version, the rule's
    provenance: tuple[str, ...] = ()


@dataclass(frozen=True)
class Instruction:
    """An amendatory instruction as the rule prints it, with its pin cite."""

    text: str
    cite: str  # "79 FR 17028": the FR page it is printed on ("" while the rule has no citation)


@dataclass(frozen=True)
class CorrectedEntry:
    """The original a correction corrects (title "" when it is not in the store)."""

    number: str
    title: str
    citation: str
    url: str


@dataclass(frozen=True)
class Section:
    heading: str
    entries: tuple[DocumentEntry, ...]


@dataclass(frozen=True)
class ChangeEntry:
    key: str
    title: str
    url: str
    fields: tuple[str, ...]


@dataclass(frozen=True)
class CitedDocument:
    """An FR document named in a changed section's source note (its CITA)."""

    citation: str
    number: str  # "" when the document is not in the store
    title: str
    url: str


@dataclass(frozen=True)
class CfrChangeEntry:
    """One eCFR section or appendix that changed, with its redline."""

    key: str  # cfr:15:744.11
    citation: str  # "15 CFR 744.11"
    title: str
    url: str
    from_date: str
    to_date: str
    op: Op  # changed, added, removed
    substantive: bool
    diff: DocumentDiff
    text: str  # the redline as plain text
    caused_by: tuple[CitedDocument, ...]
    facets: Facets = field(default_factory=Facets)
    summary: str = ""  # "Entity List: 7 added (Iran 7), 1 removed (China 1)" and the like
    official: tuple[OfficialLink, ...] = ()  # the eCFR is unofficial: the FR text behind it
    stored: str = ""  # when regwatch stored the new version
    # what was compared, a line per side (crawler.diff.provenance): versions, fetch URLs and
    # times, sha256 of each payload as fetched and of the normalised text
    provenance: tuple[str, ...] = ()


@dataclass(frozen=True)
class WebEntry:
    """A web page: a new item (a BIS press release, news) or a watched page that changed."""

    key: str  # bis:/press-release/...
    kind: str  # Press Release, News, Web Page
    title: str
    url: str
    published: str  # ISO, as the page states it, or ""
    op: Outcome  # new, changed
    summary: str  # a new item's opening paragraphs
    diff: DocumentDiff | None  # a changed page's redline
    text: str  # the redline as plain text
    substantive: bool
    facets: Facets = field(default_factory=Facets)
    stored: str = ""  # when regwatch stored the version shown
    from_date: str = ""  # a changed page: the day of the version it is compared with
    source: str = ""  # the registry name of the source that found it


@dataclass(frozen=True)
class PartRef:
    """A source's part of the report as the templates show it: the partial that renders it
    (``templates/digest/sources/<partial>.*.j2``; sources of one kind share one) and the
    source's name and title."""

    name: str  # the registry name: its entries carry it
    partial: str
    title: str


@dataclass(frozen=True)
class AlertEntry:
    """An alert record (storage ``alerts``): something outside the daily rhythm."""

    kind: AlertKind
    source: str
    target: str
    title: str  # one line
    day: str  # ISO
    at: str  # when it was seen
    url: str = ""  # where to see it ("" when there is nowhere)

    @property
    def line(self) -> str:
        """What people read: the title says what and where (the page's address, the FR
        document number), never the store's key."""
        return self.title


@dataclass(frozen=True)
class CalendarEntry:
    """A rule's date that matters on the day: it takes effect, comments are due, the eCFR
    shows it (or still does not)."""

    number: str
    title: str
    citation: str | None
    url: str
    line: str  # "takes effect today", "15 CFR 744.11: in the eCFR since today (...)"
    kind: str = ""  # "effective", "soon", "comments", "in_ecfr", "differs", "lag"
    facets: Facets = field(default_factory=Facets)  # the rule's: who is sent the line


@dataclass(frozen=True)
class InspectionEntry:
    number: str
    kind: str
    title: str
    url: str
    publication_date: str  # scheduled publication, ISO or ""
    special_filing: bool
    withdrawn: bool = False  # a later complete list of the day lacked it, unpublished


@dataclass(frozen=True)
class SourceLine:
    name: str
    title: str
    status: SourceState
    checked: str  # local time "06:00 EDT", or ""
    new: int
    noun: str  # what ``new`` counts: "new" (documents) or "changed" (CFR sections)
    errors: tuple[str, ...]  # "target: message"
    reason: str = ""  # failed: why (the first error, not repeated in ``errors``)

    @property
    def outcome(self) -> str:
        """ "ok, 2026-10-09 07:30 EDT; 2 changed", "failed: <reason>; not checked",
        "not run; not checked": a source that checked nothing never reads "nothing new"."""
        if self.status == SourceState.FAILED:
            return f"failed: {self.reason}; not checked"
        if self.status == SourceState.NOT_RUN:
            return "not run; not checked"
        found = f"{self.new} {self.noun}" if self.new else "nothing new"
        return f"{self.status}, {self.checked or 'not checked'}; {found}"


@dataclass(frozen=True)
class Report:
    """The day's report: built once per run from stored changes (crawler.digest.report),
    kept in the store, and rendered by every channel (digest, email, feeds, site, JSON)."""

    day: str  # ISO
    day_long: str  # "Monday, October 5, 2026"
    sections: tuple[Section, ...]
    corrections: tuple[DocumentEntry, ...]
    changes: tuple[ChangeEntry, ...]  # substantive changes only
    quiet_changes: int  # changes of typography or whitespace only, folded away
    cfr_changes: tuple[CfrChangeEntry, ...]  # substantive eCFR changes, with redlines
    cfr_quiet: tuple[CfrChangeEntry, ...]  # eCFR changes of typography only (folded)
    inspection: tuple[InspectionEntry, ...]
    sources: tuple[SourceLine, ...]
    total_new: int
    degraded: bool
    web: tuple[WebEntry, ...] = ()  # new BIS items and substantive page changes
    web_quiet: tuple[WebEntry, ...] = ()  # BIS page changes of typography only (folded)
    # "source moved: ..." / "source missing: ..." lines, then held eCFR fetches ("eCFR 15 CFR
    # part 744 as of 2026-10-09: 4 of 4 sections missing - held, not applied; ...")
    alerts: tuple[str, ...] = ()
    ran: bool = True  # False: no run on the day, so nothing was checked
    notices: tuple[AlertEntry, ...] = ()  # the day's alert records (their lines lead ``alerts``)
    parts: tuple[PartRef, ...] = ()  # the sources whose sections it shows, in registry order
    revision: int = 1  # 2+: a corrected report
    calendar: tuple[CalendarEntry, ...] = ()  # rules' dates that matter on the day

    @property
    def standing(self) -> tuple[str, ...]:
        """The alert lines that are not the day's alert records (held fetches, documents
        being retried, a part that could not be made): what a channel that shows the
        records on their own shows beside them."""
        records = {n.line for n in self.notices}
        return tuple(line for line in self.alerts if line not in records)
