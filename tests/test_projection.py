"""Publication-day projection by instruction (issue 12, Deliver 3): the operations read from a
rule's amendatory instructions applied to the prior text at their heading-qualified targets.

Small cases in real REGTEXT markup are in tests/data/amend/projection_cases.json; the real
rule 2014-06778 and the two real daily issues are read from ../shared/data."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest
from eregs_oracle import NEW, OLD, as_ecfr, expand_ranges

from crawler.amend import Projection, project
from crawler.amend.locate import NotApplied, locate
from crawler.demo.replay import Corpus
from crawler.parse.amdpar import parse_instructions
from crawler.parse.cfr_units import units
from crawler.parse.ecfr_xml import parse_ecfr_xml
from crawler.parse.fr_xml import parse_document_xml, parse_fr_xml
from crawler.parse.text import fold
from crawler.records import Node

CASES = json.loads((Path(__file__).parent / "data" / "amend" / "projection_cases.json").read_text())
RULE = "2014-06778_ATF_27CFR447_original.xml"
ISSUES = ("FR-2016-04-15_full_issue.xml", "FR-2024-02-12_full_issue.xml")
Path_ = tuple[str, ...]


def rule_xml(regtext: str) -> bytes:
    return (
        '<RULE><PREAMB><AGENCY TYPE="S">DEPARTMENT OF JUSTICE</AGENCY><CFR>27 CFR Part 447</CFR>'
        "<SUBJECT>Test</SUBJECT><ACT><P>Final rule.</P></ACT></PREAMB>"
        f"<SUPLINF>{regtext}</SUPLINF><FRDOC>[FR Doc. 2014-00001]</FRDOC></RULE>"
    ).encode()


def part_units(div8: str) -> dict[str, Node]:
    xml = f'<DIV5 N="447" TYPE="PART"><HEAD>PART 447—IMPORTATION</HEAD>{div8}</DIV5>'
    return {key: node for key, _, node in units(27, "447", parse_ecfr_xml(xml.encode()))}


def texts(node: Node | None, path: Path_ = ()) -> dict[Path_, str]:
    """Every node below ``node`` by its label path -> its text, whitespace and typography
    folded away (what the diff engine treats as noise)."""
    out: dict[Path_, str] = {}
    for child in node.children if node is not None else ():
        here = (*path, child.label)
        out[here] = re.sub(r"\s+", "", fold(child.text))
        out.update(texts(child, here))
    return out


def changed(old: Node | None, new: Node | None) -> dict[Path_, str | None]:
    before, after = texts(old), texts(new)
    return {
        p: after.get(p) for p in sorted(set(before) | set(after)) if before.get(p) != after.get(p)
    }


@pytest.mark.parametrize("case", CASES["cases"], ids=[c["name"] for c in CASES["cases"]])
def test_each_operation_changes_exactly_what_it_names(case: dict) -> None:
    prior = part_units(case["prior"])
    [projection] = project(parse_document_xml(rule_xml(case["regtext"])), prior.get)
    expected = {
        tuple(k.split("/")): None if v is None else re.sub(r"\s+", "", fold(v))
        for k, v in case["changed"].items()
    }
    if projection.new is not None:
        assert changed(projection.old, projection.new) == expected
        assert not [n for n in _nodes(projection.new) if n.kind == "stars"]  # never projected
    else:
        assert expected == {}
    for path, text in case.get("exact", {}).items():
        assert projection.new is not None
        assert projection.new.find(tuple(path.split("/"))).text == text  # type: ignore[union-attr]
    assert projection.op == case["op"]
    assert len(projection.flags) == len(case["flags"])
    for flag, wanted in zip(projection.flags, case["flags"], strict=True):
        assert wanted in flag
    if projection.op == "flagged":  # the rule's text, shown beside the prior text
        sections = parse_document_xml(rule_xml(case["regtext"])).regtexts[0].sections
        assert projection.new is None and projection.old == prior[projection.key]
        assert projection.given == (sections[0].paragraphs if sections else ())


def _nodes(node: Node):
    for child in node.children:
        yield child
        yield from _nodes(child)


# --- rule 2014-06778 onto eRegs' v2014-02580 --------------------------------------------------


def _named(projection: Projection, shared: Path) -> list[Path_]:
    """The paths in the projected § 447.21 that the rule's operations name."""
    doc = parse_document_xml((shared / "fr_xml" / RULE).read_bytes())
    paths: list[Path_] = []
    for regtext in doc.regtexts:
        instructions = parse_instructions([a.text for a in regtext.amendments], "27", "447")
        for op in (op for i in instructions for op in i.operations):
            try:
                paths.append(locate(projection.new, op.target, "projected"))  # type: ignore[arg-type]
            except NotApplied:
                paths.append(locate(projection.old, op.target, "prior"))  # type: ignore[arg-type]
    return paths


def test_rule_2014_06778_projected_onto_eregs_prior_equals_eregs_new_text(
    shared_data: Path,
) -> None:
    shared = shared_data.parent
    old = {k: n for k, _, n in units(27, "447", parse_ecfr_xml(as_ecfr(shared, OLD, "2014-02-11")))}
    new = {k: n for k, _, n in units(27, "447", parse_ecfr_xml(as_ecfr(shared, NEW, "2014-04-04")))}
    doc = parse_document_xml((shared_data / "fr_xml" / RULE).read_bytes())
    [projection] = [p for p in project(doc, old.get) if p.key == "cfr:27:447.21"]
    assert projection.op == "revised" and projection.flags == ()  # all 24 instructions applied

    ours, theirs = (
        texts(projection.new),
        texts(expand_ranges(new["cfr:27:447.21"], old["cfr:27:447.21"])),
    )
    raw = texts(new["cfr:27:447.21"])
    nodes = set(ours) | set(theirs)
    equal = [p for p in nodes if ours.get(p) == theirs.get(p)]
    raw_equal = [p for p in set(ours) | set(raw) if ours.get(p) == raw.get(p)]
    share = len(equal) / len(nodes)
    print(
        f"\n§ 447.21 projected vs eRegs v2014-06778: {len(equal)}/{len(nodes)} nodes equal "
        f"({share:.1%}); without reading eRegs' (c)-(d) ranges as two paragraphs: "
        f"{len(raw_equal)}/{len(set(ours) | set(raw))}; flags: {len(projection.flags)}"
    )
    assert share >= 0.95
    differences = [p for p in nodes if ours.get(p) != theirs.get(p)]
    flagged = " ".join(projection.flags)
    assert all(" ".join(p) in flagged for p in differences), differences

    named = _named(projection, shared_data)
    unnamed = [
        p
        for p in changed(projection.old, projection.new)
        if not any(p[: len(n)] == n for n in named)
    ]
    assert unnamed == []
    assert len(changed(projection.old, projection.new)) == 41


def test_the_rule_s_category_vi_a_never_lands_on_category_i(shared_data: Path) -> None:
    shared = shared_data.parent
    old = {k: n for k, _, n in units(27, "447", parse_ecfr_xml(as_ecfr(shared, OLD, "2014-02-11")))}
    doc = parse_document_xml((shared_data / "fr_xml" / RULE).read_bytes())
    [projection] = project(doc, old.get)
    assert projection.new is not None and projection.old is not None
    assert projection.new.find(("Category I", "a")) == projection.old.find(("Category I", "a"))
    assert projection.new.find(("Category VI", "a")).text.startswith("(a) Vessels of War")  # type: ignore[union-attr]
    assert projection.new.children[0] == projection.old.children[0]  # the introduction stays
    note = projection.new.find(("Category VI", "e", "Note"))
    assert note is not None and note.text.startswith("The term “vessels of war” includes, but")
    assert len(note.children) == 5  # "revise the introductory text" keeps the list under it


# --- every REGTEXT of the two real daily issues -------------------------------------------------


def test_every_regtext_of_two_daily_issues_projects_without_an_exception(
    shared_data: Path,
) -> None:
    ops: Counter[str] = Counter()
    flags = 0
    for name in ISSUES:
        for doc in parse_fr_xml((shared_data / "fr_xml" / name).read_bytes()):
            for projection in project(doc, lambda key: None):
                ops[projection.op] += 1
                flags += len(projection.flags)
                assert projection.op != "revised"  # no prior text: nothing is revised
                if projection.op == "flagged":
                    assert projection.new is None and projection.flags
    print(f"\ndaily issues, no prior text: {sum(ops.values())} units {dict(ops)}, {flags} flags")
    assert ops["flagged"] > 0 and ops["added"] > 0


# --- the elisions of a real REGTEXT: § 648.14 in the daily issue of 2024-02-12 ---------------


def _paragraphs(*texts: str) -> tuple[Node, ...]:
    """Paragraphs nested by the depth each text is written at (two spaces a level)."""
    root: list = [("", [])]
    for line in texts:
        depth = (len(line) - len(line.lstrip())) // 2 + 1
        text = line.strip()
        label = re.match(r"^\(\s*(\w+)\s*\)", text).group(1)  # type: ignore[union-attr]
        del root[depth:]
        root[-1][1].append((label, text, kids := []))
        root.append((label, kids))

    def build(items: list) -> tuple[Node, ...]:
        return tuple(Node(label, "paragraph", "", text, build(kids)) for label, text, kids in items)

    return build(root[0][1])


def test_648_14_projects_at_the_paths_its_stars_restate(shared_data: Path) -> None:
    """The rule gives "(i) * * *", "(1) * * *", "(vi) * * *", "(B) * * *", then after STARS
    "(i) * * *", "(2) * * *": each revision lands at its full path, the rest stays."""
    docs = parse_fr_xml((shared_data / "fr_xml" / ISSUES[1]).read_bytes())
    [doc] = [d for d in docs if any(s.number == "648.14" for r in d.regtexts for s in r.sections)]
    prior = Node(
        "648.14",
        "section",
        "§ 648.14 Prohibitions.",
        children=_paragraphs(
            "(i) Scallops.",
            "  (1) General.",
            "    (vi) Access areas.",
            "      (A) Old A.",
            "      (B) Old B.",
            "        (1) Old B one.",
            "        (2) Old B two.",
            "        (3) Old B three.",
            "  (2) Two.",
            "    (vi) Six.",
            "      (A) Old 2 vi A.",
            "      (B) Old 2 vi B.",
            "  (3) Three.",
            "    (v) Five.",
            "      (E) Old E.",
            "      (F) Old F.",
        ),
    )
    [projection] = [
        p
        for p in project(doc, lambda key: prior if key == "cfr:50:648.14" else None)
        if p.key == "cfr:50:648.14"
    ]
    assert projection.op == "revised" and projection.flags == ()
    assert projection.new is not None
    after = changed(prior, projection.new)
    assert sorted(after) == [
        ("i", "1", "vi", "B", "1"),
        ("i", "1", "vi", "B", "2"),
        ("i", "1", "vi", "C"),
        ("i", "1", "vi", "C", "1"),
        ("i", "2", "vi", "B"),
        ("i", "3", "v", "E"),
    ]
    assert all(after.values())  # nothing removed: (B)(3), (2)(vi)(A), (3)(v)(F) kept
    assert [c.label for c in projection.new.find(("i", "1", "vi")).children] == ["A", "B", "C"]  # type: ignore[union-attr]
    assert not [n for n in _nodes(projection.new) if n.kind == "stars"]


def test_an_entity_list_rule_gives_its_rows_field_by_field() -> None:
    corpus = Corpus.demo()
    part = parse_ecfr_xml(corpus.ecfr_full[("2026-10-01", 15, "744")])
    prior = {key: node for key, _, node in units(15, "744", part)}
    doc = parse_document_xml(corpus.xml["2026-21001"])
    [supplement] = project(doc, prior.get, "91 FR 70101")
    rows = [g for g in supplement.given if g.startswith("Entity: ")]
    assert rows and not [g for g in supplement.given if " | " in g]
    assert rows[0].startswith("Entity: Hanzhou Quantum Instruments Co., Ltd.")
    assert "; License requirement: For all items subject to the EAR." in rows[0]
    assert "* * * * * *" in supplement.given  # a row of stars stays a row of stars
