"""History storage against git, in one run: sizes on disk and the time to store and rebuild.

    python bench/history.py [--versions 100] [--size 2500000] [--dates 250]

Two histories from the seeded generator (bench/regulation_gen.py), each stored through the
same code as a crawl (crawler.snapshot.versioning.store_cfr_part, one eCFR date per version)
and committed to git (one commit per date):

1. one part of 2.5 MB, 100 versions, a few scattered word edits each;
2. a history of EAR size: 26 parts, 7.4 MB in all, 250 dates, a few sections of one to
   three parts changing on each date.

Printed for each: the store's bytes on disk (the SQLite file after VACUUM, every table
included) beside git's packfile (`git gc --aggressive`), the time to store a version beside
git's time per commit (`git add` + `git commit`), and for the first history the time to
rebuild a version (the part's XML, one section's tree) from a cold store beside `git show`
of the same version. Goals (issue 13): size <= 1.25x git for 1, <= 1.0x for 2; storing <=
1.0x git's commit; rebuilding no slower than `git show`.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from regulation_gen import evolve
from tqdm import tqdm

from crawler.config import EcfrConfig
from crawler.fetch.items import FetchedCfrPart
from crawler.snapshot.versioning import store_cfr_part
from storage import Store

START = date(2017, 1, 2)
AT = "2026-01-01T00:00:00+00:00"

# one date of a history: (part number, its XML) of each part that changed on it
Dated = list[tuple[str, bytes]]


@dataclass
class Measured:
    size: int  # bytes on disk
    seconds: float  # storing (or committing) every date
    dates: int


class Git:
    def __init__(self, folder: Path) -> None:
        self.repo = folder / "git"
        self.repo.mkdir(parents=True)
        self.run("init", "-q")
        self.run("config", "user.email", "bench@example.invalid")
        self.run("config", "user.name", "bench")

    def run(self, *args: str) -> bytes:
        return subprocess.run(
            ["git", "-C", str(self.repo), *args], check=True, capture_output=True
        ).stdout

    def history(self, dates: list[Dated]) -> Measured:
        """One commit per date; the time is add + commit, the size the packfile after gc."""
        started = time.perf_counter()
        for i, changed in enumerate(dates):
            for part, data in changed:
                (self.repo / f"part-{part}.xml").write_bytes(data)
            self.run("add", "-A")
            self.run("commit", "-q", "-m", f"date {i + 1}")
        seconds = time.perf_counter() - started
        self.run("gc", "--aggressive", "--prune=now", "-q")
        size = sum(p.stat().st_size for p in (self.repo / ".git" / "objects" / "pack").glob("*"))
        return Measured(size, seconds, len(dates))

    def show_time(self, back: int, part: str) -> float:
        started = time.perf_counter()
        self.run("show", f"HEAD~{back}:part-{part}.xml")
        return time.perf_counter() - started


def store_history(dates: list[Dated], path: Path, desc: str) -> Measured:
    """Every date stored as a crawl would; the time is storing only (not generating)."""
    store = Store.open(path)
    run = store.start_run("bench", None, AT)
    seconds = 0.0
    for i, changed in enumerate(tqdm(dates, desc=desc, unit="date", file=sys.stderr)):
        day = START + timedelta(days=i)
        for part, data in changed:
            item = FetchedCfrPart("ecfr", 99, part, day, "bench", data, AT)
            started = time.perf_counter()
            store_cfr_part(store, item, run, EcfrConfig())
            seconds += time.perf_counter() - started
    store.close()
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn = sqlite3.connect(path)
    conn.execute("VACUUM")
    conn.close()
    return Measured(path.stat().st_size, seconds, len(dates))


def one_part(versions: int, size: int, edits: int) -> list[Dated]:
    return [[("999", data)] for data in evolve(size, versions, edits, seed=11)]


def ear_sized(dates: int, parts: int = 26, total: int = 7_400_000, seed: int = 13) -> list[Dated]:
    """``parts`` parts of ``total`` bytes in all (sizes vary as the EAR's do); on each date
    after the first, one to three parts change in one or two sections each."""
    rng = random.Random(seed)
    numbers = [str(730 + n) for n in range(parts)]
    weights = [rng.uniform(0.2, 1.8) for _ in numbers]
    sizes = [int(total * w / sum(weights)) for w in weights]
    changing = [rng.sample(range(parts), rng.randint(1, 3)) for _ in range(dates - 1)]
    counts = [1 + sum(n in day for day in changing) for n in range(parts)]
    streams: list[Iterator[bytes]] = [
        evolve(sizes[n], counts[n], rng.randint(1, 2), seed=seed + n, number=numbers[n])
        for n in range(parts)
    ]
    out: list[Dated] = [[(numbers[n], next(streams[n])) for n in range(parts)]]
    for day in changing:
        out.append([(numbers[n], next(streams[n])) for n in sorted(day)])
    return out


def rebuild_times(
    path: Path, dates: list[Dated], which: list[int]
) -> list[tuple[int, float, float]]:
    out = []
    for n in which:
        store = Store.open(path)  # cold: nothing cached
        day = (START + timedelta(days=n - 1)).isoformat()
        started = time.perf_counter()
        version = store.version_at("cfr:99:999", day)
        assert version is not None
        raw = store.blob(version.raw_blobs["xml"])
        raw_time = time.perf_counter() - started
        assert raw == dates[n - 1][0][1], f"version {n} did not rebuild exactly"
        store.close()
        store = Store.open(path)
        started = time.perf_counter()
        section = store.version_at("cfr:99:999.300", day)
        assert section is not None
        store.blob(section.tree_blob)
        tree_time = time.perf_counter() - started
        store.close()
        out.append((n, raw_time, tree_time))
    return out


def report(name: str, dates: list[Dated], ours: Measured, git: Measured, goal: float) -> None:
    versions = sum(len(d) for d in dates)
    first = sum(len(data) for _, data in dates[0])
    print(f"== {name}: {len(dates)} dates, {versions} part versions, {first / 1e6:.2f} MB at first")
    print(f"   git packfile      {git.size / 1e3:9.1f} kB")
    print(f"   regwatch store    {ours.size / 1e3:9.1f} kB   ratio {ours.size / git.size:.2f}")
    print(f"   (goal: size <= {goal}x git)")
    # the first date is the whole history's initial import; a version is a later date
    per_git = git.seconds / git.dates
    per_ours = ours.seconds / ours.dates
    print(f"   git add + commit  {per_git * 1e3:9.1f} ms per date")
    print(
        f"   regwatch store    {per_ours * 1e3:9.1f} ms per date   ratio {per_ours / per_git:.2f}"
        "   (goal <= 1.0)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--versions", type=int, default=100)
    parser.add_argument("--size", type=int, default=2_500_000)
    parser.add_argument("--edits", type=int, default=3)
    parser.add_argument("--dates", type=int, default=250)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        dates = one_part(args.versions, args.size, args.edits)
        git = Git(folder / "one")
        git_measured = git.history(dates)
        db = folder / "one.db"
        ours = store_history(dates, db, "one part")
        report("one part of 2.5 MB", dates, ours, git_measured, 1.25)
        picks = sorted({n for n in (1, 50, 64, 99, len(dates)) if n <= len(dates)})
        for n, raw_time, tree_time in rebuild_times(db, dates, picks):
            show = git.show_time(len(dates) - n, "999")
            print(
                f"   rebuild version {n:3d}: part XML {raw_time * 1e3:5.1f} ms, one section's "
                f"tree {tree_time * 1e3:5.1f} ms; git show {show * 1e3:5.1f} ms"
            )
        dates = ear_sized(args.dates)
        git_measured = Git(folder / "ear").history(dates)
        ours = store_history(dates, folder / "ear.db", "EAR-sized")
        report("a history of EAR size (26 parts)", dates, ours, git_measured, 1.0)


if __name__ == "__main__":
    main()
