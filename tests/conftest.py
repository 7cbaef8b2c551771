"""Shared fixtures: configs pointed at a replay server on 127.0.0.1, fresh stores, real data."""

from __future__ import annotations

import dataclasses
import os
import socket
import subprocess
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from crawler import config as config_module
from crawler.demo.replay import Corpus, ReplayServer
from crawler.jobs import daily as job
from storage import Store

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
STRICT = "REGWATCH_TEST_STRICT"  # .ci/run sets it to 1: a missing real part fails, not skips


def require(present: object, reason: str) -> None:
    """Skip the calling test when a real part it needs (../shared/data, chromium ...) is
    absent, saying why; with REGWATCH_TEST_STRICT=1 (CI) fail it instead, so CI can't go green
    on tests that never ran. Every such skip in the suite goes through here."""
    if present:
        return
    if os.environ.get(STRICT) == "1":
        pytest.fail(f"{reason}, and {STRICT}=1 makes that a failure", pytrace=False)
    pytest.skip(reason)


@pytest.fixture
def shared_data() -> Path:
    require(SHARED.is_dir(), f"real sample data not found at {SHARED} (../shared/data)")
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


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """An 8 MB tmpfs to fill up (mounting needs root; CI runs as root)."""
    folder = tmp_path / "small"
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(folder)],
        capture_output=True,
        check=False,
    )
    require(mounted.returncode == 0, "cannot mount a small tmpfs (needs root) for disk-full")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on (for an SMTP server a test starts)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def mailing(config: config_module.Config) -> config_module.Config:
    """``config`` mailing one subscription, "all", to an SMTP server on a free local port."""
    return dataclasses.replace(
        config,
        subscriptions=(config_module.SubscriptionConfig(name="all", recipients=("a@x.org",)),),
        smtp=config_module.SmtpConfig(host="127.0.0.1", port=free_port(), security="none"),
    )
