"""The web app under load: compare pages and API diffs against the time of a static file from
the same server, in one run.

    python bench/serve.py [--days 730] [--clients 20] [--requests 1500] [--seed 7]

The store (SQLite, seeded) holds two years of EAR-sized eCFR history: about 1,800 sections
of 26 parts (stored once), and three units that change through the two years, each version
stored through the snapshot stage (crawler.snapshot.versioning.prepare: every change keeps
its diff): § 744.11 (about 10 kB, a changed paragraph every 10 days), Supp. No. 4 to Part
744 (the Entity List: 1,500 rows, 0.5 MB; rows added, removed or revised every 5 days) and
Supp. No. 1 to Part 774 (the CCL: 600 ECCN entries, 2 MB; an entry changed every 20 days).
Each date has its daily run with the eCFR checked through it.

`regwatch serve` then runs in a process of its own on 127.0.0.1, and ``--clients`` threads
(keep-alive connections) send ``--requests`` requests in all: first the stylesheet
(/static/app.css), then compare pages (inline, side by side, changes only) and API diffs of
the three units between date pairs drawn with ``--seed``: half adjacent versions, half far
apart. Printed: p50 and p95 of each, the first-time (uncached) requests apart, and the
ratio of the compare/diff p95 to the static file's. Goal (issue 14): p95 under 100 ms.

What the app caches and where (crawler.deliver.web): the serving process keeps the rendered
bytes of each compare page and API diff (up to 256 MB, by the two versions' tree hashes and
the view asked); a comparison it lacks is diffed and rendered by one of its worker processes
(one per core, up to four, started with the server; a pair of versions always goes to the
same worker), which keeps its parsed trees (12) and its comparisons (48), so the other
views of a pair only render. Nothing is precomputed: a pair's first request pays for reading
both trees, diffing them and rendering, which is why the first-time requests are printed
apart.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date, timedelta
from pathlib import Path

from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parent))

from regulation_gen import WORDS
from report import node_version

from crawler.keys import cfr_key, supplement_key
from crawler.records import Node
from crawler.snapshot.versioning import prepare
from storage import NewVersion, RunStatus, SourceState, Store

FIRST = date(2024, 1, 1)
COUNTRIES = ("CHINA, PEOPLE'S REPUBLIC OF", "IRAN", "RUSSIA", "UNITED ARAB EMIRATES", "TURKEY")
UNITS = {
    "744.11": cfr_key(15, "744.11"),
    "744:supp-4": supplement_key(15, "744", "4"),
    "774:supp-1": supplement_key(15, "774", "1"),
}
EVERY = {"744.11": 10, "744:supp-4": 5, "774:supp-1": 20}  # days between versions


def words(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."


def section_744_11(rng: random.Random) -> Node:
    kids = tuple(Node(x, text=f"({x}) {words(rng, 160)}") for x in "abcdefgh")
    return Node("744.11", "section", "§ 744.11 License requirements.", "", kids)


def entity_row(rng: random.Random, n: int) -> Node:
    country = rng.choice(COUNTRIES)
    name = f"{words(rng, 3)[:-1]} Co., Ltd. {n}"
    fields = (
        ("Country", country),
        ("Entity", name),
        ("Address", f"No. {rng.randrange(999)} {words(rng, 4)[:-1]} Road."),
        ("License requirement", "For all items subject to the EAR."),
        ("License review policy", "Presumption of denial"),
        ("Federal Register citation", f"{rng.randrange(80, 92)} FR {rng.randrange(99999)}"),
    )
    return Node(f"{country}|{name}", "row", fields=fields)


def entity_list(rows: list[Node]) -> Node:
    table = Node("table", "table", children=tuple(rows))
    return Node("supp-4", "appendix", "Supplement No. 4 to Part 744—Entity List", "", (table,))


def eccn_entry(rng: random.Random, n: int) -> Node:
    label = f"{n % 10}{'ABCDE'[n % 5]}{n:03d}"
    kids = tuple(Node(x, text=f"{x}. {words(rng, 70)}") for x in "abcdefgh")
    return Node(label, "eccn", f"{label} {words(rng, 8)}", "", kids)


def ccl(entries: list[Node]) -> Node:
    return Node("supp-1", "appendix", "Supplement No. 1 to Part 774", "", tuple(entries))


def new_version(key: str, kind: str, title: str, tree: Node, day: date, run: int) -> NewVersion:
    url = f"https://www.ecfr.gov/on/{day}/title-15"
    return node_version(
        key, kind, title, url, tree, day, run, source="ecfr", payload="xml", meta={"title": 15}
    )


def build(path: Path, days: int, seed: int) -> dict[str, list[str]]:
    """The store; returns each unit's version dates."""
    rng = random.Random(seed)
    store = Store.open(path)
    section = section_744_11(rng)
    rows = [entity_row(rng, n) for n in range(1500)]
    entries = [eccn_entry(rng, n) for n in range(600)]
    dates: dict[str, list[str]] = {name: [] for name in UNITS}
    for offset in tqdm(range(days), desc="history", unit="day", file=sys.stderr):
        day = FIRST + timedelta(days=offset)
        at = f"{day}T10:30:00+00:00"
        run = store.start_run("daily", day.isoformat(), at, "bench")
        store.source_started(run, "ecfr", at, day.isoformat(), day.isoformat())
        news = []
        if offset == 0:  # the rest of the EAR, stored once
            for part in range(730, 756):
                for n in range(1, 70):
                    label = f"{part}.{n}"
                    if label in UNITS:
                        continue  # changes through the years, below
                    tree = Node(label, "section", f"§ {label} {words(rng, 5)}", words(rng, 60))
                    news.append(new_version(cfr_key(15, label), "section", label, tree, day, run))
        if offset % EVERY["744.11"] == 0:
            if offset:
                i = rng.randrange(len(section.children))
                kids = list(section.children)
                kids[i] = Node(kids[i].label, text=f"({kids[i].label}) {words(rng, 160)}")
                section = Node(section.label, section.kind, section.title, "", tuple(kids))
            news.append(new_version(UNITS["744.11"], "section", "744.11", section, day, run))
            dates["744.11"].append(day.isoformat())
        if offset % EVERY["744:supp-4"] == 0:
            if offset:
                for _ in range(rng.randint(1, 8)):
                    roll = rng.random()
                    if roll < 0.5:
                        rows.insert(rng.randrange(len(rows)), entity_row(rng, 10_000 + offset))
                    elif roll < 0.7:
                        rows.pop(rng.randrange(len(rows)))
                    else:
                        i = rng.randrange(len(rows))
                        row = rows[i]
                        fields = tuple(
                            (k, f"No. {rng.randrange(999)} {words(rng, 4)[:-1]} Road.")
                            if k == "Address"
                            else (k, v)
                            for k, v in row.fields
                        )
                        rows[i] = Node(row.label, row.kind, fields=fields)
            tree = entity_list(rows)
            news.append(new_version(UNITS["744:supp-4"], "appendix", "Supp. 4", tree, day, run))
            dates["744:supp-4"].append(day.isoformat())
        if offset % EVERY["774:supp-1"] == 0:
            if offset:
                i = rng.randrange(len(entries))
                entry = entries[i]
                kids = list(entry.children)
                j = rng.randrange(len(kids))
                kids[j] = Node(kids[j].label, text=f"{kids[j].label}. {words(rng, 70)}")
                entries[i] = Node(entry.label, entry.kind, entry.title, "", tuple(kids))
            tree = ccl(entries)
            news.append(new_version(UNITS["774:supp-1"], "appendix", "Supp. 1", tree, day, run))
            dates["774:supp-1"].append(day.isoformat())
        ready = [p for p in (prepare(store, n, node_tree=True) for n in news) if p is not None]
        store.snapshot_many(ready)
        store.source_finished(run, "ecfr", at, SourceState.OK, {})
        store.finish_run(run, at, RunStatus.OK)
    store.close()
    return dates


def stored_dates(path: Path) -> dict[str, list[str]]:
    store = Store.open(path, create=False)
    try:
        return {name: [v.valid_from for v in store.history(key)] for name, key in UNITS.items()}
    finally:
        store.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def requests_for(dates: dict[str, list[str]], count: int, seed: int) -> list[str]:
    """Compare pages and API diffs of the three units: half adjacent versions, half far
    apart (a fixed set of pairs per unit, drawn with ``seed``, asked again and again)."""
    rng = random.Random(seed)
    pairs = []
    for name, days in dates.items():
        for _ in range(6):
            i = rng.randrange(1, len(days))
            pairs.append((name, days[i - 1], days[i]))  # adjacent
            a, b = sorted(rng.sample(range(len(days)), 2))
            pairs.append((name, days[a], days[b]))  # far apart
    out = []
    for _ in range(count):
        name, old, new = rng.choice(pairs)
        kind = rng.choice(("inline", "side", "only", "api"))
        if kind == "api":
            out.append(f"/api/cfr/15/{name}/diff?from={old}&to={new}")
        else:
            extra = "&view=side" if kind == "side" else "&only=1" if kind == "only" else ""
            out.append(f"/cfr/15/{name}/compare?from={old}&to={new}{extra}")
    return out


def load(port: int, paths: list[str], clients: int) -> list[tuple[str, float, bool]]:
    """``paths`` sent by ``clients`` threads on keep-alive connections: (path, seconds,
    first time this path was asked)."""
    results: list[tuple[str, float, bool]] = []
    lock = threading.Lock()
    seen: set[str] = set()
    queue = list(enumerate(paths))

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        while True:
            with lock:
                if not queue:
                    break
                _, path = queue.pop(0)
                first = path not in seen
                seen.add(path)
            started = time.perf_counter()
            conn.request("GET", path)
            response = conn.getresponse()
            response.read()
            took = time.perf_counter() - started
            assert response.status == 200, (path, response.status)
            with lock:
                results.append((path, took, first))
        conn.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def p(values: list[float], q: float) -> float:
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=1500)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--keep", type=Path, help="a folder for the store, built once and reused (same --days)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        if (folder / "bench.db").exists():
            dates = stored_dates(folder / "bench.db")
        else:
            dates = build(folder / "bench.db", args.days, args.seed)
        (folder / "bench.toml").write_text('[store]\nurl = "bench.db"\n', encoding="utf-8")
        port = free_port()
        env = {k: v for k, v in os.environ.items() if k != "REGWATCH_SERVE_TOKEN"}
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "crawler",
                "--config",
                "bench.toml",
                "serve",
                "--port",
                str(port),
            ],
            cwd=folder,
            env=env,
            stdout=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=1):
                        break
                except OSError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        raise SystemExit("regwatch serve did not start") from None
                    time.sleep(0.2)
            versions = {name: len(d) for name, d in dates.items()}
            print(f"store: {args.days} days of history; versions {versions}")
            static = load(port, ["/static/app.css"] * (args.requests // 3), args.clients)
            dynamic = load(port, requests_for(dates, args.requests, args.seed), args.clients)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
    static_times = [t for _, t, _ in static]
    warm = [t for _, t, first in dynamic if not first]
    cold = [t for _, t, first in dynamic if first]
    every = [t for _, t, _ in dynamic]
    base = p(static_times, 95)
    print(f"{args.clients} clients on 127.0.0.1")
    print(
        f"  static file   {len(static_times):5d} requests  p50 {p(static_times, 50) * 1e3:7.1f} ms"
        f"  p95 {base * 1e3:7.1f} ms"
    )
    for name, times in (("compare/diff", every), ("  asked before", warm), ("  first time", cold)):
        print(
            f"  {name:<13} {len(times):5d} requests  p50 {p(times, 50) * 1e3:7.1f} ms"
            f"  p95 {p(times, 95) * 1e3:7.1f} ms  ({p(times, 95) / base:.1f}x the static p95)"
        )
    print("  goal: compare/diff p95 under 100 ms")


if __name__ == "__main__":
    main()
