"""The ``bis`` source in the snapshot stage: bis.gov pages (press releases, news, watched
pages) stored as versions of their main content, keyed by the day they were seen. The
mechanism (``WebPages``) serves any web source: a source of its own subclasses it with its
name, key prefix and label."""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Mapping
from typing import Any, ClassVar

from crawler.fetch.items import FetchedWebPage
from crawler.keys import BIS
from crawler.parse.web_page import page_tree, parse_web_page
from crawler.records import Outcome, to_json
from crawler.snapshot.rows import web_version
from crawler.snapshot.source import Snapshot, Writer
from crawler.snapshot.versioning import snapshot
from storage import DocumentRow, VersionRow

NAME = "bis"


def _remake(prefix: str, row: DocumentRow, _version: VersionRow, raw: dict[str, bytes]) -> bytes:
    """A page's tree made again from its stored HTML."""
    path = row.key.removeprefix(prefix)
    return to_json(page_tree(parse_web_page(raw["html"], path, row.url, row.key)))


class WebPages(Snapshot):
    """A web source's pages, each stored as versions of its main content under the key
    ``<prefix><path>``, valid from the day it was seen."""

    prefix: ClassVar[str]  # the key prefix the source owns: "bis:"
    label: ClassVar[str] = "pages"  # how its summary names them: "BIS pages"
    node_trees = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "prefix" in cls.__dict__:
            cls.retry_keys = (cls.prefix,)
            cls.makers = {cls.prefix: functools.partial(_remake, cls.prefix)}

    def key(self, path: str) -> str:
        return f"{self.prefix}{path}"

    def target(self, item: Any) -> str:
        if isinstance(item, FetchedWebPage):
            return self.key(item.path)
        return super().target(item)

    def store(self, item: Any, writer: Writer) -> Counter[str]:
        if not isinstance(item, FetchedWebPage):
            return super().store(item, writer)
        key = self.key(item.path)
        page = parse_web_page(item.body, item.path, item.url, key)
        new = web_version(
            page,
            item.body,
            item.day,
            run=writer.run,
            fetched_at=item.fetched_at,
            source=item.source,
            listing=item.listing,
            key=key,
        )
        outcome = snapshot(writer.store, new, node_tree=True)
        writer.save_validators(item.validators)
        return Counter([outcome])

    def summary(self, stats: Mapping[str, int]) -> str:
        changed = stats.get(Outcome.NEW, 0) + stats.get(Outcome.CHANGED, 0)
        return f"{self.label} new/changed {changed}"


class Bis(WebPages):
    name = NAME
    prefix = BIS
    label = "BIS pages"


SNAPSHOT = Bis()
