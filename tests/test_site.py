"""The static site the daily job writes (crawler.deliver.site) on the demo's store: the app's
own pages from the same templates and the same report, as files with relative links, every
link to a file it wrote; read in a real browser from disk."""

from __future__ import annotations

import os
import shutil
from datetime import date
from pathlib import Path
from urllib.parse import unquote, urlsplit

import lxml.html
import pytest
from browser import chromium
from conftest import DemoTour
from test_serve import NOW
from webserver import get, serving

from crawler import config as config_module
from crawler.deliver.web.app import make_app
from crawler.deliver.web.layout import compare_file, day_file, rule_file, unit_file
from crawler.digest.report import stored_report
from storage import Store

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DAY = "2026-10-09"


def _targets(page: Path) -> list[str]:
    tree = lxml.html.parse(str(page)).getroot()
    return [str(t) for t in tree.xpath("//a/@href | //link/@href | //img/@src | //form/@action")]


@pytest.fixture(scope="module")
def tour(demo_tour: DemoTour, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy to open the store of (opening it writes its -wal and -shm files)."""
    return demo_tour.copy(tmp_path_factory.mktemp("site") / "tour")


def test_every_page_is_reachable_and_every_link_leads_to_a_file_the_site_wrote(
    demo_tour: DemoTour, tour: Path
) -> None:
    site = demo_tour.folder / "site"
    pages = {p.relative_to(site).as_posix() for p in site.rglob("*.html")}
    reached, queue = set(), ["index.html"]
    while queue:
        name = queue.pop()
        if name in reached:
            continue
        reached.add(name)
        for target in _targets(site / name):
            parts = urlsplit(target)
            if parts.scheme in ("http", "https", "mailto"):
                continue
            assert not parts.scheme and not target.startswith("/"), (name, target)
            if not parts.path:  # "#main"
                continue
            path = os.path.normpath(Path(name).parent / unquote(parts.path))
            assert (site / path).is_file(), f"{name} links to {target}, not written"
            if path.endswith(".html") and (site / path).resolve().is_relative_to(site):
                queue.append(Path(path).as_posix())
    assert reached == pages, f"not linked from anywhere: {sorted(pages - reached)}"

    config = config_module.load(tour / "demo.toml")
    store = Store.open(config.store_url, create=False, readonly=True)
    try:
        days = store.report_days()
        reports = [stored_report(store, date.fromisoformat(d)) for d in days]
    finally:
        store.close()
    wanted = {"index.html", *(day_file(d) for d in days)}
    for report in filter(None, reports):
        documents = [e for s in report.sections for e in s.entries] + list(report.corrections)
        wanted |= {rule_file(e.number) for e in documents}
        wanted |= {unit_file(e.key) for e in report.cfr_changes}
        wanted |= {compare_file(e.key, e.from_date, e.to_date) for e in report.cfr_changes}
    assert wanted <= pages, sorted(wanted - pages)
    assert (site / "static" / "app.css").is_file() and (site / "static" / "favicon.svg").is_file()


def _said(html: str) -> dict[str, list[str]]:
    """What a page says, beside where it links: its headings and its redlines' words."""
    main = lxml.html.fromstring(html).xpath("//main")[0]
    return {
        kind: [" ".join(e.text_content().split()) for e in main.xpath(f".//{kind}")]
        for kind in ("h1", "h2", "h3", "ins", "del", "em")
    }


@pytest.mark.parametrize(
    ("route", "file"),
    [
        (f"/days/{DAY}", day_file(DAY)),
        ("/rules/2026-21390", rule_file("2026-21390")),
        ("/cfr/15/744:supp-4", unit_file("cfr:15:744:supp-4")),
        (
            "/cfr/15/744.11/compare?from=2026-10-01&to=2026-10-09&full=1",
            compare_file("cfr:15:744.11", "2026-10-01", "2026-10-09"),
        ),
    ],
)
def test_a_page_of_the_site_says_what_the_apps_page_says(
    demo_tour: DemoTour, tour: Path, route: str, file: str
) -> None:
    config = config_module.load(tour / "demo.toml")
    store = Store.open(config.store_url, create=False, readonly=True)
    try:
        with serving(make_app(store, config, lambda: NOW)) as base:
            answer = get(base + route)
    finally:
        store.close()
    assert answer.status == 200
    static = (demo_tour.folder / "site" / file).read_text(encoding="utf-8")
    said = _said(static)
    assert said == _said(answer.text)
    assert said["h1"] and (said["h2"] or said["ins"] or said["del"]), said


@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (apt-get install chromium)")
def test_the_site_reads_in_a_browser_from_disk(demo_tour: DemoTour, tmp_path: Path) -> None:
    assert CHROMIUM is not None
    index = (demo_tour.folder / "site" / "index.html").as_uri()
    with chromium(CHROMIUM, tmp_path / "chromium") as browser, browser.tab() as tab:
        tab.goto(index)
        assert tab.press_tab() == "A Skip to content"
        # the app's stylesheet, served beside the pages: the header is its dark blue
        header = tab.evaluate("getComputedStyle(document.querySelector('header.top')).background")
        assert "rgb(255, 255, 255)" not in header and "rgba(0, 0, 0, 0)" not in header, header
        tab.click(f"a[href='{day_file(DAY)}']")
        assert "Friday, October 9, 2026" in tab.text("h1")
        tab.click("article.document h3 a")
        assert tab.url.endswith(rule_file("2026-21390"))
        assert "Shenzhen Lumen Photonics" in tab.text(".change.removed")
        tab.click("p.where a")  # the unit it amends: its timeline
        assert tab.url.endswith(unit_file("cfr:15:744:supp-4"))
        tab.click("td a[href*='compare/']")  # the change, in context
        assert "Hanzhou Quantum Instruments" in tab.text(".block.added")
        assert tab.evaluate("document.querySelectorAll('details.fold').length") >= 1
        assert tab.evaluate("document.querySelectorAll('form').length") == 0  # no server
