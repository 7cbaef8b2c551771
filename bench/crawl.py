"""Backfill throughput: regwatch's whole pipeline vs a bare Scrapy spider, same URLs, same run.

    python bench/crawl.py [--docs 2000] [--rounds 2]

Both crawl the replay server on 127.0.0.1 serving the same synthetic corpus, politeness off,
same concurrency. The bare spider fetches the search pages, each document's JSON and XML and
does nothing else; regwatch also parses, versions and stores every document in SQLite.
Printed: documents per second for each, and the ratio (goal: >= 0.75).
"""

from __future__ import annotations

import argparse
import dataclasses
import subprocess
import sys
import tempfile
import textwrap
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from crawler import config as config_module
from crawler.demo.replay import ReplayServer
from crawler.demo.replay.corpus import synthetic
from crawler.fetch.settings import build_settings
from crawler.jobs import daily as job

START = date(2026, 1, 5)

BARE = textwrap.dedent("""
    import json, sys
    import scrapy
    from scrapy.crawler import CrawlerProcess

    base, urls_file, concurrency = sys.argv[1], sys.argv[2], int(sys.argv[3])
    searches = open(urls_file).read().split()

    class Bare(scrapy.Spider):
        name = "bare"
        async def start(self):
            for url in searches:
                yield scrapy.Request(url, callback=self.search)
        def search(self, response):
            for hit in json.loads(response.body).get("results", []):
                yield scrapy.Request(f"{base}/api/v1/documents/{hit['document_number']}.json",
                                     callback=self.document)
        def document(self, response):
            xml = json.loads(response.body)["full_text_xml_url"]
            yield scrapy.Request(base + xml.split("federalregister.gov", 1)[1],
                                 callback=self.xml)
        def xml(self, response):
            return None

    process = CrawlerProcess({"LOG_LEVEL": "ERROR", "TELNETCONSOLE_ENABLED": False,
        "REMOTE_CONTROL_ENABLED": False, "ROBOTSTXT_OBEY": False,
        "CONCURRENT_REQUESTS": concurrency, "CONCURRENT_REQUESTS_PER_DOMAIN": concurrency,
        "DOWNLOAD_DELAY": 0, "COOKIES_ENABLED": False,
        "TWISTED_REACTOR": "twisted.internet.asyncioreactor.AsyncioSelectorReactor"})
    process.crawl(Bare)
    process.start()
""")


def bare(server: ReplayServer, searches: list[str], folder: Path, concurrency: int) -> float:
    script = folder / "bare.py"
    script.write_text(BARE)
    urls = folder / "searches.txt"
    urls.write_text("\n".join(searches))
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, str(script), server.base, str(urls), str(concurrency)], check=True
    )
    return time.perf_counter() - started


def ours(server: ReplayServer, folder: Path, until: date) -> float:
    config = config_module.load(None, env={})
    fr = dataclasses.replace(
        config.sources.federal_register,
        api_base=f"{server.base}/api/v1",
        site_base=server.base,
        public_inspection=False,
    )
    config = dataclasses.replace(
        config,
        root=folder,
        http=dataclasses.replace(config.http, polite=False),
        sources=dataclasses.replace(config.sources, federal_register=fr),
    )
    now = datetime.now(UTC)
    started = time.perf_counter()
    report = job.backfill(
        config, "federal_register", START, until, now, lambda: now, progress=False
    )
    elapsed = time.perf_counter() - started
    if not report.ok or report.sources[0].stats.get("new") != len(server.corpus.documents):
        raise SystemExit(f"regwatch crawl incomplete: {report.sources} {report.errors[:3]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=2000)
    parser.add_argument("--days", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    corpus = synthetic(args.docs, START, args.days)
    until = START + timedelta(days=args.days - 1)
    unpolite = dataclasses.replace(config_module.load(None, env={}).http, polite=False)
    concurrency = build_settings(
        dataclasses.replace(config_module.load(None, env={}), http=unpolite), run_id=0, now=""
    )["CONCURRENT_REQUESTS"]
    best_bare = best_ours = float("inf")
    with ReplayServer(corpus) as server:
        searches = []
        for day in range(args.days):
            d = (START + timedelta(days=day)).isoformat()
            searches.append(
                f"{server.base}/api/v1/documents.json?conditions%5Bpublication_date"
                f"%5D%5Bis%5D={d}&per_page=1000&fields%5B%5D=document_number"
            )
        for round_no in range(args.rounds):
            with tempfile.TemporaryDirectory() as tmp:
                best_bare = min(best_bare, bare(server, searches, Path(tmp), concurrency))
            with tempfile.TemporaryDirectory() as tmp:
                best_ours = min(best_ours, ours(server, Path(tmp), until))
            print(
                f"round {round_no + 1}: bare {best_bare:.2f}s  regwatch {best_ours:.2f}s",
                file=sys.stderr,
            )
    n = len(corpus.documents)
    print(f"documents          {n}")
    print(
        f"bare scrapy        {n / best_bare:8.1f} docs/s  ({best_bare:.2f} s, best of "
        f"{args.rounds})"
    )
    print(
        f"regwatch pipeline  {n / best_ours:8.1f} docs/s  ({best_ours:.2f} s, best of "
        f"{args.rounds})"
    )
    print(f"ratio              {best_bare / best_ours:8.2f}  (goal >= 0.75)")


if __name__ == "__main__":
    main()
