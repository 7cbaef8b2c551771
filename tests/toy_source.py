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
from collections import Counter
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import scrapy
from scrapy.http import Response

from crawler.fetch.items import FetchedWebPage
from crawler.fetch.spiders import Source
from crawler.fetch.spiders.base import RegwatchSpider, validators
from crawler.parse.web_page import page_tree, parse_web_page
from crawler.records import Outcome, to_json
from crawler.snapshot.rows import web_version
from crawler.snapshot.source import Maker, Snapshot, Writer
from crawler.snapshot.versioning import snapshot
from storage import DocumentRow, VersionRow

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


def _remake(row: DocumentRow, _version: VersionRow, raw: dict[str, bytes]) -> bytes:
    path = row.key.removeprefix(PREFIX)
    return to_json(page_tree(parse_web_page(raw["html"], path, row.url, row.key)))


class ToySnapshot(Snapshot):
    name = NAME
    retry_keys = (PREFIX,)
    node_trees = True
    makers: ClassVar[Mapping[str, Maker]] = {PREFIX: _remake}

    def target(self, item: Any) -> str:
        if isinstance(item, FetchedWebPage):
            return toy_key(item.path)
        return super().target(item)

    def store(self, item: Any, writer: Writer) -> Counter[str]:
        if not isinstance(item, FetchedWebPage):
            return super().store(item, writer)
        key = toy_key(item.path)
        page = parse_web_page(item.body, item.path, item.url, key)
        new = web_version(
            page,
            item.body,
            item.day,
            run=writer.run,
            fetched_at=item.fetched_at,
            source=item.source,
            listing=None,
            key=key,
        )
        return Counter([snapshot(writer.store, new, node_tree=True)])

    def summary(self, stats: Mapping[str, int]) -> str:
        return f"toy notices new {stats.get(Outcome.NEW, 0)}"


SNAPSHOT = ToySnapshot()


# --- digest --------------------------------------------------------------------------------

try:  # the digest stage's protocol (crawler.digest.source), where the tree has it
    from crawler.digest.bis import BisDigest
except ImportError:  # pragma: no cover - an older digest stage, organised otherwise
    pass
else:
    DIGEST = BisDigest()  # web pages are web pages: the same part of the report as bis.gov's
