"""eCFR XML -> a Node tree: the API's processed XML (root DIV5 for a part, etc.) and GPO's
bulk form (DLPSTEXTCLASS > ... > ECFRBRWS > DIV1). DIV levels become part / subpart /
section / appendix nodes; paragraph markers (a), (1), (i), (A), (<I>1</I>), (<I>i</I>)
become a paragraph tree; headings, citations (CITA), notes, authority and source are kept.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

from lxml import etree

from crawler.errors import ParseError
from crawler.parse.cfr_units import UNIT_KINDS
from crawler.parse.entity_list import entity_list
from crawler.parse.expect import ECCN
from crawler.parse.fr_xml import EMPHASIS, STARS, child_text, emphasis_heading, text_of
from crawler.parse.paragraphs import CLOSE, EMPHASIS_HEADING, OPEN, Block, Paragraphs, plain
from crawler.parse.text import fold, squash
from crawler.parse.xml import parse_xml
from crawler.records import Node

DIVS = {f"DIV{i}" for i in range(1, 10)}
ENTITY_LIST = re.compile(r"Supplement No\. 4 to Part 744$", re.I)
CCL = re.compile(r"Supplement No\. 1 to Part 774$", re.I)
_DEFINES = re.compile(r"\bdefinitions?\b|meaning of terms", re.I)
_DIV_TYPE = re.compile(r"[A-Za-z]{1,20}", re.ASCII)  # PART, SUBPART, SECTION, APPENDIX ...
_KEEP = {
    "CITA": "citation",
    "AUTH": "authority",
    "SOURCE": "source",
    "EFFDNOT": "effdnot",
    "EDNOTE": "ednote",
    "SECAUTH": "authority",
    "APPRO": "approval",
}


RAW_DIGEST = 16  # hex digits of a unit's XML hash kept in its part's manifest


@dataclass
class Reuse:
    """Units whose XML is byte for byte what the part held before are not parsed again: the
    manifest before names each unit by the hash of its XML (``known``: that hash -> its
    unit-ref), and the parse puts that unit-ref where the unit is. ``digests`` records the
    XML hash of each unit the parse did read (by its kind and label; None for a label two
    units share, which are then always parsed), ``reused`` the keys of those it did not."""

    known: Mapping[str, Node] = field(default_factory=dict)
    digests: dict[tuple[str, str], str | None] = field(default_factory=dict)
    reused: set[str] = field(default_factory=set)

    def digest_of(self, node: Node) -> str | None:
        return self.digests.get((node.kind, node.label))


def unit_digest(el: etree._Element) -> str:
    """The hash of one unit's XML as the payload gives it (its text, markup and attributes)."""
    return hashlib.sha256(etree.tostring(el, with_tail=False)).hexdigest()[:RAW_DIGEST]


def parse_ecfr_xml(data: bytes, what: str = "eCFR XML", reuse: Reuse | None = None) -> Node:
    """The top DIV of ``data`` as a Node tree (the part, for the API's ``?part=`` output).
    With ``reuse``: units whose XML it knows are its unit-refs, not parsed (see Reuse)."""
    root = parse_xml(data, what)
    if root.tag == "DLPSTEXTCLASS":
        found = next((el for el in root.iter(*sorted(DIVS))), None)
        if found is None:
            raise ParseError(f"{what}: no DIV1..DIV9 inside the DLPSTEXTCLASS wrapper")
        root = found
    if root.tag not in DIVS:
        raise ParseError(f"{what}: root element <{root.tag}> is not eCFR XML")
    return _div(root, what, reuse)


def _div(el: etree._Element, what: str, reuse: Reuse | None = None) -> Node:
    kind = _kind(el, what)
    if reuse is not None and kind in UNIT_KINDS:
        digest = unit_digest(el)
        known = reuse.known.get(digest)
        if known is not None:
            reuse.reused.add(dict(known.fields)["key"])
            return known
        node = _unit(el, kind, what)
        name = (node.kind, node.label)
        reuse.digests[name] = None if name in reuse.digests else digest
        return node
    return _unit(el, kind, what, reuse)


def _unit(el: etree._Element, kind: str, what: str, reuse: Reuse | None = None) -> Node:
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
    builder = Paragraphs()
    for child in el:
        if child.tag in DIVS:
            builder.add_node(_div(child, what, reuse))
        elif child.tag == "HEAD":
            continue
        elif child.tag == "DIV" or child.tag == "TABLE" or child.find(".//TABLE") is not None:
            if ENTITY_LIST.match(label):
                builder.add_node(entity_list(_table(child, captioned=False)))
            else:
                builder.add(Block("node", node=_table(child)))
        else:
            _add(builder, child)
    return Node(label, kind, title, "", builder.finish(definitions=defines(title)))


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
    eccn: tuple[str, str, Paragraphs] | None = None

    def close() -> None:
        if eccn is not None:
            number, heading, body = eccn
            top.append(Node(number, "eccn", heading, "", body.finish()))

    intro = Paragraphs()
    for child in el:
        if child.tag == "HEAD":
            continue
        text = text_of(child)
        match = ECCN.match(text)  # at the start
        if (match and child.find("B") is not None) or (match and child.find("E") is not None):
            close()
            eccn = (match.group(), text, Paragraphs())
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


def _add(builder: Paragraphs, child: etree._Element) -> None:
    if child.tag in _KEEP:
        builder.add_node(Node(_KEEP[child.tag], _KEEP[child.tag], "", text_of(child)))
    elif child.tag == "DIV" or child.tag == "TABLE" or child.find(".//TABLE") is not None:
        builder.add(Block("node", node=_table(child)))
    else:
        block = _block(child)
        if block is not None:
            builder.add(block)


def _table(el: etree._Element, captioned: bool = True) -> Node:
    table = el if el.tag == "TABLE" else el.find(".//TABLE")
    rows: list[list[str]] = []
    headers: list[str] = []
    for tr in table.iter("TR") if table is not None else ():
        cells = [cell_text(c) for c in tr if c.tag in ("TD", "TH")]
        if all(c.tag == "TH" for c in tr if c.tag in ("TD", "TH")) and not rows:
            headers = cells
            continue
        rows.append(cells)
    caption = text_of(table.find("CAPTION")) if table is not None and captioned else ""
    return table_node(headers, rows, caption)


def table_node(
    headers: list[str] | tuple[str, ...], rows: list[list[str]], caption: str = ""
) -> Node:
    """A table as a Node: labelled by its caption ("Country Group D") or "table"; each row
    by its first cell when those are distinct ("By a small entity"), else by position (r1,
    r2 ...) where the first cell is empty or repeated, so inserting a row does not rename the
    rows after it; cells named by their
    column heads, or "column 1", "column 2" ... where the table has none."""
    firsts = [squash(r[0]) if r else "" for r in rows]
    seen = Counter(firsts)
    out = []
    for i, cells in enumerate(rows):
        names = (
            list(headers)
            if len(headers) == len(cells)
            else [f"column {n + 1}" for n in range(len(cells))]
        )
        first = firsts[i]
        label = first if 0 < len(first) <= 80 and seen[first] == 1 else f"r{i + 1}"
        out.append(Node(label, "row", fields=tuple(zip(names, cells, strict=True))))
    label = fold(caption).replace("^", "").strip() or "table"
    return Node(label, "table", caption, "", tuple(out))


def cell_text(el: etree._Element) -> str:
    """A table cell's text with each <br/> as a line break, each line squashed."""
    parts = [el.text or ""]
    for child in el:
        parts.append("\n" if child.tag == "br" else child_text(child))
        parts.append(child.tail or "")
    return "\n".join(squash(line) for line in "".join(parts).split("\n")).strip("\n")


def paragraph_tree(
    texts: list[str], tags: tuple[str, ...] = (), subject: str = "", elisions: bool = False
) -> tuple[Node, ...]:
    """Paragraph texts in order ("(a) ...", "(1) ...") -> the labelled paragraph tree.
    ``tags`` (a rule's REGTEXT: "P", "HD3", "NOTE", "STARS" ...) say which texts are headings,
    notes and elisions; without them every text is a paragraph ("* * * * *" an elision).
    ``subject``: the section's heading, which says whether it defines terms ("Definitions").
    ``elisions``: keep each "* * * * *" as a ``stars`` node (a rule's text, for projection);
    either way, markers after one may restate where the rule is ("(i) * * *")."""
    builder = Paragraphs()
    for i, text in enumerate(texts):
        tag = tags[i] if i < len(tags) else "P"
        if tag == "STARS" or text == STARS:
            builder.add(Block("stars"))
        elif tag.startswith("HD"):
            builder.add(Block("heading", text, level=_heading_level(tag)))
        elif tag == "NOTE":
            head, body = _note_parts(text)
            builder.add(Block("note", body, title=head))
        elif tag == "FTNT":
            builder.add(Block("footnote", text))
        else:
            builder.add(Block("paragraph", text))
    return builder.finish(emphasis=False, definitions=defines(subject), elisions=elisions)


_EMPHASISED_NOTE = re.compile(
    rf"^{OPEN}(Notes?\b[^{OPEN}{CLOSE}]{{0,80}}?[:.]){CLOSE}\s*(.+)$", re.S
)
_NOTE_HEAD = re.compile(r"^(Notes?\b[^:]{0,80}?):\s*(.*)$", re.S)


def _note_parts(text: str) -> tuple[str, str]:
    """ "Note 1 to paragraph (a): Text" -> ("Note 1 to paragraph (a):", "Text")."""
    found = _NOTE_HEAD.match(text)
    return (f"{found.group(1)}:", found.group(2)) if found else ("", text)


def defines(heading: str) -> bool:
    """Whether a unit with this heading defines terms ("Definitions", "Meaning of terms")."""
    return bool(_DEFINES.search(heading))


def _heading_level(tag: str) -> int:
    digits = "".join(c for c in tag if c.isdigit())
    return int(digits) if digits else 1


def _block(el: etree._Element) -> Block | None:
    """One paragraph-level element as a Block (None when it holds no text)."""
    if el.tag in ("HD1", "HD2", "HD3", "HD"):
        text = text_of(el)
        return (
            Block("heading", text, level=_heading_level(el.get("SOURCE") or el.tag))
            if text
            else None
        )
    if el.tag == "NOTE":
        head = el.find("HED")
        if head is None:
            head = el.find("HD")
        title = text_of(head) if head is not None else ""
        body = " ".join(text_of(c) for c in el if c is not head and text_of(c))
        return Block("note", body, title=title)
    if el.tag == "FTNT":
        return Block("footnote", text_of(el))
    if el.tag in ("EXTRACT", "EXAMPLE") and len(el):
        inner = Paragraphs()
        for child in el:
            _add(inner, child)
        return Block("node", node=Node(el.tag.lower(), el.tag.lower(), "", "", inner.finish()))
    text = marked_text(el)
    if not plain(text).strip():
        return None
    note = _EMPHASISED_NOTE.match(text.lstrip()) if OPEN in text else None
    if note is not None:  # <P><E T="04">Note:</E> text</P>, as the annual CFR prints notes
        return Block("note", plain(note.group(2)).strip(), title=fold(note.group(1)))
    if emphasis_heading(el):
        return Block("heading", text, level=EMPHASIS_HEADING)
    if el.tag.startswith("FP"):
        return Block("flush", text)
    return Block("paragraph", text)


def marked_text(el: etree._Element) -> str:
    """``text_of(el)`` with OPEN/CLOSE around each emphasised (I, E, B) run."""
    if len(el) == 0:  # no child elements at all: the common case, and fast
        return text_of(el)
    runs = [c for c in el.iter(*EMPHASIS) if c is not el]
    if not runs:
        return text_of(el)
    saved = [(c.text, c.tail) for c in runs]
    for child in runs:  # marked in place and put back: cheaper than a copy
        child.text = OPEN + (child.text or "")
        child.tail = CLOSE + (child.tail or "")
    try:
        return text_of(el)
    finally:
        for child, (text, tail) in zip(runs, saved, strict=True):
            child.text, child.tail = text, tail
