"""The crawl subprocess: ``python -m crawler.fetch.process`` with a JSON handover on stdin."""

from __future__ import annotations

import ctypes
import json
import logging
import os
import signal
import sys

from scrapy.crawler import CrawlerProcess

from crawler.config import from_dict
from crawler.fetch import pipelines, spiders
from crawler.fetch.settings import build_settings
from crawler.jobs.crawl import STORAGE_FAILED

PR_SET_PDEATHSIG = 1


def main() -> int:
    _die_with_parent()
    handover = json.loads(sys.stdin.read())
    if not handover["verbose"]:  # no last-resort stderr handler: errors are rows on the run
        logging.getLogger().addHandler(logging.NullHandler())
    for entry in handover.get("sources", ()):  # the registry as the parent knows it
        source = spiders.Source.from_dict(entry)
        if source.name not in spiders.SOURCES:
            spiders.register(source)
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
        process.crawl(spiders.get(crawl["source"]).stage(spiders.Stage.FETCH), **crawl["args"])
    process.start()
    if pipelines.storage_failures:
        print(pipelines.storage_failures[0], flush=True)
        return STORAGE_FAILED
    return 0


def _die_with_parent() -> None:
    """On Linux, the crawl ends when its parent (the job that holds the run's lock) is
    killed, so a killed run never goes on writing beside the run that replaces it."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        return
    if os.getppid() == 1:  # the parent died before prctl took hold
        os._exit(1)


if __name__ == "__main__":
    sys.exit(main())
