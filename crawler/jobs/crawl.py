"""Start a crawl in its own process (Twisted's reactor cannot restart in one process).

The parent hands the child its config, run id and clock as JSON on stdin; the child
(crawler.fetch.process) runs Scrapy and writes to the store; the parent only waits.
This module does not import Scrapy, so commands that don't crawl stay fast.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from typing import Any

from crawler.config import Config, to_dict
from crawler.errors import CrawlFailed
from crawler.fetch.spiders import SOURCES

STORAGE_FAILED = 4  # the crawl process's exit status when the store could not be written


@dataclass(frozen=True)
class CrawlRequest:
    """One spider to run in the crawl process, with its arguments."""

    source: str
    args: dict[str, str] = field(default_factory=dict)


def run_crawl(
    config: Config,
    run_id: int,
    now: str,
    crawls: list[CrawlRequest],
    *,
    verbose: bool = False,
    progress: bool = False,
) -> None:
    """Run the spiders in a subprocess and wait; raises CrawlFailed if the process died."""
    handover: dict[str, Any] = {
        "config": to_dict(config),
        "run": run_id,
        "now": now,
        "verbose": verbose,
        "progress": progress,
        "crawls": [{"source": c.source, "args": c.args} for c in crawls],
        "sources": [source.to_dict() for source in SOURCES.values()],
    }
    talk = verbose or progress  # otherwise what the process says is kept for the error line
    proc = subprocess.run(
        [sys.executable, "-m", "crawler.fetch.process"],
        input=json.dumps(handover).encode(),
        stdout=subprocess.PIPE,
        stderr=None if talk else subprocess.PIPE,
        check=False,
    )
    if proc.returncode != 0:
        said = proc.stdout + (proc.stderr or b"")
        tail = said.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
        if proc.returncode == STORAGE_FAILED:
            raise CrawlFailed(tail[0], storage=True)
        raise CrawlFailed(f"crawl process exited with status {proc.returncode}: {tail[0]}")
