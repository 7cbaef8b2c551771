"""REGTEXT + the prior text of each unit it touches -> the projected new text.

The amendatory instructions are read into operations on qualified targets
(``crawler.parse.amdpar.parse_instructions``) and applied one by one to the prior text
(``crawler.amend.apply``): the rule's paragraphs replace exactly the paragraphs the
instructions name. What cannot be applied (an instruction that could not be read, a target
missing from the prior text or from the rule's text) is flagged with the reason, the target
keeping its prior text; a unit where nothing could be applied is "flagged" with no result.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from crawler.amend.apply import RULE, Doubt, apply, elided, redesignate, stars
from crawler.amend.locate import NotApplied, Path, locate, walk, where
from crawler.keys import ENTITY_LIST, appendix_key, cfr_key, cfr_parts, section_number
from crawler.parse.amdpar import parse_instructions
from crawler.parse.amdpar_ops import Instruction, Operation, OpKind, Target, UnitKind
from crawler.parse.ecfr_xml import paragraph_tree
from crawler.parse.entity_list import entity_list
from crawler.parse.text import fold
from crawler.records import (
    Amendment,
    FrXmlDocument,
    Node,
    ProjectionOp,
    RegText,
    Section,
    Table,
)

_EVERYWHERE = re.compile(r"wherever it appears|each place|every place|all places|throughout", re.I)
_SHOWN = "kept as it was: the paragraph as the rule gives it is shown beside the prior text"


@dataclass(frozen=True)
class Projection:
    """One unit as a new rule would leave it."""

    key: str  # the unit: cfr:15:744.11
    op: ProjectionOp
    old: Node | None  # the prior text (None: the unit is new)
    new: Node | None  # the projected text (None: removed, or flagged without a result)
    instructions: tuple[str, ...]  # the amendatory instructions naming the unit
    flags: tuple[str, ...]  # what could not be applied mechanically, each with its reason
    given: tuple[str, ...]  # the new text as the rule gives it


def project(
    doc: FrXmlDocument, prior: Callable[[str], Node | None], citation: str | None = None
) -> list[Projection]:
    """Every unit the rule's REGTEXT touches, as the rule would leave it. ``citation`` (the
    rule's own, "91 FR 70101") fills the "[INSERT FR PAGE NUMBER]" placeholders of new
    table rows."""
    out: list[Projection] = []
    for regtext in doc.regtexts:
        if regtext.title is None:
            continue
        out.extend(_regtext(regtext, prior))
        targets = {t for a in regtext.amendments for t in a.targets}
        supplements = {t for t in targets if _supplement_of(regtext.title, t)}
        for target in sorted(supplements):
            out.append(_supplement(regtext, target, prior, citation))
    return out


@dataclass
class _Unit:
    """The instructions that name one unit, and its text as the rule gives it."""

    key: str
    number: str | None  # the section number; None for a part, appendix, subpart ...
    section: Section | None = None
    instructions: list[Instruction] = field(default_factory=list)


def _regtext(regtext: RegText, prior: Callable[[str], Node | None]) -> list[Projection]:
    title = str(regtext.title)
    texts = [a.text for a in regtext.amendments]
    units: dict[str, _Unit] = {}
    for section in regtext.sections:
        key = cfr_key(title, section.number)
        units[key] = _Unit(key, section.number, section)
    last: list[str] = []
    for instruction, amendment in zip(
        parse_instructions(texts, title, regtext.part), regtext.amendments, strict=True
    ):
        keys = _keys(instruction, amendment, regtext, last)
        for key in keys:
            number = section_number(key)
            units.setdefault(key, _Unit(key, number)).instructions.append(instruction)
        last = keys or last
    return [_unit(u, regtext, prior) for u in units.values()]


def _keys(
    instruction: Instruction, amendment: Amendment, regtext: RegText, last: list[str]
) -> list[str]:
    """The units an instruction names (its operations' targets; for a flagged instruction,
    the sections its text names, else the unit named before it, else the REGTEXT's sections).
    Supplements are the Entity List path's (``_supplement``)."""
    title = regtext.title
    if any(_supplement_of(title, t) for t in amendment.targets):
        return []
    if instruction.operations:
        keys = [k for op in instruction.operations for k in _op_keys(op, regtext)]
        return [k for k in dict.fromkeys(keys) if k is not None]
    if instruction.flag is None:
        return []
    named = [cfr_key(str(title), t.split("(")[0]) for t in amendment.targets if "." in t]
    sections = [cfr_key(str(title), s.number) for s in regtext.sections]
    return list(dict.fromkeys(named)) or last or sections or [cfr_key(str(title), regtext.part)]


def _op_keys(op: Operation, regtext: RegText) -> list[str | None]:
    """An operation's unit; "Add subpart E" / "Revise part 566": each section the rule gives."""
    if _whole_group(op) and regtext.sections:
        return [cfr_key(str(regtext.title), s.number) for s in regtext.sections]
    return [_key(regtext.title, op.target)]


def _whole_group(op: Operation) -> bool:
    target = op.target
    grouping = target.unit in (UnitKind.SUBPART, UnitKind.PART)
    return grouping and op.kind in (OpKind.ADD, OpKind.REVISE) and not target.portion


def _section_ops(instruction: Instruction, key: str, title: int | None) -> list[Operation]:
    """The instruction's operations on the unit ``key`` (a subpart's added or revised whole
    becomes the addition or revision of each section the rule gives in it)."""
    ops = []
    for op in instruction.operations:
        if _key(title, op.target) == key:
            ops.append(op)
        elif _whole_group(op):
            number = cfr_parts(key)[1]
            section = Target(
                None if title is None else str(title), op.target.part, UnitKind.SECTION, number
            )
            ops.append(Operation(op.kind, section))
    return ops


def _key(title: int | None, target: Target) -> str | None:
    if target.unit is UnitKind.SECTION:
        return cfr_key(str(title), target.unit_id)
    if target.unit is UnitKind.SUPPLEMENT:
        return None
    if target.unit is UnitKind.APPENDIX:
        return appendix_key(str(title), target.part, target.unit_id)
    return cfr_key(str(title), target.part)


def _unit(unit: _Unit, regtext: RegText, prior: Callable[[str], Node | None]) -> Projection:
    said = tuple(i.text for i in unit.instructions)
    if unit.number is None:
        return _as_given(unit, regtext, prior, said)
    section = unit.section
    given = tuple(section.paragraphs) if section is not None else ()
    old = prior(unit.key)
    if not unit.instructions:
        reason = f"§ {unit.number}: the rule gives its text under no amendatory instruction"
        return Projection(
            unit.key, ProjectionOp.FLAGGED, old, None, said, (f"{reason}; not applied",), given
        )
    run = _Run(old, _given(unit.number, section))
    for instruction in unit.instructions:
        run.take(instruction, unit.key, regtext.title)
    run.check_unnamed(unit.number)
    return Projection(unit.key, run.op(old), old, run.result(), said, tuple(run.flags), given)


def _given(number: str, section: Section | None) -> Node:
    """The section as the rule gives it, each "* * * * *" a ``stars`` node where it stands."""
    if section is None:
        return Node(number, "section", f"§ {number}")
    texts = list(section.paragraphs)
    children = paragraph_tree(texts, section.tags, section.subject, elisions=True)
    title = f"§ {number} {section.subject}".strip()
    return Node(number, "section", title, "", children)


@dataclass
class _Run:
    """The operations of a unit's instructions applied in order."""

    old: Node | None
    given: Node
    tree: Node | None = None
    applied: list[Operation] = field(default_factory=list)
    named: list[Path] = field(default_factory=list)  # paths in the rule's text the ops name
    flags: list[str] = field(default_factory=list)
    added: set[Path] = field(default_factory=set)
    missing: list[str] = field(default_factory=list)  # targets not applied: no prior text

    def __post_init__(self) -> None:
        self.tree = self.old

    def take(self, instruction: Instruction, key: str, title: int | None) -> None:
        if instruction.flag is not None:
            number = f"{instruction.number}. " if instruction.number else ""
            self.flags.append(
                f"instruction {number}not read completely ({instruction.flag}); {_SHOWN}"
            )
            return
        everywhere = bool(_EVERYWHERE.search(instruction.text))
        for step in _steps(_section_ops(instruction, key, title)):
            if _moving(step[0]):
                self._moves(step)
            else:
                self._apply(step[0], everywhere)

    def _apply(self, op: Operation, everywhere: bool) -> None:
        self._name(op.target)
        target = op.target
        if self.tree is None and (target.paragraph or target.heading or target.portion):
            self.missing.append(where(target))
            return
        try:
            done = apply(self.tree, self.given, op, self.added, everywhere)
        except NotApplied as reason:
            self.flags.append(f"{where(op.target)}: {reason}; not applied")
            return
        self.tree = done.tree
        self.flags += [_doubt(doubt, op.target.unit_id) for doubt in done.doubts]
        self.applied.append(op)

    def _moves(self, moves: list[Operation]) -> None:
        for op in moves:
            self._name(op.target)
            self._name(op.destination)  # type: ignore[arg-type]
        try:
            if self.tree is None:
                raise NotApplied("no prior text is stored")
            pairs = [(op.target, op.destination) for op in moves]
            self.tree = redesignate(self.tree, pairs)  # type: ignore[arg-type]
        except NotApplied as reason:
            cited = ", ".join(where(op.target) for op in moves)
            self.flags.append(f"{cited}: {reason}; not applied")
            return
        self.applied.extend(moves)

    def _name(self, target: Target) -> None:
        with contextlib.suppress(NotApplied):
            self.named.append(locate(self.given, target, RULE))

    def check_unnamed(self, number: str) -> None:
        """A paragraph the rule gives that no operation names is flagged, never applied."""
        if self.missing:
            cited = ", ".join(dict.fromkeys(self.missing))
            self.flags.append(f"no prior text of § {number} is stored; not applied: {cited}")
        if not self.applied and self.flags:
            return
        for path, node in walk(self.given):
            if node.kind == "heading" or stars(node) or elided(node.text) or not node.text:
                continue
            if any(path[: len(n)] == n or n[: len(path)] == path for n in self.named):
                continue
            before = self.old.find(path) if self.old is not None else None
            if before is not None and _same(before.text, node.text):
                continue
            cite = " ".join(path)
            self.flags.append(
                f"§ {number} {cite}: the rule gives it but no instruction names it; not applied"
            )

    def result(self) -> Node | None:
        return self.tree if self.applied else None

    def op(self, old: Node | None) -> ProjectionOp:
        if not self.applied:
            return ProjectionOp.FLAGGED
        if self.tree is None:
            return ProjectionOp.REMOVED
        if old is None:
            return ProjectionOp.ADDED
        whole = [o for o in self.applied if not o.target.paragraph and not o.target.portion]
        if any(o.kind is OpKind.RESERVE for o in whole):
            return ProjectionOp.RESERVED
        return ProjectionOp.REVISED


def _steps(ops: list[Operation]) -> list[list[Operation]]:
    """The operations in the order the instruction gives them; consecutive redesignations of
    paragraphs ("(b) and (c) as (c) and (d)") are one step, applied together."""
    steps: list[list[Operation]] = []
    for op in ops:
        if steps and _moving(op) and _moving(steps[-1][0]):
            steps[-1].append(op)
        else:
            steps.append([op])
    return steps


def _moving(op: Operation) -> bool:
    return op.kind is OpKind.REDESIGNATE and bool(op.target.paragraph)


def _doubt(doubt: Doubt, number: str) -> str:
    """The flag of sub-paragraphs kept because the rule neither gives nor elides them."""
    cite = " ".join((f"§ {number}", *doubt.path))
    kept = ", ".join(doubt.kept)
    return (
        f"{cite}: the rule gives it without {kept} and no * * * where they stood; "
        "ambiguous (removed or unchanged): kept as they were"
    )


def _as_given(
    unit: _Unit, regtext: RegText, prior: Callable[[str], Node | None], said: tuple[str, ...]
) -> Projection:
    """A part, appendix or subpart: its instructions are shown with the rule's text."""
    old = prior(unit.key) if cfr_parts(unit.key)[2] == "app" else None
    flags = [f"instruction not read completely ({i.flag})" for i in unit.instructions if i.flag]
    cited = dict.fromkeys(op.describe() for i in unit.instructions for op in i.operations)
    flags += [f"{c}: not applied mechanically to a part, subpart or appendix" for c in cited]
    return Projection(
        unit.key, ProjectionOp.FLAGGED, old, None, said, tuple(flags), tuple(regtext.text)
    )


def _same(a: str, b: str) -> bool:
    return re.sub(r"\s+", "", fold(a)) == re.sub(r"\s+", "", fold(b))


def _supplement_of(title: int | None, target: str) -> bool:
    """Whether an amendment's target ("744:supp-4") is a supplement."""
    return cfr_parts(cfr_key(str(title), target))[2] == "supp"


def _supplement(
    regtext: RegText, target: str, prior: Callable[[str], Node | None], citation: str | None
) -> Projection:
    key = cfr_key(str(regtext.title), target)
    old = prior(key)
    amendments = [a for a in regtext.amendments if target in a.targets]
    said = tuple(a.text for a in amendments)
    given = tuple(regtext.text) + tuple(_row(t, r) for t in regtext.tables for r in t.rows)
    if key != ENTITY_LIST:
        return Projection(
            key,
            ProjectionOp.FLAGGED,
            old,
            None,
            said,
            ("supplement amendments other than the Entity List are shown as given",),
            given,
        )
    table = old.child("table") if old is not None else None
    if old is None or table is None:
        return Projection(
            key, ProjectionOp.FLAGGED, old, None, said, ("no prior Entity List stored",), given
        )
    rows = {r.label: r for r in table.children}
    flags: list[str] = []
    for amendment in amendments:
        verbs = set(amendment.verbs)
        if "add" in verbs or "revise" in verbs:
            for entry in _entries(regtext.tables, citation):
                rows[entry.label] = entry
        if "remove" in verbs:
            for name in re.findall(r"entr(?:y|ies) for \"([^\"]+)\"", amendment.text):
                gone = [k for k in rows if k.split("|", 1)[-1].startswith(name)]
                if len(gone) == 1:
                    del rows[gone[0]]
                else:
                    flags.append(f'entry "{name}": {len(gone)} matches; not removed')
    new_table = Node(table.label, table.kind, table.title, table.text, tuple(rows.values()))
    children = tuple(new_table if c.label == "table" else c for c in old.children)
    new = Node(old.label, old.kind, old.title, old.text, children, old.fields)
    return Projection(
        key,
        ProjectionOp.FLAGGED if flags else ProjectionOp.REVISED,
        old,
        new,
        said,
        tuple(flags),
        given,
    )


def _row(table: Table, row: tuple[str, ...]) -> str:
    """A table row as the rule gives it, each cell with its column: "Country: CHINA; ..."."""
    heads = table.headers
    if all(not set(v) - set("* ") for v in row):  # a row of "* * *": rows left out
        return " ".join(v for v in row if v)
    cells = [
        f"{heads[i]}: {v}" if i < len(heads) and heads[i] else v for i, v in enumerate(row) if v
    ]
    return "; ".join(cells)


def _entries(tables: tuple[Table, ...], citation: str | None) -> tuple[Node, ...]:
    out: list[Node] = []
    for table in tables:
        rows = tuple(
            Node(
                f"r{i}", "row", fields=tuple((f"c{j}", _cite(v, citation)) for j, v in enumerate(r))
            )
            for i, r in enumerate(table.rows)
        )
        out += entity_list(Node("table", "table", children=rows)).children
    return tuple(out)


def _cite(text: str, citation: str | None) -> str:
    if citation is None:
        return text
    volume = citation.partition(" FR ")[0]
    return text.replace(f"{volume} FR [INSERT FR PAGE NUMBER]", citation)
