"""The federal_register spider: its callbacks on recorded responses (the API's caps, page
resets, corrections), the daily job with a crawl against the replay server on 127.0.0.1 and
its scripted faults, and one end-to-end crawl in a process of its own."""

from __future__ import annotations

import dataclasses
import json
from datetime import date

import pytest
from callbacks import call, follow, make_spider, response, starts
from conftest import counts, point_at, run_day
from sqlalchemy import select

from crawler import config as config_module
from crawler.demo.replay import Corpus, Fault, ReplayServer
from crawler.demo.replay.corpus import document_json, synthetic
from crawler.fetch.items import CrawlError, FetchedDocument
from crawler.fetch.settings import build_settings
from crawler.fetch.spiders.federal_register import FederalRegisterSpider
from storage import Store
from storage.schema import links

MON, TUE, THU = date(2026, 10, 5), date(2026, 10, 6), date(2026, 10, 8)


@pytest.mark.real_crawl_process  # the end-to-end crawl: `regwatch run` as it starts one
def test_a_day_is_fetched_parsed_stored_and_digested(demo_config, demo_server):
    report = run_day(demo_config, MON)
    assert report.ok, report.errors
    store = Store.open(demo_config.store_path)
    assert store.known_keys("fr:") == {"fr:2026-21001", "fr:2026-21002"}
    assert store.known_keys("pi:") == {"pi:2026-21110", "pi:2026-21111"}
    version = store.latest_version("fr:2026-21001")
    assert set(version.raw_blobs) == {"json", "xml"}
    assert store.blob(version.raw_blobs["xml"]) == Corpus.demo().xml["2026-21001"]
    text = (demo_config.digest_dir / "2026-10-05.txt").read_text()
    assert "Additions to the Entity List" in text and "91 FR 70101" in text
    assert text.index("== Final rules") < text.index("== Notices")
    assert "to be published 2026-10-06" in text
    agents = {h.get("User-Agent") for _, h in demo_server.requests}
    assert agents == {demo_config.http.user_agent}


def test_rerunning_a_day_adds_nothing_and_renders_the_same_digest(demo_config, demo_server):
    run_day(demo_config, MON)
    before = counts(demo_config)
    first = (demo_config.digest_dir / "2026-10-05.html").read_bytes()
    demo_server.requests.clear()
    report = run_day(demo_config, MON)
    assert report.ok
    after = counts(demo_config)
    assert {k: after[k] - before[k] for k in ("documents", "versions", "changes", "blobs")} == {
        "documents": 0,
        "versions": 0,
        "changes": 0,
        "blobs": 0,
    }
    assert (demo_config.digest_dir / "2026-10-05.html").read_bytes() == first
    conditional = [p for p, h in demo_server.requests if "If-None-Match" in h]
    assert any(p.endswith("/2026-21001.xml") for p in conditional)


def test_a_correction_is_linked_and_its_original_fetched(demo_config):
    report = run_day(demo_config, THU)  # the original (Monday) is not in this window
    assert report.ok
    store = Store.open(demo_config.store_path)
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(links.c.source, links.c.target).where(links.c.relation == "corrects")
        )
        assert [tuple(r) for r in rows] == [("fr:C1-2026-21001", "fr:2026-21001")]
    assert store.document("fr:2026-21001").meta["reference_for"] == "C1-2026-21001"
    text = (demo_config.digest_dir / "2026-10-08.txt").read_text()
    assert "Corrects FR Doc. 2026-21001: Additions to the Entity List (91 FR 70101)" in text
    assert "== Final rules (1) ==" in text  # the original is not listed as new


def test_truncated_xml_is_an_error_not_a_version_and_the_next_run_converges(tmp_path):
    corpus = Corpus.demo()
    fault = Fault(r"/2026-21001\.xml$", truncate=900)
    with ReplayServer(corpus, faults=[fault]) as server:
        config = point_at(config_module.load(None, env={}), server, tmp_path)
        report = run_day(config, MON)
        assert report.status == "degraded"
        [error] = report.errors
        assert error.target == "fr:2026-21001" and "malformed or truncated XML" in error.message
        store = Store.open(config.store_path)
        assert store.latest_version("fr:2026-21001") is None
        assert store.latest_version("fr:2026-21002") is not None
        footer = (config.digest_dir / "2026-10-05.txt").read_text()
        assert "Federal Register: degraded" in footer and "malformed or truncated" in footer
        server.faults.clear()
        again = run_day(config, MON)
        assert again.ok and not again.errors
        assert store.latest_version("fr:2026-21001") is not None
        assert "Federal Register: ok" in (config.digest_dir / "2026-10-05.txt").read_text()


def test_connection_cut_short_is_an_error(tmp_path):
    fault = Fault(r"/2026-21002\.json$", truncate=100)
    with ReplayServer(Corpus.demo(), faults=[fault]) as server:
        config = point_at(config_module.load(None, env={}), server, tmp_path)
        report = run_day(config, MON)
    assert report.status == "degraded"
    assert [e.target for e in report.errors] == ["fr:2026-21002"]
    assert "malformed JSON" in report.errors[0].message


def test_html_maintenance_page_in_place_of_json_fails_the_source(tmp_path):
    fault = Fault(r"^/api/v1/documents\.json", html=True)
    with ReplayServer(Corpus.demo(), faults=[fault]) as server:
        config = point_at(config_module.load(None, env={}), server, tmp_path)
        report = run_day(config, MON)
    assert report.status == "failed" and report.sources[0].status == "failed"
    messages = [e.message for e in report.errors]
    assert any(
        "HTML/XML page where JSON was expected" in m and "Maintenance" in m for m in messages
    )
    assert Store.open(config.store_path).known_keys("fr:") == set()


def test_retry_after_is_honoured_on_503_and_429(tmp_path):
    faults = [
        Fault(r"/2026-21001\.json$", times=1, status=503, retry_after=1),
        Fault(r"/2026-21002\.json$", status=429, retry_after=1),
    ]
    with ReplayServer(Corpus.demo(), faults=faults) as server:
        config = point_at(config_module.load(None, env={}), server, tmp_path)
        config = dataclasses.replace(config, http=dataclasses.replace(config.http, retries=1))
        report = run_day(config, MON)
        assert len(server.paths("/api/v1/documents/2026-21001.json")) == 2
        assert len(server.paths("/api/v1/documents/2026-21002.json")) == 2
    [error] = report.errors
    assert error.target == "fr:2026-21002"
    assert error.message.startswith("HTTP 429") and "Retry-After: 1" in error.message
    assert Store.open(config.store_path).known_keys("fr:") == {"fr:2026-21001"}


# --- callbacks on recorded responses (tests/callbacks.py): what the spider decides ---------


def fr_spider(config, since: date, until: date) -> FederalRegisterSpider:
    return make_spider(
        FederalRegisterSpider,
        config,
        since=since.isoformat(),
        until=until.isoformat(),
        public_inspection_on=until.isoformat(),
    )


def test_a_window_over_the_split_threshold_is_split(tmp_path):
    corpus = synthetic(40, date(2026, 10, 1), 4)
    with ReplayServer(corpus) as server:
        config = point_at(
            config_module.load(None, env={}), server, tmp_path, split_above=15, per_page=7
        )
        crawled = follow(starts(fr_spider(config, date(2026, 10, 1), date(2026, 10, 4))))
    windows = {
        p.split("gte%5D=")[1][:10] + ".." + p.split("lte%5D=")[1][:10]
        for p in crawled.urls("/api/v1/documents.json")
    }
    assert crawled.of(CrawlError) == []
    assert len({d.number for d in crawled.of(FetchedDocument)}) == 40
    assert "2026-10-01..2026-10-04" in windows  # asked once, then split
    assert {"2026-10-01..2026-10-01", "2026-10-04..2026-10-04"} <= windows


def test_a_one_day_window_over_the_10000_cap_fails_loudly_and_the_rest_is_fetched(tmp_path):
    corpus = synthetic(10_001, MON, 1)  # a real 10,001-document day, as the API would count it
    for i in range(3):
        number = f"2026-8000{i}"
        corpus.documents[number] = document_json(number, TUE, "Rule", f"Tuesday rule {i}")
    with ReplayServer(corpus) as server:
        config = point_at(config_module.load(None, env={}), server, tmp_path)
        crawled = follow(starts(fr_spider(config, MON, TUE)))
    [error] = crawled.of(CrawlError)
    assert error.fatal  # the source fails (the pipeline: test_html_maintenance_page_...)
    assert error.target == "search 2026-10-05..2026-10-05"
    assert "2026-10-05 alone has 10,001 results, at the API's 10,000-result cap" in error.message
    # the two-day window, then each day once: no paging into the reset
    assert len(crawled.urls("/api/v1/documents.json")) == 3
    assert {d.number for d in crawled.of(FetchedDocument)} == {f"2026-8000{i}" for i in range(3)}


def test_a_page_reset_by_the_api_stops_the_window_instead_of_looping(tmp_path):
    corpus = synthetic(25, date(2026, 10, 5), 1)
    with ReplayServer(corpus, faults=[Fault(r"page=2$", reset_page=True)]) as server:
        config = point_at(config_module.load(None, env={}), server, tmp_path, per_page=10)
        crawled = follow(starts(fr_spider(config, MON, MON)))
    assert len(crawled.urls("/api/v1/documents.json")) == 2
    assert any("repeats results of an earlier page" in e.message for e in crawled.of(CrawlError))
    assert len({d.number for d in crawled.of(FetchedDocument)}) == 10


def test_a_per_page_the_api_ignores_is_detected(tmp_path):
    corpus = synthetic(30, date(2026, 10, 5), 1)
    with ReplayServer(corpus) as server:
        config = point_at(config_module.load(None, env={}), server, tmp_path, per_page=2500)
        crawled = follow(starts(fr_spider(config, MON, MON)))
    assert any("20 results where 30 were due" in e.message for e in crawled.of(CrawlError))


def test_a_correction_asks_for_its_original_once_with_the_xml_on_the_configured_host(
    demo_config, demo_server
):
    spider = fr_spider(demo_config, THU, THU)
    [json_request] = list(spider._document("C1-2026-21001"))
    body = json.dumps(Corpus.demo().documents["C1-2026-21001"]).encode()
    out = call(json_request, response(json_request, body))
    original, xml = out
    assert original.url.endswith("/api/v1/documents/2026-21001.json")
    assert original.cb_kwargs["reference_for"] == "C1-2026-21001"
    assert xml.url.startswith(demo_server.base + "/documents/full_text/xml/")  # rebased
    assert xml.cb_kwargs["fetched"].number == "C1-2026-21001"
    assert call(json_request, response(json_request, body))[0].url == xml.url  # asked once


def test_an_xml_url_outside_the_configured_hosts_is_refused(demo_config):
    spider = fr_spider(demo_config, MON, MON)
    [request] = list(spider._document("2026-21001"))
    doc = dict(Corpus.demo().documents["2026-21001"])
    doc["full_text_xml_url"] = "https://evil.example/x.xml"
    [error] = call(request, response(request, json.dumps(doc).encode()))
    assert isinstance(error, CrawlError) and error.target == "fr:2026-21001"
    assert "refusing a URL outside the configured hosts" in error.message


# --- the daily job with a crawl (forked: tests/forkcrawl.py) ------------------------------


def test_an_unreachable_host_is_one_line_and_stores_nothing(tmp_path):
    with ReplayServer(Corpus()) as server:
        config = point_at(config_module.load(None, env={}), server, tmp_path)
    fr = dataclasses.replace(
        config.sources.federal_register,
        api_base="http://127.0.0.1:9/api/v1",
        site_base="http://127.0.0.1:9",
    )
    config = dataclasses.replace(
        config, sources=dataclasses.replace(config.sources, federal_register=fr)
    )
    report = run_day(config, MON)
    assert report.status == "failed"
    assert {e.message for e in report.errors} == {"cannot reach 127.0.0.1:9: connection refused"}
    assert counts(config)["versions"] == 0


def test_telnet_and_remote_control_are_off_and_rates_are_the_published_ones():
    config = config_module.load(None, env={})
    settings = build_settings(config, run_id=1, now="2026-10-05T11:00:00+00:00")
    assert settings["TELNETCONSOLE_ENABLED"] is False
    assert settings["REMOTE_CONTROL_ENABLED"] is False
    assert settings["DOWNLOAD_SLOTS"]["fr-api"]["delay"] == 0.2
    assert settings["DOWNLOAD_SLOTS"]["fr-xml"]["delay"] == 1.0
    assert "regwatch" in settings["USER_AGENT"]


def test_an_edited_document_is_a_new_version_typography_folded(demo_config, demo_server):
    run_day(demo_config, MON)
    corpus = demo_server.corpus
    original = corpus.xml["2026-21002"]
    corpus.xml["2026-21002"] = original.replace(b"&#x201C;EAR&#x201D;", b'"EAR"')
    run_day(demo_config, MON)
    corpus.xml["2026-21001"] = corpus.xml["2026-21001"].replace(
        b"No. 14, Azadi Street", b"No. 41, Azadi Street"
    )
    report = run_day(demo_config, MON)
    assert report.sources[0].stats["changed"] == 1
    store = Store.open(demo_config.store_path)
    changes = {c.document: c for c in store.changes_in([1, 2, 3])}
    assert changes["fr:2026-21002"].substantive is False
    assert changes["fr:2026-21001"].substantive is True
    assert changes["fr:2026-21001"].stats["substantive_fields"] == ["xml.regtexts", "xml.tables"]
    text = (demo_config.digest_dir / "2026-10-05.txt").read_text()
    assert "== Changed since last seen (1) ==" in text
    assert "* Additions to the Entity List -- changed: regulatory text, tables" in text
    assert "(1 change of typography or whitespace only not shown.)" in text
