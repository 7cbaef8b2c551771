"""The annual CFR edition (GPO's CFR XML, root CFRGRANULE) -> the same Node tree as eCFR XML.

One granule holds one part: PART > SUBPART > SUBJGRP > SECTION (SECTNO, SUBJECT, P, FP,
GPOTABLE, CITA ...) and APPENDIX (../shared/data/gpo_docs/CFR-XML_User-Guide.md). Each
element is mapped onto its eCFR counterpart (PART -> DIV5 TYPE="PART", SECTION -> DIV8
TYPE="SECTION" with HEAD "§ 1.14 Subject", GPOTABLE -> TABLE ...) and the result is read by
the eCFR parser, so both formats give the same node kinds, labels and keys by construction:
the diff engine, views and unit keys apply unchanged. Running heads (EAR), the table of
contents (CONTENTS) and page breaks (PRTPAGE) are print layout, not text, and are dropped.
"""

from __future__ import annotations

import re

from lxml import etree

from crawler.errors import ParseError
from crawler.parse.ecfr_xml import parse_ecfr_xml
from crawler.parse.fr_xml import text_of
from crawler.parse.text import fold
from crawler.parse.xml import parse_xml
from crawler.records import Node

ROOT = "CFRGRANULE"
_DIVS = {
    "PART": "DIV5",
    "SUBPART": "DIV6",
    "SUBJGRP": "DIV7",
    "SECTION": "DIV8",
    "APPENDIX": "DIV9",
}
_LAYOUT = {"EAR", "CONTENTS", "SECHD", "FDSYS"}  # print layout, not text
_SECTION_HEAD = {"SECTNO", "SUBJECT", "RESERVED"}
_PART_NUMBER = re.compile(r"^PART\s+([0-9A-Za-z.]+)", re.I)
_SUBPART_LETTER = re.compile(r"^Subpart\s+([0-9A-Za-z.]+)", re.I)
_HEADING_LEVEL = re.compile(r"HD([1-3])$")


def parse_annual_cfr(data: bytes, what: str = "annual CFR XML") -> Node:
    """The part in a CFRGRANULE payload as a Node tree (label "1" for 37 CFR part 1)."""
    root = parse_xml(data, what)
    if root.tag != ROOT:
        raise ParseError(f"{what}: root element <{root.tag}> is not annual CFR XML ({ROOT})")
    part = root.find("PART")
    if part is None:
        raise ParseError(f"{what}: no <PART> inside the {ROOT} (front matter or an index?)")
    etree.strip_elements(part, "PRTPAGE", with_tail=False)
    return parse_ecfr_xml(etree.tostring(as_ecfr(part)), what)


def as_ecfr(el: etree._Element) -> etree._Element:
    """A PART, SUBPART, SUBJGRP, SECTION or APPENDIX element turned, in place, into eCFR's
    DIV form (its children are moved, not copied: a 1 MB part converts in milliseconds)."""
    heading = _heading(el)
    number = _number(el, heading)
    first_hd = el.find("HD") if el.tag != "SECTION" else None
    body = [
        out
        for child in el
        if child is not first_hd and child.tag not in _LAYOUT and child.tag not in _SECTION_HEAD
        for out in _body(child)
    ]
    head = etree.Element("HEAD")
    head.text = heading
    el[:] = [head, *body]
    el.attrib.clear()
    el.set("TYPE", el.tag)
    if number:
        el.set("N", number)
    el.tag = _DIVS[el.tag]
    return el


def _heading(el: etree._Element) -> str:
    if el.tag != "SECTION":
        return text_of(el.find("HD"))
    words = [text_of(el.find(tag)) for tag in ("SECTNO", "SUBJECT", "RESERVED")]
    return " ".join(w for w in words if w)


def _number(el: etree._Element, heading: str) -> str:
    """The eCFR ``N`` of a level: "1", "A", "1.14", "Appendix A to Part 1"; "" for a
    subject group (eCFR labels those by their heading)."""
    if el.tag == "SECTION":
        return fold(text_of(el.find("SECTNO"))).replace("§", "").strip()
    if el.tag == "APPENDIX":
        return re.split(r"\s*[—–]\s*", fold(heading), maxsplit=1)[0]
    pattern = {"PART": _PART_NUMBER, "SUBPART": _SUBPART_LETTER}.get(el.tag)
    found = pattern.match(fold(heading)) if pattern else None
    return found.group(1) if found else ""


def _body(el: etree._Element) -> list[etree._Element]:
    """A child of a level as the eCFR elements it becomes (an EXTRACT is unwrapped: the
    annual edition wraps whole lists, such as the Munitions Import List, in one)."""
    if el.tag in _DIVS:
        return [as_ecfr(el)]
    if el.tag == "EXTRACT":
        return [out for child in el if child.tag not in _LAYOUT for out in _body(child)]
    if el.tag == "GPOTABLE":
        return _table(el)
    if el.tag == "HD":
        level = _HEADING_LEVEL.search(el.get("SOURCE") or "")
        el.tag = f"HD{level.group(1) if level else 1}"
    return [el]


def _table(el: etree._Element) -> list[etree._Element]:
    """A GPOTABLE as eCFR's HTML table: column heads (CHED) as a TH row, each ROW a TR."""
    out = []
    title = text_of(el.find("TTITLE"))
    if title:
        heading = etree.Element("HD3")
        heading.text = title
        out.append(heading)
    wrapper = etree.Element("DIV")
    table = etree.SubElement(wrapper, "TABLE")
    heads = [text_of(c) for c in el.iterfind("BOXHD/CHED")]
    if heads:
        _row(table, "TH", heads)
    for row in el.iterfind("ROW"):
        _row(table, "TD", [text_of(e) for e in row.iterfind("ENT")])
    out.append(wrapper)
    for note in el.iterfind("TNOTE"):  # a table's notes follow it as paragraphs
        paragraph = etree.Element("P")
        paragraph.text = text_of(note)
        out.append(paragraph)
    return out


def _row(table: etree._Element, tag: str, cells: list[str]) -> None:
    tr = etree.SubElement(table, "TR")
    for cell in cells:
        etree.SubElement(tr, tag).text = cell
