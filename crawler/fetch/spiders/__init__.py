"""The source registry: the one list of sources. Each entry has one name, used by its
spider, its config table (``[sources.<name>]``), the store, the CLI and the docs; it names the
key prefixes it owns (crawler.keys) and the parse formats it reads with (crawler.parse).

A source is one same-named module in each stage organised by source, registered the same
way in each: the module exposes one object named after its stage, which the stage finds
through this registry by the source's name and never by spelling it:

==========  ==================================  ========================================
stage       module                              object
==========  ==================================  ========================================
fetch       crawler/fetch/spiders/<name>.py     ``FETCH``: the spider class (RegwatchSpider)
snapshot    crawler/snapshot/<name>.py          ``SNAPSHOT``: crawler.snapshot.source.Snapshot
digest      crawler/digest/<name>.py            ``DIGEST``: crawler.digest.source.SourceDigest
==========  ==================================  ========================================

A source that lives outside this package (a test's toy source: tests/toy_source.py) names its
modules in ``modules`` and its config defaults in ``config``; the crawl process registers the
entries its parent knows (crawler.jobs.crawl hands them over). Scrapy finds the spiders here
too (``RegistryLoader``: ``scrapy list``, ``scrapy crawl <name>``).

The registry imports nothing of a stage until asked (``Source.stage``), so listing sources
(``regwatch sources``) and every command that does not crawl never import Scrapy.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from crawler.errors import UnknownSource
from crawler.keys import BIS, CFR, FR, PI


class Stage(StrEnum):
    """The stages organised by source, each with its package and its object's name."""

    FETCH = "fetch"
    SNAPSHOT = "snapshot"
    DIGEST = "digest"

    @property
    def package(self) -> str:
        return "crawler.fetch.spiders" if self is Stage.FETCH else f"crawler.{self.value}"

    @property
    def attribute(self) -> str:
        return self.value.upper()


@dataclass(frozen=True)
class Source:
    name: str
    title: str  # as people name it: "eCFR"
    summary: str
    keys: tuple[str, ...]  # the key prefixes it owns (crawler.keys: FR, PI, CFR, BIS)
    formats: tuple[str, ...]  # the crawler.parse modules it reads its payloads with
    # stage -> module, for a source outside crawler/ (default: the stage's package + name)
    modules: tuple[tuple[str, str], ...] = ()
    # "module:Class" of its config table's defaults, for a source crawler.config does not
    # know (a plugin); a built-in source's table is config.sources.<name>
    config: str = ""

    def module(self, stage: Stage) -> str:
        return dict(self.modules).get(stage.value) or f"{stage.package}.{self.name}"

    def stage(self, stage: Stage) -> Any:
        """The source's object in ``stage`` (its module imported on first use)."""
        return getattr(importlib.import_module(self.module(stage)), stage.attribute)

    def owns(self, key: str) -> bool:
        return key.startswith(self.keys)

    def settings(self, config: Any) -> Any:
        """Its config table: ``config.sources.<name>``, else its own defaults."""
        table = getattr(config.sources, self.name, None)
        if table is None and self.config:
            module, _, cls = self.config.partition(":")
            table = getattr(importlib.import_module(module), cls)()
        if table is None:
            raise UnknownSource(f"source {self.name!r} has no [sources.{self.name}] config table")
        return table

    def to_dict(self) -> dict[str, Any]:
        """The entry as JSON (the crawl process registers the sources its parent knows)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Source:
        data = dict(data)
        data["keys"] = tuple(data["keys"])
        data["formats"] = tuple(data["formats"])
        data["modules"] = tuple(tuple(m) for m in data.get("modules", ()))
        return cls(**data)


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


def enabled(config: Any) -> list[Source]:
    """The sources enabled in ``config``, in registry order."""
    return [s for s in SOURCES.values() if s.settings(config).enabled]


def owner(key: str) -> Source | None:
    """The source that owns a document key (by its prefixes), or None."""
    return next((s for s in SOURCES.values() if s.owns(key)), None)


def each(stage: Stage) -> Iterator[tuple[Source, Any]]:
    """Every source with its object in ``stage``, in registry order."""
    for source in SOURCES.values():
        yield source, source.stage(stage)


register(
    Source(
        name="federal_register",
        title="Federal Register",
        summary="FR API documents.json search by agency, type and publication-date window; each "
        "document's JSON and full-text XML; the day's Public Inspection list.",
        keys=(FR, PI),
        formats=("fr_json", "fr_xml"),
    )
)
register(
    Source(
        name="ecfr",
        title="eCFR",
        summary="eCFR versioner API: what changed in each watched title and part since it was "
        "last stored, then the part's point-in-time XML for each date that changed; every "
        "section and appendix is versioned by the date it took effect.",
        keys=(CFR,),
        formats=("ecfr_json", "ecfr_xml", "cfr_units"),
    )
)
register(
    Source(
        name="bis",
        title="BIS web site",
        summary="bis.gov press releases and news (the items linked from the configured "
        "listings) and watched pages: main content only, new items and changed pages, "
        "moved (301) and missing (404) pages as alerts.",
        keys=(BIS,),
        formats=("web_page",),
    )
)
