"""What every regwatch spider shares: its config table, the run's clock, a read-only view of
the store, the fetch policy, and failures turned into CrawlError items (errors are data,
never exceptions)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Generic, Self, TypeVar

import scrapy
from scrapy.crawler import Crawler
from scrapy.http import Response

from crawler.config import Config
from crawler.fetch.errors import describe, is_bug
from crawler.fetch.items import CrawlError, Validators
from crawler.fetch.policy import FetchPolicy
from storage import ErrorKind, Store

SourceConfig = TypeVar("SourceConfig")  # the spider's own table: config.sources.<name>


class RegwatchSpider(scrapy.Spider, Generic[SourceConfig]):
    name = "regwatch"
    config: Config
    cfg: SourceConfig
    now: str  # the run's clock, ISO 8601 (REGWATCH_NOW)
    policy: FetchPolicy
    store: Store

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)
        config = crawler.settings["REGWATCH_CONFIG"]
        spider.config = config
        spider.cfg = getattr(config.sources, spider.name)
        spider.now = crawler.settings["REGWATCH_NOW"]
        # where the spider may go (the middlewares enforce it; a spider that handles its own
        # redirects asks it too)
        spider.policy = crawler.settings["REGWATCH_FETCH_POLICY"]
        spider.store = Store.open(config.store_path)
        return spider

    def closed(self, reason: str) -> None:
        self.store.close()

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
