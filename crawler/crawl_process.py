"""The crawl subprocess: ``python -m crawler.crawl_process`` with a JSON handover on stdin."""

from __future__ import annotations

import json
import sys

from scrapy.crawler import CrawlerProcess

from crawler import spiders
from crawler.config import from_dict
from crawler.settings import build_settings


def main() -> int:
    handover = json.loads(sys.stdin.read())
    config = from_dict(handover["config"])
    settings = build_settings(
        config,
        run_id=handover["run"],
        now=handover["now"],
        verbose=handover["verbose"],
        progress=handover["progress"],
    )
    process = CrawlerProcess(settings)
    for crawl in handover["crawls"]:
        process.crawl(spiders.get(crawl["source"]).load(), **crawl["args"])
    process.start()
    return 0


if __name__ == "__main__":
    sys.exit(main())
