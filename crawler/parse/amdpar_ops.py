"""What an amendatory instruction does, as typed records: operations on fully qualified targets.

``crawler.parse.amdpar`` reads AMDPAR prose into these; the projection applies them. A target
names the title, part, the unit inside the part (section, appendix, supplement, subpart ...), the
heading when paragraph labels repeat under headings ("Category VII"), the paragraph path and,
when the instruction names less than a whole paragraph, the portion ("introductory text",
"first sentence", "note after", 'definition "Income"').
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class OpKind(StrEnum):
    """One thing an instruction does to its target."""

    REVISE = "revise"
    ADD = "add"
    REMOVE = "remove"
    RESERVE = "reserve"  # "remove and reserve"
    REDESIGNATE = "redesignate"  # target -> destination
    DESIGNATE = "designate"  # sections designated as a subpart: target -> destination
    REPLACE_PHRASE = "replace phrase"  # phrase -> replacement, inside the target
    REMOVE_PHRASE = "remove phrase"
    ADD_PHRASE = "add phrase"


class UnitKind(StrEnum):
    """What, inside a part, a target sits in."""

    PART = "part"
    SECTION = "section"
    APPENDIX = "appendix"
    SUPPLEMENT = "supplement"
    SUBPART = "subpart"
    CHAPTER = "chapter"


@dataclass(frozen=True)
class Target:
    """A fully qualified place in the CFR an operation acts on."""

    title: str | None
    part: str
    unit: UnitKind
    unit_id: str  # "447.21", "100.35T09-0208", "B" (appendix B), "4" (supp. no. 4), "E"
    heading: str | None = None  # "Category VII", when paragraph labels repeat under headings
    paragraph: tuple[str, ...] = ()  # ("k", "1")
    portion: str = ""  # "" for the whole unit or paragraph

    def cite(self) -> str:
        """The target as people cite it: '27 CFR 447.21 Category VII (i), note after'."""
        title = f"{self.title} CFR " if self.title else ""
        text = title + self._unit_text()
        if self.heading:
            text += f" {self.heading}"
        if self.paragraph:
            text += (" " if self.heading else "") + "".join(f"({p})" for p in self.paragraph)
        return f"{text}, {self.portion}" if self.portion else text

    def _unit_text(self) -> str:
        if self.unit is UnitKind.SECTION:
            return self.unit_id
        if self.unit is UnitKind.PART:
            return f"part {self.part}"
        if self.unit is UnitKind.CHAPTER:
            return f"chapter {self.unit_id}"
        if self.unit is UnitKind.SUPPLEMENT:
            return f"supplement no. {self.unit_id} to part {self.part}"
        return f"{self.unit.value} {self.unit_id} to part {self.part}"


@dataclass(frozen=True)
class Operation:
    """One operation: its kind, its target and, where the kind needs them, a destination
    (redesignate, designate) or phrases (phrase edits)."""

    kind: OpKind
    target: Target
    destination: Target | None = None
    phrase: str | None = None  # the text removed (or added, for ADD_PHRASE)
    replacement: str | None = None  # REPLACE_PHRASE: the text put in its place

    def describe(self) -> str:
        """One line: 'redesignate 24 CFR 1006.215(f) as 24 CFR 1006.215(g)'."""
        text = f"{self.kind.value} {self.target.cite()}"
        if self.destination is not None:
            text += f" as {self.destination.cite()}"
        if self.phrase is not None:
            text += f': "{self.phrase}"'
        if self.replacement is not None:
            text += f' -> "{self.replacement}"'
        return text


@dataclass(frozen=True)
class Instruction:
    """One AMDPAR read: its operations, or a flag saying why it could not be read completely.

    A flagged instruction carries no operations (half an instruction applied would be a guess);
    it is shown as its text beside the prior text."""

    text: str
    number: str | None  # "2", "a", "(1)", "i" - the instruction's own label
    operations: tuple[Operation, ...]
    flag: str | None = None  # the reason it could not be read completely
