"""The one writer of a crawl: parse each fetched payload and snapshot it into the store.

A payload that fails to parse is recorded as an error on the run and stores nothing; HTTP
validators are saved only after their document is safely stored, so a failed document is
fetched in full again by the next run.
"""

from __future__ import annotations

import sys
from collections import Counter
from typing import Any

from crawler.diff import diff_documents
from crawler.errors import ParseError
from crawler.items import (
    CrawlError,
    FetchedCfrPart,
    FetchedDocument,
    FetchedPublicInspection,
    Unchanged,
    WindowCounted,
)
from crawler.parse.cfr_units import unit_refs
from crawler.parse.ecfr_xml import parse_ecfr_xml
from crawler.parse.fr_json import parse_document, parse_public_inspection
from crawler.parse.fr_xml import parse_document_xml
from crawler.records import Node, Outcome, SourceState, from_json
from crawler.snapshot import (
    cfr_versions,
    changed_fields,
    fr_version,
    pi_version,
    removed_version,
)
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
        assert self.store is not None
        for url, (etag, modified) in item.validators.items():
            self.store.set_validators(url, etag, modified, self.now)
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
        """A part's sections and appendices, its manifest, and the units it no longer
        holds, stored in one transaction. A payload that does not parse stores nothing (it
        can never turn into "section removed")."""
        assert self.store is not None
        what = f"{item.title} CFR part {item.part} on {item.day}"
        root = parse_ecfr_xml(item.body, what)
        if root.kind != "part" or root.label != item.part:
            raise ParseError(f"{what}: the XML holds {root.kind} {root.label!r}, not the part")
        site = self.config.sources.ecfr.site_base
        news = cfr_versions(
            item.title,
            item.part,
            root,
            item.body,
            item.day,
            run=self.run,
            fetched_at=item.fetched_at,
            source=item.source,
            site_base=site,
        )
        counts: Counter[str] = Counter()
        previous = self.store.version_at(f"cfr:{item.title}:{item.part}", item.day.isoformat())
        if previous is not None:
            kept = {n.key for n in news}
            stub = from_json(Node, self.store.blob(previous.tree_blob))
            for key, _ in unit_refs(stub):
                if key not in kept:
                    row = self.store.document(key)
                    news.insert(
                        0,
                        removed_version(
                            key,
                            item.day,
                            run=self.run,
                            fetched_at=item.fetched_at,
                            source=item.source,
                            title=row.title if row else key,
                            url=row.url if row else "",
                        ),
                    )
        ready = []
        for new in news:
            prepared = self._prepare(new, cfr=True)
            if prepared is None:
                counts[f"sections_{Outcome.UNCHANGED}"] += new.kind != "part"
            else:
                ready.append(prepared)
        for new, result in zip(ready, self.store.snapshot_many(ready), strict=True):
            if new.kind == "removed":
                counts[f"sections_{Outcome.REMOVED}"] += 1
            elif new.kind != "part":
                counts[f"sections_{result.outcome}"] += 1
        return counts

    def _prepare(self, new: NewVersion, cfr: bool = False) -> NewVersion | None:
        """``new`` with its change against the version in effect before it, or None when it
        is that version."""
        assert self.store is not None
        before = self.store.version_at(new.key, new.valid_from)
        if before is not None and before.text_hash == new.text_hash:
            return None
        old_tree = self.store.blob(before.tree_blob) if before else None
        if cfr and old_tree is not None and new.kind not in ("part", "removed"):
            diff = diff_documents(from_json(Node, old_tree), from_json(Node, new.tree))
            stats, substantive = {"diff": diff.stats()}, bool(diff.substantive)
        else:
            stats, substantive = changed_fields(old_tree, new.tree)
        return NewVersion(**{**new.__dict__, "change_stats": stats, "substantive": substantive})

    def _snapshot(self, new: NewVersion) -> Outcome:
        assert self.store is not None
        prepared = self._prepare(new)
        if prepared is None:
            return Outcome.UNCHANGED
        return self.store.snapshot(prepared).outcome


class ProgressBar:
    """A progress bar on stderr for backfills: documents done out of documents found."""

    def __init__(self, crawler: Any) -> None:
        from scrapy import signals
        from tqdm import tqdm

        self.bar = tqdm(
            total=0, unit="doc", desc="federal_register", file=sys.stderr, dynamic_ncols=True
        )
        crawler.signals.connect(self.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(self.closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Any) -> ProgressBar:
        return cls(crawler)

    def item_scraped(self, item: Any) -> None:
        if isinstance(item, WindowCounted):
            self.bar.total += item.count
            self.bar.refresh()
        elif (
            isinstance(item, FetchedDocument | Unchanged)
            and not getattr(item, "reference_for", None)
        ) or (isinstance(item, CrawlError) and item.target.startswith("fr:")):
            self.bar.update(1)

    def closed(self) -> None:
        self.bar.close()
