"""The ``ecfr`` source in the snapshot stage: a CFR part's point-in-time XML stored as its
sections and appendices (crawler.snapshot.versioning.store_cfr_part, implausible losses held);
held fetches judged again once the run's FR rules have their redlines; the run window (the
spider works out per part what changed since it was stored)."""

from __future__ import annotations

import logging
from collections import Counter, OrderedDict
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy.exc import SQLAlchemyError

from crawler.clock import stamp
from crawler.config import Config, EcfrConfig
from crawler.errors import UsageError, bug_line
from crawler.fetch.ecfr_client import part_url
from crawler.fetch.items import FetchedCfrPart
from crawler.keys import CFR, cfr_key, title_part
from crawler.parse.ecfr_json import FIRST_DAY
from crawler.parse.ecfr_xml import Reuse, parse_ecfr_xml
from crawler.records import Outcome, SourceState
from crawler.snapshot.rows import cfr_versions
from crawler.snapshot.source import Maker, Snapshot, Window, Writer
from crawler.snapshot.versioning import HELD, store_cfr_part
from storage import DocumentRow, ErrorKind, Store, VersionRow

log = logging.getLogger(__name__)

NAME = "ecfr"


_PARTS: OrderedDict[str, dict[str, bytes]] = OrderedDict()  # payload sha -> unit trees


def _cfr(row: DocumentRow, version: VersionRow, raw: dict[str, bytes]) -> bytes:
    """A section's, appendix's or part manifest's tree made again from its part's payload
    (the last few parts parsed are kept: a rebuild asks for every unit of a part in turn)."""
    sha = version.raw_blobs["xml"]
    trees = _PARTS.get(sha)
    if trees is None:
        title, part = int(row.meta["title"]), str(row.meta["part"])
        what = f"{title} CFR part {part} of {version.valid_from}"
        read = Reuse()  # nothing reused: it records each unit's XML hash for the manifest
        root = parse_ecfr_xml(raw["xml"], what, read)
        day = date.fromisoformat(version.valid_from)
        news = cfr_versions(
            title,
            part,
            root,
            raw["xml"],
            day,
            run=0,
            fetched_at="",
            source="",
            site_base="",
            raw_digests=read.digest_of,
        )
        trees = {n.key: n.tree for n in news}
        _PARTS[sha] = trees
        if len(_PARTS) > 4:
            _PARTS.popitem(last=False)
    else:
        _PARTS.move_to_end(sha)
    if row.key not in trees:
        raise KeyError(f"its payload of {version.valid_from} no longer holds {row.key}")
    return trees[row.key]


def review_held(store: Store, run: int, ecfr: EcfrConfig) -> Counter[str]:
    """Judge every held fetch again, as the daily job does once the run's FR rules have
    their redlines: one that a rule now confirms is applied (dated as the eCFR dated it),
    the others stay held, now by ``run``. The outcomes replace the held counts in the
    run's eCFR stats, so they tell what the run left in the store."""
    held = store.held_fetches()
    if not held:
        return Counter()
    counts: Counter[str] = Counter()
    for row in held:
        title, part = title_part(row.document)
        day = date.fromisoformat(row.valid_from)
        body = store.blob(row.raw_blob)
        url = part_url(ecfr.api_base, int(title), part, day)  # where the spider fetched it
        item = FetchedCfrPart(NAME, int(title), part, day, url, body, row.fetched_at)
        counts.update(store_cfr_part(store, item, run, ecfr))
    _restate(store, run, counts)
    return counts


def _restate(store: Store, run: int, counts: Counter[str]) -> None:
    line = next((r for r in store.run_sources([run]) if r.source == NAME), None)
    if line is None or line.finished is None:
        return  # the eCFR was not crawled in this run: its stats say nothing of these
    stats = Counter({k: v for k, v in line.stats.items() if k != HELD})
    # what a review finds unchanged was counted when the run fetched it (or was not the news)
    stats.update({k: v for k, v in counts.items() if k != f"sections_{Outcome.UNCHANGED}"})
    store.source_finished(run, NAME, line.finished, SourceState(line.status), dict(stats))


class Ecfr(Snapshot):
    name = NAME
    node_trees = True
    makers: ClassVar[Mapping[str, Maker]] = {CFR: _cfr}

    def target(self, item: Any) -> str:
        if isinstance(item, FetchedCfrPart):
            return cfr_key(item.title, item.part)
        return super().target(item)

    def store(self, item: Any, writer: Writer) -> Counter[str]:
        if isinstance(item, FetchedCfrPart):
            return store_cfr_part(writer.store, item, writer.run, writer.config.sources.ecfr)
        return super().store(item, writer)

    def window(self, config: Config, store: Store, day: date) -> Window:
        """The spider works out per part what changed since it was stored; never past ``day``."""
        return Window({"until": day.isoformat()})

    def first_day(self, until: date) -> date:
        return FIRST_DAY

    def backfill(self, since: date, until: date, options: Mapping[str, str]) -> dict[str, str]:
        """The history of one part: ``--title`` and ``--part`` are needed."""
        if not options.get("title") or not options.get("part"):
            raise UsageError("backfill ecfr needs --title and --part (e.g. --title 15 --part 744)")
        args = super().backfill(since, until, options)
        return args | {"title": options["title"], "part": options["part"]}

    def settle(
        self, store: Store, run: int, config: Config, now: datetime, clock: Callable[[], datetime]
    ) -> None:
        """Held fetches judged again: a rule just redlined (federal_register settles first,
        in registry order) may confirm one."""
        try:
            review_held(store, run, config.sources.ecfr)
        except (SQLAlchemyError, OSError):
            raise
        except Exception as exc:  # a held fetch that cannot be judged must not cost the digest
            log.error("reviewing held eCFR fetches failed", exc_info=exc)
            store.record_error(
                run,
                NAME,
                "held eCFR fetches",
                bug_line("while reviewing held eCFR fetches", exc),
                stamp(clock()),
                ErrorKind.BUG,
            )

    def summary(self, stats: Mapping[str, int]) -> str:
        changed = {f"sections_{o}" for o in (Outcome.NEW, Outcome.CHANGED, Outcome.REMOVED)}
        return f"eCFR sections new/changed {sum(v for k, v in stats.items() if k in changed)}"


SNAPSHOT = Ecfr()
