"""eCFR XML -> a Node tree: the API's processed XML (root DIV5 for a part, etc.) and GPO's
bulk form (DLPSTEXTCLASS > ... > ECFRBRWS > DIV1). DIV levels become part / subpart /
section / appendix nodes; paragraph markers (a), (1), (i), (A), (<I>1</I>), (<I>i</I>)
become a paragraph tree; headings, citations (CITA), notes, authority and source are kept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from lxml import etree

from crawler.errors import ParseError
from crawler.parse.entity_list import entity_list
from crawler.parse.fr_xml import child_text, text_of
from crawler.parse.text import fold, from_roman, roman, squash
from crawler.parse.xml import parse_xml
from crawler.records import Node

DIVS = {f"DIV{i}" for i in range(1, 10)}
ENTITY_LIST = re.compile(r"Supplement No\. 4 to Part 744$", re.I)
CCL = re.compile(r"Supplement No\. 1 to Part 774$", re.I)
ECCN = re.compile(r"^([0-9][A-E][0-9]{3})\b")
_MARKER = re.compile(r"^\(([a-z]{1,2}|\d{1,3}|[ivxlc]{1,6}|[A-Z]{1,2})\)")
_ROMAN = re.compile(r"^[ivxlc]+$")
_DIV_TYPE = re.compile(r"[A-Za-z]{1,20}", re.ASCII)  # PART, SUBPART, SECTION, APPENDIX ...
_KEEP = {
    "CITA": "citation",
    "AUTH": "authority",
    "SOURCE": "source",
    "EFFDNOT": "effdnot",
    "NOTE": "note",
    "EDNOTE": "ednote",
    "SECAUTH": "authority",
    "APPRO": "approval",
}
_PARAGRAPHS = {
    "P",
    "FP",
    "FP-1",
    "FP-2",
    "FP1",
    "FP2",
    "PSPACE",
    "EXTRACT",
    "EXAMPLE",
    "HD1",
    "HD2",
    "HD3",
    "GPH",
    "FTNT",
}


def parse_ecfr_xml(data: bytes, what: str = "eCFR XML") -> Node:
    """The top DIV of ``data`` as a Node tree (the part, for the API's ``?part=`` output)."""
    root = parse_xml(data, what)
    if root.tag == "DLPSTEXTCLASS":
        found = next((el for el in root.iter(*sorted(DIVS))), None)
        if found is None:
            raise ParseError(f"{what}: no DIV1..DIV9 inside the DLPSTEXTCLASS wrapper")
        root = found
    if root.tag not in DIVS:
        raise ParseError(f"{what}: root element <{root.tag}> is not eCFR XML")
    return _div(root, what)


def _div(el: etree._Element, what: str) -> Node:
    kind = _kind(el, what)
    number = fold(el.get("N") or "").replace("§", "").strip()
    title = text_of(el.find("HEAD"))
    if kind == "subpart":
        label = f"Subpart {number}"
    elif kind in ("subjgrp",) or not number:
        label = title or el.tag
    else:
        label = number
    if CCL.match(label):
        return Node(label, kind, title, "", _ccl(el))
    builder = _Paragraphs()
    for child in el:
        if child.tag in DIVS:
            builder.add_node(_div(child, what))
        elif child.tag == "HEAD":
            continue
        elif child.tag in _KEEP:
            builder.add_node(Node(_KEEP[child.tag], _KEEP[child.tag], "", text_of(child)))
        elif child.tag == "DIV" or child.tag == "TABLE" or child.find(".//TABLE") is not None:
            table = _table(child)
            if ENTITY_LIST.match(label):
                table = entity_list(table)
            builder.add_node(table)
        elif child.tag in _PARAGRAPHS or text_of(child):
            builder.add_paragraph(child)
    return Node(label, kind, title, "", builder.finish())


def _kind(el: etree._Element, what: str) -> str:
    """A DIV's TYPE (part, subpart, section, appendix ...), lower-cased; its tag without one."""
    kind = el.get("TYPE")
    if kind is None:
        return el.tag.lower()
    if not _DIV_TYPE.fullmatch(kind):
        shown = kind if len(kind) <= 20 else kind[:17] + "..."
        raise ParseError(f'{what}: <{el.tag} TYPE="{shown}"> is not a DIV type like PART')
    return kind.lower()


def _ccl(el: etree._Element) -> tuple[Node, ...]:
    """The Commerce Control List split by ECCN: each entry (its bold heading, e.g. "3A090
    Integrated circuits ...", and everything up to the next) is one node labelled by its
    ECCN; category and group headings stay between them."""
    top: list[Node] = []
    eccn: tuple[str, str, _Paragraphs] | None = None

    def close() -> None:
        if eccn is not None:
            number, heading, body = eccn
            top.append(Node(number, "eccn", heading, "", body.finish()))

    intro = _Paragraphs()
    for child in el:
        if child.tag == "HEAD":
            continue
        text = text_of(child)
        match = ECCN.match(text)
        if (match and child.find("B") is not None) or (match and child.find("E") is not None):
            close()
            eccn = (match.group(1), text, _Paragraphs())
        elif (child.tag in ("HD1", "HD2") and eccn is None) or child.tag == "HD1":
            close()
            eccn = None
            top.append(Node(text, "heading", text))
        elif eccn is not None:
            _add(eccn[2], child)
        else:
            _add(intro, child)
    close()
    return intro.finish() + tuple(top)


def _add(builder: _Paragraphs, child: etree._Element) -> None:
    if child.tag in _KEEP:
        builder.add_node(Node(_KEEP[child.tag], _KEEP[child.tag], "", text_of(child)))
    elif child.tag == "DIV" or child.tag == "TABLE" or child.find(".//TABLE") is not None:
        builder.add_node(_table(child))
    elif text_of(child):
        builder.add_paragraph(child)


def _table(el: etree._Element) -> Node:
    table = el if el.tag == "TABLE" else el.find(".//TABLE")
    rows = []
    headers: list[str] = []
    for tr in table.iter("TR") if table is not None else ():
        cells = [cell_text(c) for c in tr if c.tag in ("TD", "TH")]
        if all(c.tag == "TH" for c in tr if c.tag in ("TD", "TH")) and not rows:
            headers = cells
            continue
        names = (
            headers if len(headers) == len(cells) else [f"col{i + 1}" for i in range(len(cells))]
        )
        rows.append(Node(f"r{len(rows) + 1}", "row", fields=tuple(zip(names, cells, strict=True))))
    return Node("table", "table", "", "", tuple(rows))


def cell_text(el: etree._Element) -> str:
    """A table cell's text with each <br/> as a line break, each line squashed."""
    parts = [el.text or ""]
    for child in el:
        parts.append("\n" if child.tag == "br" else child_text(child))
        parts.append(child.tail or "")
    return "\n".join(squash(line) for line in "".join(parts).split("\n")).strip("\n")


@dataclass
class _Open:
    level: int
    marker: str
    text: str
    children: list[Node] = field(default_factory=list)


def paragraph_tree(texts: list[str]) -> tuple[Node, ...]:
    """Paragraph texts in order ("(a) ...", "(1) ...") -> the labelled paragraph tree."""
    builder = _Paragraphs()
    for text in texts:
        builder.add_text(text)
    return builder.finish()


class _Paragraphs:
    """Builds the paragraph tree of one DIV from its paragraphs in document order."""

    def __init__(self) -> None:
        self.top: list[Node] = []
        self.stack: list[_Open] = []
        self.last_at: dict[int, str] = {}
        self.counts: dict[int, int] = {}

    def add_node(self, node: Node) -> None:
        self._close(0)
        self._place(self._unique(node))

    def add_paragraph(self, el: etree._Element) -> None:
        self.add_text(text_of(el), _italic(el))

    def add_text(self, text: str, italic: bool = False) -> None:
        match = _MARKER.match(text)
        if not match:
            parent = self.stack[-1].children if self.stack else self.top
            parent.append(Node(f"p{len(parent) + 1}", "paragraph", "", text))
            return
        marker = match.group(1)
        level = self._level(marker, italic)
        self._close(level)
        self.stack.append(_Open(level, marker, text))
        self.last_at[level] = marker
        for deeper in [k for k in self.last_at if k > level]:
            del self.last_at[deeper]

    def finish(self) -> tuple[Node, ...]:
        self._close(0)
        return tuple(self.top)

    def _level(self, marker: str, italic: bool) -> int:
        kinds = _kinds(marker, italic)
        for level in kinds:
            last = self.last_at.get(level)
            if last is not None and marker == _successor(last, level):
                return level
        open_levels = [o.level for o in self.stack]
        for level in kinds:
            if _first(marker, level) and (not open_levels or level > open_levels[-1]):
                return level
        return kinds[0]

    def _close(self, level: int) -> None:
        while self.stack and self.stack[-1].level >= level:
            done = self.stack.pop()
            self._place(Node(done.marker, "paragraph", "", done.text, tuple(done.children)))

    def _place(self, node: Node) -> None:
        parent = self.stack[-1].children if self.stack else self.top
        labels = {n.label for n in parent}
        if node.label in labels:
            node = Node(
                f"{node.label}~{len(parent) + 1}",
                node.kind,
                node.title,
                node.text,
                node.children,
                node.fields,
            )
        parent.append(node)

    def _unique(self, node: Node) -> Node:
        return node


def _italic(el: etree._Element) -> bool:
    first = el[0] if len(el) else None
    return (
        first is not None
        and first.tag in ("I", "E")
        and (el.text or "").strip() == "("
        and bool(re.fullmatch(r"\d+|[ivxlc]+", (first.text or "").strip()))
    )


def _kinds(marker: str, italic: bool) -> list[int]:
    if italic:
        return [5] if marker.isdigit() else [6]
    if marker.isdigit():
        return [2]
    if marker.isupper():
        return [4]
    if _ROMAN.match(marker):
        return [3, 1] if marker not in ("i", "v", "x", "l", "c") else [1, 3]
    return [1]


def _first(marker: str, level: int) -> bool:
    return marker == {1: "a", 2: "1", 3: "i", 4: "A", 5: "1", 6: "i"}[level]


def _successor(marker: str, level: int) -> str:
    if level in (2, 5):
        return str(int(marker) + 1) if marker.isdigit() else ""
    if level in (3, 6):
        return roman(from_roman(marker) + 1)
    if len(marker) == 1:
        return chr(ord(marker) + 1) if marker not in "zZ" else marker * 2
    return marker[0] + marker  # aa -> aaa (the CFR's own convention after z)
