"""Shared fixtures: configs pointed at a replay server on 127.0.0.1, fresh stores, real data."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from crawler import config as config_module
from crawler import job
from crawler.replay import Corpus, ReplayServer
from storage import Store

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"


@pytest.fixture
def shared_data() -> Path:
    if not SHARED.is_dir():
        pytest.skip(f"real sample data not found at {SHARED} (../shared/data)")
    return SHARED


def point_at(
    config: config_module.Config,
    server: ReplayServer,
    folder: Path,
    ecfr: bool = False,
    bis: bool = False,
    **fr_changes: object,
) -> config_module.Config:
    """A config whose store, digests and source URLs are the test's own (the eCFR source
    only with ``ecfr``, watching 15 CFR 744, and bis.gov only with ``bis``, all on the same
    replay server)."""
    fr_changes = {"first_run_days": 0, **fr_changes}
    fr = dataclasses.replace(
        config.sources.federal_register,
        api_base=f"{server.base}/api/v1",
        site_base=server.base,
        **fr_changes,
    )
    return dataclasses.replace(
        config,
        root=folder,
        http=dataclasses.replace(config.http, polite=False),
        sources=dataclasses.replace(
            config.sources,
            federal_register=fr,
            ecfr=dataclasses.replace(
                config.sources.ecfr,
                enabled=ecfr,
                api_base=f"{server.base}/api/versioner/v1",
                watches=("15:744",),
            ),
            bis=dataclasses.replace(config.sources.bis, enabled=bis, site_base=server.base),
        ),
    )


@pytest.fixture
def demo_server() -> Iterator[ReplayServer]:
    with ReplayServer(Corpus.demo()) as server:
        yield server


@pytest.fixture
def demo_config(demo_server: ReplayServer, tmp_path: Path) -> config_module.Config:
    return point_at(config_module.load(None, env={}), demo_server, tmp_path)


def run_day(config: config_module.Config, day: date) -> job.RunReport:
    now = datetime(day.year, day.month, day.day, 11, 30, tzinfo=UTC)
    return job.daily(config, day, now, lambda: now)


def counts(config: config_module.Config) -> dict[str, int]:
    store = Store.open(config.store_path)
    try:
        return store.counts()
    finally:
        store.close()
