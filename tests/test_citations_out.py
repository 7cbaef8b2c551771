"""Citations people use, in every output: node paths of real trees -> "§ 744.11(b)(2)",
"§ 447.21 Category VI(a)", "Supp. No. 4 to Part 744, China: ..."; never an internal key.
FR pin cites of amendatory instructions; the eCFR labelled as the unofficial compilation."""

from __future__ import annotations

import dataclasses
import html
import json
import re
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path

import forkcrawl
import pytest
from conftest import SHARED, point_at, run_day
from eregs_oracle import OLD, as_ecfr

from crawler import config as config_module
from crawler.config import SubscriptionConfig
from crawler.deliver.email import compose
from crawler.demo.replay import Corpus, ReplayServer
from crawler.diff import diff_documents
from crawler.diff.cite import cite, cite_diff, cited_diff, country_name, pin_cite
from crawler.diff.views import text_view, unified_view
from crawler.digest.report import report_for
from crawler.jobs import crawl as crawl_module
from crawler.parse.cfr_units import units
from crawler.parse.ecfr_xml import parse_ecfr_xml
from crawler.parse.entity_list import entity_list
from crawler.parse.fr_xml import parse_fr_xml
from crawler.records import Amendment, Node, from_json
from storage import Store

DATA = Path(__file__).parent / "data"
INTERNAL = (
    re.compile(r"~\d"),  # a repeated label's suffix
    re.compile(r"(?<![\w.])p\d+(?![\w.])"),  # an unlabelled paragraph's key
    re.compile(r"table/"),
    re.compile(r"\|\s*(?:Hanzhou|Shenzhen|Pars)"),  # a row key or a pipe-joined row
    re.compile(r"table table"),
)


def internal_keys(text: str) -> list[str]:
    return [m.group(0) for pattern in INTERNAL for m in pattern.finditer(text)]


@cache
def _units(title: int, part: str, xml: bytes) -> dict[str, Node]:
    return {node.label: node for _, _, node in units(title, part, parse_ecfr_xml(xml))}


def part_740() -> dict[str, Node]:
    return _units(15, "740", (SHARED / "ecfr_title15" / "title-15-part-740_2025.xml").read_bytes())


def part_447() -> dict[str, Node]:
    return _units(27, "447", as_ecfr(SHARED.parent, OLD, "2014-02-11"))


# (unit key, path, which real unit) -> the citation people use
REAL = [
    ("cfr:15:740.15", ("a", "1", "i"), "740.15", "§ 740.15(a)(1)(i)"),
    ("cfr:15:740.15", ("b", "2"), "740.15", "§ 740.15(b)(2)"),
    ("cfr:15:740.15", ("a", "2", "ii", "E"), "740.15", "§ 740.15(a)(2)(ii)(E)"),
    (
        "cfr:15:740.15",
        ("a", "Note to paragraph (a)"),
        "740.15",
        "§ 740.15(a), Note to paragraph (a)",
    ),
    ("cfr:15:740.15", ("c", "1", "Footnote 3"), "740.15", "§ 740.15(c)(1), footnote 3"),
    ("cfr:15:740.15", ("p1",), "740.15", "§ 740.15 introductory text"),
    ("cfr:15:740.15", (), "740.15", "§ 740.15"),
    ("cfr:27:447.21", ("Category VI", "a"), "447.21", "§ 447.21 Category VI(a)"),
    ("cfr:27:447.21", ("Category I", "a"), "447.21", "§ 447.21 Category I(a)"),
    ("cfr:27:447.21", ("Category VI",), "447.21", "§ 447.21 Category VI"),
    ("cfr:27:447.21", ("Category I", "e", "Note"), "447.21", "§ 447.21 Category I(e), Note"),
    (
        "cfr:27:447.21",
        ("Category VI", "e", "Note", "a", "1", "i"),
        "447.21",
        "§ 447.21 Category VI(e), Note, paragraph (a)(1)(i)",
    ),
    (
        "cfr:27:447.21",
        ("The U.S. Munitions Import List",),
        "447.21",
        "§ 447.21, heading “The U.S. Munitions Import List”",
    ),
    ("cfr:27:447.21", ("p1",), "447.21", "§ 447.21 introductory text"),
    (
        "cfr:27:447.11",
        ("Defense services",),
        "447.11",
        "§ 447.11, definition of “Defense services”",
    ),
    (
        "cfr:27:447.11",
        ("Defense services", "b"),
        "447.11",
        "§ 447.11, definition of “Defense services”, paragraph (b)",
    ),
]


@pytest.mark.parametrize(("unit", "path", "which", "expected"), REAL)
def test_a_real_node_is_cited_as_people_cite_it(shared_data, unit, path, which, expected):
    root = (part_740() if which.startswith("740") else part_447())[which]
    assert root.find(path) is not None, path  # the path is real
    assert cite(unit, path, root) == expected


def test_a_whole_part_tree_cites_through_its_subparts_and_sections(shared_data):
    part = parse_ecfr_xml(as_ecfr(SHARED.parent, OLD, "2014-02-11"))
    assert cite(None, ("Subpart C", "447.21", "Category VI", "a"), part) == (
        "§ 447.21 Category VI(a)"
    )
    assert cite(None, ("Subpart C",), part) == "Part 447, Subpart C"
    assert cite(None, (), part) == "Part 447"


def _entity_table() -> Node:
    rows = [
        ("CHINA, PEOPLE'S REPUBLIC OF", "Hanzhou Quantum Instruments Co., Ltd., No. 88 Road."),
        ("", "Hanzhou Quantum Instruments Co., Ltd., No. 90 Road."),  # listed twice
        ("IRAN", "Pars Aero Parts Trading, No. 14, Azadi Street, Tehran, Iran."),
        ("KOREA, NORTH", "Korea Mining Development Trading Corp., No. 5 Street, Pyongyang."),
    ]
    generic = Node(
        "table",
        "table",
        children=tuple(
            Node(
                f"r{i}",
                "row",
                fields=tuple(
                    zip(
                        ("Country", "Entity", "License", "Policy", "FR"),
                        (country, entity, "All items", "Presumption of denial", "91 FR 70101"),
                        strict=True,
                    )
                ),
            )
            for i, (country, entity) in enumerate(rows, start=1)
        ),
    )
    return Node("Supplement No. 4 to Part 744", "appendix", children=(entity_list(generic),))


def test_entity_list_rows_are_cited_by_country_and_entity():
    root = _entity_table()
    labels = [row.label for row in root.children[0].children]
    cites = [cite("cfr:15:744:supp-4", ("table", label), root) for label in labels]
    assert cites == [
        "Supp. No. 4 to Part 744, China: Hanzhou Quantum Instruments Co., Ltd.",
        "Supp. No. 4 to Part 744, China: Hanzhou Quantum Instruments Co., Ltd. (second entry)",
        "Supp. No. 4 to Part 744, Iran: Pars Aero Parts Trading",
        "Supp. No. 4 to Part 744, Korea, North: Korea Mining Development Trading Corp.",
    ]
    assert cite("cfr:15:744:supp-4", ("table",), root) == "Supp. No. 4 to Part 744, table"
    assert country_name("UNITED ARAB EMIRATES") == "United Arab Emirates"
    assert country_name("BOSNIA AND HERZEGOVINA") == "Bosnia and Herzegovina"


def test_a_ccl_entry_is_cited_by_its_eccn():
    part = parse_ecfr_xml((DATA / "ecfr" / "part-774_supp-1_excerpt.xml").read_bytes())
    supplement = part.children[0]
    eccn = next(c for c in supplement.children if c.kind == "eccn")
    assert cite("cfr:15:774:supp-1", (eccn.label,), supplement) == (
        f"Supp. No. 1 to Part 774, ECCN {eccn.label}"
    )
    assert cite(None, (supplement.label, eccn.label), part) == (
        f"Supp. No. 1 to Part 774, ECCN {eccn.label}"
    )
    assert cite("cfr:15:774:supp-1", ("3A090",)) == "Supp. No. 1 to Part 774, ECCN 3A090"


@pytest.mark.parametrize(
    ("unit", "path", "expected"),
    [
        ("cfr:14:107:app-A", (), "Appendix A to Part 107"),
        ("cfr:14:107:app-A", ("a",), "Appendix A to Part 107(a)"),
        ("cfr:15:744.11", ("b", "2"), "§ 744.11(b)(2)"),
        ("cfr:15:744.11", ("p1",), "§ 744.11 introductory text"),
        ("cfr:15:744.11", ("p3",), "§ 744.11, undesignated paragraph 3"),
        ("cfr:15:744.11", ("b", "p2"), "§ 744.11(b), undesignated paragraph 2"),
        ("cfr:27:447.21", ("a~2",), "§ 447.21, second (a)"),
        ("cfr:27:447.21", ("a~2", "1", "i"), "§ 447.21, second (a)(1)(i)"),
        ("cfr:27:447.21", ("Category VI", "a", "Note~3"), "§ 447.21 Category VI(a), Note (third)"),
        ("cfr:15:744.11", ("source",), "§ 744.11, source note"),
        ("cfr:15:744.11", ("citation",), "§ 744.11, citation note"),
        ("cfr:15:744.11", ("table", "r4"), "§ 744.11, table, row 4"),
        ("cfr:27:447", ("Subpart A",), "Part 447, Subpart A"),
        ("bis:/licensing/entity-list", ("p3",), "paragraph 3"),
    ],
)
def test_labels_without_a_tree_still_read_as_citations(unit, path, expected):
    assert cite(unit, path) == expected
    assert internal_keys(expected) == []


def test_a_cited_diff_shows_citations_and_json_keeps_the_path_beside_them(shared_data):
    old = part_447()["447.21"]
    category = old.child("Category VI")
    first = category.children[0]
    changed = dataclasses.replace(first, text=first.text + " Amended.")
    new_category = dataclasses.replace(category, children=(changed, *category.children[1:]))
    new = dataclasses.replace(
        old, children=tuple(new_category if c is category else c for c in old.children)
    )
    diff = cited_diff("cfr:27:447.21", old, new)
    text = text_view(diff)
    assert "~ § 447.21 Category VI(a)  changed" in text
    assert "§ 447.21 Category VI(a)" in unified_view(diff)
    model = json.loads(json.dumps(diff.to_json()))
    change = next(c for c in model["changes"] if c["path"] == ["Category VI", "a"])
    assert change["citation"] == "§ 447.21 Category VI(a)"
    assert internal_keys(text) == []


def test_a_removed_entity_list_row_is_its_fields_not_a_pipe_joined_line():
    old = _entity_table()
    table = old.children[0]
    new = dataclasses.replace(
        old, children=(dataclasses.replace(table, children=table.children[1:]),)
    )
    diff = cite_diff("cfr:15:744:supp-4", diff_documents(old, new), old, new)
    text = text_view(diff)
    assert "- Supp. No. 4 to Part 744, China: Hanzhou Quantum Instruments Co., Ltd.  removed" in (
        text
    )
    assert "    Country: CHINA, PEOPLE'S REPUBLIC OF\n" in text
    assert "    License review policy: Presumption of denial\n" in text
    assert " | " not in text and "table table" not in text


def test_each_amdpar_records_the_fr_page_it_is_printed_on(shared_data):
    rule = (SHARED / "fr_xml" / "2014-06778_ATF_27CFR447_original.xml").read_bytes()
    (doc,) = parse_fr_xml(rule)
    amendments = [a for r in doc.regtexts for a in r.amendments]
    assert len(amendments) == 24
    assert {a.page for a in amendments} == {"17028"}  # after <PRTPAGE P="17028"/>
    assert pin_cite("79 FR 17024", amendments[0].page) == "79 FR 17028"
    issue = (SHARED / "fr_xml" / "FR-2016-04-15_full_issue.xml").read_bytes()
    pages = [a.page for d in parse_fr_xml(issue) for r in d.regtexts for a in r.amendments]
    assert pages and all(p.isdigit() for p in pages)
    assert pages == sorted(pages, key=int)  # printed in page order through the issue


def test_an_instruction_with_no_page_break_before_it_cites_the_first_page():
    assert pin_cite("91 FR 70101", "") == "91 FR 70101"
    assert pin_cite(None, "70103") == "FR page 70103"
    stored = {"text": "1. Revise § 1.1.", "number": "1.", "verbs": ["revise"], "targets": []}
    assert from_json(Amendment, stored).page == ""  # JSON stored before the field loads


FRI = date(2026, 10, 9)
REMOVED = "Supp. No. 4 to Part 744, China: Shenzhen Lumen Photonics Technology Co."
ADDED = "Supp. No. 4 to Part 744, China: Hanzhou Quantum Instruments Co., Ltd."
REVISED = "§ 744.11(b)(2)"


@pytest.fixture(scope="module")
def demo_week(tmp_path_factory):
    """The demo corpus's Monday and Friday: the Entity List loses Shenzhen Lumen and gains
    Hanzhou Quantum, § 744.11(b)(2) is revised, and rules amend them by instruction. Run once
    for the module: its tests only read it. Crawls forked, as ``forked_crawls`` would (that
    function-scoped fixture is not set up yet when this one runs)."""
    folder = tmp_path_factory.mktemp("demo-week")
    with pytest.MonkeyPatch.context() as patch, ReplayServer(Corpus.demo()) as server:
        patch.setattr(crawl_module, "subprocess", forkcrawl.Subprocess)
        config = point_at(config_module.load(None, env={}), server, folder, ecfr=True)
        run_day(config, date(2026, 10, 5))
        run_day(config, FRI)
    return config


def _outputs(config) -> dict[str, str]:
    root = config.root
    out = {
        "digest text": (config.digest_dir / f"{FRI}.txt").read_text(),
        "digest html": (config.digest_dir / f"{FRI}.html").read_text(),
        "feed": (root / "feeds" / "all.atom").read_text(),
        "site": "\n".join(p.read_text() for p in sorted((root / "site").rglob("*.html"))),
    }
    store = Store.open(config.store_path)
    try:
        digest = report_for(store, FRI, config)
    finally:
        store.close()
    now = datetime(2026, 10, 9, 12, tzinfo=UTC)
    message = compose(digest, SubscriptionConfig(name="all"), "a@x.org", config, now)
    out["email text"] = message.get_body(("plain",)).get_content()
    out["email html"] = message.get_body(("html",)).get_content()
    return out


def test_every_channel_cites_the_planted_changes_and_shows_no_internal_key(demo_week):
    outputs = _outputs(demo_week)
    for channel, text in outputs.items():
        plain = re.sub(r"<[^>]*>", " ", html.unescape(html.unescape(text)))
        for citation in (REMOVED, ADDED, REVISED):
            assert citation in plain, (channel, citation)
        assert internal_keys(re.sub(r"https?://\S+", "", plain)) == [], channel
        assert "unofficial editorial compilation" in plain, channel


def test_the_digest_cites_each_instruction_at_its_fr_page_and_links_the_official_text(
    demo_week,
):
    text = (demo_week.digest_dir / f"{FRI}.txt").read_text()
    assert re.search(r"instruction, 91 FR \d{5}: 1\. Supplement No\. 4 to part 744", text)
    page = (demo_week.digest_dir / f"{FRI}.html").read_text()
    assert re.search(r"\[91 FR \d{5}\]", page)
    # the Entity List change links the FR document its source note newly names
    assert "91 FR 70101 https://www.federalregister.gov/documents/" in text


def test_a_removed_row_is_struck_once_in_html(demo_week):
    page = (demo_week.digest_dir / f"{FRI}.html").read_text()
    start = page.index(f"{REMOVED}</strong> removed")
    block = page[start : page.index("</div>\n</div>", start)]
    assert block.count("line-through") == 1
    assert "Country: CHINA" in block and "Entity: Shenzhen Lumen" in block
    assert " | " not in block
