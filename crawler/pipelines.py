"""The one writer of a crawl: parse each fetched payload and snapshot it into the store.

A payload that fails to parse is recorded as an error on the run and stores nothing; HTTP
validators are saved only after their document is safely stored, so a failed document is
fetched in full again by the next run.
"""

from __future__ import annotations

import sys
from collections import Counter
from typing import Any

from crawler.errors import ParseError
from crawler.items import (
    CrawlError,
    FetchedCfrPart,
    FetchedDocument,
    FetchedPublicInspection,
    FetchedWebPage,
    Unchanged,
    Validators,
    WindowCounted,
)
from crawler.parse.fr_json import parse_document, parse_public_inspection
from crawler.parse.fr_xml import parse_document_xml
from crawler.parse.web_page import parse_web_page
from crawler.records import Outcome, SourceState
from crawler.snapshot import fr_version, pi_version, web_version
from crawler.versioning import snapshot, store_cfr_part
from storage import NewVersion, Store


class StorePipeline:
    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        settings = crawler.settings
        self.config = settings["REGWATCH_CONFIG"]
        self.run = settings.getint("REGWATCH_RUN")
        self.now = settings["REGWATCH_NOW"]
        self.stats: dict[str, Counter[str]] = {}
        self.fatal: set[str] = set()
        self.store: Store | None = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> StorePipeline:
        return cls(crawler)

    def open_spider(self) -> None:
        self.store = Store.open(self.config.store_path)

    def close_spider(self) -> None:
        assert self.store is not None
        self.stats.setdefault(self.crawler.spider.name, Counter())  # even if it yielded nothing
        for source, counts in self.stats.items():
            if source in self.fatal:
                state = SourceState.FAILED
            elif counts[Outcome.ERROR]:
                state = SourceState.DEGRADED
            else:
                state = SourceState.OK
            self.store.source_finished(self.run, source, self.now, state, dict(counts))
        self.store.close()

    def process_item(self, item: Any) -> Any:
        source = item.source
        counts = self.stats.setdefault(source, Counter())
        try:
            if isinstance(item, FetchedDocument):
                counts[self._document(item)] += 1
            elif isinstance(item, FetchedPublicInspection):
                counts.update(self._public_inspection(item))
            elif isinstance(item, FetchedCfrPart):
                counts.update(self._cfr_part(item))
            elif isinstance(item, FetchedWebPage):
                counts[self._web_page(item)] += 1
            elif isinstance(item, Unchanged):
                counts[Outcome.UNCHANGED] += 1
            elif isinstance(item, WindowCounted):
                counts["found"] += item.count
            elif isinstance(item, CrawlError):
                self._error(source, item.target, item.message)
                counts[Outcome.ERROR] += 1
                if item.fatal:
                    self.fatal.add(source)
        except ParseError as exc:
            target = (
                f"fr:{item.number}"
                if isinstance(item, FetchedDocument)
                else f"cfr:{item.title}:{item.part}"
                if isinstance(item, FetchedCfrPart)
                else f"bis:{item.path}"
                if isinstance(item, FetchedWebPage)
                else item.url
            )
            self._error(source, target, str(exc))
            counts[Outcome.ERROR] += 1
        return item

    def _error(self, source: str, target: str, message: str) -> None:
        assert self.store is not None
        self.store.record_error(self.run, source, target, message, self.now)

    def _document(self, item: FetchedDocument) -> Outcome:
        what = f"fr:{item.number}"
        xml = parse_document_xml(item.xml, f"{what} XML") if item.xml is not None else None
        doc = parse_document(item.json, xml, f"{what} JSON")
        raw = {"json": item.json} | ({"xml": item.xml} if item.xml is not None else {})
        new = fr_version(
            doc,
            raw,
            run=self.run,
            fetched_at=item.fetched_at,
            source=item.source,
            reference_for=item.reference_for,
        )
        outcome = self._snapshot(new)
        self._save_validators(item.validators)
        return outcome

    def _public_inspection(self, item: FetchedPublicInspection) -> Counter[str]:
        docs = parse_public_inspection(
            item.body, item.available_on, f"public inspection {item.available_on}"
        )
        outcomes = Counter()
        for doc in docs:
            new = pi_version(
                doc, item.body, run=self.run, fetched_at=item.fetched_at, source=item.source
            )
            outcomes[f"inspection_{self._snapshot(new)}"] += 1
        return outcomes

    def _cfr_part(self, item: FetchedCfrPart) -> Counter[str]:
        assert self.store is not None
        return store_cfr_part(self.store, item, self.run, self.config.sources.ecfr.site_base)

    def _web_page(self, item: FetchedWebPage) -> Outcome:
        page = parse_web_page(item.body, item.path, item.url, f"bis:{item.path}")
        new = web_version(
            page,
            item.body,
            item.day,
            run=self.run,
            fetched_at=item.fetched_at,
            source=item.source,
            listing=item.listing,
        )
        assert self.store is not None
        outcome = snapshot(self.store, new, node_tree=True)
        self._save_validators(item.validators)
        return outcome

    def _save_validators(self, validators: Validators) -> None:
        """Only once the payload they validate is stored (a failed one is refetched whole)."""
        assert self.store is not None
        for url, (etag, modified) in validators.items():
            self.store.set_validators(url, etag, modified, self.now)

    def _snapshot(self, new: NewVersion) -> Outcome:
        assert self.store is not None
        return snapshot(self.store, new)


class ProgressBar:
    """A progress bar on stderr for backfills: documents (or eCFR dates) done out of those
    found."""

    def __init__(self, crawler: Any) -> None:
        from scrapy import signals
        from tqdm import tqdm

        self.bar = tqdm(total=0, unit="item", file=sys.stderr, dynamic_ncols=True)
        crawler.signals.connect(self.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(self.closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Any) -> ProgressBar:
        return cls(crawler)

    def item_scraped(self, item: Any) -> None:
        if isinstance(item, WindowCounted):
            self.bar.set_description(item.source)
            self.bar.total += item.count
            self.bar.refresh()
        elif (
            isinstance(item, FetchedDocument | Unchanged | FetchedCfrPart)
            and not getattr(item, "reference_for", None)
        ) or (isinstance(item, CrawlError) and item.target.startswith(("fr:", "cfr:"))):
            self.bar.update(1)

    def closed(self) -> None:
        self.bar.close()
