"""The source registry is the only place that knows the sources: a fourth source added from a
test module (tests/toy_source.py, registered the way the built-in ones are) is crawled, stored,
made again by ``rebuild`` and listed, and no core module spells its name."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
import toy_source
from click.testing import CliRunner
from conftest import point_at, run_day

from crawler import config as config_module
from crawler.cli import main
from crawler.fetch.spiders import SOURCES, Stage, enabled, get, owner
from crawler.keys import BIS, CFR, FR, PI
from crawler.snapshot.rederive import Remade, remake
from crawler.snapshot.source import snapshot_of
from storage import Store

ROOT = Path(__file__).resolve().parents[1]
MON, TUE = date(2026, 10, 5), date(2026, 10, 6)
PATH = "/toy/notice-1"
KEY = "toy:/toy/notice-1"


def notice(says: str) -> bytes:
    return (
        "<!DOCTYPE html><html><head><title>Toy notice</title></head><body><main>"
        f"<h1>Toy notice one</h1><p>October 5, 2026</p><p>{says}</p>"
        "</main></body></html>"
    ).encode()


@pytest.fixture
def toyweb(monkeypatch, demo_server, tmp_path):
    """The toy source registered (for this test only) on the replay server, with the other
    sources switched off; the crawl process finds its module on PYTHONPATH, as it would an
    installed plugin."""
    tests = str(Path(__file__).resolve().parent)
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join(filter(None, [tests, os.environ.get("PYTHONPATH")]))
    )
    monkeypatch.setenv(toy_source.SITE, demo_server.base)
    monkeypatch.setitem(SOURCES, toy_source.NAME, toy_source.ENTRY)
    demo_server.corpus.web[PATH] = notice("Exports of widgets need a licence.")
    config = point_at(config_module.load(None, env={}), demo_server, tmp_path)
    fr = dataclasses.replace(config.sources.federal_register, enabled=False)
    config = dataclasses.replace(
        config, sources=dataclasses.replace(config.sources, federal_register=fr)
    )
    return config


def test_the_built_in_sources_declare_their_keys_formats_and_stage_modules():
    assert list(SOURCES) == ["federal_register", "ecfr", "bis"]
    assert get("federal_register").keys == (FR, PI)
    assert get("ecfr").keys == (CFR,)
    assert get("bis").keys == (BIS,)
    for source in SOURCES.values():
        assert source.module(Stage.SNAPSHOT) == f"crawler.snapshot.{source.name}"
        assert snapshot_of(source.name).name == source.name
        for fmt in source.formats:
            assert (ROOT / "crawler" / "parse" / f"{fmt}.py").is_file(), fmt
        for stage in Stage:  # a same-named module in each stage organised by source
            path = ROOT / Path(*source.module(stage).split("."))
            assert path.with_suffix(".py").is_file(), path
    assert owner("cfr:15:744.11") is get("ecfr") and owner("pi:2026-1") is get("federal_register")


def test_listing_sources_imports_no_scrapy():
    code = (
        "import sys; from click.testing import CliRunner; from crawler.cli import main; "
        "r = CliRunner().invoke(main, ['sources']); assert r.exit_code == 0, r.output; "
        "assert 'scrapy' not in sys.modules, 'scrapy imported'"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]


def test_a_fourth_source_from_a_test_module_is_crawled_stored_and_listed(toyweb, demo_server):
    config = toyweb
    assert [s.name for s in enabled(config)] == ["toyweb"]

    report = run_day(config, MON)
    line = next(s for s in report.sources if s.source == "toyweb")
    assert (line.status, line.stats) == ("ok", {"new": 1})
    assert [e for e in report.errors if e.source != "output"] == []  # the digest: below

    demo_server.corpus.web[PATH] = notice("Exports of widgets need no licence.")
    report = run_day(config, TUE)
    line = next(s for s in report.sources if s.source == "toyweb")
    assert (line.status, line.stats) == ("ok", {"changed": 1})

    store = Store.open(config.store_path)
    try:
        row = store.document(KEY)
        assert row is not None and row.title == "Toy notice one"
        versions = store.history(KEY)
        assert [v.valid_from for v in versions] == ["2026-10-05", "2026-10-06"]
        assert isinstance(remake(store, row, versions[-1]), Remade)  # rebuild knows it too
    finally:
        store.close()

    toml = config.root / "regwatch.toml"
    toml.write_text(f'[store]\npath = "{config.store_path}"\n', encoding="utf-8")
    listed = CliRunner().invoke(main, ["--config", str(toml), "sources"])
    assert listed.exit_code == 0, listed.output
    said = listed.output.split("toyweb  ", 1)[1].splitlines()
    assert said[:4] == [
        f"(Toy notices, enabled, {demo_server.base})",
        "    A second web source: the notices of a site of its own, main content only.",
        "    keys toy:; formats web_page",
        "    checked: 2026-10-05 to 2026-10-06",
    ]


def test_a_fourth_source_reaches_the_digest_under_its_own_title(toyweb, demo_server, tmp_path):
    """The toy is a web source: its DIGEST is the web pages' digest, rendered by the shared
    ``web`` partial under the toy's own title, with its own pages only, beside bis.gov's."""
    bis = point_at(config_module.load(None, env={}), demo_server, tmp_path, bis=True).sources.bis
    config = dataclasses.replace(toyweb, sources=dataclasses.replace(toyweb.sources, bis=bis))
    report = run_day(config, MON)
    assert report.errors == ()
    text = (config.digest_dir / "2026-10-05.txt").read_text()
    html = (config.digest_dir / "2026-10-05.html").read_text()
    toy = text[text.index("== Toy notices: new and changed pages") :].split("\n==")[0]
    bis_gov = text[text.index("== BIS web site: new and changed pages") :].split("\n==")[0]
    assert "Toy notice one" in toy and "Commerce Adds Eleven Entities" in bis_gov
    assert "Toy notice" not in bis_gov and "Commerce Adds" not in toy  # each its own pages
    assert text.count("Toy notice one") == 1 and html.count("Toy notice one") >= 1


def test_no_core_module_spells_the_toy_source():
    for folder in ("crawler", "storage"):
        for path in (ROOT / folder).rglob("*.py"):
            assert "toyweb" not in path.read_text(encoding="utf-8"), path


def test_scrapy_crawl_works_from_the_checkout(demo_server, tmp_path):
    """``scrapy crawl federal_register`` in the checkout (scrapy.cfg): the config regwatch
    reads, the configured store, a run of its own; ``scrapy list`` lists the registry."""
    toml = tmp_path / "config.toml"
    toml.write_text(
        '[store]\npath = "regwatch.db"\n[http]\npolite = false\n'
        f'[sources.federal_register]\napi_base = "{demo_server.base}/api/v1"\n'
        f'site_base = "{demo_server.base}"\n'
        "[sources.ecfr]\nenabled = false\n[sources.bis]\nenabled = false\n",
        encoding="utf-8",
    )
    env = {**os.environ, "REGWATCH_CONFIG": str(toml)}

    def scrapy(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "scrapy", *args]
        return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)

    assert scrapy("list").stdout.split() == ["bis", "ecfr", "federal_register"]  # sorted
    done = scrapy("crawl", "federal_register", "-a", "since=2026-10-05", "-a", "until=2026-10-05")
    assert done.returncode == 0, done.stderr[-3000:]
    store = Store.open(tmp_path / "regwatch.db")
    try:
        run = store.run(1)  # the store's first run: the crawl's own
        assert (run.command, run.status) == ("scrapy crawl federal_register", "ok")
        (line,) = store.run_sources([run.id])
        assert (line.source, line.status, line.since, line.until) == (
            "federal_register",
            "ok",
            "2026-10-05",
            "2026-10-05",
        )
        assert line.stats.get("new", 0) >= 1
        assert store.document("fr:2026-21001") is not None
    finally:
        store.close()
    # no -a: the daily window, from the end of the last good one up to today
    done = scrapy("crawl", "federal_register")
    assert done.returncode == 0, done.stderr[-3000:]
    store = Store.open(tmp_path / "regwatch.db")
    try:
        (line,) = store.run_sources([2])
        assert (line.status, line.since) == ("ok", "2026-10-05") and line.until > "2026-10-05"
    finally:
        store.close()
