"""A source as the snapshot stage sees it: what the crawl pipeline does with the source's
items, what a run asks the source's spider for (its window, from what the store holds), how
its stored trees are made again from their payloads, and what it does once a run's crawls are
done. Each source's module ``crawler/snapshot/<name>.py`` exposes one ``SNAPSHOT`` object, a
``Snapshot``; the pipeline, the jobs and ``rederive`` find it through the source registry
(crawler.fetch.spiders) and never spell a source's name or key prefix."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, ClassVar

from crawler.config import Config
from crawler.fetch.items import Validators
from crawler.fetch.spiders import Stage, each, get, owner
from storage import DocumentRow, Store, VersionRow

# a stored version's tree made again from its raw payloads (role -> bytes) by the current
# parser; raises ParseError or KeyError when it cannot be
Maker = Callable[[DocumentRow, VersionRow, dict[str, bytes]], bytes]


@dataclass(frozen=True)
class Window:
    """What one run asks a source's spider for: the spider's arguments."""

    args: dict[str, str] = field(default_factory=dict)

    @property
    def since(self) -> str | None:
        """The first day the run checks (None: the spider works it out per document)."""
        return self.args.get("since")


@dataclass(frozen=True)
class Writer:
    """What a source's snapshot writes with during a crawl."""

    store: Store
    run: int
    now: str  # the run's clock, ISO 8601
    config: Config

    def save_validators(self, validators: Validators) -> None:
        """Only once the payload they validate is stored (a failed one is refetched whole)."""
        for url, (etag, modified) in validators.items():
            self.store.set_validators(url, etag, modified, self.now)


class Snapshot:
    """The snapshot stage's protocol for a source, with the defaults most sources keep."""

    name: ClassVar[str]  # the registry name
    # keys whose failed documents go on the retry list: the source's spider fetches the list
    # again every run (RegwatchSpider.retrying) until one stores them
    retry_keys: ClassVar[tuple[str, ...]] = ()
    # whether its trees are crawler.records.Node trees, whose changes the diff engine judges
    # (else records compared field by field)
    node_trees: ClassVar[bool] = False
    # key prefix -> how a stored version's tree of that kind is made again (regwatch rebuild)
    makers: ClassVar[Mapping[str, Maker]] = {}

    def target(self, item: Any) -> str:
        """The document key an item is about (what goes on the retry list), else its URL."""
        return str(getattr(item, "url", type(item).__name__))

    def store(self, item: Any, writer: Writer) -> Counter[str]:
        """Parse one of its items and snapshot it; the outcomes counted for the run."""
        raise TypeError(f"{self.name}: the pipeline does not know {type(item).__name__} items")

    def window(self, config: Config, store: Store, day: date) -> Window:
        """What the daily job of ``day`` asks its spider for."""
        return Window({"day": day.isoformat()})

    def first_day(self, until: date) -> date:
        """A backfill's first day when none is given: 30 days back."""
        return until - timedelta(days=30)

    def backfill(self, since: date, until: date, options: Mapping[str, str]) -> dict[str, str]:
        """The spider's arguments for a backfill; ``options``: the command's source options
        that were given (UsageError when they don't fit)."""
        return {"since": since.isoformat(), "until": until.isoformat()}

    def settle(
        self, store: Store, run: int, config: Config, now: datetime, clock: Callable[[], datetime]
    ) -> None:
        """Once every crawl of the daily run is done (in registry order): work that needs
        the whole run stored. An exception is recorded on the run as a regwatch bug."""

    def summary(self, stats: Mapping[str, int]) -> str:
        """One line of what a run's crawl of it did, from its stats (the demo prints it)."""
        return f"{get(self.name).title} " + ", ".join(f"{k} {v}" for k, v in sorted(stats.items()))


def snapshot_of(name: str) -> Snapshot:
    """The source's ``SNAPSHOT``."""
    found: Snapshot = get(name).stage(Stage.SNAPSHOT)
    return found


def maker_for(key: str) -> Maker | None:
    """How a stored version of ``key`` is made again from its payload: the owning source's."""
    source = owner(key)
    if source is None:
        return None
    makers = snapshot_of(source.name).makers
    return next((m for p, m in makers.items() if key.startswith(p)), None)


def node_trees(key: str) -> bool:
    """Whether the document ``key``'s changes are judged by the diff engine."""
    source = owner(key)
    return source is not None and snapshot_of(source.name).node_trees


def every() -> list[Snapshot]:
    """Every registered source's ``SNAPSHOT``, in registry order."""
    return [snapshot for _, snapshot in each(Stage.SNAPSHOT)]
