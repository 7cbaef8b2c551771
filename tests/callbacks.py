"""Spider callbacks called directly, as Scrapy's own tests do (tests/test_spider.py there):
a spider made from a config without a crawl, its requests answered with responses built
from recorded bytes (the replay corpus, as the replay server serves it), the items and
requests its callbacks yield collected. No reactor, no process, no pipeline: what a spider
decides from what it is given. One end-to-end crawl per source (a real Scrapy process against
the replay server) is in that source's test file."""

from __future__ import annotations

import asyncio
import gzip
import http.client
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlsplit

import scrapy
from scrapy.crawler import Crawler
from scrapy.http import Response
from scrapy.responsetypes import responsetypes

from crawler.config import Config
from crawler.fetch.settings import build_settings

NOW = "2026-10-05T11:30:00+00:00"
S = TypeVar("S", bound=scrapy.Spider)


def make_spider(cls: type[S], config: Config, now: str = NOW, **args: str) -> S:
    """The spider as a crawl of run 1 makes it (``from_crawler``: config table, clock, store
    view); run 0 would be ``scrapy crawl``, which opens a run of its own and takes locks."""
    crawler = Crawler(cls, build_settings(config, run_id=1, now=now))
    return cls.from_crawler(crawler, **args)


def response(
    request: scrapy.Request, body: bytes, status: int = 200, headers: dict | None = None
) -> Response:
    """A response of the type Scrapy would pick (TextResponse, HtmlResponse, XmlResponse),
    bound to ``request`` (its meta and cb_kwargs travel with it)."""
    headers = headers or {}
    cls = responsetypes.from_args(headers=headers, url=request.url, body=body)
    return cls(url=request.url, status=status, headers=headers, body=body, request=request)


def replayed(request: scrapy.Request) -> Response:
    """``request`` answered by the replay server it names (127.0.0.1), with its headers
    (conditional ones included): the recorded bytes as the server serves them."""
    url = urlsplit(request.url)
    conn = http.client.HTTPConnection(url.hostname or "", url.port, timeout=10)
    headers = {k.decode(): b",".join(v).decode() for k, v in request.headers.items()}
    try:
        conn.request("GET", url.path + (f"?{url.query}" if url.query else ""), headers=headers)
        answer = conn.getresponse()
        body = answer.read()
        got = dict(answer.getheaders())
    finally:
        conn.close()
    if got.get("Content-Encoding") == "gzip" and body:
        body = gzip.decompress(body)
        del got["Content-Encoding"]
    return response(request, body, answer.status, got)


def call(request: scrapy.Request, answer: Response) -> list[Any]:
    """The request's callback (or errback's sibling: its callback) on ``answer``."""
    assert request.callback is not None
    return list(request.callback(answer, **request.cb_kwargs) or ())


def starts(spider: scrapy.Spider) -> list[Any]:
    """What ``spider.start()`` yields."""

    async def collect() -> list[Any]:
        return [x async for x in spider.start()]

    return asyncio.run(collect())


@dataclass
class Crawled:
    """What a spider yielded, following its requests to the end: the items in order and the
    requests it made."""

    items: list[Any] = field(default_factory=list)
    requests: list[scrapy.Request] = field(default_factory=list)

    def of(self, kind: type) -> list[Any]:
        return [item for item in self.items if isinstance(item, kind)]

    def urls(self, prefix: str = "") -> list[str]:
        return [r.url for r in self.requests if urlsplit(r.url).path.startswith(prefix)]


def follow(
    first: Iterable[Any], answer: Callable[[scrapy.Request], Response] = replayed
) -> Crawled:
    """Every request in ``first`` answered with ``answer`` and passed to its callback, and
    every request a callback yields in turn, in order (breadth first); items collected."""
    crawled = Crawled()
    queue = list(first)
    while queue:
        out = queue.pop(0)
        if isinstance(out, scrapy.Request):
            crawled.requests.append(out)
            queue.extend(call(out, answer(out)))
        else:
            crawled.items.append(out)
    return crawled
