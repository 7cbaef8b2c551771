"""One fetch policy, one table: every case below runs through the Scrapy downloader (the
project's own settings and middlewares, one crawl subprocess for the whole table) and through
the on-demand eCFR client (urllib), against replay servers on 127.0.0.1. Both must reach the
expected outcome, and where they refuse, with the same one-line error.

Run as a script (``python tests/test_fetch_policy.py``), this file is that crawl subprocess.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import json
import re
import subprocess
import sys
import tracemalloc
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from crawler import config as config_module
from crawler.config import from_dict, to_dict
from crawler.demo.replay import Corpus, ReplayServer
from crawler.demo.replay.server import Fault
from crawler.errors import FetchError
from crawler.fetch.ecfr_client import EcfrClient
from crawler.fetch.policy import FetchPolicy, origin, retry_after_seconds

ROOT = Path(__file__).resolve().parents[1]
API = "/api/versioner/v1"
TITLES = f"{API}/titles.json"
PART = f"{API}/full/2026-10-09/title-15.xml?part=744"
MAX_BYTES = 8_000_000
MAX_COMPRESSED = 2_000_000
OUTSIDE = r", outside the configured hosts \([^)]*\); not followed$"
AS_RECEIVED = (
    rf": body is larger than \[http\] max_compressed_bytes \({MAX_COMPRESSED} bytes\) "
    r"as received; not stored$"
)
NOW = datetime(2026, 10, 9, 11, 30, tzinfo=UTC)


@dataclass(frozen=True)
class Case:
    name: str
    expect: str  # "ok": the body at ``served``; otherwise a regex the one-line error matches
    fault: dict[str, Any] = field(default_factory=dict)
    url: str = "{base}" + TITLES + "?case={slug}"
    served: str = TITLES

    @property
    def slug(self) -> str:
        return re.sub(r"\W+", "-", self.name)


CASES = (
    Case("plain request", "ok"),
    Case("gzip within the limits", "ok", url="{base}" + PART + "&case={slug}", served=PART),
    Case("same-host redirect", "ok", {"location": TITLES}),
    Case("same-host absolute 301", "ok", {"status": 301, "location": "{base}" + TITLES}),
    Case(
        "redirect to another port",
        r"redirects \(HTTP 302\) to http://127\.0\.0\.1:\d+/api/versioner/v1/titles\.json"
        + OUTSIDE,
        {"location": "{other}" + TITLES},
    ),
    Case(
        "redirect to another host",
        r"redirects \(HTTP 302\) to http://localhost:\d+/api/versioner/v1/titles\.json" + OUTSIDE,
        {"location": "http://localhost:{port}" + TITLES},
    ),
    Case(
        "protocol-relative redirect to another host",
        r"redirects \(HTTP 301\) to //example\.org/x" + OUTSIDE,
        {"status": 301, "location": "//example.org/x"},
    ),
    Case(
        "redirect from http(s) to ftp",
        r"redirects \(HTTP 302\) to ftp://127\.0\.0\.1/titles\.json" + OUTSIDE,
        {"location": "ftp://127.0.0.1/titles.json"},
    ),
    Case(
        "redirect to javascript",
        r"redirects \(HTTP 307\) to javascript:alert\(document\.domain\)" + OUTSIDE,
        {"status": 307, "location": "javascript:alert(document.domain)"},
    ),
    Case(
        "another host asked directly",
        r"^http://localhost:\d+/\S+ is not fetched: only http\(s\) to the configured hosts",
        url="http://localhost:{port}" + TITLES + "?case={slug}",
    ),
    Case("oversized Content-Length", AS_RECEIVED, {"oversize": 3_000_000}),
    Case("oversized chunked body", AS_RECEIVED, {"oversize": 3_000_000, "chunked": True}),
    Case(
        "gzip bomb: 1.2 MB inflating to 1.3 GB",
        rf": body is larger than \[http\] max_bytes \({MAX_BYTES} bytes\) once decompressed; "
        "not stored$",
        {"bomb": 1200 << 20},
    ),
    Case("429 with Retry-After, then 200", "ok", {"status": 429, "retry_after": 1, "times": 1}),
    Case(
        "503 with a too long Retry-After",
        r"^HTTP 503 from 127\.0\.0\.1:\d+/api/versioner/v1/titles\.json: Retry-After 9999 asks "
        r"for 9999 s, longer than \[http\] max_retry_after \(5 s\); left to the next run$",
        {"status": 503, "retry_after": 9999},
    ),
    Case(
        "429 until the retries run out",
        r"^HTTP 429 from 127\.0\.0\.1:\d+/api/versioner/v1/titles\.json after 3 tries "
        r"\(Retry-After: 1\)$",
        {"status": 429, "retry_after": 1},
    ),
)


@dataclass
class Servers:
    main: ReplayServer
    other: ReplayServer  # another port of the same host: must never be asked anything

    def fill(self, text: str, case: Case | None = None) -> str:
        return text.format(
            base=self.main.base,
            other=self.other.base,
            port=self.main.port,
            slug=case.slug if case else "",
        )

    def arm(self) -> dict[str, str]:
        """Fresh faults for every case; returns each case's URL by slug."""
        self.main.faults[:] = [
            Fault(
                rf"case={c.slug}$",
                **{k: self.fill(v) if isinstance(v, str) else v for k, v in c.fault.items()},
            )
            for c in CASES
            if c.fault
        ]
        return {c.slug: self.fill(c.url, c) for c in CASES}


def table_config(servers: Servers, folder: Path, **http: Any) -> config_module.Config:
    base = config_module.load(None, env={})
    ecfr = dataclasses.replace(base.sources.ecfr, api_base=f"{servers.main.base}{API}")
    limits = {
        "polite": False,
        "retries": 2,
        "max_retry_after": 5.0,
        "timeout": 20.0,
        "max_bytes": MAX_BYTES,
        "max_compressed_bytes": MAX_COMPRESSED,
        **http,
    }
    return dataclasses.replace(
        base,
        root=folder,
        http=dataclasses.replace(base.http, **limits),
        sources=dataclasses.replace(base.sources, ecfr=ecfr),
    )


@pytest.fixture(scope="module")
def servers():
    with ReplayServer(Corpus.demo()) as main, ReplayServer(Corpus.demo()) as other:
        yield Servers(main, other)


@pytest.fixture(scope="module")
def scrapy_side(servers, tmp_path_factory):
    """The whole table through the real downloader in one crawl subprocess."""
    config = table_config(servers, tmp_path_factory.mktemp("scrapy"))
    handover = {"config": to_dict(config), "urls": servers.arm()}
    proc = subprocess.run(
        [sys.executable, __file__],
        input=json.dumps(handover),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return {
        **json.loads(proc.stdout),
        "stderr": proc.stderr,
        "requests": list(servers.main.requests),
    }


@pytest.fixture(scope="module")
def client_side(servers, tmp_path_factory):
    """The whole table through the on-demand client, waits recorded instead of slept."""
    config = table_config(servers, tmp_path_factory.mktemp("client"))
    outcomes, waits = {}, {}
    for slug, url in servers.arm().items():
        asked: list[float] = []
        client = EcfrClient(config, now=lambda: NOW, sleep=asked.append)
        try:
            outcomes[slug] = ["ok", _digest(client.fetch(url))]
        except FetchError as exc:
            outcomes[slug] = ["error", str(exc)]
        waits[slug] = asked
    return {"outcomes": outcomes, "waits": waits}


def _digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def _served(servers: Servers, path: str) -> str:
    """What the replay server serves at ``path``, decompressed."""
    request = f"{servers.main.base}{path}"
    import urllib.request

    with urllib.request.urlopen(
        urllib.request.Request(request, headers={"Accept-Encoding": "gzip"})
    ) as response:
        body = response.read()
        if response.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
    return _digest(body)


@pytest.mark.parametrize("case", CASES, ids=[c.slug for c in CASES])
@pytest.mark.parametrize("side", ["scrapy", "client"])
def test_each_case_has_its_outcome_on_both_sides(case, side, scrapy_side, client_side, servers):
    kind, value = (scrapy_side if side == "scrapy" else client_side)["outcomes"][case.slug]
    if case.expect == "ok":
        assert (kind, value) == ("ok", _served(servers, case.served))
    else:
        assert kind == "error" and re.search(case.expect, value), value
        assert "\n" not in value


def test_both_sides_refuse_with_the_same_line(scrapy_side, client_side):
    assert scrapy_side["outcomes"] == client_side["outcomes"]


def test_refused_redirects_are_never_followed(scrapy_side, client_side, servers):
    assert servers.other.requests == []  # another port of the configured host
    hosts = {headers.get("Host", "").split(":")[0] for _, headers in scrapy_side["requests"]}
    assert hosts == {"127.0.0.1"}  # localhost is another host, though the same machine


def test_the_client_waits_what_retry_after_asks(client_side):
    waits = client_side["waits"]
    assert waits["429-with-Retry-After-then-200"] == [1.0]
    assert waits["429-until-the-retries-run-out"] == [1.0, 1.0]
    assert waits["503-with-a-too-long-Retry-After"] == []


def test_a_gzip_bomb_is_stopped_while_inflating_in_the_crawl(scrapy_side):
    # inflated whole, the 1.3 GB bomb alone would take over 1,300 MB
    assert scrapy_side["maxrss_mb"] < 400, scrapy_side["maxrss_mb"]


def test_the_crawl_logs_nothing_without_verbose(scrapy_side):
    assert scrapy_side["stderr"] == ""


@pytest.mark.parametrize("limit", [MAX_BYTES, config_module.HttpConfig().max_bytes])
def test_a_gzip_bomb_costs_the_client_no_more_than_the_limit(servers, tmp_path, limit):
    config = table_config(servers, tmp_path, max_bytes=limit, max_compressed_bytes=16_000_000)
    servers.main.faults[:] = [Fault("case=bomb$", bomb=1200 << 20)]
    tracemalloc.start()
    try:
        with pytest.raises(FetchError, match=rf"max_bytes \({limit} bytes\) once decompressed"):
            EcfrClient(config).fetch(f"{servers.main.base}{TITLES}?case=bomb")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < limit + 4_000_000, peak


def test_the_default_limits_admit_a_payload_several_times_part_774(servers, tmp_path):
    """15 CFR part 774 (the CCL) is a few MB of XML; 24 MB of XML passes the defaults."""
    config = table_config(servers, tmp_path, **_default_limits())
    xml = b"<DIV5 N='774'>" + b"<P>3A090 Integrated circuits ... </P>" * 650_000 + b"</DIV5>"
    assert len(xml) > 24_000_000
    servers.main.faults[:] = [Fault("case=ccl$", body=xml)]
    body = EcfrClient(config).fetch(f"{servers.main.base}{PART}&case=ccl")
    assert body == xml


def _default_limits() -> dict[str, Any]:
    http = config_module.HttpConfig()
    return {"max_bytes": http.max_bytes, "max_compressed_bytes": http.max_compressed_bytes}


def test_origins_are_scheme_host_and_port():
    assert origin("https://WWW.ecfr.gov/api") == ("https", "www.ecfr.gov", 443)
    assert origin("http://127.0.0.1:8080/x") == ("http", "127.0.0.1", 8080)
    assert origin("http://127.0.0.1:8080@evil.example/x") == ("http", "evil.example", 80)
    assert origin("http://127.0.0.1:99999/x") is None
    assert origin("ftp://127.0.0.1/x") is None
    assert origin("javascript:alert(1)") is None


def test_the_policy_takes_every_base_url_of_every_source():
    policy = FetchPolicy.from_config(config_module.load(None, env={}))
    assert {host for _, host, _ in policy.origins} == {
        "www.federalregister.gov",
        "www.ecfr.gov",
        "www.bis.gov",
    }
    assert not policy.allows("http://www.ecfr.gov/api")  # http is port 80, not 443


def test_retry_after_as_a_date_counts_from_the_time_passed_in():
    assert retry_after_seconds("Fri, 09 Oct 2026 11:30:30 GMT", NOW) == 30.0
    assert retry_after_seconds("Fri, 09 Oct 2026 11:00:00 GMT", NOW) == 0.0
    assert retry_after_seconds("soon", NOW) is None


def test_inflating_reads_gzip_members_and_raw_deflate_and_rejects_cut_bodies():
    policy = FetchPolicy.from_config(config_module.load(None, env={}))
    two = gzip.compress(b"one ") + gzip.compress(b"two")
    assert policy.decompress("u", "gzip", two) == b"one two"
    raw = zlib.compressobj(wbits=-15)
    assert policy.decompress("u", "deflate", raw.compress(b"x" * 9) + raw.flush()) == b"x" * 9
    with pytest.raises(FetchError, match=r"^u: compressed body is cut short$"):
        policy.decompress("u", "gzip", gzip.compress(b"y" * 1000)[:-20])
    with pytest.raises(FetchError, match=r"^u: unsupported Content-Encoding 'br'; expected gzip$"):
        policy.decompress("u", "br", b"\x00")


def test_a_crawl_against_a_closed_port_prints_no_traceback(tmp_path):
    """Offline: every source unreachable (bis obeys robots.txt, whose failure Scrapy logs
    with a 74-line traceback): one line per recorded error and one summing up, no log."""
    running = [_offline_run(tmp_path / "quiet"), _offline_run(tmp_path / "verbose", "--verbose")]
    quiet, verbose = (_finished(process) for process in running)  # the two side by side
    lines = [li for li in quiet.stderr.splitlines() if li.strip()]
    assert (
        quiet.returncode == 3 and "Traceback" not in quiet.stderr and "robots" not in quiet.stderr
    )
    assert all(re.fullmatch(r"  error: \w+: .+|regwatch: run \d+ failed: .+", li) for li in lines)
    assert (
        "  error: bis: bis.gov /news-updates: cannot reach 127.0.0.1:9: connection refused" in lines
    )
    assert "robots.txt" in verbose.stderr  # the same run does log, when asked to


def _finished(process: subprocess.Popen[str]) -> subprocess.CompletedProcess[str]:
    stdout, stderr = process.communicate(timeout=120)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def _offline_run(folder: Path, *flags: str) -> subprocess.Popen[str]:
    """`regwatch run` started against a closed port (every source), in ``folder``."""
    folder.mkdir()
    closed = "http://127.0.0.1:9"
    (folder / "regwatch.toml").write_text(
        f"""[http]
polite = false
retries = 0
[sources.federal_register]
api_base = "{closed}/api/v1"
site_base = "{closed}"
first_run_days = 0
[sources.ecfr]
api_base = "{closed}/api/versioner/v1"
watches = ["15:744"]
[sources.bis]
site_base = "{closed}"
""",
        encoding="utf-8",
    )
    return subprocess.Popen(
        [sys.executable, "-m", "crawler", "--config", "regwatch.toml", *flags, "run"],
        cwd=folder,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _probe() -> None:
    """The crawl subprocess: the table's URLs through the project's Scrapy settings."""
    import resource

    import scrapy
    from scrapy import signals
    from scrapy.crawler import CrawlerProcess

    from crawler.fetch.items import CrawlError
    from crawler.fetch.settings import build_settings
    from crawler.fetch.spiders.base import RegwatchSpider

    handover = json.loads(sys.stdin.read())
    settings = build_settings(
        from_dict(handover["config"]), run_id=0, now=NOW.isoformat(timespec="seconds")
    )
    settings["ITEM_PIPELINES"] = {}
    outcomes: dict[str, list[str]] = {}

    class Probe(RegwatchSpider):
        name = "ecfr"  # its config table; the requests are the table's

        async def start(self) -> Any:
            for slug, url in handover["urls"].items():
                yield scrapy.Request(
                    url, self.body, errback=self.failed, dont_filter=True, meta={"target": slug}
                )

        def body(self, response: Any) -> Any:
            yield {"target": response.meta["target"], "body": response.body}

    def seen(item: Any, **_: Any) -> None:
        if isinstance(item, CrawlError):
            outcomes[item.target] = ["error", item.message]
        else:
            outcomes[item["target"]] = ["ok", _digest(item["body"])]

    process = CrawlerProcess(settings)
    crawler = process.create_crawler(Probe)
    crawler.signals.connect(seen, signal=signals.item_scraped)
    process.crawl(crawler)
    process.start()
    maxrss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"outcomes": outcomes, "maxrss_mb": maxrss_mb}))


if __name__ == "__main__":
    _probe()
