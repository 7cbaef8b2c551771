"""The one writer of a crawl: parse each fetched payload and snapshot it into the store.

Whatever goes wrong with one document is data: the source sent something else than expected
(``input``/``fetch``), or regwatch failed while reading it (``bug``, traceback in the log with
--verbose); the document goes on the retry list, which every later run retries until it is
stored. A failing store or disk stops the crawl (nothing half-written: each document is one
transaction) and the crawl process exits with STORAGE_FAILED and one line. HTTP validators
are saved only after their document is safely stored, so a failed document is fetched in
full again by the next run.
"""

from __future__ import annotations

import logging
import sys
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from crawler.errors import BUG, ParseError
from crawler.fetch.items import CrawlError, Unchanged, WindowCounted
from crawler.records import Outcome, SourceState
from crawler.snapshot.source import Snapshot, Writer, snapshot_of
from storage import ErrorKind, RunStatus, Store, StoreInputError, failure_line

log = logging.getLogger(__name__)

storage_failures: list[str] = []  # one line each, printed by the crawl process at exit


def target_of(item: Any, snapshot: Snapshot) -> str:
    """The document key an item is about (what goes on the retry list), else its URL."""
    if isinstance(item, CrawlError):
        return item.target
    if isinstance(item, Unchanged):
        return item.key
    return snapshot.target(item)


def retried(target: str, snapshot: Snapshot) -> bool:
    """Whether a failed ``target`` goes on the retry list: a key its source's spider fetches
    again (``RegwatchSpider.retrying``; ``Snapshot.retry_keys``). A CFR part is not: the
    eCFR spider fetches every date after the last one stored anyway."""
    return target.startswith(snapshot.retry_keys) and " " not in target


class StorePipeline:
    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        settings = crawler.settings
        self.config = settings["REGWATCH_CONFIG"]
        self.run = settings.getint("REGWATCH_RUN")
        self.now = settings["REGWATCH_NOW"]
        self.stats: dict[str, Counter[str]] = {}
        self.fatal: set[str] = set()
        self.store: Store | None = None
        self.broken: str | None = None  # the store failed: stop storing, say so once
        self.to_retry: set[str] = set()
        self.own_run = False

    @classmethod
    def from_crawler(cls, crawler: Any) -> StorePipeline:
        return cls(crawler)

    def open_spider(self) -> None:
        self.store = Store.open(self.config.store_url)
        if not self.run:  # `scrapy crawl`: the spider opened a run of its own, closed here
            self.run, self.own_run = self.crawler.spider.run, True
        self.to_retry = {row.target for row in self.store.retry_list()}

    def close_spider(self) -> None:
        assert self.store is not None
        self.stats.setdefault(self.crawler.spider.name, Counter())  # even if it yielded nothing
        try:
            for source, counts in self.stats.items():
                if source in self.fatal or self.broken:
                    state = SourceState.FAILED
                elif counts[Outcome.ERROR]:
                    state = SourceState.DEGRADED
                else:
                    state = SourceState.OK
                self.store.source_finished(self.run, source, self.now, state, dict(counts))
            if self.own_run:
                self.store.finish_run(self.run, self.now, RunStatus(state.value))
        except (SQLAlchemyError, OSError) as exc:
            self._storage_failed(exc)
        self.store.close()

    def process_item(self, item: Any) -> Any:
        source = item.source
        counts = self.stats.setdefault(source, Counter())
        if self.broken:
            return item
        snapshot = snapshot_of(source)
        target = target_of(item, snapshot)
        try:
            if isinstance(item, CrawlError):
                retry = not item.fatal  # a listing or search that failed fails the source
                self._failed(snapshot, target, ErrorKind(item.kind), item.message, retry)
                counts[Outcome.ERROR] += 1
                if item.fatal:
                    self.fatal.add(source)
                return item
            counts.update(self._store(item, snapshot))
            if retried(target, snapshot):
                self._stored(target)
        except (ParseError, StoreInputError) as exc:
            self._failed(snapshot, target, ErrorKind.INPUT, str(exc))
            counts[Outcome.ERROR] += 1
        except (SQLAlchemyError, OSError) as exc:
            self._storage_failed(exc)
        except Exception as exc:  # our own bug: recorded as one, never as bad input
            log.exception("regwatch failed while reading %s", target)
            line = f"regwatch failed while reading {target}: {type(exc).__name__}: {exc}"
            self._failed(snapshot, target, ErrorKind.BUG, _bug_line(line))
            counts[Outcome.ERROR] += 1
        return item

    def _store(self, item: Any, snapshot: Snapshot) -> Counter[str]:
        if isinstance(item, Unchanged):
            return Counter([Outcome.UNCHANGED])
        if isinstance(item, WindowCounted):
            return Counter({"found": item.count})
        assert self.store is not None
        return snapshot.store(item, Writer(self.store, self.run, self.now, self.config))

    def _failed(
        self, snapshot: Snapshot, target: str, kind: ErrorKind, message: str, retry: bool = True
    ) -> None:
        """An error row on the run; a document also goes on (or stays on) the retry list."""
        assert self.store is not None
        source = snapshot.name
        try:
            if retry and retried(target, snapshot):
                self.to_retry.add(target)
                self.store.retry_failed(self.run, source, target, kind, message, self.now)
            else:
                self.store.record_error(self.run, source, target, message, self.now, kind)
        except (SQLAlchemyError, OSError) as exc:
            self._storage_failed(exc)

    def _stored(self, target: str) -> None:
        assert self.store is not None
        if target in self.to_retry:
            self.store.retry_done([target])
            self.to_retry.discard(target)

    def _storage_failed(self, exc: BaseException) -> None:
        """The store cannot be written: stop this crawl; the parent closes the run."""
        if self.broken:
            return
        log.debug("store failure", exc_info=exc)
        self.broken = failure_line(exc, "the store")
        storage_failures.append(self.broken)
        engine = self.crawler.engine
        if engine is not None and engine.spider is not None:
            from scrapy.utils.defer import deferred_from_coro

            deferred_from_coro(engine.close_spider_async(reason="storage_failed"))


def _bug_line(line: str) -> str:
    line = " ".join(line.split())
    if len(line) > 300:
        line = line[:297] + "..."
    return f"{line} ({BUG})"


class CallbackErrors:
    """Spider middleware: an exception escaping a spider callback (a regwatch bug, since
    bad input is turned into CrawlError items there) becomes a CrawlError of kind ``bug``
    for the request's document, instead of a log line and a silently lost document."""

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Any) -> CallbackErrors:
        return cls(crawler)

    async def process_start(self, start: AsyncIterator[Any]) -> AsyncIterator[Any]:
        """The spider's start requests; an exception there (a bug, or the store failing
        while the spider reads it) fails the source with one line instead of a log line."""
        try:
            async for request in start:
                yield request
        except Exception as exc:
            spider = self.crawler.spider
            log.error("regwatch failed starting %s", spider.name, exc_info=exc)
            line = f"regwatch failed starting {spider.name}: {type(exc).__name__}: {exc}"
            yield CrawlError(
                spider.name, spider.name, _bug_line(line), fatal=True, kind=ErrorKind.BUG
            )

    def process_spider_exception(self, response: Any, exception: Exception) -> Any:
        spider = self.crawler.spider
        target = response.meta.get("target") or response.url
        log.error("regwatch failed while reading %s", target, exc_info=exception)
        line = f"regwatch failed while reading {target}: {type(exception).__name__}: {exception}"
        return [
            CrawlError(
                spider.name,
                target,
                _bug_line(line),
                fatal=bool(response.meta.get("fatal")),
                kind=ErrorKind.BUG,
            )
        ]


class ProgressBar:
    """A progress bar on stderr for backfills: documents (or eCFR dates) done out of those
    found: every item but a count, a reference fetched for another document, or a failure
    of the whole source."""

    def __init__(self, crawler: Any) -> None:
        from scrapy import signals
        from tqdm import tqdm

        self.bar = tqdm(total=0, unit="item", file=sys.stderr, dynamic_ncols=True)
        crawler.signals.connect(self.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(self.closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Any) -> ProgressBar:
        return cls(crawler)

    def item_scraped(self, item: Any) -> None:
        if isinstance(item, WindowCounted):
            self.bar.set_description(item.source)
            self.bar.total = (self.bar.total or 0) + item.count
            self.bar.refresh()
        elif not getattr(item, "reference_for", None) and not (
            isinstance(item, CrawlError) and item.fatal
        ):
            self.bar.update(1)  # a document or date done (stored, unchanged or failed)

    def closed(self) -> None:
        self.bar.close()
