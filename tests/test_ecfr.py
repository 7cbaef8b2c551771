"""The eCFR source for real: the ecfr spider in a Scrapy crawl against the replay server (one
end to end, in a process of its own), sections versioned by effective date, the digest's eCFR
section, diff and history."""

from __future__ import annotations

import json
import re
from datetime import date

import pytest
from click.testing import CliRunner, Result
from conftest import point_at, run_day

from crawler import config as config_module
from crawler.cli import main
from crawler.clock import utcnow
from crawler.demo.replay import Fault, ReplayServer
from crawler.errors import NotCovered, UsageError
from crawler.jobs import daily as job
from crawler.query.citations import parse_citation
from crawler.query.lookup import Lookup
from storage import Store

MON, FRI = date(2026, 10, 5), date(2026, 10, 9)
UNITS = {"cfr:15:744", "cfr:15:744.1", "cfr:15:744.11", "cfr:15:744.12", "cfr:15:744:supp-4"}


@pytest.fixture
def config(demo_server, tmp_path):
    return point_at(config_module.load(None, env={}), demo_server, tmp_path, ecfr=True)


def full_dates(server: ReplayServer) -> list[str]:
    return re.findall(r"/full/(\d{4}-\d\d-\d\d)/", " ".join(server.paths("/api/versioner")))


@pytest.mark.real_crawl_process  # the end-to-end crawl: `regwatch run` as it starts one
def test_first_run_stores_each_section_by_the_date_it_took_effect(config, demo_server):
    report = run_day(config, MON)
    assert report.ok, report.errors
    store = Store.open(config.store_path)
    assert {k for k in store.keys("cfr:") if "~" not in k} == UNITS
    assert [v.valid_from for v in store.history("cfr:15:744.11")] == ["2026-10-01"]
    assert full_dates(demo_server) == ["2026-10-01"]
    fetches = [h for p, h in demo_server.requests if "/full/" in p]
    assert all("gzip" in h.get("Accept-Encoding", "") for h in fetches)


def test_a_later_change_is_a_version_with_its_redline_and_source_in_the_digest(config):
    run_day(config, MON)
    report = run_day(config, FRI)
    assert report.ok, report.errors
    ecfr = next(s for s in report.sources if s.source == "ecfr")
    assert ecfr.stats == {"sections_changed": 2, "sections_unchanged": 2}
    store = Store.open(config.store_path)
    assert [v.valid_from for v in store.history("cfr:15:744:supp-4")] == [
        "2026-10-01",
        "2026-10-09",
    ]
    assert [v.valid_from for v in store.history("cfr:15:744.12")] == ["2026-10-01"]
    text = (config.digest_dir / "2026-10-09.txt").read_text()
    assert "== eCFR: prior rule text changed (2) ==" in text
    assert "(2) Preparing to transfer{+, or transferring,+} items" in text
    assert "Source: 91 FR 70101 = FR Doc. 2026-21001: Additions to the Entity List" in text
    assert "Address: No. [-14-]{+41+}, Azadi Street" in text
    assert "eCFR: ok, 2026-10-09 07:30 EDT; 2 changed" in text


def test_the_run_never_asks_past_up_to_date_as_of(config, demo_server):
    run_day(config, MON)
    run_day(config, date(2026, 10, 14))  # the eCFR is current to 2026-10-09 only
    assert max(full_dates(demo_server)) == "2026-10-09"


def test_truncated_part_xml_is_an_error_never_a_removed_section(config, demo_server):
    run_day(config, MON)
    demo_server.faults.append(Fault(r"/full/2026-10-09/", truncate=2000))
    report = run_day(config, FRI)
    ecfr = next(s for s in report.sources if s.source == "ecfr")
    assert ecfr.status == "degraded"
    [error] = [e for e in report.errors if e.source == "ecfr"]
    assert error.target == "cfr:15:744" and "malformed or truncated XML" in error.message
    store = Store.open(config.store_path)
    assert sum(len(store.history(k)) for k in UNITS) == len(UNITS)  # nothing stored
    assert all(store.latest_version(k).valid_from == "2026-10-01" for k in UNITS)
    demo_server.faults.clear()
    again = run_day(config, FRI)
    assert again.ok
    assert store.latest_version("cfr:15:744.11").valid_from == "2026-10-09"
    assert not [
        v
        for k in UNITS
        for v in store.history(k)
        if json.loads(store.blob(v.tree_blob)).get("kind") == "removed"
    ]


def test_503_while_a_title_is_processing_is_retried_after_retry_after(config, demo_server):
    demo_server.faults.append(Fault(r"/versions/title-15", times=1, status=503, retry_after=1))
    report = run_day(config, MON)
    assert report.ok, report.errors
    assert len(demo_server.paths("/api/versioner/v1/versions/title-15.json")) == 2


def test_a_section_dropped_from_its_part_is_a_removed_version(config, demo_server):
    run_day(config, MON)
    corpus = demo_server.corpus
    xml = corpus.ecfr_full[("2026-10-09", 15, "744")].decode()
    start = xml.index('<DIV8 N="744.12"')
    corpus.ecfr_full[("2026-10-09", 15, "744")] = (
        xml[:start] + xml[xml.index("</DIV8>", start) + len("</DIV8>") :]
    ).encode()
    report = run_day(config, FRI)
    ecfr = next(s for s in report.sources if s.source == "ecfr")
    assert ecfr.stats["sections_removed"] == 1
    text = (config.digest_dir / "2026-10-09.txt").read_text()
    assert (
        "* 15 CFR 744.12 -- § 744.12 Restrictions on exports to certain terrorist end users."
        " (removed, in effect 2026-10-09)" in text
    )


def backfill_744(config, since=date(2017, 1, 1)):
    now = utcnow()
    return job.backfill(
        config, "ecfr", since, FRI, now, lambda: now, progress=False, title=15, part="744"
    )


def test_backfill_fetches_only_dates_that_changed_and_resumes(config, demo_server):
    demo_server.faults.append(Fault(r"/full/2026-10-09/", status=500))
    first = backfill_744(config)
    assert first.status in ("failed", "degraded")
    assert full_dates(demo_server).count("2026-10-01") == 1
    demo_server.faults.clear()
    demo_server.requests.clear()
    second = backfill_744(config)
    assert second.ok, second.errors
    assert full_dates(demo_server) == ["2026-10-09"]  # 2026-10-01 was kept: not asked again
    store = Store.open(config.store_path)
    assert [v.valid_from for v in store.history("cfr:15:744.11")] == ["2026-10-01", "2026-10-09"]


@pytest.mark.parametrize(
    "typed, key",
    [
        ("15 CFR 744.11", "cfr:15:744.11"),
        ("744.11", "cfr:15:744.11"),
        ("§ 744.11", "cfr:15:744.11"),
        ("cfr:15:744.11", "cfr:15:744.11"),
        ("Supp. No. 4 to Part 744", "cfr:15:744:supp-4"),
        ("Supplement No. 4 to Part 744", "cfr:15:744:supp-4"),
        ("15 CFR 744 Supp. No. 4", "cfr:15:744:supp-4"),
        ("15 CFR 744", "cfr:15:744"),
        ("15 CFR Part 744", "cfr:15:744"),
        ("Appendix A to Part 107", "cfr:15:107:app-A"),
        ("14 CFR 107.2", "cfr:14:107.2"),
    ],
)
def test_citations_as_people_type_them(typed, key):
    assert parse_citation(typed, [], [15]) == key


def test_an_unknown_citation_names_close_matches():
    known = sorted(UNITS)
    with pytest.raises(UsageError, match=r"no 15 CFR 744\.13 in the store .*close matches: "):
        parse_citation("744.13", known, [15])


def test_diff_fetches_a_missing_version_on_demand_and_keeps_it(config):
    store = Store.open(config.store_path)
    lookup = Lookup(store, config, utcnow())
    key = lookup.resolve("Supp. No. 4 to Part 744")
    found = lookup.compare(key, date(2026, 10, 3), date(2026, 10, 9))
    assert (found.old.day, found.new.day) == ("2026-10-01", "2026-10-09")
    assert {c.op for c in found.diff.changes} >= {"added", "removed", "changed"}
    assert [v.valid_from for v in store.history(key)] == ["2026-10-01", "2026-10-09"]
    with pytest.raises(UsageError, match="no point-in-time text before 2017-01-01"):
        lookup.compare(key, date(2016, 6, 1), None)
    with pytest.raises(UsageError, match="the eCFR is up to date as of 2026-10-09"):
        lookup.compare(key, None, date(2026, 12, 1))


def test_an_implausible_version_fetched_on_demand_is_held_and_said_not_applied(config, demo_server):
    run_day(config, MON)  # the part as of 2026-10-01
    demo_server.corpus.ecfr_full[("2026-10-09", 15, "744")] = b'<DIV5 N="744" TYPE="PART"/>'
    store = Store.open(config.store_path)
    lookup = Lookup(store, config, utcnow())
    with pytest.raises(NotCovered, match=r"2026-10-09 is held as implausible \(4 of 4 sections"):
        lookup.compare("cfr:15:744.11", None, date(2026, 10, 9))
    assert [v.valid_from for v in store.history("cfr:15:744.11")] == ["2026-10-01"]
    assert [h.valid_from for h in store.held_fetches("cfr:15:744")] == ["2026-10-09"]


def test_diff_and_history_commands_end_to_end(config, tmp_path):
    run_day(config, MON)
    run_day(config, FRI)
    toml = tmp_path / "regwatch.toml"
    toml.write_text(
        '[store]\npath = "regwatch.db"\n[sources.ecfr]\n'
        'api_base = "http://127.0.0.1:9/api/versioner/v1"\n'
    )

    def regwatch(*args: str) -> Result:  # the command in this process (tests/test_cli.py: own)
        return CliRunner().invoke(main, ["--config", str(toml), *args])

    text = regwatch("diff", "15 CFR 744.11")
    assert text.exit_code == 0, text.stderr
    assert "2026-10-01 -> 2026-10-09, 1 change (1 substantive)" in text.stdout
    assert "{+, or transferring,+}" in text.stdout and "\x1b[" not in text.stdout
    model = json.loads(regwatch("diff", "744.11", "--format", "json").stdout)
    assert (model["from"], model["to"], model["key"]) == (
        "2026-10-01",
        "2026-10-09",
        "cfr:15:744.11",
    )
    html = regwatch("diff", "Supp. No. 4 to Part 744", "--format", "html").stdout
    assert html.startswith("<!DOCTYPE html>") and "<ins" in html and "<del" in html
    unified = regwatch("diff", "15 CFR 744", "--format", "unified").stdout
    assert unified.startswith("--- cfr:15:744@2026-10-01\n+++ cfr:15:744@2026-10-09\n")
    history = regwatch("history", "Supplement No. 4 to Part 744")
    assert history.stdout.splitlines()[3:5] == [
        "  2026-10-09  v2  4 changes (4 substantive)",
        "      source: 91 FR 70101 = FR Doc. 2026-21001: Additions to the Entity List",
    ]
    unknown = regwatch("diff", "744.13")
    assert unknown.exit_code == 2
    assert unknown.stderr.startswith("regwatch: no 15 CFR 744.13 in the store")
    assert len(unknown.stderr.strip().splitlines()) == 1


def test_a_new_rule_is_redlined_against_the_prior_text_on_publication_day(config):
    report = run_day(config, MON)
    assert report.ok, report.errors
    store = Store.open(config.store_path)
    key = "cfr:15:744:supp-4~fr:2026-21001"
    assert store.document(key).meta["op"] == "revised"
    assert store.latest_version(key).valid_from == "2026-10-05"  # the rule's effective date
    text = (config.digest_dir / "2026-10-05.txt").read_text()
    assert "Against the prior rule text: 15 CFR 744 Supp. No. 4 -- revised" in text
    assert "+ Supp. No. 4 to Part 744, China: Hanzhou Quantum Instruments Co., Ltd.  added" in text
    assert "instruction, 91 FR 70101: " in text  # the rule's page, as printed
    again = run_day(config, MON)
    assert again.ok and len(store.history(key)) == 1  # a rerun adds no redline version


def test_a_rule_s_redline_can_be_compared_with_the_ecfr_text_that_followed(config):
    run_day(config, MON)
    run_day(config, FRI)
    store = Store.open(config.store_path)
    lookup = Lookup(store, config, utcnow())
    found = lookup.compare_rule("cfr:15:744:supp-4", "2026-21001", None)
    assert found.new.day == "2026-10-09"
    rows = {(c.op, c.path[-1]) for c in found.diff.changes if len(c.path) == 2}
    # what the eCFR shows beyond rule 2026-21001: the later removal and the later correction
    assert (
        "removed",
        "CHINA, PEOPLE'S REPUBLIC OF|Shenzhen Lumen Photonics Technology Co.",
    ) in rows
    assert ("changed", "IRAN|Pars Aero Parts Trading") in rows
    with pytest.raises(UsageError, match="has no redline"):
        lookup.compare_rule("cfr:15:744.11", "2026-21001", None)


def test_every_page_of_the_versions_api_is_read(config, demo_server):
    demo_server.corpus.ecfr_page_size = 2  # six rows: three pages
    run_day(config, MON)
    report = run_day(config, FRI)
    assert report.ok, report.errors
    pages = [p for p in demo_server.paths("/api/versioner/v1/versions/") if "page=" in p]
    assert pages  # pages 2 and 3 were asked for
    store = Store.open(config.store_path)
    assert store.latest_version("cfr:15:744:supp-4").valid_from == "2026-10-09"


def test_a_backfill_starts_from_the_text_in_effect_on_since(config, demo_server):
    report = backfill_744(config, since=date(2026, 10, 5))
    assert report.ok, report.errors
    store = Store.open(config.store_path)
    # the 2026-10-01 text was in effect on 2026-10-05: it is stored under its own date
    assert [v.valid_from for v in store.history("cfr:15:744.11")] == ["2026-10-01", "2026-10-09"]


def test_entity_list_changes_entry_by_entry_with_the_rules_behind_them(config):
    from crawler.query.entities import history

    run_day(config, MON)
    run_day(config, FRI)
    store = Store.open(config.store_path)
    changes = [
        (c.op.entry_word, c.country, c.entity, c.fields, c.fr_document)
        for c in history(store, "2026-10-01").changes
    ]
    assert changes == [
        (
            "added",
            "CHINA, PEOPLE'S REPUBLIC OF",
            "Hanzhou Quantum Instruments Co., Ltd.",
            (),
            "2026-21001",
        ),
        (  # in order of legal effect: the correction took effect on 2026-10-08
            "revised",
            "IRAN",
            "Pars Aero Parts Trading",
            ("Address", "Federal Register citation"),
            "C1-2026-21001",
        ),
        (
            "removed",
            "CHINA, PEOPLE'S REPUBLIC OF",
            "Shenzhen Lumen Photonics Technology Co.",
            (),
            "2026-21390",
        ),
    ]
    iran = history(store, "2026-10-01", "iran").changes
    assert [c.entity for c in iran] == ["Pars Aero Parts Trading"]
    text = (config.digest_dir / "2026-10-09.txt").read_text()
    assert "Entity List: 1 added (China 1), 1 removed (China 1), 1 revised (Iran 1)" in text


def test_an_eccn_s_history_from_the_stored_ccl(tmp_path):
    from pathlib import Path

    from crawler.config import EcfrConfig
    from crawler.fetch.items import FetchedCfrPart
    from crawler.query.entities import eccn_history
    from crawler.snapshot.versioning import store_cfr_part

    xml = (Path(__file__).parent / "data" / "ecfr" / "part-774_supp-1_excerpt.xml").read_bytes()
    later = xml.replace(b"34 or more physical qubits", b"40 or more physical qubits").replace(
        b"NS, RS, AT</P>\n<P>a. Quantum", b"NS, RS, AT, UI</P>\n<P>a. Quantum"
    )
    store = Store.open(tmp_path / "regwatch.db")
    run = store.start_run("crawl", None, "2026-10-01T00:00:00+00:00")
    for day, body in ((date(2026, 10, 1), xml), (date(2026, 10, 8), later)):
        store_cfr_part(
            store,
            FetchedCfrPart("ecfr", 15, "774", day, "x", body, "2026-10-08T00:00:00+00:00"),
            run,
            EcfrConfig(site_base="https://x"),
        )
    [change] = eccn_history(store, "4A906")
    assert (change.day, change.op) == ("2026-10-08", "changed")
    assert change.parts == ("reasons for control", "text")
    assert "[-34-]{+40+}" in change.text
    assert eccn_history(store, "3A090") == []
