"""Hypothesis over every parse entry point and spider callback, 2,000 inputs each.

    python bench/fuzz.py [--examples 2000] [--only SUBSTRING]

The targets and input strategies are tests/test_fuzz.py's (which runs them at 50 inputs
each in CI). Printed per target: inputs run, how many were accepted, how many were refused
the way regwatch means to (a ParseError from a parser; CrawlError items from a callback;
an ``input`` error row from the pipeline that stores what the callbacks yield),
and every other exception by type, with the first input that raised it. The goal is 0 other
exceptions; the exit status is 1 otherwise.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import traceback
from collections import Counter
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.strategies import SearchStrategy

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import test_fuzz as fuzz

from crawler.fetch.items import CrawlError


class Tally:
    """What one target did with its inputs."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.first: dict[str, tuple[Any, str]] = {}

    def other(self, exc: BaseException, example: Any) -> None:
        name = type(exc).__name__
        self.counts[name] += 1
        where = traceback.extract_tb(exc.__traceback__)[-1]
        self.first.setdefault(name, (example, f"{where.filename}:{where.lineno}: {exc}"))


def measure(strategy: SearchStrategy[Any], call: Any, examples: int) -> Tally:
    tally = Tally()

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def run(example: Any) -> None:
        tally.counts["inputs"] += 1
        try:
            refused = call(example)
        except Exception as exc:  # counted, not raised: that is what this script reports
            tally.other(exc, example)
        else:
            tally.counts["refused" if refused else "accepted"] += 1

    run()
    return tally


def parser_call(name: str) -> Any:
    def call(example: Any) -> bool:
        return fuzz.run_parser(name, example)

    return call


def callback_call(name: str, spiders: fuzz.Spiders) -> Any:
    def call(body: bytes) -> bool:
        items = fuzz.run_callback(name, spiders, body)
        return any(isinstance(item, CrawlError) for item in items)

    return call


def pipeline_call(pipeline: Any) -> Any:
    def call(item: Any) -> bool:
        return fuzz.run_pipeline(pipeline, item)

    return call


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=2000)
    parser.add_argument("--only", default="")
    args = parser.parse_args()
    targets = [(f"parse {n}", s, parser_call(n)) for n, (s, _) in sorted(fuzz.PARSERS.items())]
    with tempfile.TemporaryDirectory() as folder:
        spiders = fuzz.make_spiders(Path(folder))
        try:
            targets += [
                (f"callback {n}", s, callback_call(n, spiders))
                for n, (s, _) in sorted(fuzz.CALLBACKS.items())
            ]
            pipeline = fuzz.make_pipeline(spiders)
            targets += [
                (f"pipeline {n}", s, pipeline_call(pipeline))
                for n, s in sorted(fuzz.STORED.items())
            ]
            return report([t for t in targets if args.only in t[0]], args.examples)
        finally:
            spiders.close()


def report(targets: list[tuple[str, Any, Any]], examples: int) -> int:
    print(f"{'target':52} {'inputs':>7} {'accepted':>9} {'refused':>8}  other exceptions")
    failures = 0
    for name, strategy, call in targets:
        started = time.perf_counter()
        tally = measure(strategy, call, examples)
        counts = tally.counts
        others = {k: v for k, v in counts.items() if k not in ("inputs", "accepted", "refused")}
        failures += sum(others.values())
        other_text = ", ".join(f"{k} {v}" for k, v in sorted(others.items())) or "0"
        print(
            f"{name:52} {counts['inputs']:>7} {counts['accepted']:>9} {counts['refused']:>8}"
            f"  {other_text}  ({time.perf_counter() - started:.1f}s)",
            flush=True,
        )
        for kind, (example, where) in tally.first.items():
            print(f"    first {kind}: {where}\n      input: {example!r:.300}")
    print(f"\n{len(targets)} targets, {failures} exceptions other than regwatch's own")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
