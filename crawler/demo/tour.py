"""``regwatch demo``: the daily job, day by day, against the replay server and the project's
own recorded-format week of BIS documents. A second demo in the same folder adds nothing."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from crawler.config import Config
from crawler.demo.replay import Corpus, ReplayServer
from crawler.jobs import daily as job
from storage import Store

DEMO_CONFIG = """\
# Written by `regwatch demo`: the demo's store and digests, for commands such as
#   regwatch --config {name} digest --date 2026-10-08
[store]
url = "{store}"

[output]
digests = "digests"
"""


@dataclass(frozen=True)
class DemoDay:
    day: date
    report: job.RunReport


@dataclass(frozen=True)
class DemoResult:
    server: str
    days: tuple[DemoDay, ...]
    store: str  # the SQLite file, or the PostgreSQL URL without its password
    digests: Path
    config: Path
    before: dict[str, int]
    after: dict[str, int]


def _stopped(moment: datetime) -> Callable[[], datetime]:
    """A clock that always reads ``moment``: each demo day runs at its own fixed time."""
    return lambda: moment


def demo_days(corpus: Corpus) -> list[date]:
    days = corpus.days() + [date.fromisoformat(d) for d in corpus.public_inspection]
    first, last = min(days), max(days)
    return [
        first + timedelta(days=i)
        for i in range((last - first).days + 1)
        if (first + timedelta(days=i)).weekday() < 5
    ]


def run_demo(base: Config, folder: Path, verbose: bool = False) -> DemoResult:
    folder = folder.resolve()
    folder.mkdir(parents=True, exist_ok=True)
    config_file = folder / "demo.toml"
    # the demo's own SQLite file in FOLDER, unless the store configured is PostgreSQL
    store = base.store.url if base.store_url == base.store.url else "regwatch.db"
    config_file.write_text(DEMO_CONFIG.format(name=config_file.name, store=store), encoding="utf-8")
    corpus = Corpus.demo()
    with ReplayServer(corpus) as server:
        fr = dataclasses.replace(
            base.sources.federal_register,
            api_base=f"{server.base}/api/v1",
            site_base=server.base,
            first_run_days=3,
        )
        ecfr = dataclasses.replace(
            base.sources.ecfr, api_base=f"{server.base}/api/versioner/v1", watches=("15:744",)
        )
        config = dataclasses.replace(
            base,
            root=folder,
            store=dataclasses.replace(base.store, url=store),
            output=dataclasses.replace(base.output, digests="digests"),
            http=dataclasses.replace(base.http, polite=False),  # loopback: no need to wait
            sources=dataclasses.replace(
                base.sources,
                federal_register=fr,
                ecfr=ecfr,
                bis=dataclasses.replace(base.sources.bis, site_base=server.base),
            ),
        )
        before = _counts(config)
        days = []
        zone = ZoneInfo(config.timezone)
        for day in demo_days(corpus):
            now = datetime.combine(day, time(6, 30), tzinfo=zone)  # after FR's 6:00 ET release
            days.append(
                DemoDay(
                    day,
                    job.daily(config, day, now, _stopped(now), verbose=verbose, command="demo"),
                )
            )
        return DemoResult(
            server.base,
            tuple(days),
            config.store_label,
            config.digest_dir,
            config_file,
            before,
            _counts(config),
        )


def _counts(config: Config) -> dict[str, int]:
    store = job.open_store(config)
    try:
        return Store.counts(store)
    finally:
        store.close()
