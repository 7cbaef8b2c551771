"""Rendering cost: 1,000 changes to an email (text + HTML), an Atom feed and HTML pages.

    python bench/digest.py [--changes 1000]

The changes are eCFR-style section changes (a word-level redline each) built in memory; the
times are for rendering only (templates, feedgen, MIME). Goal: all of it under 1 s.
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from crawler import config as config_module
from crawler.config import SubscriptionConfig
from crawler.deliver.email import compose
from crawler.deliver.feeds import render_feed, report_items
from crawler.deliver.site import change_page
from crawler.diff.cite import cited_diff, official_links
from crawler.diff.views import text_view
from crawler.digest.context import CfrChangeEntry, PartRef, Report, SourceLine
from crawler.digest.select import Facets
from crawler.records import Node

WORDS = [
    "export",
    "license",
    "entity",
    "item",
    "destination",
    "control",
    "policy",
    "review",
    "denial",
    "section",
]


def changes(n: int, seed: int = 3) -> list[CfrChangeEntry]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        text = " ".join(rng.choice(WORDS) for _ in range(60))
        words = text.split()
        words[rng.randrange(60)] = "CHANGED"
        old = Node(
            f"744.{i}", "section", f"§ 744.{i} Heading.", "", (Node("a", text=f"(a) {text}"),)
        )
        new = Node(
            f"744.{i}",
            "section",
            f"§ 744.{i} Heading.",
            "",
            (Node("a", text=f"(a) {' '.join(words)}"),),
        )
        diff = cited_diff(f"cfr:15:744.{i}", old, new)
        out.append(
            CfrChangeEntry(
                key=f"cfr:15:744.{i}",
                citation=f"15 CFR 744.{i}",
                title=f"§ 744.{i} Heading.",
                url=f"https://www.ecfr.gov/on/2026-10-09/title-15/section-744.{i}",
                from_date="2026-10-01",
                to_date="2026-10-09",
                op="changed",
                substantive=True,
                diff=diff,
                text=text_view(diff),
                caused_by=(),
                facets=Facets(),
                official=official_links(f"cfr:15:744.{i}"),
            )
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=1000)
    args = parser.parse_args()
    entries = changes(args.changes)
    digest = Report(
        day="2026-10-09",
        day_long="Friday, October 9, 2026",
        sections=(),
        corrections=(),
        changes=(),
        quiet_changes=0,
        cfr_changes=tuple(entries),
        cfr_quiet=(),
        inspection=(),
        sources=(
            SourceLine("ecfr", "eCFR", "ok", "2026-10-09 06:30 EDT", len(entries), "changed", ()),
        ),
        total_new=0,
        degraded=False,
        parts=(PartRef("ecfr", "ecfr", "eCFR"),),  # the eCFR's part renders the changes
    )
    config = config_module.load(None, env={})
    config = dataclasses.replace(
        config, smtp=dataclasses.replace(config.smtp, max_bytes=50_000_000)
    )
    sub = SubscriptionConfig(name="all", recipients=("a@example.com",))
    now = datetime(2026, 10, 9, 11, tzinfo=UTC)
    timings = {}
    started = time.perf_counter()
    message = compose(digest, sub, "a@example.com", config, now)
    size = len(message.as_bytes())
    timings["email (text + HTML)"] = time.perf_counter() - started
    items = report_items(digest)
    timings["feed entries (HTML)"] = time.perf_counter() - started - sum(timings.values())
    mark = time.perf_counter()
    atom = render_feed(items, "all", "regwatch", config, "atom")
    timings["Atom feed"] = time.perf_counter() - mark
    mark = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for e in entries:
            change_page(Path(tmp), e)
    timings["pages (one per change)"] = time.perf_counter() - mark
    for name, seconds in timings.items():
        print(f"{name:<24} {seconds:6.3f} s")
    total = sum(timings.values())
    print(
        f"{'total':<24} {total:6.3f} s  for {len(entries)} changes (goal < 1 s); email "
        f"{size / 1e6:.1f} MB, Atom {len(atom) / 1e6:.1f} MB"
    )


if __name__ == "__main__":
    main()
