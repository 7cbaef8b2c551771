"""A fourth source, from outside the package: ``toyweb``, a second web source (notices on a
site of its own, keyed ``toy:<path>``). It is registered the way the built-in sources are,
one object per stage (``FETCH``, ``SNAPSHOT``, ``DIGEST``), all three in this one module,
which the registry entry names for each stage. tests/test_sources.py proves that regwatch
crawls, stores and lists it without any core module knowing its name.

Its config table is its own dataclass (crawler.config has no ``[sources.toyweb]``); the site
it reads comes from the environment (TOYWEB_SITE), so that the crawl process, which imports
this module afresh, reads the same site as the test that started it."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import scrapy
from scrapy.http import Response

from crawler.digest.bis import BisDigest
from crawler.fetch.items import FetchedWebPage
from crawler.fetch.spiders import Source
from crawler.fetch.spiders.base import RegwatchSpider, validators
from crawler.snapshot.bis import WebPages

NAME = "toyweb"
PREFIX = "toy:"  # the key prefix it owns
SLOT = "toyweb"
SITE = "TOYWEB_SITE"  # the environment variable naming its site

ENTRY = Source(
    name=NAME,
    title="Toy notices",
    summary="A second web source: the notices of a site of its own, main content only.",
    keys=(PREFIX,),
    formats=("web_page",),
    modules=tuple((stage, __name__) for stage in ("fetch", "snapshot", "digest")),
    config=f"{__name__}:ToyConfig",
)


@dataclass(frozen=True)
class ToyConfig:
    enabled: bool = True
    site_base: str = field(default_factory=lambda: os.environ.get(SITE, "http://127.0.0.1:9"))
    pages: tuple[str, ...] = ("/toy/notice-1",)
    rate: float = 10.0


def toy_key(path: str) -> str:
    return f"{PREFIX}{path}"


# --- fetch ---------------------------------------------------------------------------------


class ToySpider(RegwatchSpider[ToyConfig]):
    name = NAME

    def __init__(self, day: str | None = None, until: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.day = day or until or ""

    @classmethod
    def slots(cls, cfg: ToyConfig) -> dict[str, float]:
        return {SLOT: cfg.rate}

    async def start(self) -> AsyncIterator[Any]:
        for path in self.cfg.pages:
            yield scrapy.Request(
                self.cfg.site_base.rstrip("/") + path,
                self.parse_page,
                errback=self.failed,
                cb_kwargs={"path": path},
                meta={"download_slot": SLOT, "target": toy_key(path)},
            )

    def parse_page(self, response: Response, path: str) -> Iterator[Any]:
        from datetime import date

        yield FetchedWebPage(
            source=self.name,
            path=path,
            url=response.url,
            body=response.body,
            day=date.fromisoformat(self.day),
            fetched_at=self.now,
            validators=validators(response),
        )


FETCH = ToySpider


# --- snapshot ------------------------------------------------------------------------------


class ToySnapshot(WebPages):  # web pages are web pages: bis.gov's mechanism, its own keys
    name = NAME
    prefix = PREFIX
    label = "toy notices"


SNAPSHOT = ToySnapshot()


# --- digest --------------------------------------------------------------------------------

DIGEST = BisDigest()  # web pages are web pages: the same part of the report as bis.gov's
