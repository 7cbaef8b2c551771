"""Two files of any format regwatch reads -> one DocumentDiff, with no store at all.

The format is told by the file itself (its root element; ``{`` for an eRegs tree), never by
its name: eCFR API part XML (DIV1..DIV9), GPO bulk eCFR (DLPSTEXTCLASS), the annual CFR
edition (CFRGRANULE), a rule's REGTEXT (FR XML: FEDREG, RULE, PRORULE, NOTICE ...) and an
eRegs regulation tree (JSON). Every format is parsed to the same labelled Node tree, so two
files of different formats (a rule's text against the eCFR's) compare too."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from crawler.diff import DocumentDiff, diff_documents
from crawler.errors import ParseError, UsageError
from crawler.parse.annual_cfr import parse_annual_cfr
from crawler.parse.ecfr_xml import DIVS, paragraph_tree, parse_ecfr_xml, table_node
from crawler.parse.eregs import parse_eregs
from crawler.parse.fr_xml import DOCUMENT_ELEMENTS, parse_fr_xml
from crawler.parse.xml import parse_xml
from crawler.records import Node, RegText, Section, Table


class FileFormat(enum.StrEnum):
    ECFR = "eCFR XML"
    BULK_ECFR = "GPO bulk eCFR XML"
    ANNUAL_CFR = "annual CFR XML"
    FR_REGTEXT = "FR XML (REGTEXT)"
    EREGS = "eRegs tree (JSON)"


@dataclass(frozen=True)
class ParsedFile:
    path: Path
    format: FileFormat
    tree: Node


@dataclass(frozen=True)
class FileComparison:
    old: ParsedFile
    new: ParsedFile
    diff: DocumentDiff


def compare_files(old: Path, new: Path) -> FileComparison:
    """What changed from file ``old`` to file ``new``."""
    before, after = read_regulation(old), read_regulation(new)
    return FileComparison(before, after, diff_documents(before.tree, after.tree))


def read_regulation(path: Path) -> ParsedFile:
    """``path`` parsed to a Node tree by the parser its content calls for."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    what = str(path)
    kind = file_format(data, what)
    return ParsedFile(path, kind, PARSERS[kind](data, what))


def file_format(data: bytes, what: str) -> FileFormat:
    """The format of ``data``, from its root element; a ParseError naming the formats read."""
    if data.lstrip()[:1] == b"{":
        return FileFormat.EREGS
    root = parse_xml(data, what).tag
    if root in DIVS:
        return FileFormat.ECFR
    found = {
        "DLPSTEXTCLASS": FileFormat.BULK_ECFR,
        "CFRGRANULE": FileFormat.ANNUAL_CFR,
        "FEDREG": FileFormat.FR_REGTEXT,
    }.get(root)
    if found is None and root in DOCUMENT_ELEMENTS:
        found = FileFormat.FR_REGTEXT
    if found is None:
        raise ParseError(
            f"{what}: root element <{root}> is not a format regwatch diffs "
            "(eCFR DIV1..DIV9 or DLPSTEXTCLASS, annual CFR CFRGRANULE, FR XML FEDREG or RULE, "
            "eRegs JSON)"
        )
    return found


def regtext_tree(data: bytes, what: str) -> Node:
    """The sections an FR document's REGTEXT gives, under their part ("744"), or under a
    "rule" node when it amends several parts. Elided text ("* * * * *") is left out: a
    rule's text against the full text shows what it leaves out as removed."""
    parts: dict[str, list[Node]] = {}
    for document in parse_fr_xml(data, what):
        for regtext in document.regtexts:
            parts.setdefault(regtext.part, []).extend(_sections(regtext))
    parts = {part: sections for part, sections in parts.items() if sections}
    if not parts:
        raise ParseError(f"{what}: FR XML with no REGTEXT section to compare")
    nodes = [Node(part, "part", f"PART {part}", "", tuple(s)) for part, s in parts.items()]
    return nodes[0] if len(nodes) == 1 else Node("rule", "rule", "", "", tuple(nodes))


def _sections(regtext: RegText) -> list[Node]:
    return [_section(section) for section in regtext.sections]


def _section(section: Section) -> Node:
    paragraphs = paragraph_tree(list(section.paragraphs), section.tags, section.subject)
    tables = tuple(_table(t) for t in section.tables)
    title = f"§ {section.number} {section.subject}".strip()
    return Node(section.number, "section", title, "", paragraphs + tables)


def _table(table: Table) -> Node:
    """A REGTEXT table as the eCFR parser gives one."""
    return table_node(table.headers, [list(r) for r in table.rows], table.title)


PARSERS: dict[FileFormat, Callable[[bytes, str], Node]] = {
    FileFormat.ECFR: parse_ecfr_xml,
    FileFormat.BULK_ECFR: parse_ecfr_xml,
    FileFormat.ANNUAL_CFR: parse_annual_cfr,
    FileFormat.FR_REGTEXT: regtext_tree,
    FileFormat.EREGS: parse_eregs,
}
