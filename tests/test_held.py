"""Implausible content is held, not applied (issue 11): an eCFR part that loses most of its
sections, or an Entity List that loses more than a tenth of its entries, is kept as a held
fetch with an alert in the digest until the versions API, an FR rule or the next day's same
content confirms it; a BIS page without its main content is an error, never a version."""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import date

import pytest
from conftest import point_at, run_day
from lxml import etree
from scrapy import Request
from scrapy.http import HtmlResponse

from crawler import config as config_module
from crawler.amend.store import project_rules
from crawler.config import EcfrConfig
from crawler.demo.replay import Corpus, ReplayServer
from crawler.digest.render import render
from crawler.digest.report import report_for
from crawler.errors import ConfigError, ParseError
from crawler.fetch.items import CrawlError, FetchedCfrPart, Unchanged
from crawler.fetch.spiders.bis import BisSpider
from crawler.fetch.spiders.ecfr import _removed
from crawler.parse.cfr_units import unit_refs
from crawler.parse.ecfr_json import ContentVersion
from crawler.parse.entity_list import entry_keys
from crawler.parse.fr_json import parse_document
from crawler.parse.fr_xml import parse_document_xml
from crawler.parse.web_page import parse_web_page
from crawler.records import Node, from_json, to_json
from crawler.snapshot.ecfr import review_held
from crawler.snapshot.rows import fr_version, text_hash
from crawler.snapshot.versioning import snapshot, store_cfr_part
from storage import HeldStatus, Store

OCT1, OCT9 = date(2026, 10, 1), date(2026, 10, 9)
UNITS = ("cfr:15:744.1", "cfr:15:744.11", "cfr:15:744.12", "cfr:15:744:supp-4")
ECFR = EcfrConfig(site_base="https://www.ecfr.gov")
DEMO = Corpus.demo()


def demo_744(day: date) -> bytes:
    return DEMO.ecfr_full[(day.isoformat(), 15, "744")]


def right_744() -> bytes:
    """The text of 2026-10-09 as a good fetch gives it (744.11 amended; every entry kept)."""
    return demo_744(OCT1).replace(
        b"Preparing to transfer items", b"Preparing to transfer, or transferring, items"
    )


def without(xml: bytes, *sections: str) -> bytes:
    """``xml`` with the DIV8 of each of ``sections`` cut out."""
    text = xml.decode()
    for number in sections:
        start = text.index(f'<DIV8 N="{number}"')
        text = text[:start] + text[text.index("</DIV8>", start) + len("</DIV8>") :]
    return text.encode()


def fetch(
    store: Store,
    body: bytes,
    day: date,
    on: str = "2026-10-09",
    part: str = "744",
    removed: tuple[tuple[str, str], ...] = (),
    ecfr: EcfrConfig = ECFR,
    kind: str = "crawl",
):
    """``body`` as the eCFR's text of ``part`` for ``day``, fetched on ``on`` in a run."""
    fetched_at = f"{on}T11:30:00+00:00"
    run = store.start_run(kind, on if kind == "daily" else None, fetched_at)
    item = FetchedCfrPart("ecfr", 15, part, day, "http://127.0.0.1/x", body, fetched_at, removed)
    return store_cfr_part(store, item, run, ecfr)


def removed_versions(store: Store, keys=UNITS) -> list[tuple[str, str]]:
    return [
        (k, v.valid_from)
        for k in keys
        for v in store.history(k)
        if json.loads(store.blob(v.tree_blob)).get("kind") == "removed"
    ]


@pytest.fixture
def store(tmp_path):
    store = Store.open(tmp_path / "regwatch.db")
    yield store
    store.close()


@pytest.fixture
def stored(store):
    """The demo's part 744 as of 2026-10-01: three sections and the Entity List (5 rows)."""
    assert fetch(store, demo_744(OCT1), OCT1, on="2026-10-01")["sections_new"] == 4
    return store


# --- eCFR parts that lose their sections ----------------------------------------------------


def test_an_empty_part_is_held_and_a_rerun_with_the_right_xml_converges(stored):
    empty = b'<?xml version="1.0"?>\n<DIV5 N="744" TYPE="PART"/>'
    assert fetch(stored, empty, OCT9) == {"parts_held": 1}
    assert removed_versions(stored) == []
    assert all(stored.latest_version(k).valid_from == "2026-10-01" for k in UNITS)
    [held] = stored.held_fetches("cfr:15:744")
    assert (held.valid_from, held.status) == ("2026-10-09", HeldStatus.HELD)
    assert (
        held.reason == "4 of 4 sections missing; 5 of 5 entries of 15 CFR 744 Supp. No. 4 missing"
    )
    assert stored.blob(held.raw_blob) == empty  # the raw payload, content-addressed

    counts = fetch(stored, right_744(), OCT9)  # the same day again, with the right XML
    assert counts == {"sections_changed": 1, "sections_unchanged": 3}
    assert removed_versions(stored) == []
    assert stored.latest_version("cfr:15:744.11").valid_from == "2026-10-09"
    [held] = stored.held_fetches("cfr:15:744", status=None)
    assert held.status == HeldStatus.DISCARDED
    assert stored.held_fetches() == []


def test_a_whitespace_bomb_is_held_not_removals(stored):
    bomb = b'<DIV5 N="744" TYPE="PART">' + b" \n\t" * 2_000_000 + b"</DIV5>"
    assert fetch(stored, bomb, OCT9) == {"parts_held": 1}
    assert removed_versions(stored) == []
    assert [h.reason for h in stored.held_fetches()] == [
        "4 of 4 sections missing; 5 of 5 entries of 15 CFR 744 Supp. No. 4 missing"
    ]


def cut_units(xml: bytes, count: int) -> bytes:
    """``xml`` without its last ``count`` sections and appendices."""
    root = etree.fromstring(xml)
    for unit in root.xpath(".//DIV8 | .//DIV9")[len(root.xpath(".//DIV8 | .//DIV9")) - count :]:
        unit.getparent().remove(unit)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


@pytest.mark.parametrize(
    ("part", "units", "lost", "applied"),
    [
        ("740", 36, 18, True),  # exactly half: applied
        ("740", 36, 19, False),  # one more: held
        ("742", 27, 13, True),
        ("742", 27, 14, False),
    ],
)
def test_section_loss_at_the_boundary(store, shared_data, part, units, lost, applied):
    xml = (shared_data / "ecfr_title15" / f"title-15-part-{part}_2025.xml").read_bytes()
    first = fetch(store, xml, OCT1, on="2026-10-01", part=part)
    assert first["sections_new"] == units
    counts = fetch(store, cut_units(xml, lost), OCT9, part=part)
    if applied:
        assert counts["sections_removed"] == lost and not store.held_fetches()
    else:
        assert counts == {"parts_held": 1}
        [held] = store.held_fetches(f"cfr:15:{part}")
        assert held.reason == f"{lost} of {units} sections missing"
        assert store.last_valid_from(f"cfr:15:{part}") == "2026-10-01"


ROW = (
    '<TR><TD class="left border-right-single">{country}</TD>'
    '<TD class="left border-right-single">Trading Company {n}, No. {n} Azadi Street, Tehran.</TD>'
    '<TD class="left border-right-single">For all items subject to the EAR.</TD>'
    '<TD class="left border-right-single">Policy of denial.</TD>'
    '<TD class="left">88 FR 5000, 1/27/23.</TD></TR>'
)


def entity_list(rows: range) -> bytes:
    """The demo's part 744 with an Entity List of the given rows (20 at most)."""
    xml = demo_744(OCT1).decode()
    start = xml.index("<TR>\n<TD")
    end = xml.index("</TABLE>")
    body = "".join(ROW.format(country="IRAN" if n == 0 else " ", n=n) for n in rows)
    return (xml[:start] + body + xml[end:]).encode()


@pytest.mark.parametrize(("lost", "applied"), [(2, True), (3, False)])
def test_entity_list_loss_at_the_boundary(store, lost, applied):
    fetch(store, entity_list(range(20)), OCT1, on="2026-10-01")
    counts = fetch(store, entity_list(range(20 - lost)), OCT9)  # 2 of 20 is exactly 10%
    if applied:
        assert counts == {"sections_changed": 1, "sections_unchanged": 3}
        assert not store.held_fetches()
    else:  # the rest of the part is applied: only the Entity List is held
        assert counts == {"parts_held": 1, "sections_unchanged": 3}
        [held] = store.held_fetches()
        assert held.reason == "3 of 20 entries of 15 CFR 744 Supp. No. 4 missing"
        assert store.latest_version("cfr:15:744:supp-4").valid_from == "2026-10-01"
        assert len(entries_at(store, "2026-10-09")) == 20  # the part rebuilds with all 20


def entries_at(store, day: str) -> set[str]:
    """The Entity List's entries in the part as rebuilt from its manifest on ``day``."""
    stub = from_json(Node, store.blob(store.version_at("cfr:15:744", day).tree_blob))
    refs = dict(unit_refs(stub))
    tree = from_json(Node, store.blob(store.version_at("cfr:15:744:supp-4", day).tree_blob))
    assert text_hash(to_json(tree)).startswith(refs["cfr:15:744:supp-4"])
    return entry_keys(tree)


def test_the_limits_are_config_and_checked():
    tight = dataclasses.replace(ECFR, max_section_loss=0.2)
    assert tight.max_section_loss == 0.2 and EcfrConfig().max_entity_loss == 0.10
    env = {"REGWATCH_SOURCES__ECFR__MAX_ENTITY_LOSS": "1.5"}
    with pytest.raises(ConfigError, match=r"'sources.ecfr.max_entity_loss' must be a share"):
        config_module.load(None, env=env)


def test_a_tighter_limit_holds_what_the_default_applies(stored):
    one_section = without(demo_744(OCT1), "744.12")  # 1 of 4 = 25%
    tight = dataclasses.replace(ECFR, max_section_loss=0.2)
    assert fetch(stored, one_section, OCT9, ecfr=tight) == {"parts_held": 1}
    assert fetch(stored, one_section, OCT9)["sections_removed"] == 1


# --- confirmation -------------------------------------------------------------------------


THREE_GONE = ("744.1", "744.11", "744.12")  # 3 of 4 units: held unless confirmed


def test_the_same_content_on_the_next_day_confirms_it(stored):
    body = without(demo_744(OCT1), *THREE_GONE)
    assert fetch(stored, body, OCT9, on="2026-10-09") == {"parts_held": 1}
    assert fetch(stored, body, OCT9, on="2026-10-09") == {"parts_held": 1}  # a rerun: no
    counts = fetch(stored, body, OCT9, on="2026-10-10")
    assert counts == {"sections_removed": 3, "sections_unchanged": 1}
    # the removals are changes now, dated as the eCFR dated them
    assert removed_versions(stored) == [
        ("cfr:15:744.1", "2026-10-09"),
        ("cfr:15:744.11", "2026-10-09"),
        ("cfr:15:744.12", "2026-10-09"),
    ]
    [held] = stored.held_fetches(status=None)
    assert held.status == HeldStatus.APPLIED
    assert held.resolution == ("confirmed by the same content fetched on 2026-10-09 and 2026-10-10")


def test_the_versions_api_marking_them_removed_confirms_it(stored):
    body = without(demo_744(OCT1), *THREE_GONE)
    removed = tuple((f"cfr:15:{n}", "2026-10-09") for n in THREE_GONE)
    counts = fetch(stored, body, OCT9, removed=removed)
    assert counts["sections_removed"] == 3 and not stored.held_fetches(status=None)
    assert len(removed_versions(stored)) == 3


def test_a_removal_dated_before_the_stored_text_confirms_nothing(stored):
    body = without(demo_744(OCT1), *THREE_GONE)
    stale = tuple((f"cfr:15:{n}", "2017-01-01") for n in THREE_GONE)
    assert fetch(stored, body, OCT9, removed=stale) == {"parts_held": 1}


def test_the_spider_reads_removed_units_from_the_versions_rows():
    rows = (
        ContentVersion("744", date(2026, 10, 9), "744.12", "section", True),
        ContentVersion("744", date(2026, 10, 9), "Supplement No. 4 to Part 744", "appendix", True),
        ContentVersion("744", date(2026, 10, 9), "744.11", "section", False),
        ContentVersion("744", date(2026, 10, 20), "744.1", "section", True),  # later
        ContentVersion("746", date(2026, 10, 9), "746.1", "section", True),  # another part
    )
    assert _removed(15, "744", rows, OCT9) == (
        ("cfr:15:744.12", "2026-10-09"),
        ("cfr:15:744:supp-4", "2026-10-09"),
    )


def store_rule(store: Store, number: str, xml: bytes, on: str = "2026-10-09") -> None:
    """An FR rule stored as the crawl stores it, and its publication-day redlines."""
    fetched_at = f"{on}T11:30:00+00:00"
    run = store.start_run("crawl", None, fetched_at)
    data = json.dumps(DEMO.documents[number]).encode()
    doc = parse_document(data, parse_document_xml(xml), number)
    raw = {"json": data, "xml": xml}
    new = fr_version(
        doc, raw, run=run, fetched_at=fetched_at, source="federal_register", reference_for=None
    )
    snapshot(store, new)
    assert project_rules(store, run, fetched_at, failed=unexpected) >= 1


def unexpected(key: str, exc: Exception) -> None:
    raise AssertionError(f"the redlines of {key} failed") from exc


REMOVING = """<REGTEXT TITLE="15" PART="744">
<AMDPAR>1. Section 744.1 is removed.</AMDPAR>
<SECTION><SECTNO>&#xA7; 744.1</SECTNO><SUBJECT>[Removed]</SUBJECT></SECTION>
<AMDPAR>2. Section 744.11 is removed.</AMDPAR>
<SECTION><SECTNO>&#xA7; 744.11</SECTNO><SUBJECT>[Removed]</SUBJECT></SECTION>
<AMDPAR>3. Section 744.12 is removed.</AMDPAR>
<SECTION><SECTNO>&#xA7; 744.12</SECTNO><SUBJECT>[Removed]</SUBJECT></SECTION>
</REGTEXT>"""


def test_an_fr_rule_removing_the_sections_confirms_it(stored):
    body = without(demo_744(OCT1), *THREE_GONE)
    assert fetch(stored, body, OCT9, kind="daily") == {"parts_held": 1}
    rule = re.sub(
        r"<REGTEXT.*</REGTEXT>", REMOVING, DEMO.xml["2026-21390"].decode(), flags=re.S
    ).encode()
    store_rule(stored, "2026-21390", rule)  # effective 2026-10-09, as the daily job does
    run = stored.start_run("daily", "2026-10-09", "2026-10-09T12:00:00+00:00")
    assert review_held(stored, run, ECFR) == {"sections_removed": 3, "sections_unchanged": 1}
    [held] = stored.held_fetches(status=None)
    assert (held.status, held.resolution) == (HeldStatus.APPLIED, "confirmed by FR Doc. 2026-21390")
    assert len(removed_versions(stored)) == 3


def test_an_fr_rule_removing_an_entity_confirms_the_entity_list_losing_it(stored):
    # the demo's Entity List has five entries: losing one is 20%, held until explained;
    # the other change of that day (744.11) is applied at once
    counts = fetch(stored, demo_744(OCT9), OCT9)
    assert counts == {"parts_held": 1, "sections_changed": 1, "sections_unchanged": 2}
    assert stored.latest_version("cfr:15:744:supp-4").valid_from == "2026-10-01"
    store_rule(stored, "2026-21390", DEMO.xml["2026-21390"])  # removes Shenzhen Lumen
    run = stored.start_run("daily", "2026-10-09", "2026-10-09T12:00:00+00:00")
    assert review_held(stored, run, ECFR)["sections_changed"] == 1  # the Entity List
    assert stored.latest_version("cfr:15:744:supp-4").valid_from == "2026-10-09"
    assert stored.held_fetches(status=HeldStatus.APPLIED)[0].resolution == (
        "confirmed by FR Doc. 2026-21390"
    )


# --- the digest ----------------------------------------------------------------------------


def test_a_held_fetch_is_an_alert_at_the_top_of_the_digest(stored):
    fetch(stored, b'<DIV5 N="744" TYPE="PART"/>', OCT9, kind="daily")
    config = config_module.load(None, env={})
    digest = report_for(stored, OCT9, config)
    assert digest.alerts == (
        "eCFR 15 CFR part 744 as of 2026-10-09: 4 of 4 sections missing; 5 of 5 entries of "
        "15 CFR 744 Supp. No. 4 missing - held, not applied; it is applied once the eCFR "
        "versions API marks them removed, an FR rule removes them, or a later day's fetch "
        "returns the same content",
    )
    text = render("digest/digest.txt.j2", digest=digest)
    head = text.split("==", 1)[0]
    assert "!! eCFR 15 CFR part 744 as of 2026-10-09: 4 of 4 sections missing" in head
    fetch(stored, right_744(), OCT9, kind="daily")
    assert report_for(stored, OCT9, config).alerts == ()  # replaced by the right XML


def test_end_to_end_an_empty_part_then_the_right_one(demo_server, tmp_path):
    config = point_at(config_module.load(None, env={}), demo_server, tmp_path, ecfr=True)
    run_day(config, date(2026, 10, 5))
    right = demo_server.corpus.ecfr_full[("2026-10-09", 15, "744")]
    demo_server.corpus.ecfr_full[("2026-10-09", 15, "744")] = b'<DIV5 N="744" TYPE="PART"/>'
    report = run_day(config, OCT9)
    ecfr = next(s for s in report.sources if s.source == "ecfr")
    assert ecfr.stats == {"parts_held": 1}
    text = (config.digest_dir / "2026-10-09.txt").read_text()
    assert "!! eCFR 15 CFR part 744 as of 2026-10-09: 4 of 4 sections missing" in text
    demo_server.corpus.ecfr_full[("2026-10-09", 15, "744")] = right
    again = run_day(config, OCT9)  # the rerun converges: applied, nothing removed
    assert again.ok, again.errors
    store = Store.open(config.store_path)
    assert store.latest_version("cfr:15:744:supp-4").valid_from == "2026-10-09"
    assert removed_versions(store) == []
    assert "!! eCFR" not in (config.digest_dir / "2026-10-09.txt").read_text()
    store.close()


def test_end_to_end_a_held_entity_list_is_fetched_again_until_it_comes_back_right(
    demo_server, tmp_path
):
    config = point_at(config_module.load(None, env={}), demo_server, tmp_path, ecfr=True)
    run_day(config, date(2026, 10, 5))
    right = demo_server.corpus.ecfr_full[("2026-10-09", 15, "744")]
    xml = right.decode()
    row = re.search(r"<TR>(?:(?!</TR>).)*Pars Aero(?:(?!</TR>).)*</TR>", xml, flags=re.S)
    assert row is not None
    demo_server.corpus.ecfr_full[("2026-10-09", 15, "744")] = xml.replace(row[0], "").encode()
    report = run_day(config, OCT9)  # the rule removes Shenzhen Lumen; Pars Aero is unexplained
    ecfr = next(s for s in report.sources if s.source == "ecfr")
    assert ecfr.stats["parts_held"] == 1 and ecfr.stats["sections_changed"] == 1  # 744.11
    store = Store.open(config.store_path)
    assert store.latest_version("cfr:15:744.11").valid_from == "2026-10-09"
    assert store.latest_version("cfr:15:744:supp-4").valid_from != "2026-10-09"
    demo_server.corpus.ecfr_full[("2026-10-09", 15, "744")] = right
    demo_server.requests.clear()
    again = run_day(config, OCT9)  # the held date is asked again, and is right now
    assert again.ok, again.errors
    assert any("/full/2026-10-09/" in path for path, _ in demo_server.requests)
    assert store.latest_version("cfr:15:744:supp-4").valid_from == "2026-10-09"
    assert store.held_fetches() == []
    assert "!! eCFR" not in (config.digest_dir / "2026-10-09.txt").read_text()
    store.close()


# --- BIS pages without their main content ---------------------------------------------------


def page(main: str, title: str = "Press release") -> bytes:
    return (
        f"<!DOCTYPE html><html><head><title>{title} | Bureau of Industry and Security</title>"
        f'</head><body><header role="banner"><nav><a href="/">Home</a></nav></header>{main}'
        '<footer role="contentinfo"><p>1401 Constitution Ave. NW</p></footer></body></html>'
    ).encode()


GOOD = page(
    "<main><h1>BIS adds entities</h1><p>FOR IMMEDIATE RELEASE</p><p>Today BIS ...</p></main>"
)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (page("<main></main>"), "the page has no main content"),
        (page("<main><nav>Home</nav></main>"), "the page has no main content"),
        (
            b"<!DOCTYPE html><html><head><title>Scheduled Maintenance</title></head>"
            b"<body><h1>We'll be back shortly</h1></body></html>",
            "the page's main content is only a heading",
        ),
        (
            page(
                "<main><h1>Site under maintenance</h1><p>bis.gov is currently under "
                "maintenance. Please try again later.</p></main>",
                title="Site under maintenance",
            ),
            "the page is a maintenance notice ('Site under maintenance')",
        ),
        (
            page("<main><p>We'll be back soon. Thank you for your patience.</p></main>"),
            "the page is a maintenance notice",
        ),
    ],
)
def test_a_page_without_its_main_content_is_a_one_line_error(body, message):
    with pytest.raises(ParseError, match=re.escape(message)) as caught:
        parse_web_page(body, "/press-release/x", "https://www.bis.gov/x", "bis:/press-release/x")
    assert "\n" not in str(caught.value)


def test_a_real_page_that_mentions_maintenance_is_kept():
    body = page(
        "<main><h1>SNAP-R outage</h1><p>October 5, 2026</p><p>FOR IMMEDIATE RELEASE</p>"
        "<p>SNAP-R will be unavailable on Saturday, October 10, 2026, from 8:00 a.m. to noon "
        "for scheduled maintenance. Applications submitted before then are processed as usual; "
        "exporters with urgent license needs may call the Office of Exporter Services.</p></main>"
    )
    parsed = parse_web_page(body, "/press-release/snap-r", "https://x/p", "p")
    assert parsed.title == "SNAP-R outage"


def spider_304(headers: dict[str, str]):
    spider = BisSpider(day="2026-10-09")
    spider.name = "bis"
    request = Request("https://www.bis.gov/press-release/x", headers=headers)
    response = HtmlResponse(request.url, status=304, body=b"", request=request)
    return list(spider.parse_page(response, "/press-release/x", None, is_listing=False, hops=0))


def test_a_304_keeps_only_a_version_it_answers_for():
    [kept] = spider_304({"If-None-Match": '"abc"'})
    assert kept == Unchanged("bis", "bis:/press-release/x")
    [error] = spider_304({})  # a page never stored (its fetches so far failed) was asked whole
    assert isinstance(error, CrawlError) and error.target == "bis:/press-release/x"
    assert "HTTP 304 (not modified) to a request that named no stored version" in error.message


@pytest.fixture
def site():
    with ReplayServer(Corpus(web={"/news-updates": b"", "/press-release/x": GOOD})) as server:
        yield server


def test_a_maintenance_page_is_an_error_and_a_later_304_does_not_keep_it(site, tmp_path):
    base = point_at(config_module.load(None, env={}), site, tmp_path, bis=True)
    bis = dataclasses.replace(base.sources.bis, listings=(), pages=("/press-release/x",))
    config = dataclasses.replace(base, sources=dataclasses.replace(base.sources, bis=bis))
    assert run_day(config, date(2026, 10, 5)).ok
    maintenance = page(
        "<main><h1>Site under maintenance</h1><p>The site is down for maintenance.</p></main>"
    )
    site.corpus.web["/press-release/x"] = maintenance  # served with 200 and its own ETag
    for day in (date(2026, 10, 6), date(2026, 10, 7)):  # not kept by a 304 the next day
        report = run_day(config, day)
        [error] = report.errors
        assert error.target == "bis:/press-release/x" and "maintenance notice" in error.message
    site.corpus.web["/press-release/x"] = GOOD
    site.requests.clear()
    assert run_day(config, date(2026, 10, 8)).ok  # back: 304 against the stored version
    [(_, headers)] = [r for r in site.requests if r[0] == "/press-release/x"]
    assert headers.get("If-None-Match")
    store = Store.open(config.store_path)
    assert [v.valid_from for v in store.history("bis:/press-release/x")] == ["2026-10-05"]
    store.close()
