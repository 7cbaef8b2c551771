"""Feeds parsed back with feedparser: valid, complete entries, ids stable across rebuilds."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import feedparser
import pytest
from conftest import point_at, run_day

from crawler import config as config_module
from crawler.config import SubscriptionConfig
from crawler.deliver.feeds import FeedItem, render_feed, write_feeds
from crawler.digest.select import Facets
from crawler.parse.fr_json import parse_document
from storage import Store

MON, FRI = date(2026, 10, 5), date(2026, 10, 9)


@pytest.fixture
def config(demo_server, tmp_path):
    base = point_at(config_module.load(None, env={}), demo_server, tmp_path, ecfr=True)
    subs = (
        SubscriptionConfig(
            name="Entity List China", entity_countries=("CHINA, PEOPLE'S REPUBLIC OF",)
        ),
        SubscriptionConfig(name="quantum", topics=("quantum",)),
        SubscriptionConfig(name="proposed rules", types=("PRORULE",)),
    )
    return dataclasses.replace(base, subscriptions=subs)


def test_feeds_are_valid_complete_and_filtered(config):
    run_day(config, MON)
    run_day(config, FRI)
    folder = config.root / "feeds"
    everything = feedparser.parse(folder / "all.atom")
    assert everything.bozo == 0
    # 7 FR documents + 2 eCFR changes + 3 filings put on public inspection (alerts), and 5
    # rules' dates (the rules in effect on the two days, what the eCFR shows on Friday)
    dates = [e for e in everything.entries if e.id.startswith("urn:regwatch:date:")]
    assert len(everything.entries) - len(dates) == 12 and len(dates) == 5
    filings = [e for e in everything.entries if e.id.startswith("urn:regwatch:alert:filing:")]
    assert len(filings) == 3 and all("public-inspection" in e.link for e in filings)
    for entry in everything.entries:
        assert entry.id and entry.title and entry.updated and entry.link
    rss = feedparser.parse(folder / "all.rss")
    assert rss.bozo == 0 and len(rss.entries) == 17
    china = feedparser.parse(folder / "entity-list-china.atom")
    assert [e.id for e in china.entries] == ["urn:regwatch:change:cfr:15:744:supp-4:2026-10-09"]
    quantum = feedparser.parse(folder / "quantum.atom")
    # the quantum rule, and the Entity List change that adds Hanzhou Quantum Instruments
    assert sorted(e.id for e in quantum.entries) == [
        "urn:regwatch:change:cfr:15:744:supp-4:2026-10-09",
        "urn:regwatch:fr:2026-21250",
    ]
    proposed = feedparser.parse(folder / "proposed-rules.rss")
    assert [e.id for e in proposed.entries] == ["urn:regwatch:fr:2026-21110"]


def test_ids_and_updated_are_stable_across_rebuilds(config):
    run_day(config, MON)
    store = Store.open(config.store_path)
    first = feedparser.parse(config.root / "feeds" / "all.atom")
    seen = [(e.id, e.updated) for e in first.entries]
    for _ in range(30):
        write_feeds(store, config)
        again = feedparser.parse(config.root / "feeds" / "all.atom")
        assert [(e.id, e.updated) for e in again.entries] == seen


def test_feed_content_is_escaped(config, demo_server):
    demo_server.corpus.documents["2026-21002"]["title"] = "<script>alert(1)</script>"
    demo_server.corpus.documents["2026-21002"]["abstract"] = "<img src=x onerror=alert(2)>"
    run_day(config, MON)
    raw = (config.root / "feeds" / "all.atom").read_text()
    assert "<script>" not in raw and "<img" not in raw
    parsed = feedparser.parse(config.root / "feeds" / "all.atom")
    assert parsed.bozo == 0


CONTROLS = "\x01\x00\x08\x0b\x1b\x7f\x85\x9f"  # C0 (not tab or newline), DEL, C1


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict | list):
        for item in value.values() if isinstance(value, dict) else value:
            yield from _strings(item)


def _controls_in(tree: bytes) -> set[str]:
    """The control characters (and lone surrogates) in any string of a stored JSON tree."""
    text = "".join(_strings(json.loads(tree)))
    return {c for c in text if c in CONTROLS or "\ud800" <= c <= "\udfff"}


def test_control_characters_are_removed_and_every_output_still_renders(config, demo_server):
    """U+0001 and friends in an FR title (JSON, and XML, where U+0000 can't be), eCFR
    paragraph text and a BIS press release: each document is stored, its text is clean,
    and the feeds, digest and site are written."""
    corpus = demo_server.corpus
    doc = corpus.documents["2026-21001"]
    doc["title"] = "Additions\x01 to the\x00 Entity\x7f List\x85"
    doc["agencies"][1]["name"] = "Industry and\x01 Security Bureau"
    corpus.xml["2026-21002"] = corpus.xml["2026-21002"].replace(
        b"Aerotrans Cargo LLC", b"Aerotrans\x01 Cargo&#x1;&#11; LLC"
    )
    old = ("2026-10-01", 15, "744")
    corpus.ecfr_full[old] = corpus.ecfr_full[old].replace(
        b"Supporting persons", b"Supporting\x01 persons&#x1b;"
    )
    press = "/press-release/bis-proposes-revisions-license-exception-aca"
    corpus.web[press] = corpus.web[press].replace(b"Comments are", b"Comments\x01\x7f are")
    config = dataclasses.replace(
        config, sources=dataclasses.replace(config.sources, bis=_bis_on(config, demo_server))
    )
    run_day(config, MON)
    store = Store.open(config.store_path)
    trees = {
        key: store.blob(store.history(key)[-1].tree_blob)
        for key in ("fr:2026-21001", "fr:2026-21002", "cfr:15:744.11", f"bis:{press}")
    }
    assert b"Additions to the Entity List" in trees["fr:2026-21001"]
    assert b"Industry and Security Bureau" in trees["fr:2026-21001"]
    assert b"Aerotrans Cargo LLC" in trees["fr:2026-21002"]
    assert b"Supporting persons" in trees["cfr:15:744.11"]
    assert b"Comments are due" in trees[f"bis:{press}"]
    for key, tree in trees.items():
        assert _controls_in(tree) == set(), key
    raw = store.history("fr:2026-21002")[-1].raw_blobs["xml"]
    assert b"Aerotrans\x01 Cargo&#x1;&#11; LLC" in store.blob(raw)  # stored as fetched
    for name in ("all.atom", "all.rss"):
        parsed = feedparser.parse(config.root / "feeds" / name)
        assert parsed.bozo == 0, name
        ids = {e.id for e in parsed.entries}
        assert {"urn:regwatch:fr:2026-21001", "urn:regwatch:fr:2026-21002"} <= ids, name
        assert any("Additions to the Entity List" in e.title for e in parsed.entries), name
        assert f"urn:regwatch:bis:{press}" in ids, name  # BIS pages reach the feeds too
    assert (config.digest_dir / "2026-10-05.html").is_file()
    assert (config.root / "site" / "index.html").is_file()


def test_a_lone_surrogate_escaped_in_json_is_removed_too():
    raw = Path(__file__).parents[1] / "crawler/demo/replay/corpus/demo/documents/2026-21002.json"
    obj = json.loads(raw.read_bytes())
    obj["title"] = "Order\u0001 Renewing\ud800 Denial\u0000"
    doc = parse_document(json.dumps(obj).encode(), None, "2026-21002.json")
    assert doc.title.replace("\ufffd", "") == "Order Renewing Denial"  # U+FFFD: JSON loader's
    assert not any("\ud800" <= c <= "\udfff" for c in doc.title)


def _bis_on(config, server):
    return dataclasses.replace(config.sources.bis, enabled=True, site_base=server.base)


def test_a_feed_written_from_an_older_store_with_control_characters_is_valid(config):
    """Text stored before the parsers removed controls can't break the feed writer."""
    item = FeedItem(
        id="urn:regwatch:fr:2026-00001",
        title="Rule:\x01 a title\x00",
        link="https://www.federalregister.gov/d/2026-00001\x01",
        updated=datetime(2026, 10, 5, tzinfo=UTC),
        summary="An abstract\x1b with <b>markup</b>\x85",
        content="<p>Text\x01</p>",
        categories=("Rule\x02",),
        facets=Facets(),
        authors=("Industry and\x01 Security Bureau",),
    )
    for fmt in ("atom", "rss"):
        parsed = feedparser.parse(render_feed([item], "all", "everything", config, fmt))
        assert parsed.bozo == 0, fmt
        (entry,) = parsed.entries
        assert entry.title == "Rule: a title"
        assert entry.link == "https://www.federalregister.gov/d/2026-00001"
        if fmt == "rss":  # HTML by convention: the markup is escaped text
            assert "<b>" not in entry.summary and "&lt;b&gt;markup" in entry.summary
        else:  # Atom says type="text"
            assert entry.summary_detail.type == "text/plain"
        assert entry.author == "Industry and Security Bureau" if fmt == "atom" else True
