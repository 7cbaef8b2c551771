"""The bis spider: bis.gov pages parsed, the spider's callbacks on recorded responses, the
daily job with a real Scrapy crawl against the replay server (one of them end to end, in a
process of its own, as `regwatch run` starts it)."""

from __future__ import annotations

import dataclasses
import re
from datetime import date

import pytest
from callbacks import call, make_spider, replayed, response, starts
from conftest import point_at, run_day

from crawler import config as config_module
from crawler.demo.replay import Corpus, ReplayServer
from crawler.errors import ParseError
from crawler.fetch.items import CrawlError, FetchedWebPage, Unchanged
from crawler.fetch.spiders.bis import BisSpider
from crawler.parse.web_page import listing_links, parse_web_page
from storage import Store

MON, TUE, WED = date(2026, 10, 5), date(2026, 10, 6), date(2026, 10, 7)
GUIDANCE = "/licensing/end-user-guidance/validated-end-user-program"


def page(title: str, paragraphs: list[str], when: str = "", menu: str = "Licensing") -> bytes:
    """A page in bis.gov's shape: banner, header and menu, breadcrumb, main, footer, scripts."""
    stamp = (
        f'<p class="date"><time datetime="{when}T09:00:00-04:00">{when}</time></p>' if when else ""
    )
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>{title} | Bureau of Industry and Security</title>
<script>var tracker = "{title}";</script><style>p {{ margin: 0 }}</style></head>
<body><a class="skip-link" href="#main-content">Skip to main content</a>
<header role="banner"><nav aria-label="Primary"><ul><li><a href="/licensing">{menu}</a></li>
<li><a href="/press-release/in-the-menu">A press release</a></li></ul></nav></header>
<main id="main-content"><nav class="breadcrumb"><a href="/">Home</a></nav>
<h1>{title}</h1>{stamp}{body}
<script>document.write("injected")</script></main>
<footer role="contentinfo"><p>1401 Constitution Ave. NW</p></footer></body></html>""".encode()


def listing(*paths: str) -> bytes:
    links = "".join(f'<div class="views-row"><a href="{p}">{p}</a></div>' for p in paths)
    return page("News &amp; Updates", []).replace(b"</h1>", b"</h1>" + links.encode())


def release(n: int, eccn: str = "") -> bytes:
    extra = f" The rule controls items under ECCN {eccn}." if eccn else ""
    return page(
        f"Press release number {n}",
        ["FOR IMMEDIATE RELEASE", f"WASHINGTON, D.C. - BIS announced action number {n}.{extra}"],
        when=f"2026-10-0{n}",
    )


@pytest.fixture
def site():
    corpus = Corpus(
        web={
            "/news-updates": listing("/press-release/one", "/press-release/two"),
            "/press-release/one": release(1),
            "/press-release/two": release(2, "3A090"),
            GUIDANCE: page("Validated End-User Program", ["VEUs may receive items.", "Apply."]),
        }
    )
    with ReplayServer(corpus) as server:
        yield server


@pytest.fixture
def config(site, tmp_path):
    base = point_at(config_module.load(None, env={}), site, tmp_path, bis=True)
    bis = dataclasses.replace(base.sources.bis, pages=(GUIDANCE,))
    return dataclasses.replace(base, sources=dataclasses.replace(base.sources, bis=bis))


def digest(config, day: date) -> str:
    return (config.digest_dir / f"{day.isoformat()}.txt").read_text()


def test_main_content_without_navigation_footer_or_scripts():
    parsed = parse_web_page(release(1, "3A090"), "/press-release/one", "https://x/p", "p")
    assert parsed.title == "Press release number 1"
    assert parsed.kind == "Press Release"
    assert parsed.published == date(2026, 10, 1)
    texts = [b.text for b in parsed.blocks]
    assert texts == [
        "Press release number 1",
        "2026-10-01",
        "FOR IMMEDIATE RELEASE",
        "WASHINGTON, D.C. - BIS announced action number 1. The rule controls items under "
        "ECCN 3A090.",
    ]
    joined = " ".join(texts)
    for noise in ("Skip to", "Licensing", "menu", "Home", "Constitution", "tracker", "injected"):
        assert noise not in joined


def test_a_listing_yields_its_items_once_in_order_on_the_same_host_only():
    body = listing(
        "/press-release/b",
        "https://x.example/press-release/a?utm=1",
        "/press-release/b/",
        "https://elsewhere.example/press-release/c",
        "/news-updates/d",
        "/about",
    )
    paths = listing_links(
        body, "https://x.example/news-updates", ("/press-release/", "/news-updates/"), "l"
    )
    assert paths == ["/press-release/b", "/press-release/a", "/news-updates/d"]  # not the menu's


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"status": 503}', "not an HTML page (got JSON)"),
        (b"", "not an HTML page (got nothing)"),
        (release(1)[:400], "cut short"),
        (b"<!DOCTYPE html><html><body><main></main></body></html>", "no main content"),
    ],
)
def test_what_is_not_a_whole_page_is_a_one_line_error(body, message):
    with pytest.raises(ParseError, match=re.escape(message)):
        parse_web_page(body, "/p", "https://x/p", "bis:/p")


def test_new_items_and_watched_pages_then_a_change_as_a_redline(config, site):
    report = run_day(config, MON)
    assert report.ok, report.errors
    store = Store.open(config.store_path)
    assert store.keys("bis:") == sorted(
        ["bis:/press-release/one", "bis:/press-release/two", f"bis:{GUIDANCE}"]
    )
    text = digest(config, MON)
    assert "== BIS web site: new and changed pages (3) ==" in text
    assert "Press release number 2\n  Press Release, 2026-10-02 -- new" in text
    assert "BIS web site: ok" in text

    site.corpus.web["/news-updates"] = listing(
        "/press-release/three", "/press-release/one", "/press-release/two"
    )
    site.corpus.web["/press-release/three"] = release(3)
    site.corpus.web[GUIDANCE] = page(
        "Validated End-User Program",
        ["VEUs may receive eligible items.", "Apply."],
        menu="Licensing &amp; Compliance",  # the menu changed too: noise, never shown
    )
    site.requests.clear()
    report = run_day(config, TUE)
    assert report.ok, report.errors
    text = digest(config, TUE)
    assert "== BIS web site: new and changed pages (2) ==" in text
    assert "* Press release number 3\n  Press Release, 2026-10-03 -- new" in text
    assert "Validated End-User Program\n  Web Page -- changed" in text
    assert "VEUs may receive {+eligible +}items." in text
    assert "Press release number 1" not in text and "Licensing" not in text
    known = [h for p, h in site.requests if p == "/press-release/one"]
    assert known and known[0].get("If-None-Match")  # asked conditionally, answered 304
    bis = next(s for s in report.sources if s.source == "bis")
    assert bis.stats == {"new": 1, "changed": 1, "unchanged": 2}

    versions = store.counts()["versions"]
    again = run_day(config, TUE)  # a rerun converges
    assert again.ok and store.counts()["versions"] == versions
    store.close()


@pytest.mark.real_crawl_process  # the end-to-end crawl: `regwatch run` as it starts one
def test_a_moved_page_and_a_missing_one_are_alerts_and_lose_nothing(config, site):
    run_day(config, MON)
    site.corpus.web["/press-release/two-renamed"] = site.corpus.web.pop("/press-release/two")
    site.corpus.web_redirects["/press-release/two"] = (301, "/press-release/two-renamed")
    del site.corpus.web[GUIDANCE]
    report = run_day(config, TUE)
    assert report.status == "degraded"
    messages = [e.message for e in report.errors]
    assert any(
        m.startswith("source moved: ") and "(HTTP 301) to " in m and "/two-renamed (followed)" in m
        for m in messages
    ), messages
    assert any(m.startswith("source missing: ") and "HTTP 404" in m for m in messages), messages
    text = digest(config, TUE)
    head = text.split("==", 1)[0]  # the alerts stand at the top, before any section
    # each says what and where as people read it (the page's address), never the store's key
    assert "!! source moved: http://" in head and "/press-release/two redirects" in head
    assert "!! source missing: http://" in head and f"{GUIDANCE} answers HTTP 404" in head
    assert "bis:/" not in head
    html = (config.digest_dir / f"{TUE.isoformat()}.html").read_text()
    assert "Source alerts" in html
    store = Store.open(config.store_path)
    assert [v.valid_from for v in store.history(f"bis:{GUIDANCE}")] == ["2026-10-05"]  # kept
    assert [v.valid_from for v in store.history("bis:/press-release/two")] == ["2026-10-05"]
    store.close()


def test_an_html_error_page_or_json_where_a_page_was_expected_stores_nothing(config, site):
    site.corpus.web[GUIDANCE] = b'{"error": "maintenance"}'
    report = run_day(config, MON)
    assert report.status == "degraded"
    [error] = report.errors
    assert error.target == f"bis:{GUIDANCE}"
    assert error.message == f"bis:{GUIDANCE}: not an HTML page (got JSON)"
    store = Store.open(config.store_path)
    assert store.latest_version(f"bis:{GUIDANCE}") is None
    store.close()


def test_robots_txt_is_obeyed(config, site):
    site.corpus.robots = b"User-agent: *\nDisallow: /licensing/\n"
    report = run_day(config, MON)
    store = Store.open(config.store_path)
    assert f"bis:{GUIDANCE}" not in store.keys("bis:")
    assert any("robots.txt" in e.message for e in report.errors), report.errors
    store.close()


def test_an_unreachable_site_fails_the_source_with_one_line(config):
    down = dataclasses.replace(config.sources.bis, site_base="http://127.0.0.1:9")
    config = dataclasses.replace(config, sources=dataclasses.replace(config.sources, bis=down))
    report = run_day(config, MON)
    bis = next(s for s in report.sources if s.source == "bis")
    assert bis.status == "failed"
    messages = [e.message for e in report.errors if e.source == "bis"]
    assert "cannot reach 127.0.0.1:9: connection refused" in messages


def test_main_content_that_is_itself_a_block_keeps_its_own_text():
    body = b"<html><body><div id='main-content'>Notice: <b>read</b> this.<p>Then this.</p></div>"
    parsed = parse_web_page(body + b"</body></html>", "/p", "https://x/p", "p")
    assert [b.text for b in parsed.blocks] == ["Notice: read this.", "Then this."]


def test_a_changed_page_is_tagged_with_the_eccns_its_new_text_names(config, site):
    from crawler.digest.report import report_for

    run_day(config, MON)
    site.corpus.web[GUIDANCE] = page(
        "Validated End-User Program",
        ["VEUs may receive items.", "Apply now", "3A090 items need a license."],
    )
    run_day(config, TUE)
    store = Store.open(config.store_path)
    [entry] = report_for(store, TUE, config).web
    assert entry.op == "changed" and entry.facets.eccns == ("3A090",)
    assert report_for(store, WED, config).web == ()  # no run that day: nothing new
    store.close()


# --- callbacks on recorded responses (tests/callbacks.py): what the spider decides ---------


def bis_spider(config) -> BisSpider:
    return make_spider(BisSpider, config, day=MON.isoformat())


def test_a_listing_asks_for_its_newest_items_then_the_watched_pages(config, site):
    config = dataclasses.replace(
        config,
        sources=dataclasses.replace(
            config.sources, bis=dataclasses.replace(config.sources.bis, max_items=1)
        ),
    )
    spider = bis_spider(config)
    listing, watched = starts(spider)
    assert listing.url == site.base + "/news-updates" and listing.meta["fatal"]
    assert watched.url == site.base + GUIDANCE and not watched.meta["fatal"]
    [item] = call(listing, replayed(listing))  # max_items: the newest one only
    assert item.url == site.base + "/press-release/one"
    assert item.cb_kwargs["listing"] == "/news-updates"
    [page] = call(item, replayed(item))
    assert isinstance(page, FetchedWebPage)
    assert (page.path, page.listing, page.day) == ("/press-release/one", "/news-updates", MON)
    assert page.body == site.corpus.web["/press-release/one"]


def test_a_permanent_redirect_is_an_alert_and_followed_on_the_same_host_only(config, site):
    spider = bis_spider(config)
    [_, watched] = starts(spider)
    moved = response(watched, b"", 301, {"Location": "/licensing/veu"})
    alert, again = call(watched, moved)
    assert isinstance(alert, CrawlError) and alert.target == f"bis:{GUIDANCE}"
    assert alert.message.startswith(f"source moved: {site.base}{GUIDANCE} redirects permanently")
    assert f"(HTTP 301) to {site.base}/licensing/veu (followed)" in alert.message
    assert again.url == site.base + "/licensing/veu" and again.cb_kwargs["path"] == GUIDANCE
    away = response(watched, b"", 302, {"Location": "https://elsewhere.example/x"})
    [refused] = call(watched, away)
    assert refused.message.endswith("to https://elsewhere.example/x, not followed")


def test_a_missing_page_is_an_alert_and_a_304_keeps_a_page_only_when_asked_conditionally(
    config, site
):
    spider = bis_spider(config)
    [_, watched] = starts(spider)
    [missing] = call(watched, response(watched, b"", 404))
    assert missing.message.startswith(f"source missing: {site.base}{GUIDANCE} answers HTTP 404")
    [unasked] = call(watched, response(watched, b"", 304))
    assert isinstance(unasked, CrawlError) and "named no stored version" in unasked.message
    watched.headers["If-None-Match"] = '"v1"'
    [kept] = call(watched, response(watched, b"", 304))
    assert isinstance(kept, Unchanged)
