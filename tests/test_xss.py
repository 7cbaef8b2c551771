"""An XSS corpus planted in everything a source sends (FR titles, abstracts, agency names and
URLs, FR rule text, eCFR paragraph text, a BIS press release) and in a subscription's name,
crawled through the daily job against the replay server, then every HTML and feed output
is checked: the digests, the full and the summary email, the static site, `regwatch diff
--format html`, and every Atom and RSS feed (everything and per subscription).

Each payload, if it ever ran, would mark the page (``data-pwned="N"`` on <html>); headless
Chromium's serialised DOM after load and 2 s of virtual time must carry no such mark (one
Chromium process loads every page, each in a tab of its own: tests/browser.py). Browsers do
not run feeds, so the feeds are also read as a feed reader would: every link http(s) or
relative, no markup in an RSS description, no script, event handler or javascript: link in
entry content."""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import feedparser
import lxml.html
import pytest
from browser import chromium
from click.testing import CliRunner
from conftest import point_at, require, run_day
from lxml import etree
from webserver import get, serving

from crawler import config as config_module
from crawler.cli import main
from crawler.config import SubscriptionConfig
from crawler.deliver.email import compose
from crawler.deliver.web.app import make_app
from crawler.demo.replay import Corpus, ReplayServer
from crawler.digest.report import report_for
from crawler.digest.select import for_subscription
from storage import Store

MARK = "document.documentElement.setAttribute('data-pwned','{n}')"
PAYLOADS = [
    "<script>" + MARK.format(n=1) + "</script>",
    '<img src=x onerror="' + MARK.format(n=2) + '">',
    '"><svg onload="' + MARK.format(n=3) + '">',
    "&lt;script&gt;" + MARK.format(n=4) + "&lt;/script&gt;",
    "</title><script>" + MARK.format(n=5) + "</script>",
    '<a href="javascript:' + MARK.format(n=6) + '">x</a>',
]
JS_URL = "javascript:" + MARK.format(n=7)
# the same payloads as a text node of XML or HTML (what a source's own escaping gives)
AS_TEXT = (
    "&lt;script&gt;{a}&lt;/script&gt; &lt;img src=x onerror=&quot;{b}&quot;&gt;"
    " &lt;/title&gt;&lt;a href=&quot;javascript:{c}&quot;&gt;x&lt;/a&gt;"
)
ECFR_PAYLOAD = AS_TEXT.format(a=MARK.format(n=8), b=MARK.format(n=9), c=MARK.format(n=10))
BIS_PAYLOAD = AS_TEXT.format(a=MARK.format(n=11), b=MARK.format(n=12), c=MARK.format(n=13))
FR_XML_PAYLOAD = "&lt;script&gt;" + MARK.format(n=14) + "&lt;/script&gt;"
PRESS = "/press-release/bis-proposes-revisions-license-exception-aca"
MON, FRI = date(2026, 10, 5), date(2026, 10, 9)
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@dataclass(frozen=True)
class Outputs:
    root: Path
    html: tuple[Path, ...]  # every HTML page regwatch wrote or printed
    feeds: tuple[Path, ...]  # every .atom and .rss file
    config: config_module.Config  # the store with the payloads, for the web app


def plant(corpus: Corpus) -> None:
    """The payloads, in every field a source controls that reaches an output."""
    docs = corpus.documents
    docs["2026-21001"]["title"] = " ".join(PAYLOADS[:3])
    docs["2026-21001"]["abstract"] = " ".join(PAYLOADS[3:])
    docs["2026-21001"]["agencies"][1]["name"] = PAYLOADS[1]
    docs["2026-21002"]["html_url"] = JS_URL
    corpus.xml["2026-21001"] = corpus.xml["2026-21001"].replace(
        b"Pars Aero Parts Trading, No. 14",
        f"Pars {FR_XML_PAYLOAD} Trading, No. 14".encode(),
    )
    new = ("2026-10-09", 15, "744")
    corpus.ecfr_full[new] = corpus.ecfr_full[new].replace(
        b"or transferring,", f"or transferring {ECFR_PAYLOAD},".encode()
    )


def change_bis_page(corpus: Corpus) -> None:
    """The press release as bis.gov serves it later in the week: a paragraph with payloads."""
    corpus.web[PRESS] = corpus.web[PRESS].replace(
        b"Comments are due by", f"{BIS_PAYLOAD} Comments are due by".encode()
    )


@pytest.fixture(scope="module")
def outputs(tmp_path_factory) -> Iterator[Outputs]:
    root = tmp_path_factory.mktemp("xss")
    with ReplayServer(Corpus.demo()) as server:
        plant(server.corpus)
        config = point_at(config_module.load(None, env={}), server, root, ecfr=True, bis=True)
        sub = SubscriptionConfig(name=PAYLOADS[0], recipients=("a@example.com",))
        config = dataclasses.replace(config, subscriptions=(sub,))
        run_day(config, MON)
        change_bis_page(server.corpus)
        run_day(config, FRI)
        pages = [*email_pages(config, MON), *email_pages(config, FRI), diff_page(config)]
    site = root / "site"
    pages += [config.digest_dir / f"{d}.html" for d in (MON, FRI)]
    pages += [site / "index.html", *sorted(site.glob("*/*.html"))]
    feeds = sorted((root / "feeds").glob("*.atom")) + sorted((root / "feeds").glob("*.rss"))
    yield Outputs(root, tuple(pages), tuple(feeds), config)


def email_pages(config: config_module.Config, day: date) -> list[Path]:
    """The HTML part of the day's email, in full and folded into its summary."""
    store = Store.open(config.store_path)
    try:
        digest = for_subscription(report_for(store, day, config), config.subscriptions[0])
    finally:
        store.close()
    now = datetime(day.year, day.month, day.day, tzinfo=UTC)
    brief = dataclasses.replace(config, smtp=dataclasses.replace(config.smtp, max_bytes=1))
    written = []
    for name, settings in (("email", config), ("summary", brief)):
        message = compose(digest, config.subscriptions[0], "a@example.com", settings, now)
        path = config.root / f"{name}-{day}.html"
        path.write_text(message.get_body(("html",)).get_content(), encoding="utf-8")
        written.append(path)
    return written


def diff_page(config: config_module.Config) -> Path:
    """`regwatch diff 744.11 --format html`, the section whose new text carries payloads."""
    toml = config.root / "xss.toml"
    toml.write_text(f'[store]\npath = "{config.store_path}"\n', encoding="utf-8")
    result = CliRunner().invoke(
        main, ["--config", str(toml), "diff", "744.11", "--format", "html"], env={}
    )
    assert result.exit_code == 0, result.output
    path = config.root / "diff-744.11.html"
    path.write_text(result.output, encoding="utf-8")
    return path


def test_every_output_carries_the_payloads_as_text(outputs):
    names = {p.name for p in outputs.html}
    assert {"email-2026-10-05.html", "summary-2026-10-09.html", "diff-744.11.html"} <= names
    assert {"2026-10-05.html", "2026-10-09.html", "index.html"} <= names
    assert len(outputs.html) > 14
    feeds = {p.name for p in outputs.feeds}
    assert {"all.atom", "all.rss"} < feeds and len(feeds) == 4  # + the subscription's pair
    everything = "".join(p.read_text(encoding="utf-8") for p in outputs.html)
    for n in (1, 8, 11, 14):  # an FR title, eCFR text, a BIS page, FR rule text
        assert f"data-pwned&#39;,&#39;{n}&#39;" in everything, n


def test_no_script_runs_in_any_page_or_feed(outputs):
    require(CHROMIUM, "Debian's chromium is not installed (.ci/run installs it)")
    rendered_payload = False
    with chromium(CHROMIUM, outputs.root / "chromium") as browser:  # one process, a tab a page
        serialised_pages = [
            (page, browser.dump_dom(page.as_uri())) for page in outputs.html + outputs.feeds
        ]
    for page, serialised in serialised_pages:
        assert 'data-pwned="' not in serialised, page.name
        assert '<a href="javascript:' not in serialised.lower(), page.name  # as a tag
        rendered_payload |= "setAttribute" in serialised
    assert rendered_payload  # the payloads were on the pages, as text


def test_no_script_runs_in_any_page_of_the_web_app(outputs):
    """`regwatch serve` on the store holding the payloads: every page reachable from its
    navigation (the day, the rules, the units, compare pages, the Entity List, search ...)
    loaded in Chromium, no payload run, none of it markup in the HTML."""
    require(CHROMIUM, "Debian's chromium is not installed (.ci/run installs it)")
    store = Store.open(outputs.config.store_url, create=False, readonly=True)
    app = make_app(store, outputs.config, lambda: datetime(2026, 10, 10, tzinfo=UTC))
    try:
        with serving(app) as base:
            pages = _crawl(base, [f"{base}/", f"{base}/search?q=Pars+Trading"])
            assert f"{base}/rules/2026-21001" in pages and len(pages) >= 20
            for url, html in pages.items():
                tree = lxml.html.fromstring(html)
                live = "//script | //svg | //img | //@*[starts-with(name(), 'on')]"
                assert not tree.xpath(live), url
                assert not [h for h in tree.xpath("//a/@href") if "javascript" in h.lower()], url
            assert any("data-pwned" in html for html in pages.values())  # shown, as text
            with chromium(CHROMIUM, outputs.root / "chromium-app") as browser:
                for url in pages:
                    assert 'data-pwned="' not in browser.dump_dom(url, budget_ms=100), url
    finally:
        store.close()


def _crawl(base: str, start: list[str], most: int = 30) -> dict[str, str]:
    """The app's HTML pages reachable from ``start`` (at most ``most``)."""
    pages: dict[str, str] = {}
    queue = list(start)
    while queue and len(pages) < most:
        url = queue.pop(0)
        if url in pages:
            continue
        answer = get(url)
        assert answer.status == 200, (url, answer.status)
        if not answer.headers["content-type"].startswith("text/html"):
            continue
        pages[url] = answer.text
        for href in lxml.html.fromstring(answer.text).xpath("//a/@href"):
            target = urljoin(url, href).split("#")[0]
            if target.startswith(base) and "/api/" not in target and target not in pages:
                queue.append(target)
    return pages


def test_feed_links_are_http_or_relative(outputs):
    for path in outputs.feeds:
        parsed = feedparser.parse(path)
        assert parsed.bozo == 0, (path.name, parsed.get("bozo_exception"))
        tree = etree.parse(str(path))
        links = tree.xpath(
            "//*[local-name()='link']/@href | //channel/link/text() | //item/link/text()"
        )
        assert len(links) > 4, path.name
        for link in links:
            assert urlsplit(link).scheme in ("http", "https", ""), (path.name, link)
        unsafe = "//*[*[local-name()='id' or local-name()='guid'] = 'urn:regwatch:fr:2026-21002']"
        entry = tree.xpath(unsafe)
        assert len(entry) == 1, path.name  # the subscription has no filter: it gets all
        assert not tree.xpath(unsafe + "/*[local-name()='link']")  # javascript: left out


def test_rss_descriptions_are_text_and_entry_content_has_no_live_markup(outputs):
    for path in outputs.feeds:
        tree = etree.parse(str(path))
        descriptions = tree.xpath("//item/description/text()")
        contents = tree.xpath("//*[local-name()='encoded' or local-name()='content']/text()")
        assert contents, path.name
        assert path.suffix == ".atom" or descriptions
        for text in descriptions:  # HTML by convention: escaped, it holds no tag at all
            assert "<" not in text, (path.name, text[:120])
        for html in contents:  # our own markup, with every crawled text escaped in it
            fragment = lxml.html.fragment_fromstring(html, create_parent="div")
            assert not fragment.xpath("//script | //svg | //img | //@*[starts-with(name(), 'on')]")
            hrefs = fragment.xpath("//a/@href")
            assert all(urlsplit(h).scheme in ("http", "https", "") for h in hrefs), hrefs
