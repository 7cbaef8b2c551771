"""Shared fixtures: configs pointed at a replay server on 127.0.0.1, fresh stores (SQLite and
PostgreSQL), real data."""

from __future__ import annotations

import dataclasses
import fcntl
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import forkcrawl
import pgserver
import pytest

from crawler import config as config_module
from crawler.demo.replay import Corpus, ReplayServer
from crawler.jobs import crawl as crawl_module
from crawler.jobs import daily as job
from storage import Store

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
STRICT = "REGWATCH_TEST_STRICT"  # .ci/run sets it to 1: a missing real part fails, not skips
PG_URL = "REGWATCH_TEST_PG_URL"  # a PostgreSQL server the tests may make databases on


def require(present: object, reason: str) -> None:
    """Skip the calling test when a real part it needs (../shared/data, chromium ...) is
    absent, saying why; with REGWATCH_TEST_STRICT=1 (CI) fail it instead, so CI can't go green
    on tests that never ran. Every such skip in the suite goes through here."""
    if present:
        return
    if os.environ.get(STRICT) == "1":
        pytest.fail(f"{reason}, and {STRICT}=1 makes that a failure", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def forked_crawls(request: pytest.FixtureRequest) -> Iterator[None]:
    """Crawl processes forked from the test process, not started afresh (tests/forkcrawl.py),
    except in tests marked ``real_crawl_process``. Its own patch: a test's monkeypatch.undo()
    leaves it."""
    with pytest.MonkeyPatch.context() as patch:
        if request.node.get_closest_marker("real_crawl_process") is None:
            patch.setattr(crawl_module, "subprocess", forkcrawl.Subprocess)
        yield


@dataclasses.dataclass(frozen=True)
class DemoTour:
    """What ``regwatch demo --dir tour`` made, once per test session: its folder (the store,
    demo.toml, the digests and feeds) and what it printed. A test that writes copies it."""

    folder: Path
    output: str

    def copy(self, to: Path) -> Path:
        return Path(shutil.copytree(self.folder, to))


@pytest.fixture(scope="session")
def demo_tour(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> DemoTour:
    """The demo run once per test run (click's runner in this process, its crawls forked as
    in every test not marked ``real_crawl_process``); under pytest-xdist the first worker
    to need it makes it, under a lock, and the others read it. Read it in place, or
    ``copy`` it to write."""
    from click.testing import CliRunner

    from crawler.cli import main

    shared = tmp_path_factory.getbasetemp()
    if worker_id != "master":  # every worker's base is a folder of the run's own base
        shared = shared.parent
    folder, said = shared / "demo-tour" / "tour", shared / "demo-tour" / "output.txt"
    folder.parent.mkdir(parents=True, exist_ok=True)
    with open(shared / "demo-tour.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not said.exists():
            with pytest.MonkeyPatch.context() as patch:  # before any test's forked_crawls
                patch.setattr(crawl_module, "subprocess", forkcrawl.Subprocess)
                result = CliRunner().invoke(main, ["demo", "--dir", str(folder)])
            assert result.exit_code == 0, result.output
            said.write_text(result.stdout, encoding="utf-8")
    return DemoTour(folder, said.read_text(encoding="utf-8"))


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
    store = Store.open(config.store_url)
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


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """A PostgreSQL server's URL: $REGWATCH_TEST_PG_URL when set (.ci/run starts one), else a
    throwaway server started here when initdb and pg_ctl are installed, else a skip (a
    failure under REGWATCH_TEST_STRICT=1)."""
    given = os.environ.get(PG_URL)
    if given:
        yield given
        return
    require(
        pgserver.bindir() is not None,
        f"PostgreSQL is not installed (initdb, pg_ctl) and {PG_URL} is not set",
    )
    folder = Path(tempfile.mkdtemp(prefix="regwatch-pg-"))
    folder.chmod(0o755)  # as root the server runs as the postgres user, who must reach it
    try:
        yield pgserver.start(folder / "pg")
    finally:
        pgserver.stop(folder / "pg")
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def pg_url(pg_server: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test (dropped after it)."""
    database = pgserver.fresh_database(pg_server)
    try:
        yield database
    finally:
        pgserver.drop_database(database)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_at(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where a test's store lives: a SQLite file, then a fresh PostgreSQL database (tests
    using it run twice; ``-k postgresql`` selects the PostgreSQL pass)."""
    if request.param == "sqlite":
        return str(tmp_path / "s.db")
    return str(request.getfixturevalue("pg_url"))


def on_store(config: config_module.Config, where: str) -> config_module.Config:
    """``config`` with its store at ``where`` (a PostgreSQL URL, or a SQLite path)."""
    return dataclasses.replace(config, store=dataclasses.replace(config.store, url=where))


_SECONDS = {"postgresql": 0.0, "rest": 0.0}
_RAN_PG: set[str] = set()
PG_MARK = "postgresql"  # tests on the PostgreSQL server: the PostgreSQL pass


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"{PG_MARK}: the test uses a PostgreSQL database")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Marks the PostgreSQL pass (the mark travels with each report, also from pytest-xdist's
    workers to the process that prints the summary)."""
    for item in items:
        if "pg_server" in getattr(item, "fixturenames", ()) or "[postgresql" in item.nodeid:
            item.add_marker(PG_MARK)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    on_pg = PG_MARK in report.keywords
    _SECONDS["postgresql" if on_pg else "rest"] += report.duration
    if on_pg:
        _RAN_PG.add(report.nodeid)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """What the PostgreSQL pass costs on top of the rest (the tests that use a database
    on the PostgreSQL server, setup and teardown included), in test time: summed over
    pytest-xdist's workers, so about their number times the wall time."""
    if _RAN_PG:
        terminalreporter.write_line(
            f"PostgreSQL pass: {len(_RAN_PG)} tests, {_SECONDS['postgresql']:.1f} s "
            f"on top of {_SECONDS['rest']:.1f} s for the rest of the tests run (test time)"
        )
