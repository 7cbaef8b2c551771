"""What every regwatch spider shares: its config table, the run's clock, a read-only view of
the store, the fetch policy, and failures turned into CrawlError items (errors are data,
never exceptions)."""

from __future__ import annotations

import builtins
from collections.abc import Iterator
from datetime import datetime
from typing import Any, Generic, Self, TypeVar
from zoneinfo import ZoneInfo

import scrapy
from scrapy.crawler import Crawler
from scrapy.http import Response

from crawler.config import Config
from crawler.fetch.errors import describe, is_bug
from crawler.fetch.items import CrawlError, Validators
from crawler.fetch.policy import FetchPolicy
from crawler.fetch.spiders import SOURCES, Stage, get
from storage import ErrorKind, Held, Store

SourceConfig = TypeVar("SourceConfig")  # the spider's own table: config.sources.<name>


class RegwatchSpider(scrapy.Spider, Generic[SourceConfig]):
    name = "regwatch"
    config: Config
    cfg: SourceConfig
    now: str  # the run's clock, ISO 8601 (REGWATCH_NOW)
    policy: FetchPolicy
    store: Store

    run: int  # the run it crawls for
    held: tuple[Held, ...] = ()  # the locks of a run of its own (``scrapy crawl``)

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        config = crawler.settings["REGWATCH_CONFIG"]
        run = crawler.settings.getint("REGWATCH_RUN")
        held: tuple[Held, ...] = ()
        if not run:  # `scrapy crawl <name>` from the checkout: the crawl is a run of its own
            run, held, kwargs = cls._own_run(config, crawler.settings["REGWATCH_NOW"], kwargs)
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.config = config
        spider.cfg = get(spider.name).settings(config)
        spider.now = crawler.settings["REGWATCH_NOW"]
        spider.run, spider.held = run, held
        # where the spider may go (the middlewares enforce it; a spider that handles its own
        # redirects asks it too)
        spider.policy = crawler.settings["REGWATCH_FETCH_POLICY"]
        spider.store = Store.open(config.store_url)
        return spider

    @classmethod
    def slots(cls, cfg: Any) -> dict[str, float]:
        """Its download slots (``meta["download_slot"]``) and their rates, requests per
        second, from its config table: the crawl's settings give each its delay."""
        return {}

    @classmethod
    def _own_run(
        cls, config: Config, now: str, kwargs: dict[str, Any]
    ) -> tuple[int, tuple[Held, ...], dict[str, Any]]:
        """A run for a crawl started by ``scrapy crawl``, as ``regwatch crawl`` would open
        it: the source's crawl lock, the run's own lock, and the arguments not given (``-a``)
        from the source's daily window up to today."""
        from crawler.snapshot.source import snapshot_of  # the crawl process only

        store = Store.open(config.store_url)
        try:
            day = datetime.fromisoformat(now).astimezone(ZoneInfo(config.timezone)).date()
            window = snapshot_of(cls.name).window(config, store, day)
            args = window.args | kwargs
            source = store.lock(f"source:{cls.name}", wait=config.store.lock_wait)
            run, alive = store.open_run("crawl", None, now, f"scrapy crawl {cls.name}")
            until = args.get("until", day.isoformat())
            store.source_started(run, cls.name, now, args.get("since"), until)
        finally:
            store.close()
        return run, (source, alive), args

    def closed(self, reason: str) -> None:
        self.store.close()
        for lock in self.held:  # after the pipeline closed the run (it closes first)
            lock.release()

    def failed(self, failure: Any) -> Iterator[Any]:
        """Errback: the failed request as a one-line CrawlError (``fatal`` from its meta)."""
        request = failure.request
        yield CrawlError(
            self.name,
            request.meta.get("target", request.url),
            describe(failure),
            fatal=bool(request.meta.get("fatal")),
            kind=ErrorKind.BUG if is_bug(failure) else ErrorKind.FETCH,
        )

    def retrying(self) -> list[str]:
        """The document keys on this source's retry list: they failed in an earlier run and
        are fetched again by every run until one stores them."""
        return [row.target for row in self.store.retry_list(self.name)]

    def conditional(self, url: str) -> dict[str, str]:
        """If-None-Match / If-Modified-Since for ``url`` from the validators last stored."""
        etag, modified = self.store.validators([url]).get(url, (None, None))
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if modified:
            headers["If-Modified-Since"] = modified
        return headers


def validators(response: Response) -> Validators:
    """The response's ETag and Last-Modified, to be stored once its payload is."""
    if response.status != 200:
        return {}
    etag = response.headers.get("ETag")
    modified = response.headers.get("Last-Modified")
    if not etag and not modified:
        return {}
    return {
        response.url: (etag.decode() if etag else None, modified.decode() if modified else None)
    }


class RegistryLoader:
    """Scrapy's spider loader over the source registry (``scrapy crawl``, ``scrapy list``):
    the registry is the one list of spiders."""

    @classmethod
    def from_settings(cls, settings: Any) -> RegistryLoader:
        return cls()

    def load(self, spider_name: str) -> type[scrapy.Spider]:
        if spider_name not in SOURCES:
            raise KeyError(f"Spider not found: {spider_name}")
        spider: type[scrapy.Spider] = SOURCES[spider_name].stage(Stage.FETCH)
        return spider

    def list(self) -> list[str]:
        return list(SOURCES)

    def find_by_request(self, request: Any) -> builtins.list[str]:
        return []
