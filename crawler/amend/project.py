"""REGTEXT + the prior text of each unit it touches -> the projected new text."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from crawler.parse.ecfr_xml import paragraph_tree
from crawler.parse.entity_list import entity_list
from crawler.parse.fr_xml import STARS
from crawler.parse.text import fold
from crawler.records import Amendment, FrXmlDocument, Node, RegText, Section, Table

_PHRASE = re.compile(
    r"removing the (?:phrase|words?|term|reference to|citation)s?\s+\"(?P<old>[^\"]+)\"\s*"
    r"(?:,\s*)?(?:wherever it appears\s+)?(?:and adding in (?:its|their) place "
    r"(?:the (?:phrase|words?|term|reference to|citation)s?\s+)?\"(?P<new>[^\"]*)\")?",
    re.I,
)
_ELIDED = re.compile(r"\*\s*\*\s*\*\s*$")
_SUPP = re.compile(r"^(\d+):supp-(\d+)$")


@dataclass(frozen=True)
class Projection:
    """One unit as a new rule would leave it."""

    key: str  # the unit: cfr:15:744.11
    op: str  # revised, added, reserved, removed, flagged
    old: Node | None  # the prior text (None: the unit is new)
    new: Node | None  # the projected text (None: removed, or flagged without a result)
    instructions: tuple[str, ...]  # the amendatory instructions naming the unit
    flags: tuple[str, ...]  # what could not be applied mechanically
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
        for section in regtext.sections:
            out.append(_section(regtext, section, prior))
        supplements = {t for a in regtext.amendments for t in a.targets if _SUPP.match(t)}
        for target in sorted(supplements):
            out.append(_supplement(regtext, target, prior, citation))
    return out


def _instructions(regtext: RegText, number: str) -> list[Amendment]:
    return [
        a
        for a in regtext.amendments
        if any(t == number or t.startswith(f"{number}(") for t in a.targets)
    ]


def _section(regtext: RegText, section: Section, prior: Callable[[str], Node | None]) -> Projection:
    key = f"cfr:{regtext.title}:{section.number}"
    old = prior(key)
    amendments = _instructions(regtext, section.number)
    said = tuple(a.text for a in amendments)
    given = tuple(section.paragraphs)
    subject = fold(section.subject).lower()
    title = f"§ {section.number} {section.subject}".strip()
    if "[removed]" in subject or (
        not given
        and any("remove" in a.verbs and "reserve" not in a.verbs for a in amendments)
        and not _phrase_edits(amendments)
    ):
        return Projection(key, "removed", old, None, said, (), given)
    if "[reserved]" in subject and not given:
        return Projection(
            key, "reserved", old, Node(section.number, "section", title), said, (), given
        )
    if not given:
        return _phrase_projection(key, old, amendments, said)
    elided = any(p == STARS or _ELIDED.search(p) for p in given)
    tree = paragraph_tree([p for p in given if p != STARS])
    if not elided:
        new = Node(section.number, "section", title, "", tree)
        return Projection(key, "revised" if old else "added", old, new, said, (), given)
    if old is None:
        return Projection(
            key,
            "flagged",
            None,
            None,
            said,
            ("the rule gives part of a section whose prior text is not stored",),
            given,
        )
    flags: list[str] = []
    new = Node(
        old.label, old.kind, old.title, old.text, _splice(old.children, tree, flags), old.fields
    )
    return Projection(key, "flagged" if flags else "revised", old, new, said, tuple(flags), given)


def _splice(prior: tuple[Node, ...], given: tuple[Node, ...], flags: list[str]) -> tuple[Node, ...]:
    """Given paragraphs put in place of the prior ones with the same label; a given
    paragraph that ends in '* * *' keeps its prior text and has its children spliced."""
    children = list(prior)
    for node in given:
        index = next((i for i, c in enumerate(children) if c.label == node.label), None)
        before = children[index] if index is not None else None
        if _ELIDED.search(node.text):
            if before is None:
                flags.append(f"paragraph ({node.label}) is elided but not in the prior text")
                continue
            spliced = Node(
                before.label,
                before.kind,
                before.title,
                before.text,
                _splice(before.children, node.children, flags),
                before.fields,
            )
        else:
            kept = node.children or (before.children if before is not None else ())
            spliced = Node(node.label, node.kind, node.title, node.text, kept, node.fields)
        if index is None:
            children.insert(_position(children, node.label), spliced)
        else:
            children[index] = spliced
    return tuple(children)


def _position(children: list[Node], label: str) -> int:
    """Where a new paragraph goes: after the last sibling whose label sorts before it."""

    def rank(text: str) -> tuple[int, str]:
        return (len(text), text) if not text.isdigit() else (int(text), "")

    for i in range(len(children) - 1, -1, -1):
        if rank(children[i].label) < rank(label) and not children[i].label.startswith(
            ("p", "citation")
        ):
            return i + 1
    return len(children)


def _phrase_edits(amendments: list[Amendment]) -> list[tuple[str, str, str | None]]:
    edits = []
    for amendment in amendments:
        targets = [t for t in amendment.targets if "(" in t] or list(amendment.targets)
        for match in _PHRASE.finditer(amendment.text):
            for target in targets:
                edits.append((target, match.group("old"), match.group("new")))
    return edits


def _phrase_projection(
    key: str, old: Node | None, amendments: list[Amendment], said: tuple[str, ...]
) -> Projection:
    edits = _phrase_edits(amendments)
    if old is None or not edits:
        reason = (
            "no prior text stored"
            if old is None
            else "the instruction is not a phrase replacement regwatch can apply"
        )
        return Projection(key, "flagged", old, None, said, (reason,), ())
    flags: list[str] = []
    new = old
    for target, before, after in edits:
        path = tuple(re.findall(r"\(([^)]+)\)", target))
        new = _replace_in(new, path, before, after or "", flags, target)
    return Projection(key, "flagged" if flags else "revised", old, new, said, tuple(flags), ())


def _replace_in(
    node: Node, path: tuple[str, ...], before: str, after: str, flags: list[str], target: str
) -> Node:
    if path:
        children = list(node.children)
        index = next((i for i, c in enumerate(children) if c.label == path[0]), None)
        if index is None:
            flags.append(f"{target}: no paragraph ({path[0]}) in the prior text")
            return node
        children[index] = _replace_in(children[index], path[1:], before, after, flags, target)
        return Node(node.label, node.kind, node.title, node.text, tuple(children), node.fields)
    count = fold(node.text).count(fold(before))
    if count != 1:
        where = "not found" if count == 0 else f"found {count} times"
        flags.append(f'{target}: the phrase "{before}" is {where}; not applied')
        return node
    start = fold(node.text).index(fold(before))
    text = node.text[:start] + after + node.text[start + len(before) :]
    return Node(node.label, node.kind, node.title, text, node.children, node.fields)


def _supplement(
    regtext: RegText, target: str, prior: Callable[[str], Node | None], citation: str | None
) -> Projection:
    key = f"cfr:{regtext.title}:{target}"
    old = prior(key)
    amendments = [a for a in regtext.amendments if target in a.targets]
    said = tuple(a.text for a in amendments)
    given = tuple(regtext.text) + tuple(" | ".join(r) for t in regtext.tables for r in t.rows)
    if target != "744:supp-4":
        return Projection(
            key,
            "flagged",
            old,
            None,
            said,
            ("supplement amendments other than the Entity List are shown as given",),
            given,
        )
    table = old.child("table") if old is not None else None
    if table is None:
        return Projection(key, "flagged", old, None, said, ("no prior Entity List stored",), given)
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
    return Projection(key, "flagged" if flags else "revised", old, new, said, tuple(flags), given)


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
