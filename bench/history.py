"""History storage: 100 versions of a 2.5 MB part in the store beside git's packfile.

    python bench/history.py [--versions 100] [--size 2500000] [--edits 3]

The versions come from the seeded generator (bench/regulation_gen.py: a few scattered word
edits each, a paragraph added now and then). They are stored through the same code as a
crawl (crawler.snapshot.versioning.store_cfr_part), one eCFR date each. Printed: the store's
bytes on disk (SQLite file after VACUUM) and git's packed size for the same files (one
commit per version, `git gc --aggressive`) in the same run, their ratio (goal <= 1.0), and
the time to rebuild versions (the part's XML and a section's parsed tree) from a cold store
(goal < 50 ms each).
"""

from __future__ import annotations

import argparse
import sqlite3
import subprocess
import sys
import tempfile
import time
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


def git_packed(files: list[bytes], folder: Path) -> int:
    repo = folder / "git"
    repo.mkdir()

    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)

    git("init", "-q")
    git("config", "user.email", "bench@example.invalid")
    git("config", "user.name", "bench")
    for i, data in enumerate(files):
        (repo / "part-999.xml").write_bytes(data)
        git("add", "part-999.xml")
        git("commit", "-q", "-m", f"version {i + 1}")
    git("gc", "--aggressive", "--prune=now", "-q")
    return sum(p.stat().st_size for p in (repo / ".git" / "objects" / "pack").glob("*.pack"))


def store_all(files: list[bytes], folder: Path) -> Path:
    path = folder / "regwatch.db"
    store = Store.open(path)
    run = store.start_run("bench", None, "2026-01-01T00:00:00+00:00")
    for i, data in enumerate(tqdm(files, desc="storing", unit="version", file=sys.stderr)):
        day = START + timedelta(days=i)
        item = FetchedCfrPart("ecfr", 99, "999", day, "bench", data, "2026-01-01T00:00:00+00:00")
        store_cfr_part(store, item, run, EcfrConfig())
    store.close()
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn = sqlite3.connect(path)
    conn.execute("VACUUM")
    conn.close()
    return path


def rebuild_times(
    path: Path, files: list[bytes], which: list[int]
) -> list[tuple[int, float, float]]:
    out = []
    for n in which:
        store = Store.open(path)  # cold: nothing cached
        day = (START + timedelta(days=n - 1)).isoformat()
        started = time.perf_counter()
        version = store.version_at("cfr:99:999", day)
        raw = store.blob(version.raw_blobs["xml"])
        raw_time = time.perf_counter() - started
        assert raw == files[n - 1], f"version {n} did not rebuild exactly"
        store.close()
        store = Store.open(path)
        started = time.perf_counter()
        section = store.version_at("cfr:99:999.300", day)
        store.blob(section.tree_blob)
        tree_time = time.perf_counter() - started
        store.close()
        out.append((n, raw_time, tree_time))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--versions", type=int, default=100)
    parser.add_argument("--size", type=int, default=2_500_000)
    parser.add_argument("--edits", type=int, default=3)
    args = parser.parse_args()
    files = list(evolve(args.size, args.versions, args.edits, seed=11))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        git_size = git_packed(files, folder)
        git_time = time.perf_counter() - started
        started = time.perf_counter()
        db = store_all(files, folder)
        store_time = time.perf_counter() - started
        ours = db.stat().st_size
        print(
            f"versions           {len(files)} of {len(files[0]) / 1e6:.2f} MB "
            f"({sum(map(len, files)) / 1e6:.0f} MB in all)"
        )
        print(
            f"git packfile       {git_size / 1e3:9.1f} kB  (commit + gc --aggressive "
            f"{git_time:.1f} s)"
        )
        print(
            f"regwatch store     {ours / 1e3:9.1f} kB  (store {store_time:.1f} s, "
            f"{store_time / len(files):.2f} s per version)"
        )
        print(f"ratio              {ours / git_size:9.2f}  (goal <= 1.0)")
        picks = sorted({n for n in (1, 50, 64, 99, len(files)) if n <= len(files)})
        for n, raw_time, tree_time in rebuild_times(db, files, picks):
            print(
                f"rebuild version {n:3d}: part XML {raw_time * 1e3:6.1f} ms, "
                f"one section's tree {tree_time * 1e3:6.1f} ms  (goal < 50 ms)"
            )


if __name__ == "__main__":
    main()
