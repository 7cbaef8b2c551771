"""Feeds parsed back with feedparser: valid, complete entries, ids stable across rebuilds."""

from __future__ import annotations

import dataclasses
from datetime import date

import feedparser
import pytest
from conftest import point_at, run_day

from crawler import config as config_module
from crawler.config import SubscriptionConfig
from crawler.deliver.feeds import write_feeds
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
    assert len(everything.entries) == 9  # 7 FR documents + 2 eCFR changes
    for entry in everything.entries:
        assert entry.id and entry.title and entry.updated and entry.link
    rss = feedparser.parse(folder / "all.rss")
    assert rss.bozo == 0 and len(rss.entries) == 9
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
