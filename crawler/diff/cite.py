"""Node paths -> the citations people use (the inverse of crawler.query.citations).

A diff, a redline or a history names a node by its unit key and its path of labels
(``cfr:15:744.11`` + ``("b", "2")``); readers are shown "§ 744.11(b)(2)". The kinds along the
path (from the tree) decide the form: a heading with a designation qualifies the paragraphs
it owns ("§ 447.21 Category VI(a)"), a note, footnote or definition is named as the CFR names
it ("§ 740.15(a), Note to paragraph (a)", "§ 740.15(c)(1), footnote 3", "§ 447.11, definition
of “Defense services”"), an Entity List row by its country and entity ("Supp. No. 4 to Part
744, China: Hanzhou Quantum Instruments Co., Ltd."), a Commerce Control List entry by its
ECCN. Labels the tree builder invents never reach a reader: "a~2" is "second (a)", "p3"
"undesignated paragraph 3" (the first one at a unit's top is its "introductory text")."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

from crawler.diff.engine import diff_documents
from crawler.diff.model import DocumentDiff, NodeChange
from crawler.keys import BIS, CFR, cfr_parts, title_part
from crawler.parse.cfr_units import SUPPLEMENT, fr_citations
from crawler.parse.expect import ECCN, FR_CITATION
from crawler.parse.paragraphs import is_designation
from crawler.records import Node

ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth")
_MARKER = re.compile(r"^(?:[a-z]{1,2}|\d{1,3}|[ivxlc]{1,7}|[A-Z]{1,2})$")
_REPEAT = re.compile(r"^(?P<label>.*?)(?:~(?P<n>\d+)|#(?P<row>\d+))$")
_UNDESIGNATED = re.compile(r"^p(\d+)$")
_ROW = re.compile(r"^r(\d+)$")
_ECCN = re.compile(rf"{ECCN.pattern}(?:\.[a-z])?")  # an ECCN or its paragraph: 3A090.a
_NOTES = {
    "citation": "citation note",
    "authority": "authority note",
    "source": "source note",
    "ednote": "editorial note",
    "effdnot": "effective date note",
    "extract": "extract",
    "table": "table",
}
_SMALL = {"of", "and", "the", "de", "du", "da", "la", "el", "y"}
_ENTRY = "entity"


@dataclass(frozen=True)
class Step:
    """One node along a path: its label, and what the tree says about it (kind "" when the
    tree does not hold it)."""

    label: str
    kind: str = ""
    title: str = ""
    first: bool = False  # the first child of its parent


def steps(root: Node | None, path: tuple[str, ...]) -> tuple[Step, ...]:
    """The nodes along ``path`` below ``root``, as far as the tree holds them."""
    out, node = [], root
    for label in path:
        child = node.child(label) if node is not None else None
        first = node is not None and bool(node.children) and node.children[0].label == label
        out.append(Step(label, child.kind, child.title, first) if child else Step(label))
        node = child
    return tuple(out)


def cite(unit: str | None, path: tuple[str, ...], root: Node | None = None) -> str:
    """The citation of the node at ``path`` of unit ``unit`` (a document key such as
    cfr:15:744.11, or None for a whole part's tree), reading kinds from ``root``."""
    walked = steps(root, path)
    if unit and unit.startswith(BIS):
        return _web(walked) or "the page"
    head = _unit_head(unit, root)
    return _Citation(head).extend(walked)


def cite_change(unit: str | None, change: NodeChange, old: Node, new: Node) -> NodeChange:
    """``change`` with its citations filled in (its path in the tree it is in: the old one
    for a removal, the new one otherwise; a redesignation's old path in the old tree)."""
    tree = old if str(change.op) == "removed" else new
    before = cite(unit, change.old_path, old) if change.old_path is not None else ""
    return dataclasses.replace(change, citation=cite(unit, change.path, tree), old_citation=before)


def cite_diff(unit: str | None, diff: DocumentDiff, old: Node, new: Node) -> DocumentDiff:
    """Every change of ``diff`` (of ``old`` -> ``new``, unit ``unit``) with its citation."""
    return DocumentDiff(tuple(cite_change(unit, c, old, new) for c in diff.changes))


def cited_diff(unit: str | None, old: Node, new: Node) -> DocumentDiff:
    """``diff_documents(old, new)`` with every change cited as unit ``unit``'s."""
    return cite_diff(unit, diff_documents(old, new), old, new)


def unit_citation(unit: str) -> str:
    """cfr:15:744.11 -> "§ 744.11"; cfr:15:744:supp-4 -> "Supp. No. 4 to Part 744";
    cfr:14:107:app-A -> "Appendix A to Part 107"; cfr:27:447 -> "Part 447"."""
    _, part, kind, ident = cfr_parts(unit)
    if kind == "supp":
        return f"Supp. No. {ident} to Part {part}"
    if kind == "app":
        return f"Appendix {ident} to Part {part}"
    if kind:
        return f"{kind.replace('-', ' ').capitalize()}, Part {part}"
    return f"§ {part}" if "." in part else f"Part {part}"


def _unit_head(unit: str | None, root: Node | None) -> str:
    if unit and unit.startswith(CFR) and unit.count(":") >= 2:
        return unit_citation(unit)
    if root is not None:
        return _node_head(root.label, root.kind, root.title) or root.label
    return unit or ""


def _node_head(label: str, kind: str, title: str) -> str | None:
    """The citation a unit or part node starts afresh with, or None for others."""
    if kind == "section":
        return f"§ {label}"
    if kind == "part":
        return f"Part {label}"
    if kind in ("appendix", "supplement") or SUPPLEMENT.search(label):
        found = SUPPLEMENT.search(label)
        return f"Supp. No. {found.group(1)} to Part {found.group(2)}" if found else label
    return None


class _Citation:
    """A citation built left to right: designations run on ("(b)(2)"), named parts are
    joined with commas."""

    def __init__(self, head: str) -> None:
        self.text = head
        self.runs = bool(head)  # a designation may follow directly: "§ 744.11" + "(b)"

    def add(self, piece: str, runs: bool) -> None:
        self.text = f"{self.text}, {piece}" if self.text else piece
        self.runs = runs

    def extend(self, walked: tuple[Step, ...]) -> str:
        for depth, step in enumerate(walked):
            after = walked[depth + 1] if depth + 1 < len(walked) else None
            if after is not None and (after.kind == _ENTRY or "|" in after.label):
                continue  # an Entity List row is cited without its table
            self.step(step, depth, last=after is None)
        return self.text

    def step(self, step: Step, depth: int, last: bool) -> None:
        label, nth = _repeat(step.label)
        kind = step.kind or _kind_of(label)
        head = _node_head(label, kind, step.title)
        if head is not None:
            self.text, self.runs = head, True
        elif kind == "subpart":
            self.add(label, False)
        elif kind == "paragraph" and _MARKER.match(label) and not nth:
            self.designate(f"({label})")
        elif kind == "paragraph" and _MARKER.match(label):
            self.add(f"{_ordinal(nth)} ({label})", True)
        else:
            self.named(step, label, kind, nth, depth, last)

    def designate(self, marker: str) -> None:
        if self.runs:
            self.text += marker
        else:
            self.add(f"paragraph {marker}", True)

    def named(self, step: Step, label: str, kind: str, nth: int, depth: int, last: bool) -> None:
        again = f" ({_ordinal(nth)})" if nth else ""
        if kind == "heading" and is_designation(label):
            if self.runs and not self.text.endswith(")"):
                self.text += f" {label}{again}"
                self.runs = True
            else:
                self.add(label + again, True)
        elif kind == "heading":
            shown = step.title or label
            self.add(f"{'heading' if last else 'under heading'} “{shown}”{again}", False)
        elif kind == "note":
            self.add(label + again, False)
        elif kind == "footnote":
            self.add(label[:1].lower() + label[1:] + again, False)
        elif kind == "definition":
            self.add(f"definition of “{label}”{again}", False)
        elif kind == _ENTRY or "|" in label:
            self.add(_entry(label, nth), False)
        elif kind == "eccn" or _ECCN.fullmatch(label):
            self.add(f"ECCN {label}", False)
        elif found := _UNDESIGNATED.match(label):
            self.undesignated(int(found.group(1)), step, depth)
        elif found := _ROW.match(label):
            self.add(f"row {found.group(1)}", False)
        elif kind == "row":
            self.add(f"row “{label}”{again}", False)
        elif kind == "table" and label != "table":
            self.add(f"table “{step.title or label}”{again}", False)
        else:
            self.add(_NOTES.get(label, label) + again, False)

    def undesignated(self, number: int, step: Step, depth: int) -> None:
        if depth == 0 and number == 1 and (step.first or not step.kind):
            self.text += " introductory text"
            self.runs = False
        else:
            self.add(f"undesignated paragraph {number}", False)


def _repeat(label: str) -> tuple[str, int]:
    """("a~2") -> ("a", 2); an Entity List row's "#2" likewise; others (label, 0)."""
    found = _REPEAT.match(label)
    if found is None:
        return label, 0
    return found.group("label"), int(found.group("n") or found.group("row"))


def _ordinal(n: int) -> str:
    return ORDINALS[n - 1] if 0 < n <= len(ORDINALS) else f"{n}th"


def _kind_of(label: str) -> str:
    """A node's kind guessed from its label alone (the tree no longer holds it)."""
    if label.startswith("Footnote "):
        return "footnote"
    if label.startswith("Note"):
        return "note"
    if label.startswith("Subpart "):
        return "subpart"
    if is_designation(label):
        return "heading"
    if _MARKER.match(label):
        return "paragraph"
    return ""


def _entry(label: str, nth: int) -> str:
    """An Entity List row "CHINA, PEOPLE'S REPUBLIC OF|Name" -> "China: Name"."""
    country, _, name = label.partition("|")
    again = f" ({_ordinal(nth)} entry)" if nth else ""
    return f"{country_name(country)}: {name}{again}" if name else label


def country_name(country: str) -> str:
    """The Entity List's upper-case country as a reader writes it: "CHINA, PEOPLE'S
    REPUBLIC OF" -> "China", "UNITED ARAB EMIRATES" -> "United Arab Emirates"."""
    if country.upper().startswith("CHINA, PEOPLE"):
        country = "CHINA"
    if not country.isupper():
        return country
    words = country.lower().split(" ")
    return " ".join(w if i and w in _SMALL else w[:1].upper() + w[1:] for i, w in enumerate(words))


def _web(walked: tuple[Step, ...]) -> str:
    """A BIS page block "p3" (kind paragraph, item, heading, row) -> "paragraph 3"."""
    if not walked:
        return ""
    step = walked[-1]
    found = _UNDESIGNATED.match(step.label)
    if found is None:
        return step.label
    return f"{step.kind or 'paragraph'} {found.group(1)}"


# --- the eCFR is unofficial: name it so, and link the official FR text -------------------

UNOFFICIAL = (
    "eCFR: an unofficial editorial compilation, not the official legal edition; "
    "official text in the Federal Register"
)


@dataclass(frozen=True)
class OfficialLink:
    """Where the official text behind an eCFR change is: an FR document, or the search
    for the FR documents amending the part when no document is named."""

    text: str  # "79 FR 17024", "FR Doc. 2014-06778", "FR documents amending 27 CFR 447"
    url: str


def fr_page_url(citation: str) -> str:
    """ "79 FR 17028" -> GPO's link to that page of the official Federal Register."""
    found = FR_CITATION.fullmatch(citation.strip())
    if found is None:
        return ""
    return f"https://www.govinfo.gov/link/fr/{found.group(1)}/{found.group(2)}"


def official_links(unit: str, cited: tuple[tuple[str, str], ...] = ()) -> tuple[OfficialLink, ...]:
    """Links to the official text of unit ``unit``'s change: each (FR citation, document
    URL or "") named as its source, else the FR documents amending its part."""
    links = tuple(
        OfficialLink(citation, url or fr_page_url(citation))
        for citation, url in cited
        if url or fr_page_url(citation)
    )
    if links:
        return links
    title, part = title_part(unit)
    query = f"conditions%5Bcfr%5D%5Btitle%5D={title}&conditions%5Bcfr%5D%5Bpart%5D={part}"
    return (
        OfficialLink(
            f"FR documents amending {title} CFR {part}",
            f"https://www.federalregister.gov/documents/search?{query}",
        ),
    )


def pin_cite(document_citation: str | None, page: str) -> str:
    """An instruction's pin cite: "91 FR 70103" from the document's citation ("91 FR
    70101") and the page it is printed on ("" = the document's first page)."""
    found = FR_CITATION.fullmatch((document_citation or "").strip())
    if found is None:
        return f"FR page {page}" if page else ""
    return f"{found.group(1)} FR {page or found.group(2)}"


def fr_sources(old: Node, new: Node) -> tuple[tuple[str, str], ...]:
    """(FR citation, "") for each citation newly named in a unit's source note: the rules
    behind an eCFR change, for ``official_links``."""
    return tuple((c, "") for c in sorted(fr_citations(new) - fr_citations(old)))
