"""`regwatch serve` on the demo's store, on a real uvicorn server on 127.0.0.1: every page
reachable from the navigation answers and links onward, the API's diff is the CLI's and the
stored change's, the store is never written, and the guard holds (Host header, token, CSP,
escaping of every parameter on every route, no traversal out of /static or /feeds)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

import lxml.html
import pytest
from browser import chromium
from click.testing import CliRunner
from conftest import DemoTour, free_port, require
from fastapi import FastAPI
from fastapi.routing import APIRoute
from sqlalchemy.exc import DBAPIError, OperationalError
from starlette.routing import Mount
from webserver import get, serving

from crawler import config as config_module
from crawler.cli import main
from crawler.deliver.web.app import make_app
from crawler.deliver.web.guard import CSP, TOKEN_ENV, feed_token
from crawler.diff import stored as stored_diff
from storage import Store

NOW = datetime(2026, 10, 10, 15, tzinfo=UTC)
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
TOKEN = "s3cret-token-for-tests"


@pytest.fixture(scope="module")
def tour(demo_tour: DemoTour, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return demo_tour.copy(tmp_path_factory.mktemp("serve") / "tour")


def _app(tour: Path, **options: Any) -> tuple[FastAPI, Store]:
    config = config_module.load(tour / "demo.toml")
    store = Store.open(config.store_url, create=False, readonly=True)
    return make_app(store, config, lambda: NOW, **options), store


@pytest.fixture
def site(tour: Path) -> Iterator[str]:
    """The app on the demo's store, one server per test: no server thread outlives its
    test (other tests in this process fork crawls, and a fork copies only its own thread)."""
    app, store = _app(tour)
    try:
        with serving(app) as base:
            yield base
    finally:
        store.close()


def _store_bytes(tour: Path) -> str:
    digest = hashlib.sha256()
    for name in ("regwatch.db", "regwatch.db-wal"):
        if (tour / name).exists():
            digest.update((tour / name).read_bytes())
    return digest.hexdigest()


def _links(base: str, url: str, html: str) -> list[str]:
    tree = lxml.html.fromstring(html)
    out = []
    for href in tree.xpath("//a/@href | //link[@rel='alternate']/@href"):
        target = urljoin(url, href)
        if target.startswith(base):
            out.append(target.split("#")[0])
    return out


def test_every_page_answers_links_onward_and_the_store_is_never_written(
    site: str, tour: Path
) -> None:
    before = _store_bytes(tour)
    seen: dict[str, int] = {}
    queue = [site + "/"]
    while queue and len(seen) < 120:
        url = queue.pop(0)
        if url in seen:
            continue
        answer = get(url)
        seen[url] = answer.status
        assert answer.status == 200, (url, answer.status, answer.text[:300])
        assert answer.headers["content-security-policy"] == CSP
        kind = answer.headers["content-type"]
        if kind.startswith("text/html"):
            links = _links(site, url, answer.text)
            onward = [u for u in links if u.rstrip("/") != url.rstrip("/")]
            assert len(onward) >= 6, f"{url} is a dead end"  # the navigation, at least
            queue += [u for u in links if u not in seen and "/api/" not in u]
    paths = {urlsplit(u).path for u in seen}
    for wanted in (
        "/",
        "/days",
        "/days/2026-10-09",
        "/cfr",
        "/cfr/15/744.11",
        "/rules",
        "/rules/2026-21390",
        "/entities",
        "/eccns",
        "/sources",
        "/feeds",
        "/feeds/all.atom",
    ):
        assert wanted in paths, f"{wanted} is not reachable from the navigation"
    assert any(p.endswith("/compare") for p in paths), "no compare page is linked"
    assert _store_bytes(tour) == before, "serving pages changed the store"


def test_a_readonly_store_refuses_writes(tour: Path) -> None:
    store = Store.open(tour / "regwatch.db", create=False, readonly=True)
    try:
        with pytest.raises(OperationalError, match=r"readonly|read-only|query_only"):
            store.start_run("daily", None, "2026-10-10T00:00:00+00:00")
    finally:
        store.close()


def test_on_postgresql_a_readonly_store_refuses_writes(pg_url: str) -> None:
    Store.open(pg_url).close()
    store = Store.open(pg_url, readonly=True)
    try:
        with pytest.raises(DBAPIError, match="read-only"):
            store.start_run("daily", None, "2026-10-10T00:00:00+00:00")
    finally:
        store.close()


def test_the_api_diff_is_the_cli_diff_and_the_stored_change(site: str, tour: Path) -> None:
    api = get(f"{site}/api/cfr/15/744:supp-4/diff?from=2026-10-01&to=2026-10-09")
    assert api.status == 200, api.text
    model = json.loads(api.body)
    result = CliRunner().invoke(
        main,
        [
            "--config",
            str(tour / "demo.toml"),
            "diff",
            "Supp. No. 4 to Part 744",
            "--from",
            "2026-10-01",
            "--to",
            "2026-10-09",
            "--format",
            "json",
        ],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == model
    store = Store.open(tour / "regwatch.db", create=False, readonly=True)
    try:
        (change,) = [c for c in store.changes_of("cfr:15:744:supp-4") if c.diff_blob]
        stored = stored_diff.decode(store.blob(change.diff_blob)).to_json()
    finally:
        store.close()
    assert model["changes"] == json.loads(json.dumps(stored["changes"]))
    assert {c["op"] for c in model["changes"]} >= {"added", "removed", "changed"}
    page = get(f"{site}/cfr/15/744:supp-4/compare?from=2026-10-01&to=2026-10-09&format=json")
    assert json.loads(page.body) == model


def test_a_rule_page_compares_the_ecfr_now_with_what_the_rule_said(site: str, tour: Path) -> None:
    page = get(f"{site}/rules/2026-21390").text
    link = "/cfr/15/744:supp-4/compare?rule=2026-21390"
    assert f'href="{link}"' in page
    compared = get(site + link).text
    assert "the text FR Doc. 2026-21390 said it would read" in compared
    model = json.loads(get(f"{site}{link}&format=json").body)
    result = CliRunner().invoke(
        main,
        [
            "--config",
            str(tour / "demo.toml"),
            "diff",
            "Supp. No. 4 to Part 744",
            "--rule",
            "2026-21390",
            "--format",
            "json",
        ],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == model
    assert get(f"{site}/cfr/15/744:supp-4/compare?rule=2026-99999").status == 404


def test_a_version_the_store_lacks_is_not_stored_with_the_command_that_fetches_it(
    site: str,
) -> None:
    api = get(f"{site}/api/cfr/15/744.11/diff?from=2020-01-01&to=2026-10-09")
    assert api.status == 404
    message = json.loads(api.body)["error"]
    assert "not stored" in message and 'regwatch diff "15 CFR 744.11" --from 2020-01-01' in message
    page = get(f"{site}/cfr/15/744.11/compare?from=2020-01-01&to=2026-10-09")
    assert page.status == 404 and "not stored" in page.text


def test_search_says_when_a_phrase_stood_in_each_document(site: str) -> None:
    found = json.loads(get(f"{site}/api/search?q=%22Shenzhen+Lumen%22").body)
    spans = {i["key"]: i["spans"] for i in found["items"]}
    # on the Entity List from the first stored day until the rule that removed it
    assert spans["cfr:15:744:supp-4"] == [{"appeared": "2026-10-01", "disappeared": "2026-10-09"}]
    assert spans["fr:2026-21390"] == [{"appeared": "2026-10-09", "disappeared": None}]
    assert found["complete"] is True
    rules = json.loads(get(f"{site}/api/search?q=%22Shenzhen+Lumen%22&kind=Rule").body)
    assert {i["key"] for i in rules["items"]} == {"fr:2026-21001", "fr:2026-21390"}
    later = json.loads(
        get(f"{site}/api/search?q=%22Shenzhen+Lumen%22&part=744&since=2026-10-10").body
    )
    assert "cfr:15:744:supp-4" not in {i["key"] for i in later["items"]}  # gone by then
    page = get(f"{site}/search?q=%22Shenzhen+Lumen%22").text
    assert 'until <a href="/cfr/15/744:supp-4/compare?to=2026-10-09">2026-10-09</a>' in page
    nothing = get(f"{site}/search?q=xyzzy-not-there").text
    assert "Nothing stored has it." in nothing


def test_a_store_indexed_in_part_says_so_until_rebuild(tour: Path, tmp_path: Path) -> None:
    copy = Path(shutil.copytree(tour, tmp_path / "tour"))
    store = Store.open(copy / "regwatch.db")
    store.reindex([])  # as a store from before the index was made
    store.close()
    app, store = _app(copy)
    try:
        with serving(app) as base:
            page = get(f"{base}/search?q=Hanzhou").text
            assert "regwatch rebuild" in page and "Nothing stored has it." in page
    finally:
        store.close()
    result = CliRunner().invoke(main, ["--config", str(copy / "demo.toml"), "rebuild"])
    assert result.exit_code == 0, result.output
    assert "versions indexed for search" in result.output
    app, store = _app(copy)
    try:
        with serving(app) as base:
            found = json.loads(get(f"{base}/api/search?q=Hanzhou").body)
            assert found["complete"] and "cfr:15:744:supp-4" in {i["key"] for i in found["items"]}
    finally:
        store.close()


def test_lists_are_paged(site: str) -> None:
    first = json.loads(get(f"{site}/api/cfr?limit=2").body)
    assert len(first["items"]) == 2 and first["next"] == 2 and first["total"] > 2
    second = json.loads(get(f"{site}/api/cfr?limit=2&offset=2").body)
    assert {i["key"] for i in second["items"]}.isdisjoint(i["key"] for i in first["items"])
    runs = json.loads(get(f"{site}/api/runs?limit=1").body)
    assert len(runs["items"]) == 1 and runs["next"] == 1


def test_the_openapi_document_lists_the_api_and_no_page(site: str) -> None:
    spec = json.loads(get(f"{site}/api/openapi.json").body)
    paths = set(spec["paths"])
    assert "/api/cfr/{title}/{unit}/diff" in paths and "/api/days/{day}" in paths
    assert all(p.startswith("/api/") for p in paths)


# --- the guard ------------------------------------------------------------------------------


def test_an_unknown_host_header_is_refused(site: str) -> None:
    answer = get(site + "/", {"Host": "evil.example"})
    assert answer.status == 400
    assert get(site + "/", {"Host": "localhost:8000"}).status == 200


def test_with_a_token_every_request_needs_it_and_a_feed_token_opens_its_feed_only(
    tour: Path,
) -> None:
    app, store = _app(tour, host="0.0.0.0", token=TOKEN)
    try:
        with serving(app) as base:
            bearer = {"Authorization": f"Bearer {TOKEN}"}
            for path in ("/", "/api/days", "/feeds/all.atom", "/static/app.css"):
                assert get(base + path).status == 401, path
                assert get(base + path, {"Authorization": "Bearer wrong"}).status == 401
                assert get(base + path, bearer).status == 200, path
            assert json.loads(get(base + "/api/days").body)["error"].startswith("a token")
            token = feed_token(TOKEN, "all.atom")
            assert get(f"{base}/feeds/all.atom?token={token}").status == 200
            assert get(f"{base}/feeds/all.rss?token={token}").status == 401
            assert get(f"{base}/?token={token}").status == 401
            listing = get(base + "/feeds", bearer).text
            assert f"/feeds/all.atom?token={token}" in listing
            assert get(base + "/", {**bearer, "Host": "0.0.0.0:8000"}).status == 200
    finally:
        store.close()


def test_regwatch_serve_serves_until_sigterm(tour: Path) -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "crawler", "--config", "demo.toml", "serve", "--port", str(port)],
        cwd=tour,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={k: v for k, v in os.environ.items() if k != TOKEN_ENV},
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(OSError):
                answer = get(f"http://127.0.0.1:{port}/")
                if answer.status == 200:
                    break
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "regwatch serve did not answer"
            time.sleep(0.2)
        assert "Friday, October 9, 2026" in answer.text
        # a comparison is made in the worker process; the API gives the CLI's model
        url = f"http://127.0.0.1:{port}/api/cfr/15/744.11/diff?from=2026-10-01&to=2026-10-09"
        model = json.loads(get(url).body)
        assert model["changes"] and model["key"] == "cfr:15:744.11"
        workers = _children(process.pid)
        assert workers, "no worker process made the comparison"
    finally:
        process.terminate()
        out, err = process.communicate(timeout=30)
    deadline = time.monotonic() + 5  # the worker and multiprocessing's resource tracker
    while [w for w in workers if Path(f"/proc/{w}").exists()] and time.monotonic() < deadline:
        time.sleep(0.1)
    left = [Path(f"/proc/{w}/cmdline").read_bytes() for w in workers if Path(f"/proc/{w}").exists()]
    assert not left, f"outlived regwatch serve: {left}"
    # uvicorn shuts down, then re-raises the signal it caught (the default exit of SIGTERM)
    assert process.returncode in (0, -signal.SIGTERM), err
    assert f"on http://127.0.0.1:{port}/" in out
    assert "Traceback" not in err


def _children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (Linux /proc)."""
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                out.append(int(stat.parent.name))
    return out


def test_serving_beyond_loopback_without_a_token_is_refused(tour: Path) -> None:
    result = CliRunner().invoke(
        main, ["--config", str(tour / "demo.toml"), "serve", "--host", "0.0.0.0"], env={}
    )
    assert result.exit_code == 2
    assert "REGWATCH_SERVE_TOKEN" in result.output
    assert "Traceback" not in result.output


# Every route, with every parameter it reads, is probed with the corpus; a route the
# inventory does not know fails the inventory test, so a new route cannot skip the probe.
ROUTES = {
    "/",
    "/days",
    "/days/{day}",
    "/cfr",
    "/cfr/find",
    "/cfr/{title}/{unit}",
    "/cfr/{title}/{unit}/compare",
    "/rules",
    "/rules/{number}",
    "/entities",
    "/eccns",
    "/search",
    "/sources",
    "/feeds",
    "/feeds/{name}",
    "/favicon.ico",
    "/static",
    "/api/openapi.json",
    "/api/days",
    "/api/days/{day}",
    "/api/documents",
    "/api/documents/{number}",
    "/api/cfr",
    "/api/cfr/{title}/{unit}/versions",
    "/api/cfr/{title}/{unit}/changes",
    "/api/cfr/{title}/{unit}/diff",
    "/api/entities",
    "/api/eccns/{eccn}",
    "/api/search",
    "/api/runs",
}
XSS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(2)>',
    "javascript:alert(3)",
    "'><svg/onload=alert(4)>",
    "%3Cscript%3Ealert(5)%3C/script%3E",
]
RAW = re.compile(r"<script>alert|<img src=x|<svg/onload", re.I)


def _routes(app: FastAPI) -> dict[str, list[str]]:
    """Each route's path and the query parameters it reads (routers included in the app
    are walked into)."""
    out: dict[str, list[str]] = {}

    def walk(routes: list[Any], prefix: str) -> None:
        for route in routes:
            if hasattr(route, "original_router"):  # a router included in the app
                walk(route.original_router.routes, prefix + route.include_context.prefix)
            elif isinstance(route, APIRoute):
                out[prefix + route.path] = [p.alias for p in route.dependant.query_params]
            elif isinstance(route, Mount):
                out[prefix + route.path] = []
            else:
                out[prefix + str(getattr(route, "path", route))] = []

    walk(list(app.routes), "")
    return out


def test_the_route_inventory_is_complete(tour: Path) -> None:
    app, store = _app(tour)
    store.close()
    assert set(_routes(app)) == ROUTES


def test_every_parameter_of_every_route_is_escaped(site: str, tour: Path) -> None:
    app, store = _app(tour)
    store.close()
    fill = {
        "title": "15",
        "unit": "744.11",
        "day": "2026-10-09",
        "number": "2026-21390",
        "name": "all.atom",
        "eccn": "0A999",
    }
    probed = 0
    for path, query in _routes(app).items():
        for payload in XSS:
            encoded = quote(payload, safe="")
            params = re.findall(r"{(\w+)}", path)
            urls = []
            for param in params:  # each path parameter in turn carries the payload
                url = path
                for other in params:
                    value = encoded if other == param else fill[other]
                    url = url.replace("{" + other + "}", value)
                urls.append(url)
            base_path = path
            for other in params:
                base_path = base_path.replace("{" + other + "}", fill[other])
            urls += [f"{base_path}?{q}={encoded}" for q in query]
            urls.append(f"{base_path}?unknown={encoded}")
            for url in urls:
                answer = get(site + url)
                probed += 1
                assert answer.status < 500, (url, answer.status, answer.text[:200])
                assert not RAW.search(answer.text), (url, answer.text[:300])
                assert answer.headers.get("content-security-policy") == CSP, url
                assert answer.headers.get("x-content-type-options") == "nosniff", url
    assert probed > 200


@pytest.mark.parametrize(
    "path",
    [
        "/static/%2e%2e/app.py",
        "/static/..%2fapp.py",
        "/static/%2e%2e/%2e%2e/%2e%2e/config.py",
        "/feeds/..%2fregwatch.db",
        "/feeds/%2e%2e%2fdemo.toml",
        "/feeds/%2e%2e/demo.toml",
    ],
)
def test_no_path_leaves_static_or_feeds(site: str, path: str) -> None:
    answer = get(site + path)
    assert answer.status in (400, 404), (path, answer.status)
    assert b"SQLite format" not in answer.body and b"import " not in answer.body
    assert b"[sources" not in answer.body


# --- in a real browser ----------------------------------------------------------------------


def test_a_user_follows_today_to_a_rule_and_compares_the_entity_list(
    site: str, tmp_path: Path
) -> None:
    require(CHROMIUM, "Debian's chromium is not installed (.ci/run installs it)")
    assert CHROMIUM is not None
    shots = tmp_path / "shots"
    shots.mkdir()
    with chromium(CHROMIUM, tmp_path / "chromium") as browser, browser.tab() as tab:
        tab.goto(site + "/")
        assert tab.press_tab() == "A Skip to content"  # the first stop of the keyboard
        assert "Friday, October 9, 2026" in tab.text("h1")
        tab.screenshot(shots / "today.png")
        tab.click("article.document h3 a")
        assert tab.url == site + "/rules/2026-21390"
        assert tab.text("h1") == "Removal of Certain Entities From the Entity List"
        assert "Shenzhen Lumen Photonics" in tab.text(".change.removed")
        tab.screenshot(shots / "rule.png")
        tab.click("p.where a")  # the unit it amends
        assert tab.url == site + "/cfr/15/744:supp-4"
        tab.submit("form.compare", {"from": "2026-10-01", "to": "2026-10-09"})
        assert "from=2026-10-01" in tab.url and "to=2026-10-09" in tab.url
        assert "Hanzhou Quantum Instruments" in tab.text(".block.added")
        assert "Shenzhen Lumen Photonics" in tab.text(".block.removed")
        assert "unchanged paragraphs" in tab.text("p.fold")  # long unchanged runs left out
        tab.screenshot(shots / "compare.png")
        tab.click("p.fold a")  # ... and sent, folded, on asking for the whole text
        assert "full=1" in tab.url
        assert tab.evaluate("document.querySelectorAll('details.fold').length") >= 1
        assert "Hanzhou Quantum Instruments" in tab.text(".block.added")
        tab.submit("form.compare", {"view": "side", "only": True})
        assert tab.evaluate("document.querySelectorAll('.side').length") >= 3
        assert tab.evaluate("document.querySelectorAll('.block.same').length") == 0
        tab.click("a[href='/entities']")  # the navigation
        tab.submit("form.compare", {"country": "IRAN"})
        rows = tab.text("tbody")
        assert "Pars Aero Parts Trading" in rows and "Hanzhou" not in rows
        tab.screenshot(shots / "entities.png")
        tab.click("a[href='/search']")
        tab.submit("form.compare", {"q": '"Shenzhen Lumen"'})
        assert "until 2026-10-09" in tab.text(".results")
        tab.screenshot(shots / "search.png")
        assert tab.evaluate("document.querySelectorAll('[data-pwned]').length") == 0
    with chromium(CHROMIUM, tmp_path / "phone") as browser, browser.tab(390, 800) as tab:
        tab.goto(site + "/cfr/15/744.11/compare?from=2026-10-01&to=2026-10-09&view=side")
        width = tab.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the compare page scrolls sideways on a phone ({width}px)"
        tab.screenshot(shots / "phone.png")
