"""The ``bis`` source in the snapshot stage: bis.gov pages (press releases, news, watched
pages) stored as versions of their main content, keyed by the day they were seen."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any, ClassVar

from crawler.fetch.items import FetchedWebPage
from crawler.keys import BIS, bis_key, bis_path
from crawler.parse.web_page import page_tree, parse_web_page
from crawler.records import Outcome, to_json
from crawler.snapshot.rows import web_version
from crawler.snapshot.source import Maker, Snapshot, Writer
from crawler.snapshot.versioning import snapshot
from storage import DocumentRow, VersionRow

NAME = "bis"


def _web(row: DocumentRow, _version: VersionRow, raw: dict[str, bytes]) -> bytes:
    path = bis_path(row.key)
    return to_json(page_tree(parse_web_page(raw["html"], path, row.url, row.key)))


class Bis(Snapshot):
    name = NAME
    retry_keys = (BIS,)
    node_trees = True
    makers: ClassVar[Mapping[str, Maker]] = {BIS: _web}

    def target(self, item: Any) -> str:
        if isinstance(item, FetchedWebPage):
            return bis_key(item.path)
        return super().target(item)

    def store(self, item: Any, writer: Writer) -> Counter[str]:
        if not isinstance(item, FetchedWebPage):
            return super().store(item, writer)
        page = parse_web_page(item.body, item.path, item.url, bis_key(item.path))
        new = web_version(
            page,
            item.body,
            item.day,
            run=writer.run,
            fetched_at=item.fetched_at,
            source=item.source,
            listing=item.listing,
        )
        outcome = snapshot(writer.store, new, node_tree=True)
        writer.save_validators(item.validators)
        return Counter([outcome])

    def summary(self, stats: Mapping[str, int]) -> str:
        changed = stats.get(Outcome.NEW, 0) + stats.get(Outcome.CHANGED, 0)
        return f"BIS pages new/changed {changed}"


SNAPSHOT = Bis()
