"""Amendatory instructions read into operations on fully qualified targets (issue 12, Deliver 2).

Expected tables in tests/data/amdpar/ were written by reading the real instructions; the real
documents are read from ../shared/data (the ``shared_data`` fixture)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from lxml import etree

from crawler.parse.amdpar import parse_amendment, parse_instructions
from crawler.parse.amdpar_labels import complete, expand
from crawler.parse.amdpar_ops import Instruction, OpKind

DATA = Path(__file__).parent / "data" / "amdpar"
RULE = json.loads((DATA / "rule_2014-06778.json").read_text())
SAMPLE = json.loads((DATA / "daily_issues_sample40.json").read_text())
VARIANTS = json.loads((DATA / "phrasing_variants.json").read_text())["cases"]
ISSUES = ("FR-2016-04-15_full_issue.xml", "FR-2024-02-12_full_issue.xml")


def _text(element: etree._Element) -> str:
    return "".join(element.itertext())


def read_document(path: Path) -> list[Instruction]:
    """Every AMDPAR of an FR XML file read in its REGTEXT (or, for a proposed rule's loose
    AMDPARs, in its document with the title and part of its CFR line), in document order."""
    tree = etree.parse(str(path))
    read: dict[etree._Element, Instruction] = {}
    groups = [(r.get("TITLE"), r.get("PART"), list(r.iter("AMDPAR"))) for r in tree.iter("REGTEXT")]
    for doc in tree.iter("RULE", "PRORULE"):
        loose = [
            a for a in doc.iter("AMDPAR") if not any(p.tag == "REGTEXT" for p in a.iterancestors())
        ]
        if loose:
            cfr = _text(doc.find(".//CFR")).split()
            groups.append((cfr[0], cfr[-1], loose))
    for title, part, elements in groups:
        instructions = parse_instructions([_text(e) for e in elements], title, part)
        read.update(zip(elements, instructions, strict=True))
    return [read[a] for a in tree.iter("AMDPAR")]


def described(instruction: Instruction) -> list[str]:
    return [op.describe() for op in instruction.operations]


def test_rule_2014_06778_all_24_instructions_give_the_expected_operations(
    shared_data: Path,
) -> None:
    got = read_document(shared_data / "fr_xml" / "2014-06778_ATF_27CFR447_original.xml")
    assert len(got) == len(RULE["cases"]) == 24
    wrong = [
        (case["text"], described(ins), ins.flag)
        for case, ins in zip(RULE["cases"], got, strict=True)
        if described(ins) != case["ops"] or ins.flag
    ]
    assert wrong == []


def test_no_instruction_of_2014_06778_vanishes_without_a_target_or_a_flag(
    shared_data: Path,
) -> None:
    got = read_document(shared_data / "fr_xml" / "2014-06778_ATF_27CFR447_original.xml")
    acting = [i for i in got if any(w in i.text.lower() for w in ("revise", "remove", "add "))]
    assert all(i.operations or i.flag for i in acting)


@pytest.fixture
def daily(shared_data: Path) -> list[Instruction]:
    return [i for name in ISSUES for i in read_document(shared_data / "fr_xml" / name)]


def test_daily_issues_every_one_of_188_parsed_or_flagged_at_most_5_percent_flagged(
    daily: list[Instruction],
) -> None:
    assert len(daily) == 188
    context_only = [i for i in daily if not i.operations and not i.flag]
    assert all(i.text.rstrip().endswith((":", "—", "follows:")) for i in context_only)
    targets = [op.target for i in daily for op in i.operations]
    assert len(targets) > 200 and all(t.title and t.part and t.unit_id for t in targets)
    flagged = [i for i in daily if i.flag]
    assert len(flagged) <= 0.05 * len(daily), [i.text for i in flagged]


def test_daily_issues_sample_of_40_is_at_least_95_percent_right(daily: list[Instruction]) -> None:
    drawn = sorted(random.Random(12).sample(range(len(daily)), 40))
    assert drawn == [case["index"] for case in SAMPLE["cases"]]
    right = [
        case["text"] == " ".join(daily[case["index"]].text.split())
        and described(daily[case["index"]]) == case["ops"]
        and bool(daily[case["index"]].flag) == case["flagged"]
        for case in SAMPLE["cases"]
    ]
    assert sum(right) >= 38, [
        c["text"] for c, ok in zip(SAMPLE["cases"], right, strict=True) if not ok
    ]


def test_flagged_instructions_keep_their_text_and_reason_and_apply_nothing(
    daily: list[Instruction],
) -> None:
    for instruction in (i for i in daily if i.flag):
        assert instruction.text.strip() and instruction.flag
        assert instruction.operations == ()


@pytest.mark.parametrize("case", VARIANTS, ids=[c["name"] for c in VARIANTS])
def test_phrasing_variant(case: dict) -> None:
    texts = [*case["given"], case["text"]]
    instruction = parse_instructions(texts, case["title"], case["part"])[-1]
    if "flag" in case:
        assert instruction.flag is not None and case["flag"] in instruction.flag
        assert instruction.operations == ()
    else:
        assert (described(instruction), instruction.flag) == (case["ops"], None)


def test_quoted_citations_are_never_targets() -> None:
    text = (
        "9. In § 1006.230, in paragraph (f), remove the citation “§§ 1006.370 and 1006.375”"
        " and add in its place the citation “§ 1006.377”."
    )
    (instruction,) = parse_instructions([text], "24", "1006")
    assert {op.target.unit_id for op in instruction.operations} == {"1006.230"}
    assert instruction.operations[0].kind is OpKind.REPLACE_PHRASE


def test_heading_qualified_targets_carry_the_heading_and_path() -> None:
    texts = ["2. Amend § 447.21 as follows:", "d. In Category VI:", "(1) Revise paragraph (a);"]
    target = parse_instructions(texts, "27", "447")[-1].operations[0].target
    assert (target.title, target.part, target.unit_id, target.heading, target.paragraph) == (
        "27",
        "447",
        "447.21",
        "Category VI",
        ("a",),
    )


@pytest.mark.parametrize(
    ("group", "previous", "full"),
    [
        (("2",), ("d", "1"), ("d", "2")),
        (("v",), ("a", "6", "iii"), ("a", "6", "v")),
        (("c",), ("b", "1"), ("c",)),
        (("i", "2", "vi", "B"), ("i", "1", "vi", "C", "1"), ("i", "2", "vi", "B")),
        (("C", "1"), ("i", "1", "vi", "C"), ("i", "1", "vi", "C", "1")),
        (("4", "i"), ("k", "3"), ("k", "4", "i")),
    ],
)
def test_partial_labels_complete_from_the_group_before(group, previous, full) -> None:
    assert complete(group, previous) == full


def test_ranges_expand_at_the_last_level_and_refuse_non_siblings() -> None:
    assert expand(("a", "6", "vi"), ("a", "6", "xi")) == [
        ("a", "6", n) for n in ("vi", "vii", "viii", "ix", "x", "xi")
    ]
    assert expand(("f",), ("h",)) == [("f",), ("g",), ("h",)]
    assert expand(("a", "1"), ("b",)) is None


def test_old_amendment_reading_still_serves_the_projection() -> None:
    amendment = parse_amendment(
        "4. Section 740.27 is amended by revising paragraphs (b)(1) to read as follows:"
    )
    assert amendment.targets == ("740.27", "740.27(b)(1)")
