"""The ``bis`` spider: bis.gov press releases, news and watched pages.

Each configured listing (``/news-updates``) is read for links to items (``/press-release/...``);
the newest ``max_items`` of them and every watched page are fetched, conditionally when
already stored. Redirects are not followed blindly: a permanent one (301/308) is recorded as
a "source moved" alert (and followed on the same host, so the page stays tracked under its
configured path); a 404/410 is a "source missing" alert. Both reach the digest. robots.txt is
obeyed: this is a web site, not an API.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import date
from typing import Any, ClassVar, Self
from urllib.parse import urljoin, urlsplit

import scrapy
from scrapy.crawler import Crawler
from scrapy.http import Response

from crawler.config import BisConfig
from crawler.errors import ParseError
from crawler.fetch.items import CrawlError, FetchedWebPage, Unchanged
from crawler.fetch.spiders.base import RegwatchSpider, validators
from crawler.keys import BIS, bis_key, bis_path
from crawler.parse.web_page import listing_links
from storage import ErrorKind

BIS_SLOT = "bis"
MOVED = (301, 308)
REDIRECTS = (301, 302, 303, 307, 308)
MISSING = (404, 410)
MAX_HOPS = 5


class BisSpider(RegwatchSpider[BisConfig]):
    name = "bis"
    site: str  # site_base without its trailing slash
    known: set[str]  # item keys with a stored version
    requested: set[str]  # paths requested in this crawl
    # Scrapy reads custom_settings from the class (Spider.update_settings) but declares it as
    # an instance variable, so the ClassVar that ruff asks for conflicts with its stub.
    custom_settings: ClassVar[dict[str, Any]] = {"ROBOTSTXT_OBEY": True}  # type: ignore[misc]

    def __init__(self, day: str | None = None, until: str | None = None, **kwargs: Any) -> None:
        """``day`` from the daily job; a backfill (``regwatch crawl bis``) gives a window,
        and web pages, having no history to ask for, are read as they stand on ``until``."""
        super().__init__(**kwargs)
        self.day = date.fromisoformat(day or until or "")

    @classmethod
    def slots(cls, cfg: BisConfig) -> dict[str, float]:
        return {BIS_SLOT: cfg.rate}

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.site = spider.cfg.site_base.rstrip("/")
        spider.known = spider.store.known_keys(BIS)
        spider.requested = set()
        return spider

    async def start(self) -> AsyncIterator[Any]:
        for path in self.cfg.listings:
            yield self._request(self.site + path, path, listing=None, is_listing=True)
        for path in self.cfg.pages:
            yield self._request(self.site + path, path, listing=None)
        listing = self.cfg.listings[0] if self.cfg.listings else None
        for target in self.retrying():  # items that failed earlier, maybe no longer linked
            path = bis_path(target)
            if path not in self.requested:
                yield self._request(self.site + path, path, listing=listing)

    def _request(
        self,
        url: str,
        path: str,
        listing: str | None,
        is_listing: bool = False,
        hops: int = 0,
    ) -> scrapy.Request:
        self.requested.add(path)
        known = not is_listing and bis_key(path) in self.known
        headers = self.conditional(url) if known else {}
        return scrapy.Request(
            url,
            headers=headers,
            callback=self.parse_page,
            errback=self.failed,
            dont_filter=True,
            cb_kwargs={"path": path, "listing": listing, "is_listing": is_listing, "hops": hops},
            meta={
                "download_slot": BIS_SLOT,
                "target": bis_key(path),
                "fatal": is_listing,  # no listing, no news: the source failed
                "dont_redirect": True,
                "handle_httpstatus_list": [304, *REDIRECTS, *MISSING],
            },
        )

    def parse_page(
        self, response: Response, path: str, listing: str | None, is_listing: bool, hops: int
    ) -> Iterator[Any]:
        status = response.status
        if status in REDIRECTS:
            yield from self._redirect(response, path, listing, is_listing, hops)
            return
        if status in MISSING:
            yield CrawlError(
                self.name,
                bis_key(path),
                f"source missing: {response.url} answers HTTP {status}; "
                "remove it from [sources.bis] or find where it went",
            )
            return
        if status == 304:
            yield self._not_modified(response, path)
            return
        if is_listing:
            yield from self._items(response, path)
            return
        yield FetchedWebPage(
            source=self.name,
            path=path,
            url=response.url,
            body=response.body,
            day=self.day,
            fetched_at=self.now,
            listing=listing,
            validators=validators(response),
        )

    def _not_modified(self, response: Response, path: str) -> Unchanged | CrawlError:
        """A 304 keeps the stored version only when it answers the validators of that
        version: validators are saved only once a page is stored, so a page whose fetches so
        far all failed (a maintenance page, say) is asked unconditionally, and a 304 to that
        keeps nothing."""
        asked = response.request.headers if response.request is not None else {}
        if "If-None-Match" in asked or "If-Modified-Since" in asked:
            return Unchanged(self.name, bis_key(path))
        return CrawlError(
            self.name,
            bis_key(path),
            f"{response.url} answers HTTP 304 (not modified) to a request that named no "
            "stored version; expected the page itself",
            kind=ErrorKind.INPUT,
        )

    def _redirect(
        self, response: Response, path: str, listing: str | None, is_listing: bool, hops: int
    ) -> Iterator[Any]:
        location = response.headers.get("Location")
        target = _resolve(response.url, location.decode("latin-1")) if location else ""
        same_host = self.policy.allows(target)  # configured host and port, http(s) only
        follow = bool(target) and same_host and hops < MAX_HOPS
        if response.status in MOVED:
            yield CrawlError(
                self.name,
                bis_key(path),
                f"source moved: {response.url} redirects permanently (HTTP {response.status}) "
                f"to {target or 'nowhere'} ({'followed' if follow else 'not followed'}); "
                "update [sources.bis]",
            )
        elif not follow:
            yield CrawlError(
                self.name,
                bis_key(path),
                f"{response.url} redirects (HTTP {response.status}) to "
                f"{target or 'nowhere'}, not followed",
            )
        if follow:
            yield self._request(target, path, listing, is_listing, hops + 1)

    def _items(self, response: Response, listing: str) -> Iterator[Any]:
        try:
            paths = listing_links(
                response.body, response.url, tuple(self.cfg.item_paths), bis_key(listing)
            )
        except ParseError as exc:
            yield CrawlError(self.name, bis_key(listing), str(exc), kind=ErrorKind.INPUT)
            return
        if not paths:
            yield CrawlError(
                self.name,
                bis_key(listing),
                f"{response.url}: no links to items under {', '.join(self.cfg.item_paths)} "
                "(has the page changed its layout?)",
            )
            return
        base = f"{urlsplit(response.url).scheme}://{urlsplit(response.url).netloc}"
        for path in paths[: self.cfg.max_items]:
            if path not in self.requested:
                yield self._request(base + path, path, listing=listing)


def _resolve(url: str, location: str) -> str:
    """The absolute URL a Location header points to; '' for one that is not a URL."""
    try:
        target = urljoin(url, location)
        urlsplit(target).port  # noqa: B018 - raises ValueError for a port that is not one
    except ValueError:
        return ""
    return target


FETCH = BisSpider
