"""Federal Register XML (GPO FR XML) -> FrXmlDocument records.

Two shapes (SOURCES.md 2): a whole daily issue (root FEDREG, documents under RULES,
PRORULES, NOTICES, PRESDOCS, NEWPART, CORRECT) and a single document as served by the
API's ``full_text_xml_url`` (root RULE, PRORULE, NOTICE or PRESDOCU).
"""

from __future__ import annotations

import re

from lxml import etree

from crawler.errors import ParseError
from crawler.parse.amdpar import parse_amendment
from crawler.parse.expect import CFR_PART, CFR_TITLE
from crawler.parse.text import comment_deadline, effective_date, fold, squash
from crawler.parse.xml import parse_xml
from crawler.records import FrXmlDocument, RegText, Section, Table

DOCUMENT_ELEMENTS = ("RULE", "PRORULE", "NOTICE", "PRESDOCU")
STARS = "* * * * *"
_CFR_HEAD = re.compile(r"\s*([0-9]{1,2})\s+CFR\b(.*)", re.ASCII)
_PART_NUMBER = re.compile(r"\b[0-9]{1,5}\b", re.ASCII)
_RIN = re.compile(r"\b\d{4}-[A-Z]{2}\d{2}\b")
_FRDOC = re.compile(r"FR\s+Doc\.?\s+(?:No\.?\s*)?([A-Z0-9]+-\d+)")
_PARAGRAPHS = {
    "P",
    "FP",
    "FP-1",
    "FP-2",
    "FP1",
    "FP2",
    "PSPACE",
    "HD",
    "AUTH",
    "NOTE",
    "EXTRACT",
    "SOURCE",
    "EDNOTE",
    "FTNT",
}


def parse_fr_xml(data: bytes, what: str = "FR XML") -> list[FrXmlDocument]:
    """Every document in ``data``: one for a single-document file, all for a daily issue."""
    root = parse_xml(data, what)
    if root.tag in DOCUMENT_ELEMENTS:
        return [_document(root, what)]
    if root.tag != "FEDREG":
        raise ParseError(f"{what}: root element <{root.tag}> is not FR XML")
    return [_document(el, what) for el in root.iter(*DOCUMENT_ELEMENTS)]


def parse_document_xml(data: bytes, what: str = "FR XML") -> FrXmlDocument:
    """The one document in a ``full_text_xml_url`` payload."""
    documents = parse_fr_xml(data, what)
    if len(documents) != 1:
        raise ParseError(f"{what}: expected one document, found {len(documents)}")
    return documents[0]


def text_of(el: etree._Element | None) -> str:
    """All the text inside ``el`` (inline markup, page breaks and all), squashed."""
    return "" if el is None else squash("".join(el.itertext()))


def _body(el: etree._Element | None) -> str:
    """A preamble block's paragraphs without its 'LABEL:' heading, one per line."""
    if el is None:
        return ""
    return "\n".join(text_of(p) for p in el if p.tag != "HD" and text_of(p))


def _document(el: etree._Element, what: str) -> FrXmlDocument:
    pre = el.find("PREAMB")
    pre = pre if pre is not None else etree.Element("PREAMB")
    cfr = "; ".join(text_of(c) for c in pre.findall("CFR"))
    dates = _body(pre.find("EFFDATE")) or _body(pre.find("DATES"))
    regtexts = tuple(_regtext(r, what) for r in el.iter("REGTEXT")) + _loose_regtext(el, cfr)
    frdoc = text_of(el.find(".//FRDOC"))
    match = _FRDOC.search(fold(frdoc))
    return FrXmlDocument(
        element=el.tag,
        agency=text_of(pre.find("AGENCY")),
        subagencies=tuple(text_of(s) for s in pre.findall("SUBAGY")),
        cfr=cfr,
        cfr_parts=_cfr_parts(cfr, regtexts),
        dockets=tuple(text_of(d).strip("[]") for d in pre.findall("DEPDOC")),
        rins=tuple(dict.fromkeys(_RIN.findall(" ".join(text_of(r) for r in pre.findall("RIN"))))),
        subject=text_of(pre.find("SUBJECT")),
        action=_body(pre.find("ACT")),
        summary=_body(pre.find("SUM")),
        dates=dates,
        effective_date=effective_date(dates),
        comment_deadline=comment_deadline(dates),
        regtexts=regtexts,
        tables=tuple(parse_table(t) for t in el.iter("GPOTABLE")),
        body=_narrative(el),
        frdoc=match.group(1) if match else "",
        billing_code=fold(text_of(el.find(".//BILCOD"))).removeprefix("BILLING CODE").strip(),
    )


_SKIP = {"PREAMB", "REGTEXT", "GPOTABLE", "FRDOC", "BILCOD", "AMDPAR", "SECTION"}
_BLOCKS = {"P", "FP", "HD", "NOTE", "FTNT", "EXTRACT", "LI", "SIG", "DATED", "NAME", "TITLE"}


def _narrative(el: etree._Element) -> tuple[str, ...]:
    """Paragraph texts of the document outside its preamble, REGTEXT and tables."""
    out: list[str] = []

    def walk(node: etree._Element) -> None:
        for child in node:
            if child.tag in _SKIP:
                continue
            if child.tag in _BLOCKS:
                text = text_of(child)
                if text:
                    out.append(text)
            else:
                walk(child)

    walk(el)
    return tuple(out)


def _cfr_parts(cfr: str, regtexts: tuple[RegText, ...]) -> tuple[str, ...]:
    parts: list[str] = []
    for chunk in fold(cfr).split(";"):
        head = _CFR_HEAD.match(chunk)
        if head:
            rest = re.sub(r"\bchapter\s+[IVXLC]+\b", "", head.group(2), flags=re.I)
            parts += [f"{head.group(1)}:{p}" for p in _PART_NUMBER.findall(rest)]
    parts += [f"{r.title}:{r.part}" for r in regtexts if r.title and r.part]
    return tuple(dict.fromkeys(parts))


def parse_table(el: etree._Element) -> Table:
    """A GPOTABLE: column heads (stacked heads joined), then each ROW's cells."""
    heads = [text_of(c) for c in el.iterfind("BOXHD/CHED")]
    rows = tuple(tuple(text_of(e) for e in row.iterfind("ENT")) for row in el.iterfind("ROW"))
    return Table(title=text_of(el.find("TTITLE")), headers=tuple(heads), rows=rows)


def cfr_attribute(el: etree._Element, name: str, what: str) -> str:
    """A REGTEXT's TITLE or PART: '' when absent, else a CFR title ('15') or part ('744')."""
    value = (el.get(name) or "").strip()
    if value and not (CFR_TITLE if name == "TITLE" else CFR_PART).fullmatch(value):
        shown = value if len(value) <= 20 else value[:17] + "..."
        raise ParseError(f'{what}: <{el.tag} {name}="{shown}"> is not a CFR {name.lower()} number')
    return value


def _regtext(el: etree._Element, what: str) -> RegText:
    title = cfr_attribute(el, "TITLE", what)
    sections: list[Section] = []
    text: list[str] = []
    tables: list[Table] = []
    _walk(el, sections, text, tables)
    return RegText(
        title=int(title) if title else None,
        part=cfr_attribute(el, "PART", what),
        amendments=tuple(parse_amendment(text_of(a)) for a in el.iter("AMDPAR")),
        sections=tuple(sections),
        text=tuple(text),
        tables=tuple(tables),
    )


def _loose_regtext(el: etree._Element, cfr: str) -> tuple[RegText, ...]:
    """Amendments GPO left outside any REGTEXT (common in proposed rules of daily issues)."""

    def loose(tag: str) -> list[etree._Element]:
        return [x for x in el.iter(tag) if not any(a.tag == "REGTEXT" for a in x.iterancestors())]

    amendments = loose("AMDPAR")
    if not amendments:
        return ()
    parts = _cfr_parts(cfr, ())
    title, part = parts[0].split(":") if len(parts) == 1 else ("", "")
    return (
        RegText(
            title=int(title) if title else None,
            part=part,
            amendments=tuple(parse_amendment(text_of(a)) for a in amendments),
            sections=tuple(_section(s) for s in loose("SECTION")),
            text=(),
            tables=(),
        ),
    )


def _walk(el: etree._Element, sections: list, text: list, tables: list) -> None:
    for child in el:
        if child.tag == "SECTION":
            sections.append(_section(child))
        elif child.tag == "GPOTABLE":
            tables.append(parse_table(child))
        elif child.tag == "STARS":
            text.append(STARS)
        elif child.tag == "AMDPAR":
            continue
        elif child.tag in _PARAGRAPHS or len(child) == 0:
            if text_of(child):
                text.append(text_of(child))
        else:
            _walk(child, sections, text, tables)


def _section(el: etree._Element) -> Section:
    paragraphs: list[str] = []
    tables: list[Table] = []
    for child in el:
        if child.tag in ("SECTNO", "SUBJECT", "AMDPAR"):
            continue
        if child.tag == "STARS":
            paragraphs.append(STARS)
        elif child.tag == "GPOTABLE":
            tables.append(parse_table(child))
        elif text_of(child):
            paragraphs.append(text_of(child))
    number = fold(text_of(el.find("SECTNO"))).lstrip("§ ").strip()
    return Section(
        number=number,
        subject=text_of(el.find("SUBJECT")),
        paragraphs=tuple(paragraphs),
        tables=tuple(tables),
    )
