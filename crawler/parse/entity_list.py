"""The Entity List (15 CFR 744 Supplement No. 4) as rows keyed by country and entity.

The eCFR gives it as one HTML table: Country | Entity | License requirement | License
review policy | Federal Register citation; the country cell is blank on continuation rows;
the entity cell holds the name, "a.k.a., the following N aliases:" with one "—Alias" per
line, then the address (SOURCES.md 3.3). Rows keyed this way are matched by identity, not
position, by the diff engine: an entry added, removed or revised in one field is reported
as exactly that.

Footnote marks (the superscript 1, 3, 4 after an entity that bring in the foreign direct
product rules, ``<sup>1</sup>`` in the eCFR, ``<SU>1</SU>`` in FR tables) change an
entry's legal scope. The cell text carries them as ``^1`` (see crawler.parse.fr_xml); they
stay in the entry's name as " ^1" and are listed in its "Footnotes" field, and the key is
the name without them, so gaining or losing a mark is a revision of the entry, not a
removal and an addition."""

from __future__ import annotations

import re

from crawler.parse.text import squash
from crawler.records import Node

COLUMNS = (
    "Country",
    "Entity",
    "Aliases",
    "Address",
    "License requirement",
    "License review policy",
    "Federal Register citation",
)
FOOTNOTES = "Footnotes"  # the field that lists an entry's footnote marks ("1, 4")
ENTRY = "entity"  # the kind of an Entity List row node
_MARK = re.compile(r"\s*\^\{?(\d{1,2})\}?")
_AKA = re.compile(r",?\s*a\.k\.a\.?,?.*$", re.I)
_ALIAS_END = re.compile(
    r"\.\s+(?=(?:No\.|Nos\.|Room|Rm\.|Suite|Ste\.|Building|Bldg\.|Floor|Fl\.|Unit|Block|"
    r"P\.O\.|PO Box|Office|Plot|Flat|House|Street|Road|\d))"
)
_ADDRESS_START = re.compile(
    r",\s+(?=(?:No\.|Nos\.|Room|Rm\.|Suite|Ste\.|Building|Bldg\.|Floor|Fl\.|Unit|Block|"
    r"P\.O\.|PO Box|Office|Plot|Flat|House|Street|Road|\d))"
)


def entity_list(table: Node) -> Node:
    """A generic table node (rows with five columns) -> a table of keyed entries."""
    rows: list[Node] = []
    seen: dict[str, int] = {}
    country = ""
    for row in table.children:
        cells = [value for _, value in row.fields]
        if len(cells) < 5:
            continue
        cells = cells[:5]
        if squash(cells[0]):
            country = squash(cells[0])
        if not squash(cells[1]):
            continue  # a country heading row
        node = _entry(country, cells)
        seen[node.label] = seen.get(node.label, 0) + 1
        if seen[node.label] > 1:
            node = Node(f"{node.label}#{seen[node.label]}", ENTRY, fields=node.fields)
        rows.append(node)
    return Node(table.label, "table", table.title, table.text, tuple(rows))


def _entry(country: str, cells: list[str]) -> Node:
    """One entry keyed "country|name" (the name without its footnote marks)."""
    marks = footnote_marks(cells[1])
    name, aliases, address = split_entity(_MARK.sub("", cells[1]))
    shown = " ".join([name, *(f"^{m}" for m in marks)])
    values = (
        country,
        shown,
        "; ".join(aliases),
        address,
        squash(cells[2]),
        squash(cells[3]),
        squash(cells[4]),
    )
    fields = tuple(zip(COLUMNS, values, strict=True))
    if marks:
        fields += ((FOOTNOTES, ", ".join(marks)),)
    return Node(f"{country}|{name}", ENTRY, fields=fields)


def footnote_marks(cell: str) -> tuple[str, ...]:
    """The footnote numbers marked in an entity cell, each once, in order: ('1', '4')."""
    return tuple(dict.fromkeys(_MARK.findall(cell)))


def entry_keys(node: Node) -> set[str]:
    """The keys (country|entity) of every Entity List entry anywhere under ``node``."""
    if node.kind == ENTRY:
        return {node.label}
    return set().union(*(entry_keys(c) for c in node.children))


def split_entity(cell: str) -> tuple[str, list[str], str]:
    """(name, aliases, address) from an entity cell whose lines were <br/>-separated."""
    lines = [squash(x) for x in cell.split("\n") if squash(x)]
    if not lines:
        return "", [], ""
    first = lines[0]
    aliases = [
        x.lstrip("—-– ").rstrip(";.").removesuffix(" and").rstrip(";,")
        for x in lines[1:]
        if x.startswith(("—", "-", "–"))
    ]
    rest = [x for x in lines[1:] if not x.startswith(("—", "-", "–"))]
    if aka := _AKA.search(first):
        name = _AKA.sub("", first).strip(" ,")
        address = " ".join(rest)
        if not aliases:  # one line (as in FR tables): "...aliases:—A; and—B. Address."
            pieces = re.split(r"\s*[—–]\s*", aka.group(0))[1:]
            if pieces:
                last = pieces[-1]
                split = _ALIAS_END.search(last)
                if split:
                    pieces[-1], tail = last[: split.start()], last[split.end() :]
                    address = " ".join([tail, *rest])
                aliases = [
                    p.strip().rstrip(";.,").removesuffix(" and").rstrip(";,")
                    for p in pieces
                    if p.strip()
                ]
    else:
        split = _ADDRESS_START.search(first)
        name = first[: split.start()] if split else first.rstrip(".")
        address = " ".join(([first[split.end() :]] if split else []) + rest)
    return name.strip(" ,"), aliases, address.strip()
