"""FR preamble details (issue 12, Deliver 6): RINs, delayed effective dates, authority
spacing, superscripts and subscripts, and Entity List footnote marks - on the real daily
issues in ../shared/data and on small fixtures that copy their markup."""

import json
import re
from datetime import date

import pytest
from lxml import etree
from sqlalchemy import select

from crawler.demo.replay import Corpus
from crawler.diff import diff_documents
from crawler.diff.normalize import quiet, substantive
from crawler.diff.views import text_view
from crawler.diff.words import word_diff
from crawler.parse.ecfr_xml import parse_ecfr_xml
from crawler.parse.entity_list import FOOTNOTES
from crawler.parse.fr_json import parse_document
from crawler.parse.fr_xml import delays_in, parse_document_xml, parse_fr_xml, text_of
from crawler.records import Delay
from crawler.snapshot.rows import DELAYS, fr_version
from storage import Store
from storage.schema import links

ISSUES = ("FR-2016-04-15_full_issue.xml", "FR-2024-02-12_full_issue.xml")


def issue(shared_data, name):
    return {d.frdoc: d for d in parse_fr_xml((shared_data / "fr_xml" / name).read_bytes())}


# --- RINs ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, frdoc, rins",
    [
        ("FR-2016-04-15_full_issue.xml", "2016-08776", ("1076-AF28",)),
        ("FR-2016-04-15_full_issue.xml", "2016-08743", ("0648-XE546",)),  # NOAA's form
        ("FR-2016-04-15_full_issue.xml", "2016-08714", ("0648-XE570",)),
        ("FR-2024-02-12_full_issue.xml", "2024-02236", ("0648-BM78",)),  # en dash
        ("FR-2024-02-12_full_issue.xml", "2024-02930", ("2120-AA64",)),
        ("FR-2024-02-12_full_issue.xml", "2024-02703", ("1625-AA00",)),  # no "RIN" prefix
        ("FR-2024-02-12_full_issue.xml", "2024-02705", ("0938-AV07",)),
    ],
)
def test_real_rins_are_read_with_a_hyphen(shared_data, name, frdoc, rins):
    assert issue(shared_data, name)[frdoc].rins == rins


@pytest.mark.parametrize("name", ISSUES)
def test_every_rin_element_of_the_real_issues_gives_its_rin(shared_data, name):
    text = (shared_data / "fr_xml" / name).read_text()
    in_markup = re.findall(r"<RIN>(?:RIN )?(\d{4})\W([A-Z0-9]{4,5})</RIN>", text)
    assert len(in_markup) == text.count("<RIN>") > 0
    parsed = [r for d in issue(shared_data, name).values() for r in d.rins]
    assert sorted(parsed) == sorted(f"{a}-{b}" for a, b in in_markup)


def rule_with(preamble: str, body: str = "") -> bytes:
    return f"<RULE><PREAMB>{preamble}</PREAMB>{body}</RULE>".encode()


@pytest.mark.parametrize(
    "rin, expected",
    [
        ("RIN 0694-AJ12", "0694-AJ12"),
        ("RIN 0694\u2013AJ12", "0694-AJ12"),  # en dash
        ("RIN 0694\u2014AJ12", "0694-AJ12"),  # em dash
        ("RIN 0694\u2212AJ12", "0694-AJ12"),  # minus sign
        ("RIN 0694\u2010AJ12", "0694-AJ12"),  # Unicode hyphen
        ("RIN 0648 \u2013 XE546", "0648-XE546"),
        ("0648-XE546", "0648-XE546"),
    ],
)
def test_rin_with_any_dash(rin, expected):
    assert parse_document_xml(rule_with(f"<RIN>{rin}</RIN>")).rins == (expected,)


def test_api_rins_are_stored_with_a_hyphen(shared_data):
    path = shared_data / "fr_api" / "documents_multi_2017-27513_2017-27451.json"
    result = json.loads(path.read_bytes())["results"][0]
    result["regulation_id_numbers"] = ["0648\u2013XE546", "RIN 0694\u2014AJ12", "0648-XE546"]
    doc = parse_document(json.dumps(result).encode(), None, "sample")
    assert doc.rins == ("0648-XE546", "0694-AJ12")


# --- a notice that delays another rule's effective date ---------------------------------------

BIA_DELAY = Delay("81 FR 10477", date(2016, 3, 1), date(2016, 4, 15), date(2016, 5, 16))


def test_real_delay_notice_delays_the_cited_rule_not_itself(shared_data):
    notice = issue(shared_data, "FR-2016-04-15_full_issue.xml")["2016-08776"]
    assert notice.action == "Interim final rule; delay of effective date."
    assert notice.delays == (BIA_DELAY,)
    assert notice.effective_date is None  # neither May 16 nor the March 1 it cites


@pytest.mark.parametrize("name", ISSUES)
def test_no_other_document_of_the_real_issues_delays_a_rule(shared_data, name):
    delaying = {k for k, d in issue(shared_data, name).items() if d.delays}
    assert delaying == ({"2016-08776"} if "2016" in name else set())


def test_own_delayed_amendments_keep_the_documents_effective_date(shared_data):
    # FCC: "This rule is effective March 13, 2024, except for the amendments codified at
    # 47 CFR 64.2011 and 64.5111 ... which are delayed indefinitely."
    docs = issue(shared_data, "FR-2024-02-12_full_issue.xml").values()
    fcc = [d for d in docs if "delayed indefinitely" in d.dates]
    assert len(fcc) == 1
    assert fcc[0].effective_date == date(2024, 3, 13) and fcc[0].delays == ()


@pytest.mark.parametrize(
    "dates, expected",
    [
        (
            "The effective date of the interim final rule published March 1, 2016 (81 FR "
            "10477) is delayed from April 15, 2016 to May 16, 2016.",
            (BIA_DELAY,),
        ),
        (
            "As of March 20, 2017, the effective date of the rule published January 24, 2017, "
            "at 82 FR 8346, is further delayed until May 22, 2017.",
            (Delay("82 FR 8346", date(2017, 1, 24), None, date(2017, 5, 22)),),
        ),
        (
            "The effective date of the final rule published at 82 FR 8346 is postponed to "
            "March 21, 2017.",
            (Delay("82 FR 8346", None, None, date(2017, 3, 21)),),
        ),
        ("This rule is effective May 16, 2016.", ()),
        ("The amendments to 47 CFR 64.2011 are delayed indefinitely.", ()),
        ("The effective date of this rule is delayed until further notice.", ()),
    ],
)
def test_delay_phrasings(dates, expected):
    assert delays_in(dates) == expected


def notice_json(sample: dict, **changes: object) -> bytes:
    return json.dumps({**sample, **changes}).encode()


def test_delay_is_linked_to_the_rule_it_delays_in_the_store(shared_data, tmp_path):
    path = shared_data / "fr_api" / "documents_multi_2017-27513_2017-27451.json"
    sample = json.loads(path.read_bytes())["results"][0]
    xml = issue(shared_data, "FR-2016-04-15_full_issue.xml")["2016-08776"]
    # the API may give the delayed-to date as the notice's own: it is not taken
    notice = parse_document(
        notice_json(
            sample,
            document_number="2016-08776",
            publication_date="2016-04-15",
            citation="81 FR 22183",
            effective_on="2016-05-16",
            correction_of=None,
        ),
        xml,
        "notice",
    )
    assert notice.effective_on is None
    rule = parse_document(
        notice_json(
            sample,
            document_number="2016-04499",  # a stand-in number for the rule at 81 FR 10477
            publication_date="2016-03-01",
            citation="81 FR 10477",
            effective_on="2016-04-15",
            correction_of=None,
        ),
        None,
        "rule",
    )
    store = Store.open(tmp_path / "regwatch.db")
    try:
        run = store.start_run("daily", "2016-04-15", "2016-04-15T11:00:00+00:00")
        for doc in (rule, notice):
            raw = {"json": b"{}"}
            store.snapshot(
                fr_version(doc, raw, run=run, fetched_at="t", source="fr", reference_for=None)
            )
        with store.engine.connect() as conn:
            rows = conn.execute(select(links.c.source, links.c.relation, links.c.target)).all()
        assert [tuple(r) for r in rows if r.relation == DELAYS] == [
            ("fr:2016-08776", DELAYS, "81 FR 10477")
        ]
        assert [d.key for d in store.by_citation("81 FR 10477")] == ["fr:2016-04499"]
        meta = store.document("fr:2016-08776").meta
        assert meta["delays"] == [
            {
                "rule": "81 FR 10477",
                "published": "2016-03-01",
                "from": "2016-04-15",
                "to": "2016-05-16",
            }
        ]
        assert meta["effective_on"] is None
    finally:
        store.close()


# --- authority spacing -----------------------------------------------------------------------


def test_authority_keeps_its_space_when_the_xml_has_none():
    body = (
        '<REGTEXT TITLE="22" PART="121"><AMDPAR>1. The authority citation continues to read:'
        '</AMDPAR><AUTH><HD SOURCE="HED">Authority:</HD><P>22 U.S.C. 2778, 2794;'
        '<E T="03">et seq.</E></P></AUTH></REGTEXT>'
    )
    doc = parse_document_xml(rule_with("<AGENCY>DEPARTMENT OF STATE</AGENCY>", body))
    assert doc.regtexts[0].text == ("Authority: 22 U.S.C. 2778, 2794;et seq.",)


@pytest.mark.parametrize("name", ISSUES)
def test_every_real_authority_reads_authority_colon_space(shared_data, name):
    root = etree.fromstring((shared_data / "fr_xml" / name).read_bytes())
    texts = [text_of(a) for a in root.iter("AUTH")]
    assert len(texts) > 5
    assert all(re.match(r"(Statutory )?Authority: [^\s:]", t) for t in texts), texts


def test_authority_with_its_colon_in_the_body(shared_data):
    # FR-2024-02-12: <HD SOURCE="HED">Authority</HD> <P>: 49 U.S.C. 106(g), 40113, 44701.</P>
    docs = issue(shared_data, "FR-2024-02-12_full_issue.xml").values()
    texts = [t for d in docs for r in d.regtexts for t in r.text if t.startswith("Authority")]
    assert "Authority: 49 U.S.C. 106(g), 40113, 44701." in texts
    assert not [t for t in texts if "Authority :" in t]


# --- superscripts and subscripts -------------------------------------------------------------


@pytest.mark.parametrize(
    "markup, text",
    [
        (
            "<P>a C-NOT error of less than 10<SU>\u22124</SU>;</P>",
            "a C-NOT error of less than 10^\u22124;",
        ),
        ("<P>(per 100 km<SU>2</SU>) by the z</P>", "(per 100 km^2) by the z"),
        ('<P>H<E T="52">2</E>O</P>', "H_{2}O"),  # braces: a letter follows
        ('<P>x<E T="52">i</E> is the i<E T="51">th</E> sample</P>', "x_i is the i^th sample"),
        ('<P>hw = (T<E T="52">stack, hw</E>)</P>', "hw = (T_{stack, hw})"),
        ("<FTNT><P><SU>4</SU> An author includes</P></FTNT>", "^4 An author includes"),
        ("<P>the government of Brazil.<SU>1</SU> <SU>2</SU></P>", "the government of Brazil.^1 ^2"),
        ("<TD>Zaheer &amp; Sons<sup>1</sup>, a.k.a.</TD>", "Zaheer & Sons^1, a.k.a."),
        ("<P>M<sub>2</sub>, M<sub>3</sub></P>", "M_2, M_3"),
        ('<P>in <E T="03">italics</E> and<SU/> empty</P>', "in italics and empty"),
    ],
)
def test_scripts_are_written_unambiguously(markup, text):
    assert text_of(etree.fromstring(markup)) == text


def test_real_scripts_in_the_daily_issue(shared_data):
    docs = issue(shared_data, "FR-2016-04-15_full_issue.xml").values()
    prose = " ".join(p for d in docs for p in d.body)
    assert "Vitamin B_12" in prose or "vitamin B_12" in prose
    assert "B12" not in prose.replace("B_12", "")


def test_demo_rule_superscript():
    doc = parse_document_xml(Corpus.demo().xml["2026-21250"])
    texts = [t for r in doc.regtexts for t in r.text]
    assert (
        "a. Quantum computers having 40 or more physical qubits and a C-NOT error of less "
        "than or equal to 10^\u22124;" in texts
    )


# --- Entity List footnote marks ---------------------------------------------------------------

# the real row of 011-backport-tr-fix (89 FR 84462), with a footnote mark as the eCFR sets it
ROW = (
    "<TR>\n"
    '<TD class="left border-right-single">PAKISTAN</TD>\n'
    '<TD class="left border-right-single">Zaheer &amp; Sons{mark}, a.k.a., the following one '
    "alias:\n<br/>\u2014Zaheer Sons.\n<br/> \n"
    "<br/> Suite 2, 3rd Floor, Nadir House, I.I. Chundrigar Road, Karachi, Pakistan.</TD>\n"
    '<TD class="left border-right-single">For all items subject to the EAR. '
    "(See \u00a7 744.11 of the EAR)</TD>\n"
    '<TD class="left border-right-single">Presumption of denial</TD>\n'
    '<TD class="left">89 FR 84462, 10/23/24.\n\n</TD>\n'
    "</TR>"
)
SUPPLEMENT = """<DIV9 N="Supplement No. 4 to Part 744" TYPE="APPENDIX">
<HEAD>Supplement No. 4 to Part 744\u2014Entity List</HEAD>
<DIV class="gpotbl_div"><TABLE class="gpotbl_table">
<TR><TH>Country</TH><TH>Entity</TH><TH>License requirement</TH><TH>License review policy</TH>
<TH>Federal Register citation</TH></TR>
{row}
</TABLE></DIV></DIV9>"""


def entry(mark: str):
    tree = parse_ecfr_xml(SUPPLEMENT.format(row=ROW.format(mark=mark)).encode())
    (table,) = tree.children
    (row,) = table.children
    return tree, row


@pytest.mark.parametrize(
    "mark, name, footnotes",
    [
        ("", "Zaheer & Sons", None),
        ("<sup>1</sup>", "Zaheer & Sons ^1", "1"),
        ("<SU>3</SU>", "Zaheer & Sons ^3", "3"),
        (" <sup>1</sup> <sup>4</sup>", "Zaheer & Sons ^1 ^4", "1, 4"),
    ],
)
def test_footnote_marks_are_kept_on_the_entry(mark, name, footnotes):
    _, row = entry(mark)
    fields = dict(row.fields)
    assert row.label == "PAKISTAN|Zaheer & Sons"  # the key: the name without marks
    assert fields["Entity"] == name
    assert fields["Aliases"] == "Zaheer Sons"
    assert fields["Address"].startswith("Suite 2, 3rd Floor")
    assert fields.get(FOOTNOTES) == footnotes


def test_a_footnote_mark_added_is_a_substantive_revision_of_the_entry():
    old, _ = entry("")
    new, _ = entry("<sup>1</sup>")
    diff = diff_documents(old, new)
    assert [(c.op, c.substantive) for c in diff.changes] == [("changed", True)]
    view = text_view(diff)
    assert "^1" in view and "Footnotes" in view


@pytest.mark.parametrize(
    "old, new",
    [
        ("Zaheer & Sons", "Zaheer & Sons ^1"),
        ("Zaheer & Sons ^1", "Zaheer & Sons ^4"),
        ("Zaheer & Sons1", "Zaheer & Sons ^1"),  # a flattened mark is not the same text
        ("See \u00a7 734.9(g)^3", "See \u00a7 734.9(g)"),
        ("an error of 10^-4", "an error of 10-4"),
        ("H_{2}O", "H2O"),
    ],
)
def test_script_marks_are_never_noise(old, new):
    assert quiet(old) != quiet(new)  # not noise
    assert substantive(old, new, word_diff(old, new))
