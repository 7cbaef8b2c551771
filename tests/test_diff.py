"""The diff engine: table-driven cases, a real oracle (eRegs), renderers, properties."""

from __future__ import annotations

import json
import os
import string
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crawler.diff import apply_diff, diff_documents
from crawler.diff.views import html_view, inline, text_view, unified_view
from crawler.diff.words import word_diff
from crawler.parse.eregs import eregs_key, parse_eregs, subtree_keys
from crawler.records import Node

CASES = json.loads((Path(__file__).parent / "data" / "diff_cases.json").read_text())


def tree(obj: dict) -> Node:
    return Node(
        label=obj["label"],
        kind=obj.get("kind", "paragraph"),
        title=obj.get("title", ""),
        text=obj.get("text", ""),
        children=tuple(tree(c) for c in obj.get("children", ())),
        fields=tuple(tuple(f) for f in obj.get("fields", ())),
    )


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_cases(case):
    old, new = tree(case["old"]), tree(case["new"])
    diff = diff_documents(old, new)
    got = [
        {
            "op": str(c.op),
            "path": list(c.path),
            "substantive": c.substantive,
            **({"old_path": list(c.old_path)} if c.old_path else {}),
        }
        for c in diff.changes
    ]
    want = [{k: v for k, v in e.items() if k not in ("words", "fields")} for e in case["expected"]]
    assert sorted(got, key=str) == sorted(want, key=str)
    for expected in case["expected"]:
        change = next(c for c in diff.changes if list(c.path) == expected["path"])
        if "words" in expected:
            assert inline(change.fields[0]) == expected["words"]
        if "fields" in expected:
            assert [f.name for f in change.fields] == expected["fields"]
    assert apply_diff(old, diff) == new


def test_the_eregs_oracle_is_matched_node_for_node(shared_data):
    folder = shared_data / "eregs_atf_447"
    old = parse_eregs((folder / "regulation_447_v2014-02580.json").read_bytes())
    new = parse_eregs((folder / "regulation_447_v2014-06778.json").read_bytes())
    oracle = json.loads((folder / "diff_447_2014-02580_to_2014-06778.json").read_bytes())
    diff = diff_documents(old, new)
    ours: dict[str, str] = {}
    for change in diff.changes:
        if change.op == "removed":
            keys = subtree_keys(old, change.path)
        elif change.op == "added":
            keys = subtree_keys(new, change.path)
        else:
            keys = [eregs_key(new, change.path)]
        for key in keys:
            ours[key] = str(change.op)
    assert set(ours) == set(oracle)  # every node eRegs found changed, and nothing else
    for key, entry in oracle.items():
        expected = {"added": "added", "deleted": "removed", "modified": "changed"}[entry["op"]]
        assert ours[key] == expected, key
    assert apply_diff(old, diff) == new


def test_word_diff_is_exact_on_large_texts():
    words = [f"w{i}" for i in range(60_000)]
    old = " ".join(words)
    edited = words[:]
    for i in range(0, 60_000, 6_000):
        edited[i] = "CHANGED"
    ops = word_diff(old, " ".join(edited))
    assert sum(1 for o in ops if o.op == "insert") == 10  # never one whole-text replace
    assert "".join(o.text for o in ops if o.op != "insert") == old


EVIL = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "javascript:alert(1)",
    "&lt;script&gt;",
    "</del><script>x</script>",
]


def test_renderers_escape_content():
    old = Node("s", "section", EVIL[0], EVIL[1], (Node("a", text=EVIL[3]),))
    new = Node("s", "section", EVIL[4], EVIL[2], (Node("b", text=EVIL[0]),))
    html = html_view(diff_documents(old, new), EVIL[0], EVIL[1], EVIL[2])
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;" in html


# --- properties ----------------------------------------------------------------------------

word = st.sampled_from(
    [
        "export",
        "license",
        "item",
        "entity",
        "“quoted”",
        "—",
        "(a)",
        "EAR",
        "<b>",
        "&amp;",
        "China",
        "Iran",
        "  ",
        "\n",
        "744.11",
    ]
)
text = st.lists(word, max_size=12).map(" ".join)
label = st.text(string.ascii_lowercase + string.digits, min_size=1, max_size=3)


# examples per property in a test run (the suite's time: issue 13); the properties are also
# held on real pairs below (the eRegs oracle, the eCFR parts); more with REGWATCH_DIFF_EXAMPLES
EXAMPLES = int(os.environ.get("REGWATCH_DIFF_EXAMPLES", "75"))


def trees(depth: int = 0) -> st.SearchStrategy[Node]:
    kids = (
        st.lists(
            st.tuples(label, st.deferred(lambda: trees(depth + 1))),
            max_size=4,
            unique_by=lambda pair: pair[0],
        )
        if depth < 3
        else st.just([])
    )

    def build(title: str, body: str, children: list[tuple[str, Node]]) -> Node:
        return Node(
            "root",
            "section",
            title,
            body,
            tuple(Node(lbl, c.kind, c.title, c.text, c.children) for lbl, c in children),
        )

    return st.builds(build, text, text, kids)


@st.composite
def edited(draw) -> tuple[Node, Node]:
    """A document and a version of it with a few paragraphs rewritten, dropped or added."""
    old = draw(trees())

    def edit(node: Node) -> Node:
        children = []
        for child in node.children:
            action = draw(st.sampled_from(["keep", "keep", "keep", "text", "drop", "relabel"]))
            if action == "drop":
                continue
            if action == "text":
                child = Node(child.label, child.kind, child.title, draw(text), child.children)
            if action == "relabel" and child.label + "z" not in {c.label for c in node.children}:
                child = Node(child.label + "z", child.kind, child.title, child.text, child.children)
            children.append(edit(child))
        if draw(st.booleans()):
            children.append(Node("new" + str(len(children)), "paragraph", "", draw(text)))
        labels = [c.label for c in children]
        children = [c for i, c in enumerate(children) if c.label not in labels[:i]]
        return Node(node.label, node.kind, node.title, node.text, tuple(children))

    return old, edit(old)


@settings(max_examples=EXAMPLES, deadline=None)
@given(trees())
def test_a_document_against_itself_is_no_change(doc):
    assert diff_documents(doc, doc).changes == ()


@settings(max_examples=EXAMPLES, deadline=None)
@given(trees(), trees())
def test_applying_the_diff_gives_the_new_version(old, new):
    assert apply_diff(old, diff_documents(old, new)) == new


@settings(max_examples=EXAMPLES, deadline=None)
@given(edited())
def test_applying_the_diff_of_an_edit_gives_the_edited_version(pair):
    old, new = pair
    assert apply_diff(old, diff_documents(old, new)) == new


@settings(max_examples=EXAMPLES, deadline=None)
@given(trees(), trees())
def test_rendering_never_lets_markup_through(old, new):
    marked = Node(
        new.label, new.kind, new.title + " <x-evil>", new.text + " <x-evil a=1>", new.children
    )
    diff = diff_documents(old, marked)
    html = html_view(diff, "<x-evil>", "<x-evil>", "<x-evil>")
    assert "<x-evil" not in html
    for view in (text_view(diff), unified_view(diff), json.dumps(diff.to_json())):
        assert isinstance(view, str)


def test_real_ecfr_pair_part_107(shared_data):
    from crawler.parse.ecfr_xml import parse_ecfr_xml

    folder = shared_data / "ecfr_api_xml_14cfr107"
    old = parse_ecfr_xml((folder / "part107_2020-01-01_EXCERPT.xml").read_bytes())
    new = parse_ecfr_xml((folder / "part107_2026-01-01_EXCERPT.xml").read_bytes())
    diff = diff_documents(old, new)
    by_path = {c.path: c for c in diff.changes}
    assert by_path[("Subpart A", "107.2")].op == "added"
    rewritten = by_path[("Subpart A", "107.7", "a")]
    assert rewritten.op == "changed" and rewritten.substantive
    [one_word] = by_path[("Subpart B", "107.19", "c")].fields
    assert [(o.op, o.text) for o in one_word.ops if o.op != "equal"] == [
        ("insert", "small unmanned ")
    ]
    heading = by_path[()]
    assert [f.name for f in heading.fields] == ["title"] and not heading.substantive
    assert apply_diff(old, diff) == new


def test_real_ecfr_pair_title_1_dash_cleanup_is_not_substantive(shared_data):
    from crawler.parse.ecfr_xml import parse_ecfr_xml

    folder = shared_data / "ecfr_xml"
    old = parse_ecfr_xml((folder / "ECFR-title1_current_2024-03.xml").read_bytes())
    new = parse_ecfr_xml((folder / "ECFR-title1_updated_ndash_2024-03.xml").read_bytes())
    diff = diff_documents(old, new)
    assert len(diff.changes) > 50  # the dashes did change ...
    assert diff.substantive == ()  # ... and none of it is a change in law


ECFR = (
    Path(__file__).resolve().parents[1]
    / "crawler"
    / "demo"
    / "replay"
    / "corpus"
    / "demo"
    / "ecfr"
    / "full"
)


def test_entity_list_rows_are_keyed_and_diffed_by_field():
    from crawler.parse.ecfr_xml import parse_ecfr_xml

    old = parse_ecfr_xml((ECFR / "2026-10-01" / "title-15" / "part-744.xml").read_bytes())
    new = parse_ecfr_xml((ECFR / "2026-10-09" / "title-15" / "part-744.xml").read_bytes())
    table = ("Supplement No. 4 to Part 744", "table")
    zaheer = dict(old.find((*table, "PAKISTAN|Zaheer & Sons")).fields)
    assert zaheer["Aliases"] == "Zaheer Sons"
    assert zaheer["Address"] == (
        "Suite 2, 3rd Floor, Nadir House, I.I. Chundrigar Road, Karachi, Pakistan."
    )
    alpha = dict(
        old.find((*table, "CHINA, PEOPLE'S REPUBLIC OF|Alpha Semiconductor Co., Ltd.")).fields
    )
    assert alpha["Aliases"] == "Alpha Semi; ASC"
    diff = diff_documents(old, new)
    rows = {
        (c.op, c.path[-1]): [f.name for f in c.fields]
        for c in diff.changes
        if c.path[:2] == table and len(c.path) == 3
    }
    assert rows == {
        ("added", "CHINA, PEOPLE'S REPUBLIC OF|Hanzhou Quantum Instruments Co., Ltd."): [],
        ("removed", "CHINA, PEOPLE'S REPUBLIC OF|Shenzhen Lumen Photonics Technology Co."): [],
        ("changed", "IRAN|Pars Aero Parts Trading"): [
            "field:Address",
            "field:Federal Register citation",
        ],
    }
    others = {c.path for c in diff.changes if c.path[:2] != table}
    assert others == {("744.11", "b", "2"), ("Supplement No. 4 to Part 744", "citation")}


def test_a_reordered_entity_list_is_no_substantive_change():
    from crawler.parse.ecfr_xml import parse_ecfr_xml

    old = parse_ecfr_xml((ECFR / "2026-10-01" / "title-15" / "part-744.xml").read_bytes())
    table_path = ("Supplement No. 4 to Part 744", "table")
    table = old.find(table_path)
    shuffled = Node(table.label, table.kind, table.title, table.text, table.children[::-1])
    supp = old.find(table_path[:1])
    new_supp = Node(
        supp.label,
        supp.kind,
        supp.title,
        supp.text,
        tuple(shuffled if c.label == "table" else c for c in supp.children),
    )
    new = Node(
        old.label,
        old.kind,
        old.title,
        old.text,
        tuple(new_supp if c.label == supp.label else c for c in old.children),
    )
    diff = diff_documents(old, new)
    assert [c.op for c in diff.changes] == ["reordered"]
    assert diff.substantive == ()


def test_the_commerce_control_list_is_split_by_eccn_and_diffed_by_entry():
    from crawler.parse.ecfr_xml import parse_ecfr_xml

    old_xml = (Path(__file__).parent / "data" / "ecfr" / "part-774_supp-1_excerpt.xml").read_bytes()
    old = parse_ecfr_xml(old_xml)
    ccl = old.child("Supplement No. 1 to Part 774")
    assert [c.label for c in ccl.children if c.kind == "eccn"] == ["3A001", "3A090", "4A906"]
    assert ccl.child("3A090").title.startswith("3A090 Integrated circuits")
    new = parse_ecfr_xml(
        old_xml.replace(b"34 or more physical qubits", b"40 or more physical qubits")
    )
    [change] = diff_documents(old, new).changes
    assert change.path[:2] == ("Supplement No. 1 to Part 774", "4A906")
    assert (
        inline(change.fields[0])
        == "a. Quantum computers having [-34-]{+40+} or more physical qubits."
    )


@pytest.mark.parametrize(
    "old, new, real",
    [
        ("(Phone 202–382–4661)", "(Phone 202-382-4661)", False),
        ("the “remote pilot”", 'the "remote pilot"', False),
        ("PART 107 - SMALL", "PART 107—SMALL", False),
        ("valid for one year", "valid for two years", True),
        ("§ 744.11(b)", "§ 744.11(c)", True),
        ("text [[Page 70102]] more", "text more", False),
    ],
)
def test_what_counts_as_substantive(old, new, real):
    from crawler.diff.normalize import substantive

    assert substantive(old, new, word_diff(old, new)) is real
