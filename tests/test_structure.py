"""Paragraphs as the CFR prints them (issue 12, Deliver 1), checked on real text: the EAR
(15 CFR 740 and 742, eCFR API XML), 27 CFR 447 (eRegs' trees as eCFR XML, and the 2003
annual edition), 37 CFR 1 (annual 2015 and 2016); plus small cases in real markup."""

from __future__ import annotations

import functools
import re
from collections import Counter
from pathlib import Path

import pytest
from eregs_oracle import NEW, OLD, compare
from eregs_oracle import as_ecfr as eregs_as_ecfr
from lxml import etree

from crawler.parse.annual_cfr import as_ecfr
from crawler.parse.cfr_units import units
from crawler.parse.ecfr_xml import DIVS, paragraph_tree, parse_ecfr_xml
from crawler.parse.fr_xml import text_of
from crawler.parse.xml import parse_xml
from crawler.records import Node

EAR = "ecfr_title15/title-15-part-{}_2025.xml"

# (part, unit, path, what the node's text or title starts with): each at its true place.
REAL = [
    # inline markers after an italic heading and a dash, down three levels
    ("740", "740.15", ("a",), "(a) Aircraft on temporary sojourn—"),
    ("740", "740.15", ("a", "1"), "(1) Foreign registered aircraft. An operating civil"),
    ("740", "740.15", ("a", "1", "iii"), "(iii) It does not carry from the United States"),
    ("740", "740.15", ("a", "2"), "(2) U.S. registered aircraft."),
    ("740", "740.15", ("a", "2", "i"), "(i) A civil aircraft of U.S. registry operating"),
    ("740", "740.15", ("a", "2", "i", "D"), "(D) The aircraft does not carry from the United"),
    ("740", "740.15", ("a", "2", "ii", "E"), "(E) The aircraft will be operated while abroad"),
    # "(2) Aircraft. (i) Equipment ..." and "(b) Licensing policy. (1) ..."
    ("740", "740.15", ("b", "2"), "(2) Aircraft."),
    ("740", "740.15", ("b", "2", "i"), "(i) Equipment and spare parts, for permanent use"),
    ("740", "740.15", ("b", "2", "ii"), "(ii) This paragraph (b)(2)(ii) authorizes"),
    ("740", "740.15", ("c", "1"), "(1) Exports to vessels or planes of U.S., Australian"),
    ("742", "742.4", ("b", "1", "i"), "(i) Country Group D:1. The policy for national"),
    ("742", "742.6", ("a", "1"), "(1) RS Column 1 license requirements in general."),
    # "(9)(i) The item ..." and "(5)(i)": adjacent markers
    ("740", "740.2", ("a", "9"), "(9)"),
    ("740", "740.2", ("a", "9", "i"), "(i) The item is controlled under ECCN 3B001.a.4"),
    ("740", "740.2", ("a", "9", "ii", "B"), "(B) An integrated circuit"),
    ("742", "742.4", ("a", "5", "i"), "(i) Scope. A license is required for national"),
    # a marker the source prints twice, "(1) (1) Limited exclusion.", is one paragraph
    ("742", "742.4", ("a", "5", "ii", "B", "1"), "(1) (1) Limited exclusion."),
    # four levels inline, then italic markers (*1*) under (A)
    ("740", "740.12", ("a", "2"), "(2) Commodity, value and other limitations—"),
    ("740", "740.12", ("a", "2", "i"), "(i) Item limitations—"),
    ("740", "740.12", ("a", "2", "i", "A"), "(A) Prohibited items."),
    ("740", "740.12", ("a", "2", "i", "A", "1"), "(1) For Cuba no items listed"),
    ("740", "740.12", ("a", "2", "i", "A", "4"), "(4) Gold bullion, gold taels"),
    ("740", "740.12", ("a", "2", "i", "B"), "(B) Eligible items."),
    # notes: on the paragraph they name, with their heading as the label
    ("740", "740.15", ("a", "Note to paragraph (a)"), "Note to paragraph (a):"),
    ("740", "740.2", ("a", "9", "ii", "Note 1 to paragraph (a)(9)(ii)"), "Note 1 to paragraph"),
    ("740", "740.2", ("a", "Note to paragraph (a)"), "Note to paragraph (a):"),
    ("740", "740.9", ("b", "Note 2 to paragraph (b)"), "Note 2 to paragraph (b):"),
    ("740", "740.13", ("b", "2", "ii", "Note"), "Note:"),
    # footnotes stay footnotes, on the paragraph that cites them
    ("740", "740.15", ("c", "1", "Footnote 3"), "^3 Where a license is required"),
    ("740", "740.15", ("c", "2", "Footnote 4"), "^4 See part 772 of the EAR"),
    ("740", "740.12", ("a", "1", "Footnote 1"), "^1 Many foreign countries permit"),
    # "(i)" after "(h)" is the letter; under "(1)" it is roman
    ("740", "740.16", ("i",), "(i) [Reserved]"),
    ("740", "740.16", ("j", "1"), "(1) Reexports from countries that are not identified"),
    ("740", "740.14", ("h", "1", "i"), "(i) The items are with the U.S. person's baggage"),
    ("740", "740.2", ("a", "13", "v"), "(v) License Exception GOV"),
    # a quoted form (EXTRACT) is its own block, its (i)-(vii) the form's items
    ("740", "740.20", ("d", "2", "extract", "ii"), "(ii) Has been informed of the ECCN(s)"),
    # the real source's own duplicate "(2)" in 740.21(b) is kept, not merged or dropped
    ("740", "740.21", ("b", "2~2"), "(2) Items sold directly to individuals in Cuba"),
    # supplements: a top-level numbered list, and a note before it
    ("742", "Supplement No. 1 to Part 742", ("9", "ii"), "(ii) Equipment and materials"),
    ("742", "Supplement No. 2 to Part 742", ("a",), "(a) Terrorist-supporting countries."),
]


def _unit(tree: Node, part: str, label: str) -> Node:
    return next(node for _, _, node in units(15, part, tree) if node.label == label)


@functools.cache
def _ear(shared_data: Path) -> dict[str, Node]:
    return {p: parse_ecfr_xml((shared_data / EAR.format(p)).read_bytes()) for p in ("740", "742")}


@pytest.fixture
def ear(shared_data: Path) -> dict[str, Node]:
    return _ear(shared_data)


@pytest.mark.parametrize(
    ("part", "unit", "path", "starts"), REAL, ids=[f"{u}:{'/'.join(p)}" for _, u, p, _ in REAL]
)
def test_real_ear_paragraphs_are_at_their_true_paths(ear, part, unit, path, starts):
    node = _unit(ear[part], part, unit).find(path)
    assert node is not None, f"{unit} has no {'/'.join(path)}"
    assert (node.title if node.kind == "note" else node.text).startswith(starts)


# --- every paragraph of the real documents: nothing lost, doubled or left unsplit ------------

_UNSPLIT = re.compile(
    r"(?:^\(\w{1,7}\)|[.:;\u2014])\s*\(\s*(?:a|1|i|A)\s*\)\s*[(A-Z\u201c]"
)  # "(a) Scope—(1) Commodities." or "(a)(1)(i) Text" left in one paragraph


def _unsplit(text: str) -> bool:
    """An inline first child left in its parent's text; a marker the source prints twice
    ("(1) (1) Limited exclusion." in 742.4(a)(5)(ii)(B)) is one paragraph, not two."""
    found = _UNSPLIT.search(text)
    return found is not None and not re.match(r"(\(\w+\))\s*\1", text)


def _xml_text(div: etree._Element) -> str:
    parts = []
    for child in div:
        if child.tag in DIVS or child.tag == "HEAD":
            continue
        if child.tag in ("TABLE", "DIV") or child.find(".//TABLE") is not None:
            continue
        parts.append(text_of(child))
    return "".join("".join(parts).split())


def _tree_text(node: Node) -> str:
    parts = []
    for child in node.children:
        if child.kind in ("section", "appendix", "table"):
            continue
        if child.kind in ("heading", "note"):
            parts.append(child.title)
        parts.append(child.text)
        parts.append(_tree_text(child))
    return "".join("".join(parts).split())


def _documents(shared: Path) -> list[tuple[str, etree._Element, Node]]:
    out = []
    for part in ("740", "742"):
        data = (shared / "data" / EAR.format(part)).read_bytes()
        out.append((f"15 CFR {part}", parse_xml(data, part), _ear(shared / "data")[part]))
    for name, day in ((OLD, "2014-02-11"), (NEW, "2014-04-04")):
        data = eregs_as_ecfr(shared, name, day)
        out.append((f"27 CFR 447 {day}", parse_xml(data, name), parse_ecfr_xml(data)))
    for name in (
        "CFR-2003-title27-vol2-part447.xml",
        "CFR-2015-title37-vol1-part1.xml",
        "CFR-2016-title37-vol1-part1.xml",
    ):
        part = parse_xml((shared / "data" / "annual_cfr_xml" / name).read_bytes(), name).find(
            "PART"
        )
        assert part is not None
        etree.strip_elements(part, "PRTPAGE", with_tail=False)
        data = etree.tostring(as_ecfr(part))
        out.append((name, parse_xml(data, name), parse_ecfr_xml(data)))
    return out


def test_every_real_paragraph_is_in_the_tree_once_and_split(shared_data):
    checked = paragraphs = 0
    for name, xml, tree in _documents(shared_data.parent):
        divs = {(d.get("N") or "").replace("§", "").strip(): d for d in xml.iter(*DIVS)}
        for _, _, unit in units(0, "", tree):  # the nodes; their keys are not read
            div = divs.get(unit.label)
            if div is None:  # appendices are labelled by their heading, not N
                continue
            assert Counter(_tree_text(unit)) == Counter(_xml_text(div)), f"{name} {unit.label}"
            checked += 1
            for node in _walk(unit):
                paragraphs += 1
                assert not _unsplit(node.text), f"{name} {unit.label}: {node.text[:80]}"
    assert checked >= 27 + 27 + 27 + 358 + 358 + 40  # every section of each document
    assert paragraphs > 5_000


def _walk(node: Node):
    for child in node.children:
        if child.kind == "paragraph":
            yield child
        yield from _walk(child)


# --- 27 CFR 447 through the eCFR path against eRegs' own diff --------------------------------


def test_27_cfr_447_through_the_ecfr_path_matches_eregs_change_for_change(shared_data):
    result = compare(shared_data.parent)
    assert result.expected == 97
    assert result.missed == []  # all 97 text-bearing changes, with eRegs' operation
    assert [(c.op, c.path) for c in result.extra] == []  # and nothing else substantive


# --- small cases in real markup ---------------------------------------------------------------

SECTION = '<DIV8 N="1.1" TYPE="SECTION"><HEAD>§ 1.1 Test.</HEAD>{}</DIV8>'


def _paths(body: str) -> list[str]:
    tree = parse_ecfr_xml(SECTION.format(body).encode())
    out: list[str] = []

    def walk(node: Node, path: tuple[str, ...]) -> None:
        for child in node.children:
            out.append("/".join((*path, child.label)))
            walk(child, (*path, child.label))

    walk(tree, ())
    return out


CASES = [
    (  # "(i)" after "(h)": the letter when "(j)" follows
        "<P>(h) Eight.</P><P>(i) Nine.</P><P>(j) Ten.</P>",
        ["h", "i", "j"],
    ),
    (  # "(i)" under "(8)": roman when "(ii)" follows, then back to the letters
        "<P>(h) Parts:</P><P>(8) Kits:</P><P>(i) Steering;</P><P>(ii) Braking.</P>"
        "<P>(9) Computers.</P><P>(i) Other vehicles:</P><P>(1) Armored.</P>",
        ["h", "h/8", "h/8/i", "h/8/ii", "h/9", "i", "i/1"],
    ),
    (  # a heading owns its list; the second (a) is known by its heading
        "<P><B>Category I—Firearms</B></P><P>(a) Rifles.</P><P>(b) Pistols.</P>"
        "<P><B>Category VI—Vessels of War</B></P><P>(a) Warships.</P>",
        ["Category I", "Category I/a", "Category I/b", "Category VI", "Category VI/a"],
    ),
    (  # a note's own list restarts at (a) below the paragraph the note follows
        "<P>(e) Nuclear plants.</P><NOTE><P>Vessels of war include:</P></NOTE>"
        "<P>(a) Combatants:</P><P>(1) Warships.</P><P>(b) Auxiliaries.</P>",
        ["e", "e/Note", "e/Note/a", "e/Note/a/1", "e/Note/b"],
    ),
    (  # after the note's list, the outer list goes on
        "<P>(e) Five.</P><NOTE><P>The term includes:</P></NOTE>"
        "<P>(a) One.</P><P>(b) Two.</P><P>(f) Six.</P>",
        ["e", "e/Note", "e/Note/a", "e/Note/b", "f"],
    ),
    (  # three markers in a row, and a heading then two
        "<P>(a)(1)(i) Deep.</P><P>(ii) Two.</P><P>(2) B.</P>"
        "<P>(b) <I>Policy</I>—(A)(<I>1</I>) <I>Rule.</I> Text.</P>",
        ["a", "a/1", "a/1/i", "a/1/ii", "a/2", "b", "b/A", "b/A/1"],
    ),
    (  # a bold sentence inside a list is not a heading: the list carries on across it
        "<P>(a) One:</P><P>(1) x.</P><P><B>This paragraph does not apply to Cuba.</B></P>"
        "<P>(2) y.</P><P>(b) Two.</P><P><I>Example.</I></P><P>(c) Three.</P>",
        ["a", "a/1", "a/1/p1", "a/2", "b", "b/p1", "c"],
    ),
    (  # a note printed as a paragraph with a bold "Note:" is a note, with its own list
        '<P>(e) Five.</P><P><E T="04">Note:</E> The term includes:</P>'
        "<P>(a) One.</P><P>(b) Two.</P>",
        ["e", "e/Note", "e/Note/a", "e/Note/b"],
    ),
    (  # a captioned table is known by its caption, its rows by their first cells
        "<P><B>Country Group C [Reserved]</B></P>"
        '<DIV><TABLE><CAPTION><P class="title">Country Group D</P></CAPTION>'
        "<THEAD><TR><TH>Country</TH><TH>D:1</TH></TR></THEAD>"
        "<TBODY><TR><TD>Armenia</TD><TD>X</TD></TR><TR><TD>Belarus</TD><TD>X</TD></TR>"
        "</TBODY></TABLE></DIV>",
        [
            "Country Group C [Reserved]",
            "Country Group D",
            "Country Group D/Armenia",
            "Country Group D/Belarus",
        ],
    ),
    (  # a range is labelled by its first marker and the next letter follows its last
        "<P>(c) Three.</P><P>(d)-(e) [Reserved]</P><P>(f) Six.</P>",
        ["c", "d", "f"],
    ),
    (  # italic markers below (A); a note naming a paragraph goes to that paragraph
        "<P>(a) <I>Scope</I>—(1) <I>Items.</I> (i) <I>Rule.</I> Text.</P>"
        "<P>(A) First.</P><P>(<I>1</I>) Italic one.</P><P>(<I>2</I>) Italic two.</P>"
        "<P>(2) Two.</P><NOTE><HED>Note to paragraph (a)(1):</HED><P>A note.</P></NOTE>",
        [
            "a",
            "a/1",
            "a/1/i",
            "a/1/i/A",
            "a/1/i/A/1",
            "a/1/i/A/2",
            "a/1/Note to paragraph (a)(1)",
            "a/2",
        ],
    ),
    (  # flush text and a footnote stay with their paragraph; an enumeration in a
        # sentence is not split
        "<P>(a) The following apply: (1) one thing; and (2) another.</P>"
        "<FP>Flush text.</FP><FTNT><P><SU>2</SU> A footnote.</P></FTNT><P>(b) Two.</P>",
        ["a", "a/p1", "a/Footnote 2", "b"],
    ),
]


@pytest.mark.parametrize(("body", "want"), CASES)
def test_paragraph_structure_in_real_markup(body, want):
    assert _paths(body) == want


def test_a_rule_regtext_builds_the_same_heading_qualified_tree():
    texts = [
        "CATEGORY VI—VESSELS OF WAR AND SPECIAL NAVAL EQUIPMENT",
        "(a) Vessels of War, if they are armed.",
        "* * * * *",
        "(e) * * *",
        "Note: The term “vessels of war” includes, but is not limited to, the following:",
        "CATEGORY VII—TANKS AND MILITARY VEHICLES",
        "(h) Tank parts:",
        "(8) Kits to convert a vehicle:",
        "(i) Remote or autonomous steering;",
        "(ii) Acceleration and braking; and",
        "(9) Fire control computers.",
        "(i) Other ground vehicles having all of the following:",
        "(1) Armored.",
    ]
    tags = ("HD3", "P", "STARS", "P", "NOTE", "HD3", "P", "P", "P", "P", "P", "P", "P")
    tree = Node("447.21", "section", children=paragraph_tree(texts, tags))
    assert tree.find(("Category VI", "a")) is not None
    note = tree.find(("Category VI", "e", "Note"))
    assert note is not None and note.text.startswith("The term")
    assert tree.find(("Category VII", "h", "8", "ii")) is not None
    assert tree.find(("Category VII", "i", "1")) is not None


def test_a_definition_holds_the_list_printed_inline_after_its_term():
    body = (
        "<P>Article. Any of the defense articles.</P>"
        "<P>Defense services. (a) The furnishing of assistance.</P><P>(b) Technical data.</P>"
        "<P>Director. The Director.</P>"
    )
    head = '<DIV8 N="447.11" TYPE="SECTION"><HEAD>§ 447.11 Meaning of terms.</HEAD>'
    tree = parse_ecfr_xml(f"{head}{body}</DIV8>".encode())
    assert [c.label for c in tree.children] == ["Article", "Defense services", "Director"]
    services = tree.child("Defense services")
    assert services is not None and services.text == "Defense services."
    assert [c.label for c in services.children] == ["a", "b"]


def test_a_rule_restating_its_place_after_stars_lands_in_the_same_paragraph(shared_data):
    """§ 648.14 in the 2024-02-12 issue: "(i) * * *", "(1) * * *", "(vi) * * *", "(B) * * *",
    then after "* * * * *" "(i) * * *" again and "(2) * * *": (2) is (i)(2), not a new list."""
    from crawler.parse.fr_xml import parse_fr_xml

    data = (shared_data / "fr_xml" / "FR-2024-02-12_full_issue.xml").read_bytes()
    [section] = [
        s
        for d in parse_fr_xml(data)
        for r in d.regtexts
        for s in r.sections
        if s.number == "648.14"
    ]
    texts = list(section.paragraphs)
    tree = Node("648.14", "section", children=paragraph_tree(texts, section.tags))
    for path in (("i", "1", "vi", "B", "2"), ("i", "2", "vi", "B"), ("i", "3", "v", "E")):
        assert tree.find(path) is not None, path
    assert [c.label for c in tree.children] == ["i"]  # one (i), said three times
    kept = Node("648.14", "section", children=paragraph_tree(texts, section.tags, elisions=True))
    stars = [c.label for c in kept.children if c.kind == "stars"]
    assert stars and all(c.kind in ("stars", "paragraph") for c in kept.children)
