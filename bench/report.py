"""The report half's cost against history: one day's report with two years behind it, and
the same day on an empty store, in one run.

    python bench/report.py [--days 730] [--seed 13] [--repeat 3]

Each synthetic day (seeded) is one daily run that stores, through the store API and the
snapshot stage (crawler.snapshot.versioning.prepare, so every change keeps its diff):
three FR documents, one changed eCFR section (20 sections take turns), one new BIS press
release, and every 30th day a watched BIS page that moved (an alert). Each history day is
then reported as a daily run reports it (crawler.jobs.daily ``_report``: the report built
and kept, the digest files, the feeds and the site). Timed: the report half of the next
day, on the store with the history and on an empty store holding only that day. Printed:
both times (best of ``--repeat``) and their ratio (goal <= 1.5).
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from crawler import config as config_module
from crawler.clock import stamp
from crawler.config import Config
from crawler.jobs import daily as job
from crawler.keys import bis_key, cfr_key
from crawler.records import FrDocument, Node, SourceState, to_json
from crawler.snapshot.rows import fr_version, text_hash
from crawler.snapshot.versioning import prepare
from storage import ErrorKind, NewVersion, RunStatus, Store

FIRST = date(2024, 1, 1)
KINDS = ("Rule", "Proposed Rule", "Notice")
WORDS = [
    "export",
    "control",
    "license",
    "entity",
    "list",
    "item",
    "destination",
    "end",
    "user",
    "foreign",
    "person",
]
SOURCES = ("federal_register", "ecfr", "bis")


def sentence(rng: random.Random, n: int = 14) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."


def fr_document(rng: random.Random, day: date, i: int) -> FrDocument:
    number = f"{day.year}-{day.timetuple().tm_yday:03d}{i:02d}"
    return FrDocument(
        number=number,
        publication_date=day,
        type=KINDS[i % len(KINDS)],
        title=f"{sentence(rng, 6)[:-1]} ({number})",
        citation=f"91 FR {day.timetuple().tm_yday * 100 + i}",
        html_url=f"https://www.federalregister.gov/d/{number}",
        pdf_url=None,
        agencies=("Commerce Department", "Industry and Security Bureau"),
        agency_slugs=("commerce-department", "industry-and-security-bureau"),
        cfr_parts=("15:744",),
        effective_on=None,
        comments_close_on=None,
        correction_of=None,
        abstract=" ".join(sentence(rng) for _ in range(3)),
        action="Final rule.",
        dockets=(),
        rins=(),
        xml=None,
    )


def section(n: int, day: date, rng: random.Random) -> Node:
    label = f"744.{n}"
    paragraphs = tuple(Node(x, text=sentence(random.Random(f"{n}{x}"))) for x in "abcdefgh")
    edited = rng.randrange(len(paragraphs))
    children = tuple(
        dataclasses.replace(p, text=f"{p.text} {sentence(rng, 5)}") if i == edited else p
        for i, p in enumerate(paragraphs)
    )
    return Node(label, "section", f"Section {label}, as of {day}", "", children)


def node_version(
    key: str,
    kind: str,
    title: str,
    url: str,
    tree: Node,
    day: date,
    run: int,
    *,
    source: str = "",
    payload: str = "html",
    meta: dict[str, object] | None = None,
) -> NewVersion:
    """A version of ``tree`` in effect from ``day``, its payload the tree itself."""
    data = to_json(tree)
    return NewVersion(
        key=key,
        kind=kind,
        source=source,
        title=title,
        url=url,
        published=day.isoformat(),
        meta=meta if meta is not None else {"published": day.isoformat()},
        raw={payload: data},
        tree=data,
        text_hash=text_hash(data),
        valid_from=day.isoformat(),
        fetched_at=f"{day}T10:30:00+00:00",
        run=run,
    )


def store_day(store: Store, day: date, rng: random.Random) -> int:
    """One daily run of ``day``: its sources, documents, a section change, a page."""
    at = f"{day}T10:30:00+00:00"
    run = store.start_run("daily", day.isoformat(), at, "bench")
    for name in SOURCES:
        store.source_started(run, name, at, day.isoformat(), day.isoformat())
    news = [
        fr_version(
            fr_document(rng, day, i),
            {"json": b"{}"},
            run=run,
            fetched_at=at,
            source="federal_register",
            reference_for=None,
        )
        for i in range(3)
    ]
    n = day.toordinal() % 20
    unit = node_version(
        cfr_key(15, f"744.{n}"),
        "section",
        f"Section 744.{n}",
        f"https://www.ecfr.gov/on/{day}/title-15/section-744.{n}",
        section(n, day, rng),
        day,
        run,
    )
    path = f"/press-release/{day}-{rng.randrange(10**6)}"
    page = Node(
        path,
        "page",
        sentence(rng, 6),
        "",
        tuple(Node(f"p{i}", text=sentence(rng, 40)) for i in range(4)),
    )
    news.append(
        node_version(
            bis_key(path), "Press Release", page.title, f"https://www.bis.gov{path}", page, day, run
        )
    )
    news[-1] = dataclasses.replace(news[-1], source="bis")
    for new in [*news, dataclasses.replace(unit, source="ecfr")]:
        prepared = prepare(store, new, node_tree=new.source != "federal_register")
        if prepared is not None:
            store.snapshot(prepared)
    if day.toordinal() % 30 == 0:
        store.record_error(
            run,
            "bis",
            bis_key("/licensing/guidance"),
            "source moved: https://www.bis.gov/licensing/guidance redirects "
            "permanently (HTTP 301) to https://www.bis.gov/guidance (followed); "
            "update [sources.bis]",
            at,
            ErrorKind.FETCH,
        )
    for name in SOURCES:
        store.source_finished(run, name, f"{day}T10:40:00+00:00", SourceState.OK, {})
    return run


def report_half(store: Store, config: Config, run: int, day: date) -> float:
    now = datetime(day.year, day.month, day.day, 11, 0, tzinfo=UTC)
    started = time.perf_counter()
    job._report(store, config, run, day, now, lambda: now, {})
    return time.perf_counter() - started


def make_config(folder: Path) -> Config:
    """The shipped defaults, every source enabled, writing into ``folder``."""
    config = config_module.load(None, env={})
    on = {n: dataclasses.replace(getattr(config.sources, n), enabled=True) for n in SOURCES}
    return dataclasses.replace(
        config, root=folder, sources=dataclasses.replace(config.sources, **on)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    day = FIRST + timedelta(days=args.days)
    with tempfile.TemporaryDirectory() as tmp:
        big, empty = Path(tmp, "history"), Path(tmp, "empty")
        big.mkdir()
        empty.mkdir()
        big_config, empty_config = make_config(big), make_config(empty)
        store = Store.open(big_config.store_url)
        rng = random.Random(args.seed)
        started = time.perf_counter()
        for n in range(args.days):
            past = FIRST + timedelta(days=n)
            run = store_day(store, past, rng)
            report_half(store, big_config, run, past)
            store.finish_run(run, stamp(datetime.now(UTC)), RunStatus.OK)
        took = time.perf_counter() - started
        print(f"history: {args.days} days stored and reported in {took:.1f} s")
        state = rng.getstate()
        run = store_day(store, day, rng)
        lone = Store.open(empty_config.store_url)
        rng.setstate(state)
        lone_run = store_day(lone, day, rng)
        with_history = min(report_half(store, big_config, run, day) for _ in range(args.repeat))
        alone = min(report_half(lone, empty_config, lone_run, day) for _ in range(args.repeat))
        counts = store.counts()
        store.close()
        lone.close()
    print(f"store with history: {counts}")
    print(f"report half of {day} with {args.days} days of history: {with_history * 1000:.1f} ms")
    print(f"report half of {day} on an empty store:              {alone * 1000:.1f} ms")
    print(f"ratio: {with_history / alone:.2f} (goal <= 1.5)")


if __name__ == "__main__":
    main()
