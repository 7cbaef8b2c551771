"""The annual CFR edition (CFRGRANULE) read into the eCFR's tree, and `regwatch diff FILE_A
FILE_B` on two files of any supported format, with no store."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import etree

from crawler.cli import main
from crawler.errors import ParseError
from crawler.parse.annual_cfr import parse_annual_cfr
from crawler.parse.cfr_units import units
from crawler.parse.ecfr_xml import parse_ecfr_xml
from crawler.query.file_diff import FileFormat, file_format
from crawler.records import Node

ROOT = Path(__file__).resolve().parents[1]
SECTION = re.compile(r"\d+\.\d+")

ANNUAL = b"""<?xml version="1.0"?>
<CFRGRANULE><FDSYS><CFRTITLE>15</CFRTITLE><GRANULENUM>9</GRANULENUM></FDSYS>
<PART><EAR>Pt. 9</EAR><HD SOURCE="HED">PART 9\xe2\x80\x94SAMPLE CONTROLS</HD>
<CONTENTS><SECTNO>9.1</SECTNO><SUBJECT>Scope.</SUBJECT></CONTENTS>
<AUTH><HD SOURCE="HED">Authority:</HD><P>50 U.S.C. 4801.</P></AUTH>
<SUBPART><HD SOURCE="HED">Subpart A\xe2\x80\x94General</HD>
<SECTION><SECTNO>\xc2\xa7 9.1</SECTNO><SUBJECT>Scope.</SUBJECT>
<P>(a) <E T="03">Items.</E> This part covers items.</P>
<P>(1) Commodities;<PRTPAGE P="12"/> and</P>
<P>(2) Software.</P>
<HD SOURCE="HD1">Fees</HD>
<GPOTABLE COLS="2"><BOXHD><CHED H="1">Service</CHED><CHED H="1">Fee</CHED></BOXHD>
<ROW><ENT I="01">Copy</ENT><ENT>$1.00</ENT></ROW></GPOTABLE>
<CITA>[81 FR 100, Jan. 4, 2016]</CITA></SECTION>
<SECTION><SECTNO>\xc2\xa7 9.2</SECTNO><RESERVED>[Reserved]</RESERVED></SECTION>
</SUBPART></PART></CFRGRANULE>"""

ECFR = b"""<?xml version="1.0"?>
<DIV5 N="9" TYPE="PART"><HEAD>PART 9\xe2\x80\x94SAMPLE CONTROLS</HEAD>
<AUTH><HED>Authority:</HED><PSPACE>50 U.S.C. 4801.</PSPACE></AUTH>
<DIV6 N="A" TYPE="SUBPART"><HEAD>Subpart A\xe2\x80\x94General</HEAD>
<DIV8 N="9.1" TYPE="SECTION"><HEAD>\xc2\xa7 9.1 Scope.</HEAD>
<P>(a) <I>Items.</I> This part covers items.</P>
<P>(1) Commodities; and</P>
<P>(2) Software.</P>
<HD1>Fees</HD1>
<DIV><TABLE><TR><TH>Service</TH><TH>Fee</TH></TR><TR><TD>Copy</TD><TD>$1.00</TD></TR></TABLE></DIV>
<CITA>[81 FR 100, Jan. 4, 2016]</CITA></DIV8>
<DIV8 N="9.2" TYPE="SECTION"><HEAD>\xc2\xa7 9.2 [Reserved]</HEAD></DIV8>
</DIV6></DIV5>"""


def test_an_annual_part_gives_the_same_tree_as_the_same_part_in_ecfr_xml():
    assert parse_annual_cfr(ANNUAL) == parse_ecfr_xml(ECFR)


def test_an_annual_part_gives_sections_paragraphs_and_a_table_at_their_eCFR_labels():
    part = parse_annual_cfr(ANNUAL)
    section = part.find(("Subpart A", "9.1"))
    assert (part.label, part.kind, section.kind, section.title) == (
        "9",
        "part",
        "section",
        "§ 9.1 Scope.",
    )
    assert section.find(("a", "1")).text == "(1) Commodities; and"  # page break dropped
    table = section.find(("Fees", "table"))  # the heading above the table holds it
    assert table is not None
    assert table.children[0].fields == (("Service", "Copy"), ("Fee", "$1.00"))
    assert part.find(("Subpart A", "9.2")).title == "§ 9.2 [Reserved]"
    assert [key for key, _, _ in units(15, "9", part)] == ["cfr:15:9.1", "cfr:15:9.2"]


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b"<DIV5 N='1' TYPE='PART'/>", "root element <DIV5> is not annual CFR XML (CFRGRANULE)"),
        (b"<CFRGRANULE><FDSYS/></CFRGRANULE>", "no <PART> inside the CFRGRANULE"),
        (ANNUAL[:-40], "malformed or truncated XML"),
        (b"<!DOCTYPE html><html><body>Maintenance</body></html>", "got an HTML page"),
        (b"", "empty response"),
    ],
)
def test_anything_but_an_annual_part_is_one_line_naming_the_file(data, says):
    with pytest.raises(ParseError) as raised:
        parse_annual_cfr(data, "part9.xml")
    assert str(raised.value).startswith("part9.xml: ") and says in str(raised.value)
    assert "\n" not in str(raised.value)


def _words(texts: list[str]) -> Counter[str]:
    """Characters but spaces (a paragraph split at an inline marker, "correspondence—(i)",
    keeps every character), ignoring the ``^`` the text form puts before a superscript."""
    return Counter("".join("".join(text.replace("^", "").split()) for text in texts))


def _tree_texts(node: Node) -> list[str]:
    out = [node.text, *(value for _, value in node.fields)]
    if node.kind != "section":  # a section's title is its SECTNO and SUBJECT
        out.append(node.title if node.kind in ("heading", "paragraph", "note") else "")
    if node.kind == "table" and node.children:  # column heads name the cells
        out += [
            name for name, _ in node.children[0].fields if not re.fullmatch(r"column \d+", name)
        ]
    for child in node.children:
        out += _tree_texts(child)
    return out


def _xml_texts(section: etree._Element) -> list[str]:
    skip = {"SECTNO", "SUBJECT", "RESERVED"}
    return ["".join(child.itertext()) for child in section if child.tag not in skip]


@pytest.mark.parametrize(
    "name",
    [
        "CFR-2015-title37-vol1-part1.xml",
        "CFR-2016-title37-vol1-part1.xml",
        "CFR-2003-title27-vol2-part447.xml",
    ],
)
def test_every_word_of_every_real_annual_section_is_in_the_tree_once(shared_data, name):
    data = (shared_data / "annual_cfr_xml" / name).read_bytes()
    tree = parse_annual_cfr(data, name)
    title = int(etree.fromstring(data).findtext("FDSYS/CFRTITLE"))
    found = {path[-1]: node for _, path, node in units(title, tree.label, tree)}
    sections = etree.fromstring(data).iter("SECTION")
    checked = 0
    for section in sections:
        number = "".join(section.findtext("SECTNO")).replace("§", "").strip()
        assert number in found, number
        assert _words(_tree_texts(found[number])) == _words(_xml_texts(section)), number
        checked += 1
    assert checked >= 27


def test_the_2003_munitions_import_list_is_paragraphs_not_one_quoted_block(shared_data):
    name = "CFR-2003-title27-vol2-part447.xml"
    tree = parse_annual_cfr((shared_data / "annual_cfr_xml" / name).read_bytes(), name)
    listing = tree.find(("Subpart C", "447.21"))
    assert listing is not None and listing.title == "§ 447.21 The U.S. Munitions Import List."
    headings = [c.label for c in listing.children if c.kind == "heading"]
    assert headings[:3] == ["The U.S. Munitions Import List", "Category I", "Category II"]
    firearms = listing.find(("Category I", "a"))
    assert firearms is not None and firearms.text.startswith("(a) Nonautomatic and semiautomatic")
    vessels = listing.find(("Category VI", "a"))  # the second (a), known by its heading
    assert vessels is not None and vessels.text.startswith("(a) Warships")


def _diff_json(runner: CliRunner, old: Path, new: Path) -> dict:
    result = runner.invoke(main, ["diff", str(old), str(new), "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def _changed_sections(model: dict) -> set[str]:
    return {
        label
        for change in model["changes"]
        if change["substantive"]
        for label in change["path"]
        if SECTION.fullmatch(label)
    }


def test_diff_of_the_2015_and_2016_37_CFR_part_1_files_is_exactly_1_14_and_1_19(
    shared_data, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    folder = shared_data / "annual_cfr_xml"
    old, new = (
        folder / "CFR-2015-title37-vol1-part1.xml",
        folder / "CFR-2016-title37-vol1-part1.xml",
    )
    model = _diff_json(CliRunner(), old, new)
    assert (model["from_format"], model["to_format"]) == ("annual CFR XML", "annual CFR XML")
    assert _changed_sections(model) == {"1.14", "1.19"}
    assert list(tmp_path.iterdir()) == []  # no store opened or created


def test_diff_of_two_ecfr_api_files_finds_the_new_107_2_and_the_word_in_107_19(shared_data):
    folder = shared_data / "ecfr_api_xml_14cfr107"
    old, new = folder / "part107_2020-01-01_EXCERPT.xml", folder / "part107_2026-01-01_EXCERPT.xml"
    result = CliRunner().invoke(main, ["diff", str(old), str(new), "--no-color"])
    assert result.exit_code == 0, result.output
    assert "\n+ § 107.2  added\n" in result.output
    assert "\n~ § 107.19(c)  changed\n" in result.output
    assert "(typography/whitespace only)\n    title: PART 107" in result.output


def test_diff_of_the_title_1_typography_pair_has_no_substantive_change(shared_data):
    folder = shared_data / "ecfr_xml"
    old = folder / "ECFR-title1_current_2024-03.xml"
    new = folder / "ECFR-title1_updated_ndash_2024-03.xml"
    model = _diff_json(CliRunner(), old, new)
    assert model["from_format"] == "GPO bulk eCFR XML"
    assert model["stats"]["substantive"] == 0 and len(model["changes"]) > 0


def test_diff_of_two_rules_regtext_shows_the_one_changed_paragraph(tmp_path):
    rule = (ROOT / "tests" / "data" / "fr" / "regtext_chain_rule.xml").read_bytes()
    old, new = tmp_path / "a.xml", tmp_path / "b.xml"
    old.write_bytes(rule)
    new.write_bytes(rule.replace(b"within 10 days", b"within 30 days"))
    model = _diff_json(CliRunner(), old, new)
    assert model["from_format"] == "FR XML (REGTEXT)"
    assert [c["path"] for c in model["changes"] if c["substantive"]] == [["744.13", "a"]]


@pytest.mark.parametrize("fmt", ["text", "unified", "html"])
def test_every_output_format_of_a_file_diff_names_the_change(tmp_path, fmt):
    rule = (ROOT / "tests" / "data" / "fr" / "regtext_chain_rule.xml").read_bytes()
    old, new = tmp_path / "a.xml", tmp_path / "b.xml"
    old.write_bytes(rule)
    new.write_bytes(rule.replace(b"within 10 days", b"within 30 days"))
    result = CliRunner().invoke(main, ["diff", str(old), str(new), "--format", fmt, "--no-color"])
    assert result.exit_code == 0, result.output
    assert "744.13" in result.output and "30" in result.output


def test_a_file_diff_never_opens_a_store_even_one_named_in_the_config(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = tmp_path / "config.toml"
    config.write_text('[store]\npath = "store/regwatch.db"\n')
    (tmp_path / "a.xml").write_bytes(ECFR)
    (tmp_path / "b.xml").write_bytes(ANNUAL)
    result = CliRunner().invoke(main, ["diff", "a.xml", "b.xml"])
    assert result.exit_code == 0, result.output
    assert "a.xml (eCFR XML) -> b.xml (annual CFR XML): 0 changes (0 substantive)" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.xml", "b.xml", "config.toml"]


@pytest.mark.parametrize(
    ("args", "status", "says"),
    [
        (["a.xml", "missing.xml"], 2, "missing.xml is not a file (give two files)"),
        (["a.xml", "a.xml", "--to", "2026-01-01"], 2, "--from, --to and --rule apply to a"),
        (["a.xml", "page.html"], 1, "page.html: got an HTML page where XML was expected"),
        (["a.xml", "feed.xml"], 1, "root element <feed> is not a format regwatch diffs"),
    ],
)
def test_a_bad_file_diff_is_one_line(tmp_path, monkeypatch, args, status, says):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.xml").write_bytes(ECFR)
    (tmp_path / "page.html").write_text("<!DOCTYPE html><html></html>")
    (tmp_path / "feed.xml").write_text("<feed/>")
    result = CliRunner().invoke(main, ["diff", *args])
    assert result.exit_code == status
    assert result.output.startswith("regwatch: ") and says in result.output
    assert result.output.count("\n") == 1


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (b"<DIV5 N='1' TYPE='PART'/>", FileFormat.ECFR),
        (b"<DLPSTEXTCLASS/>", FileFormat.BULK_ECFR),
        (b"<CFRGRANULE/>", FileFormat.ANNUAL_CFR),
        (b"<FEDREG/>", FileFormat.FR_REGTEXT),
        (b"<RULE/>", FileFormat.FR_REGTEXT),
        (b'  {"label": ["447"], "children": []}', FileFormat.EREGS),
    ],
)
def test_a_files_format_is_told_by_its_root_element(head, kind):
    assert file_format(head, "f") == kind
