"""Publication-day redlines: an FR rule's REGTEXT against the prior eCFR text."""

from __future__ import annotations

from pathlib import Path

from crawler.amend import project
from crawler.demo.replay import Corpus
from crawler.diff import diff_documents
from crawler.diff.views import inline
from crawler.parse.cfr_units import units
from crawler.parse.ecfr_xml import parse_ecfr_xml
from crawler.parse.fr_xml import parse_document_xml

RULE = Path(__file__).parent / "data" / "fr" / "regtext_chain_rule.xml"


def prior_part():
    part = parse_ecfr_xml(Corpus.demo().ecfr_full[("2026-10-01", 15, "744")])
    return {key: node for key, _, node in units(15, "744", part)}


def test_the_chain_shows_exactly_the_rule_s_changes():
    prior = prior_part()
    projections = {p.key: p for p in project(parse_document_xml(RULE.read_bytes()), prior.get)}
    assert {k: p.op for k, p in projections.items()} == {
        "cfr:15:744.1": "revised",
        "cfr:15:744.11": "revised",
        "cfr:15:744.12": "reserved",
        "cfr:15:744.13": "added",
    }
    assert all(not p.flags for p in projections.values())

    stars = diff_documents(prior["cfr:15:744.11"], projections["cfr:15:744.11"].new)
    [change] = stars.changes  # one paragraph, spliced in by label; the rest kept
    assert change.path == ("b", "2")
    assert inline(change.fields[0]) == (
        "(2) Preparing to transfer{+, or transferring,+} items without authorization."
    )

    phrase = diff_documents(prior["cfr:15:744.1"], projections["cfr:15:744.1"].new)
    [change] = phrase.changes
    assert change.path == ("b",)
    assert "[-used-]{+relied upon+}" in inline(change.fields[0])

    reserved = diff_documents(prior["cfr:15:744.12"], projections["cfr:15:744.12"].new)
    assert {c.op for c in reserved.changes} == {"changed", "removed"}
    assert projections["cfr:15:744.12"].new.title == "§ 744.12 [Reserved]"

    added = projections["cfr:15:744.13"]
    assert added.old is None and [c.label for c in added.new.children] == ["a", "b"]


def test_an_instruction_that_cannot_be_placed_is_flagged_with_the_text():
    prior = prior_part()
    xml = RULE.read_bytes().replace(b"may not be used", b"may never be used")
    projections = {p.key: p for p in project(parse_document_xml(xml), prior.get)}
    flagged = projections["cfr:15:744.1"]
    assert flagged.op == "flagged"
    assert flagged.flags == ('744.1(b): the phrase "may never be used" is not found; not applied',)
    assert flagged.instructions[0].startswith("1. Section 744.1 is amended")


def test_entity_list_rows_are_spliced_by_key_on_publication_day():
    corpus = Corpus.demo()
    prior = prior_part()
    added = project(parse_document_xml(corpus.xml["2026-21001"]), prior.get, "91 FR 70101")
    [supp] = added
    diff = diff_documents(prior["cfr:15:744:supp-4"], supp.new)
    new_rows = [c.path[-1] for c in diff.changes if c.op == "added"]
    assert new_rows == ["CHINA, PEOPLE'S REPUBLIC OF|Hanzhou Quantum Instruments Co., Ltd."]
    hanzhou = dict(supp.new.find(("table", new_rows[0])).fields)
    assert hanzhou["Aliases"] == "HQI Tech"
    assert hanzhou["Federal Register citation"] == "91 FR 70101, 10/5/26."
    removal = project(parse_document_xml(corpus.xml["2026-21390"]), prior.get)
    diff = diff_documents(prior["cfr:15:744:supp-4"], removal[0].new)
    assert [(c.op, c.path[-1]) for c in diff.changes if c.op == "removed"] == [
        ("removed", "CHINA, PEOPLE'S REPUBLIC OF|Shenzhen Lumen Photonics Technology Co.")
    ]
