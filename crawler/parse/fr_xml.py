"""Federal Register XML (GPO FR XML) -> FrXmlDocument records.

Two shapes (SOURCES.md 2): a whole daily issue (root FEDREG, documents under RULES,
PRORULES, NOTICES, PRESDOCS, NEWPART, CORRECT) and a single document as served by the
API's ``full_text_xml_url`` (root RULE, PRORULE, NOTICE or PRESDOCU).

Text conventions (every parser that takes text through ``text_of``): a superscript
(``<SU>``, ``<sup>``, ``<E T="51">``) is written ``^x`` and a subscript (``<sub>``,
``<E T="52">``) ``_x``, with braces when letters or digits follow or the script holds a
space (``10<SU>-4</SU>`` -> ``10^-4``, ``H<E T="52">2</E>O`` -> ``H_{2}O``, a footnote
mark ``Sons<SU>1</SU>`` -> ``Sons^1``); block elements (HD, P ...) are kept apart by a
space even when the XML has none between them ("Authority: 22 U.S.C. 2778").
"""

from __future__ import annotations

import dataclasses
import re

from lxml import etree

from crawler.errors import ParseError
from crawler.parse.amdpar import parse_amendment
from crawler.parse.expect import CFR_PART, CFR_TITLE, FR_CITATION
from crawler.parse.paragraphs import EMPHASIS_HEADING
from crawler.parse.text import comment_deadline, dates_in, effective_date, fold, squash
from crawler.parse.xml import parse_xml
from crawler.records import Amendment, Delay, FrXmlDocument, RegText, Section, Table

DOCUMENT_ELEMENTS = ("RULE", "PRORULE", "NOTICE", "PRESDOCU")
STARS = "* * * * *"
_CFR_HEAD = re.compile(r"\s*([0-9]{1,2})\s+CFR\b(.*)", re.ASCII)
_PART_NUMBER = re.compile(r"\b[0-9]{1,5}\b", re.ASCII)
# a RIN: agency code, any dash (folded to "-"), then "AA08" or NOAA's "XE546"
_RIN = re.compile(r"\b(\d{4}) ?- ?([A-Z]{2}\d{2,3})\b")
_DELAYED = re.compile(r"\b(?:is|are|was|be|been) (?:further |hereby )?(?:delayed|postponed)\b")
_SENTENCE_END = re.compile(r"(?<=[.;])\s+(?=[A-Z])")
_AUTHORITY = {"AUTH", "SECAUTH"}
_SUPERSCRIPT = {"SU", "sup"}
_SUBSCRIPT = {"sub"}
_SCRIPT_E = {"51": "^", "52": "_"}  # <E T="51"> superscript, <E T="52"> subscript
_INLINE = {"E", "SU", "sup", "sub", "FR", "I", "B", "i", "b", "em", "strong", "span", "a"}
_INLINE |= {"PRTPAGE", "FTREF", "AC", "ACRONYM", "BOLD", "ITALIC", "SC"}
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
    """All the text inside ``el`` (inline markup, page breaks and all), squashed, with
    superscripts and subscripts written as the module docstring says."""
    if el is None:
        return ""
    return authority_text(el) if el.tag in _AUTHORITY else squash(inner_text(el))


def authority_text(el: etree._Element) -> str:
    """'Authority: 22 U.S.C. 2778.' from its heading and body, whatever the spacing between
    them, and when GPO put the colon in the body (``<HD>Authority</HD><P>: 49 U.S.C.``)."""
    head = el[0] if len(el) and el[0].tag in ("HD", "HED") else None
    if head is None:
        return squash(inner_text(el))
    body = squash((el.text or "") + (head.tail or ""))
    body += " " + " ".join(squash(child_text(c) + (c.tail or "")) for c in list(el)[1:])
    heading, body = squash(inner_text(head)).rstrip(" :"), squash(body).lstrip(": ")
    return f"{heading}: {body}" if body else f"{heading}:"


def inner_text(el: etree._Element) -> str:
    """The text inside ``el`` before squashing (scripts marked, blocks spaced)."""
    parts = [el.text or ""]
    for child in el:
        parts.append(child_text(child))
        parts.append(child.tail or "")
    return "".join(parts)


def child_text(child: etree._Element) -> str:
    """One child element's text as its parent shows it (without the child's tail)."""
    if not isinstance(child.tag, str):
        # a comment or processing instruction: lxml-stubs types every element's tag as str
        return ""  # type: ignore[unreachable]
    inner = inner_text(child)
    mark = _script_mark(child)
    if mark:
        return script(mark, inner, child.tail or "")
    return inner if child.tag in _INLINE else f" {inner} "


def _script_mark(el: etree._Element) -> str:
    if el.tag in _SUPERSCRIPT:
        return "^"
    if el.tag in _SUBSCRIPT:
        return "_"
    return _SCRIPT_E.get(el.get("T", ""), "") if el.tag == "E" else ""


def script(mark: str, text: str, after: str) -> str:
    """``^x`` / ``_x``; ``^{x y}`` when ``x`` holds a space or a letter or digit follows."""
    text = squash(text)
    if not text:
        return ""
    if " " in text or after[:1].isalnum():
        return f"{mark}{{{text}}}"
    return f"{mark}{text}"


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
    delays = delays_in(dates)
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
        rins=rin_numbers(" ".join(text_of(r) for r in pre.findall("RIN"))),
        subject=text_of(pre.find("SUBJECT")),
        action=_body(pre.find("ACT")),
        summary=_body(pre.find("SUM")),
        dates=dates,
        effective_date=effective_date(_own_dates(dates)),
        comment_deadline=comment_deadline(dates),
        regtexts=regtexts,
        tables=tuple(parse_table(t) for t in el.iter("GPOTABLE")),
        body=_narrative(el),
        frdoc=match.group(1) if match else "",
        billing_code=fold(text_of(el.find(".//BILCOD"))).removeprefix("BILLING CODE").strip(),
        delays=delays,
    )


def rin_numbers(text: str) -> tuple[str, ...]:
    """The RINs in ``text``, each once, with a plain hyphen: 'RIN 0648\u2013BM78' and
    NOAA's 'RIN 0648-XE546' -> ('0648-BM78', '0648-XE546')."""
    return tuple(dict.fromkeys(f"{a}-{b}" for a, b in _RIN.findall(fold(text))))


def _sentences(text: str) -> list[str]:
    return _SENTENCE_END.split(fold(text))


def delays_in(dates: str) -> tuple[Delay, ...]:
    """The other rules whose effective dates a DATES block postpones."""
    found = (_delay(s) for s in _sentences(dates))
    return tuple(d for d in found if d is not None)


def _delay(sentence: str) -> Delay | None:
    """'The effective date of the rule published March 1, 2016 (81 FR 10477) is delayed
    from April 15, 2016 to May 16, 2016.' -> Delay; None for any other sentence."""
    verb = _DELAYED.search(sentence)
    if verb is None or "effective date" not in sentence[: verb.start()].lower():
        return None
    head, tail = sentence[: verb.start()], sentence[verb.end() :]
    published = re.search(r"\b(?:published|issued)\b(.*)", head)
    cited = FR_CITATION.search(head) or FR_CITATION.search(tail)
    span = re.search(r"\bfrom\b(.*?)\b(?:to|until|through)\b(.*)", tail) or re.search(
        r"()\b(?:to|until|through)\b(.*)", tail
    )
    if cited is None or span is None or not dates_in(span.group(2)):
        return None
    return Delay(
        citation=f"{cited.group(1)} FR {cited.group(2)}",
        published=next(iter(dates_in(published.group(1))), None) if published else None,
        from_date=next(iter(dates_in(span.group(1))), None),
        to_date=dates_in(span.group(2))[0],
    )


def _own_dates(dates: str) -> str:
    """A DATES block without the sentences that move another rule's effective date."""
    return " ".join(s for s in _sentences(dates) if _delay(s) is None)


_SKIP = {"PREAMB", "REGTEXT", "GPOTABLE", "FRDOC", "BILCOD", "AMDPAR", "SECTION"}
_BLOCKS = {"P", "FP", "HD", "NOTE", "FTNT", "EXTRACT", "LI", "SIG", "DATED", "NAME", "TITLE"}
_BLOCKS |= _AUTHORITY


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
        amendments=tuple(amendment(a) for a in el.iter("AMDPAR")),
        sections=tuple(sections),
        text=tuple(text),
        tables=tuple(tables),
    )


def amendment(el: etree._Element) -> Amendment:
    """One AMDPAR read as an instruction, with the FR page it is printed on."""
    return dataclasses.replace(parse_amendment(text_of(el)), page=printed_page(el))


def printed_page(el: etree._Element) -> str:
    """The FR page ``el`` is printed on: the last ``<PRTPAGE P="..."/>`` before it (in a
    daily issue, the one before the document when none is inside it), "" when none precedes
    (a single document's first page, its citation's page)."""
    found = el.xpath("preceding::PRTPAGE[@P][1]/@P")
    return str(found[0]).strip() if isinstance(found, list) and found else ""


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
            amendments=tuple(amendment(a) for a in amendments),
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
    tags: list[str] = []
    tables: list[Table] = []
    for child in el:
        if child.tag in ("SECTNO", "SUBJECT", "AMDPAR"):
            continue
        if child.tag == "STARS":
            paragraphs.append(STARS)
            tags.append("STARS")
        elif child.tag == "GPOTABLE":
            tables.append(parse_table(child))
        elif text_of(child):
            paragraphs.append(text_of(child))
            tags.append(block_tag(child))
    number = fold(text_of(el.find("SECTNO"))).lstrip("§ ").strip()
    return Section(
        number=number,
        subject=text_of(el.find("SUBJECT")),
        paragraphs=tuple(paragraphs),
        tables=tuple(tables),
        tags=tuple(tags),
    )


EMPHASIS = ("E", "I", "B")  # bold and italic runs: I in the eCFR, E T="03"/"04" in FR XML


HEADING_WORDS = 20  # a paragraph all in bold or italic and this short is a heading
_LEAD_MARK = re.compile(r"\s*\(\s*\w{1,3}\s*\)")


def emphasis_heading(el: etree._Element) -> bool:
    """A paragraph whose every word is bold or italic, short and without a paragraph marker:
    an unlabelled heading ("<E T="04">CATEGORY VI—VESSELS OF WAR</E>"), in REGTEXT as in
    the eCFR."""
    if not len(el) or (el.text or "").strip():
        return False
    if not all(c.tag in EMPHASIS and not (c.tail or "").strip() for c in el):
        return False
    text = text_of(el)
    return len(text.split()) <= HEADING_WORDS and not _LEAD_MARK.match(text)


def block_tag(el: etree._Element) -> str:
    """What a REGTEXT block is, for the paragraph tree: "HD1".."HD3" (a heading, by its
    SOURCE), "HD9" (a paragraph that is only emphasis, e.g. "<E T="04">Category VI</E>"),
    "NOTE", "FTNT", "FP", "EXTRACT" or "P"."""
    if el.tag in ("HD", "HED"):
        source = el.get("SOURCE") or "HD1"
        return source if source in ("HD1", "HD2", "HD3") else "HD1"
    first = el[0] if len(el) else None
    if (
        el.tag == "P"
        and first is not None
        and first.tag in EMPHASIS
        and not (el.text or "").strip()
        and re.match(r"Notes?\b", text_of(first))
        and text_of(first).rstrip().endswith((":", "."))
    ):
        return "NOTE"  # <P><E T="04">Note:</E> text</P>
    if el.tag == "P" and emphasis_heading(el):
        return f"HD{EMPHASIS_HEADING}"
    return el.tag if el.tag in ("NOTE", "FTNT", "EXTRACT") or el.tag.startswith("FP") else "P"
