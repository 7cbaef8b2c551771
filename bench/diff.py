"""The diff engine beside `git diff --no-index --word-diff`, same files, same run.

    python bench/diff.py [--rounds 3]

Generated pairs (seeded, bench/regulation_gen.py): 2.5 MB with 200 scattered edits and 10 MB
with 800 (word swaps, inserted and deleted paragraphs, one moved section); then the real pairs
in ../shared/data when present. For each: git's time, the engine's time on the two parsed
documents, their ratio (goal <= 1.0), and for generated pairs the planted edits found exactly.
Parsing (lxml, with the subtree digests the store keeps anyway) is printed apart.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from regulation_gen import Edit, generate

from crawler.diff import DocumentDiff, diff_documents
from crawler.parse.ecfr_xml import parse_ecfr_xml
from crawler.parse.eregs import parse_eregs
from crawler.records import Node

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def best(fn: Callable[[], object], rounds: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(rounds):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return min(times), result


def git_word_diff(old: Path, new: Path) -> None:
    subprocess.run(
        ["git", "diff", "--no-index", "--word-diff", str(old), str(new)],
        stdout=subprocess.DEVNULL,
        check=False,
    )


def parse(data: bytes, parser: Callable[[bytes], Node]) -> Node:
    node = parser(data)
    _ = node.digest  # the subtree digests, computed once per parsed version
    _touch(node)
    return node


def _touch(node: Node) -> None:
    for child in node.children:
        _ = child.digest
        _touch(child)


def found(diff: DocumentDiff, planted: list[Edit]) -> tuple[int, int]:
    """(planted edits found exactly, changes no edit explains)."""
    by_path = {c.path: c for c in diff.changes}
    hits = 0
    explained = set()
    for edit in planted:
        change = by_path.get(edit.path)
        if change is None:
            continue
        if edit.kind == "swap":
            ops = [(o.op, o.text) for f in change.fields for o in f.ops if o.op != "equal"]
            ok = change.op == "changed" and ops == [
                ("delete", edit.old_word),
                ("insert", edit.new_word),
            ]
        elif edit.kind == "insert":
            ok = change.op == "added"
        elif edit.kind == "delete":
            ok = change.op == "removed"
        else:
            ok = change.op == "moved" and change.old_path == edit.old_path
        hits += ok
        explained.add(edit.path)
        for depth in range(1, len(edit.path)):
            explained.add(edit.path[:depth])
        if edit.old_path:
            explained.update(edit.old_path[:d] for d in range(1, len(edit.old_path)))
    extra = sum(1 for c in diff.changes if c.path not in explained)
    return hits, extra


def run_pair(
    name: str,
    old: bytes,
    new: bytes,
    parser: Callable[[bytes], Node],
    rounds: int,
    planted: list[Edit] | None,
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        a, b = Path(tmp, "old.xml"), Path(tmp, "new.xml")
        a.write_bytes(old)
        b.write_bytes(new)
        git_time, _ = best(lambda: git_word_diff(a, b), rounds)
    parse_time, _ = best(lambda: (parse(old, parser), parse(new, parser)), 1)
    engine_times = []
    diff = None
    for _ in range(rounds):
        fresh = (parse(old, parser), parse(new, parser))
        started = time.perf_counter()
        diff = diff_documents(*fresh)
        engine_times.append(time.perf_counter() - started)
    engine = min(engine_times)
    assert isinstance(diff, DocumentDiff)
    line = (
        f"{name:<34} {len(old) / 1e6:6.2f} MB  git {git_time:7.3f} s  engine "
        f"{engine:7.3f} s  ratio {engine / git_time:5.2f}  (parse {parse_time:6.3f} s)  "
        f"changes {len(diff.changes):4d}"
    )
    if planted is not None:
        hits, extra = found(diff, planted)
        line += f"  planted found {hits}/{len(planted)}, unexplained {extra}"
    print(line, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    for size, edits in ((2_500_000, 200), (10_000_000, 800)):
        old, new, planted = generate(size, edits, seed=size)
        run_pair(
            f"generated {size / 1e6:g} MB, {edits} edits",
            old,
            new,
            parse_ecfr_xml,
            args.rounds,
            planted,
        )
    real = [
        (
            "eRegs 27 CFR 447 (JSON trees)",
            "eregs_atf_447/regulation_447_v2014-02580.json",
            "eregs_atf_447/regulation_447_v2014-06778.json",
            parse_eregs,
        ),
        (
            "eCFR 14 CFR 107 2020 vs 2026",
            "ecfr_api_xml_14cfr107/part107_2020-01-01_EXCERPT.xml",
            "ecfr_api_xml_14cfr107/part107_2026-01-01_EXCERPT.xml",
            parse_ecfr_xml,
        ),
        (
            "eCFR title 1 en-dash cleanup",
            "ecfr_xml/ECFR-title1_current_2024-03.xml",
            "ecfr_xml/ECFR-title1_updated_ndash_2024-03.xml",
            parse_ecfr_xml,
        ),
    ]
    for name, old_path, new_path, parse_fn in real:
        if not (SHARED / old_path).exists():
            print(f"{name:<34} skipped: {SHARED / old_path} not found")
            continue
        run_pair(
            name,
            (SHARED / old_path).read_bytes(),
            (SHARED / new_path).read_bytes(),
            parse_fn,
            args.rounds,
            None,
        )


if __name__ == "__main__":
    main()
