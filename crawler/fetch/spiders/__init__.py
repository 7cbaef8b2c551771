"""The source registry: one entry per spider, the same name in config, CLI, store and docs.

Entries name their spider class by import path so that listing sources (``regwatch
sources``) and everything else outside a crawl never imports Scrapy.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from crawler.errors import UnknownSource


@dataclass(frozen=True)
class Source:
    name: str
    title: str
    summary: str
    spider: str  # "module:Class"

    def load(self) -> type:
        module, _, cls = self.spider.partition(":")
        return getattr(importlib.import_module(module), cls)


SOURCES: dict[str, Source] = {}


def register(source: Source) -> Source:
    SOURCES[source.name] = source
    return source


def get(name: str) -> Source:
    try:
        return SOURCES[name]
    except KeyError:
        known = ", ".join(sorted(SOURCES))
        raise UnknownSource(f"unknown source {name!r}; known sources: {known}") from None


register(
    Source(
        name="federal_register",
        title="Federal Register",
        summary="FR API documents.json search by agency, type and publication-date window; each "
        "document's JSON and full-text XML; the day's Public Inspection list.",
        spider="crawler.fetch.spiders.federal_register:FederalRegisterSpider",
    )
)
register(
    Source(
        name="ecfr",
        title="eCFR",
        summary="eCFR versioner API: what changed in each watched title and part since it was "
        "last stored, then the part's point-in-time XML for each date that changed; every "
        "section and appendix is versioned by the date it took effect.",
        spider="crawler.fetch.spiders.ecfr:EcfrSpider",
    )
)
register(
    Source(
        name="bis",
        title="BIS web site",
        summary="bis.gov press releases and news (the items linked from the configured "
        "listings) and watched pages: main content only, new items and changed pages, "
        "moved (301) and missing (404) pages as alerts.",
        spider="crawler.fetch.spiders.bis:BisSpider",
    )
)
