"""The FR parsers on the real samples in ../shared/data and on the demo corpus."""

import json
import re
from pathlib import Path

import pytest

from crawler.demo.replay import Corpus
from crawler.errors import ParseError
from crawler.parse.amdpar import parse_amendment
from crawler.parse.expect import load_json
from crawler.parse.fr_json import parse_document, parse_search_page
from crawler.parse.fr_xml import STARS, parse_document_xml, parse_fr_xml

CASES = json.loads((Path(__file__).parent / "data" / "amdpar_cases.json").read_text())


@pytest.mark.parametrize("case", CASES, ids=[c["text"][:40] for c in CASES])
def test_amendatory_instructions(case):
    amendment = parse_amendment(case["text"])
    assert amendment.number == case["number"]
    assert list(amendment.verbs) == case["verbs"]
    assert list(amendment.targets) == case["targets"]


@pytest.mark.parametrize(
    "name",
    [
        "FR-2016-04-15_full_issue.xml",
        "FR-2024-02-12_full_issue.xml",
        "2014-02580_ATF_27CFR447_original.xml",
        "2014-06778_ATF_27CFR447_original.xml",
        "2014-06778_ATF_27CFR447_eregs_edited.xml",
    ],
)
def test_every_real_fr_xml_parses_without_losing_amendments_or_tables(shared_data, name):
    data = (shared_data / "fr_xml" / name).read_bytes()
    documents = parse_fr_xml(data)
    text = data.decode()
    # independent counts straight from the markup
    assert len(documents) == len(re.findall(r"<(RULE|PRORULE|NOTICE|PRESDOCU)>", text))
    assert sum(len(a.amendments) for d in documents for a in d.regtexts) == text.count("<AMDPAR")
    assert sum(len(d.tables) for d in documents) == text.count("<GPOTABLE")
    regtexts = [r for d in documents for r in d.regtexts if r.part]
    assert len({(r.title, r.part) for r in regtexts}) >= 1 or "<REGTEXT" not in text


def test_daily_issue_2024_details(shared_data):
    documents = parse_fr_xml((shared_data / "fr_xml" / "FR-2024-02-12_full_issue.xml").read_bytes())
    first = documents[0]
    assert first.element == "RULE"
    assert first.agency == "DEPARTMENT OF TRANSPORTATION"
    assert first.subagencies == ("Federal Aviation Administration",)
    assert first.cfr_parts == ("14:39",)
    assert first.frdoc == "2024-02930"  # the en dash of the daily issue folded
    assert str(first.effective_date) == "2024-02-12"
    assert str(first.comment_deadline) == "2024-03-28"
    regtext = next(r for d in documents for r in d.regtexts if r.part and r.title)
    assert isinstance(regtext.title, int)


def test_single_rule_from_the_api(shared_data):
    doc = parse_document_xml(
        (shared_data / "fr_xml" / "2014-02580_ATF_27CFR447_original.xml").read_bytes()
    )
    assert doc.agency == "DEPARTMENT OF JUSTICE"
    assert doc.subagencies == ("Bureau of Alcohol, Tobacco, Firearms, and Explosives",)
    assert doc.cfr_parts == ("27:447", "27:479")
    assert doc.rins == ("1140-AA42",)
    assert doc.dockets == ("Docket No. ATF 26F; AG Order No. 3417-2014",)
    assert doc.action == "Final rule."
    assert str(doc.effective_date) == "2014-04-08" and doc.comment_deadline is None
    amended = [a for r in doc.regtexts for a in r.amendments if "447.43(a)" in a.targets]
    assert len(amended) == 1 and "two years" in amended[0].text


def test_entity_list_rule_tables_and_stars():
    corpus = Corpus.demo()
    doc = parse_document_xml(corpus.xml["2026-21001"])
    table = doc.regtexts[1].tables[0]
    assert table.headers == (
        "Country",
        "Entity",
        "License requirement",
        "License review policy",
        "Federal Register citation",
    )
    entities = [row[1] for row in table.rows if len(row) == 5 and row[1]]
    assert [e.split(",")[0] for e in entities] == [
        "Hanzhou Quantum Instruments Co.",
        "Shenzhen Lumen Photonics Technology Co.",
        "Pars Aero Parts Trading",
    ]
    assert doc.regtexts[1].amendments[0].targets == ("744:supp-4",)
    assert STARS in doc.regtexts[1].text
    section = parse_document_xml(corpus.xml["2026-21110"]).regtexts[1].sections[0]
    assert section.number == "740.27"
    assert section.paragraphs[0] == STARS and section.paragraphs[1].startswith("(b) Eligible")


def test_page_break_inside_a_paragraph_keeps_the_sentence_whole():
    doc = parse_document_xml(Corpus.demo().xml["2026-21250"])
    paragraph = doc.regtexts[0].sections[0].paragraphs[2]
    assert "ECCN 4D906 or 4E906 that is the direct product" in paragraph


@pytest.mark.parametrize(
    "payload, reason",
    [
        (b"<RULE><PREAMB><AGENCY>DEPARTMENT OF COMMERCE</AGENCY>", "malformed or truncated"),
        (b"<!DOCTYPE html><html><title>Maintenance</title></html>", "HTML page"),
        (b"", "empty response"),
        (b"<html><body>502</body></html>", "HTML page"),
    ],
)
def test_bad_xml_is_a_one_line_parse_error(payload, reason):
    with pytest.raises(ParseError, match=reason) as caught:
        parse_document_xml(payload, "fr:2026-1")
    assert "\n" not in str(caught.value)


def test_external_entities_are_not_resolved(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    payload = (
        f'<?xml version="1.0"?><!DOCTYPE RULE [<!ENTITY x SYSTEM "file://{secret}">]>'
        "<RULE><PREAMB><SUBJECT>&x;</SUBJECT></PREAMB></RULE>"
    ).encode()
    try:
        doc = parse_document_xml(payload)
    except ParseError:
        return  # refusing is fine too
    assert "TOP-SECRET" not in doc.subject


def test_real_api_document_json(shared_data):
    data = json.loads(
        (shared_data / "fr_api" / "documents_multi_2017-27513_2017-27451.json").read_bytes()
    )
    for result in data["results"]:
        doc = parse_document(json.dumps(result).encode(), None, "sample")
        assert doc.number == result["document_number"]
        assert doc.citation == result["citation"]
        assert doc.html_url == result["html_url"]


def test_real_search_page(shared_data):
    path = (
        shared_data
        / "fr_api"
        / "documents_search_publication_date_is_2016-02-29_per_page_1000.json"
    )
    page = parse_search_page(path.read_bytes(), "sample")
    assert page.count == 129 and len(page.hits) == 129 and page.total_pages == 1
    assert all(str(h.publication_date) == "2016-02-29" for h in page.hits)


def test_html_where_json_was_expected():
    with pytest.raises(ParseError, match=r"HTML/XML page where JSON was expected.*Maintenance"):
        load_json(b"<!DOCTYPE html><html><head><title>Maintenance</title></head></html>", "x")
    with pytest.raises(ParseError, match="malformed JSON"):
        load_json(b'{"count": 3, "results": [', "x")


def test_correction_links_to_what_it_corrects():
    corpus = Corpus.demo()
    correction = parse_document(
        json.dumps(corpus.documents["C1-2026-21001"]).encode(),
        parse_document_xml(corpus.xml["C1-2026-21001"]),
        "demo",
    )
    assert correction.correction_of == "2026-21001"
