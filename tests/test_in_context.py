"""The whole unit with its changes in place (crawler.diff.in_context), on real pairs: read on
its new side it is the new version, read on its old side it holds the old one, and every
change a reader is shown is marked where it is."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from crawler.diff.cite import cited_diff
from crawler.diff.in_context import Block, Mark, blocks, runs
from crawler.parse.ecfr_xml import parse_ecfr_xml
from crawler.parse.eregs import parse_eregs
from crawler.records import Node


def _own(node: Node) -> Iterator[str]:
    if node.fields:
        yield from (value for _, value in node.fields if value)
    else:
        yield from (x for x in (node.title, node.text) if x)


def _texts(node: Node) -> Iterator[str]:
    yield from _own(node)
    for child in node.children:
        yield from _texts(child)


def _side(found: list[Block], old: bool) -> list[str]:
    out = []
    for block in found:
        for piece in block.pieces:
            text = piece.old if old else piece.new
            if text:
                out.append(text)
    return out


def _pairs(shared: Path) -> list[tuple[str, str, Node, Node]]:
    faa = shared / "ecfr_api_xml_14cfr107"
    atf = shared / "eregs_atf_447"
    title1 = shared / "ecfr_xml"
    return [
        (
            "14 CFR 107",
            "cfr:14:107",
            parse_ecfr_xml((faa / "part107_2020-01-01_EXCERPT.xml").read_bytes()),
            parse_ecfr_xml((faa / "part107_2026-01-01_EXCERPT.xml").read_bytes()),
        ),
        (
            "27 CFR 447 (eRegs)",
            "cfr:27:447",
            parse_eregs((atf / "regulation_447_v2014-02580.json").read_bytes()),
            parse_eregs((atf / "regulation_447_v2014-06778.json").read_bytes()),
        ),
        (
            "title 1 dashes",
            "cfr:1:1",
            parse_ecfr_xml((title1 / "ECFR-title1_current_2024-03.xml").read_bytes()),
            parse_ecfr_xml((title1 / "ECFR-title1_updated_ndash_2024-03.xml").read_bytes()),
        ),
    ]


@pytest.mark.parametrize("which", [0, 1, 2], ids=["107", "447", "title1"])
def test_both_versions_read_whole_and_every_change_is_marked(shared_data, which):
    _, unit, old, new = _pairs(shared_data)[which]
    diff = cited_diff(unit, old, new)
    found = blocks(unit, old, new, diff)
    # the new side, in order, is the new version; the old side holds every old text
    assert _side(found, old=False) == list(_texts(new))
    assert Counter(_side(found, old=True)) == Counter(_texts(old))
    marked = {b.citation for b in found if b.mark != Mark.SAME}
    for change in diff.listed:
        assert change.citation in marked, change.citation
    if which == 2:  # the dash cleanup: all of it marked, none of it substantive
        assert marked and not any(b.substantive for b in found)
    folded = [r for r in runs(found) if r.folded]
    assert all(not r.changed for r in folded)
    assert sum(len(r.blocks) for r in runs(found)) == len(found)


def test_a_removed_paragraph_stands_where_it_stood():
    old = Node(
        "1.1",
        "section",
        children=(
            Node("a", text="(a) First."),
            Node("b", text="(b) Second."),
            Node("c", text="(c) Third."),
        ),
    )
    new = Node(
        "1.1",
        "section",
        children=(
            Node("a", text="(a) First."),
            Node("c", text="(c) Third, amended."),
        ),
    )
    found = blocks("cfr:99:1.1", old, new, cited_diff("cfr:99:1.1", old, new))
    assert [(b.citation, b.mark) for b in found] == [
        ("§ 1.1", Mark.SAME),
        ("§ 1.1(a)", Mark.SAME),
        ("§ 1.1(b)", Mark.REMOVED),
        ("§ 1.1(c)", Mark.CHANGED),
    ]
