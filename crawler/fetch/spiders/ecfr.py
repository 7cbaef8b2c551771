"""The ``ecfr`` spider: the prior rule text, part by part, from the eCFR versioner API.

It asks ``titles.json`` how current each watched title is (``up_to_date_as_of``), asks
``versions/title-N.json`` what changed since the part was last stored, and fetches
``full/{date}/title-N.xml?part=P`` (gzip: the API refuses uncompressed requests) only for
parts and dates that changed. It never asks for a date after ``up_to_date_as_of`` or after
the run's day. A 503 while a title is being processed is retried after its Retry-After.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import date
from typing import Any, Self
from urllib.parse import urlencode

import scrapy
from scrapy.crawler import Crawler
from scrapy.http import Response

from crawler.config import EcfrConfig
from crawler.errors import ParseError
from crawler.fetch.ecfr_client import part_url
from crawler.fetch.items import CrawlError, FetchedCfrPart, WindowCounted
from crawler.fetch.spiders.base import RegwatchSpider
from crawler.keys import cfr_key
from crawler.parse.cfr_units import parse_watch, unit_key
from crawler.parse.ecfr_json import FIRST_DAY, ContentVersion, parse_titles, parse_versions_page
from crawler.records import Node
from storage import ErrorKind

ECFR_SLOT = "ecfr"


class EcfrSpider(RegwatchSpider[EcfrConfig]):
    name = "ecfr"
    watches: dict[int, list[str]]  # title -> its watched parts

    def __init__(
        self,
        until: str,
        title: str | None = None,
        part: str | None = None,
        since: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.until = date.fromisoformat(until)
        self.since = date.fromisoformat(since) if since else None
        self.only = (int(title), [part]) if title and part else None

    @classmethod
    def slots(cls, cfg: EcfrConfig) -> dict[str, float]:
        return {ECFR_SLOT: cfg.rate}

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)
        watches = [spider.only] if spider.only else [parse_watch(w) for w in spider.cfg.watches]
        spider.watches = {title: parts for title, parts in watches}
        return spider

    async def start(self) -> AsyncIterator[Any]:
        yield self._request(
            f"{self.cfg.api_base}/titles.json", self.parse_titles, "titles", fatal=True
        )

    def _request(
        self, url: str, callback: Any, target: str, fatal: bool = False, **kwargs: Any
    ) -> scrapy.Request:
        return scrapy.Request(
            url,
            callback=callback,
            errback=self.failed,
            cb_kwargs=kwargs,
            dont_filter=True,
            meta={"download_slot": ECFR_SLOT, "target": target, "fatal": fatal},
        )

    def _versions(
        self,
        title: int,
        query: dict[str, str],
        handler: str,
        page: int = 1,
        rows: tuple[ContentVersion, ...] = (),
        **kwargs: Any,
    ) -> scrapy.Request:
        """A versions query; its pages are gathered, then ``handler`` gets all the rows."""
        paged = {**query, "page": str(page)} if page > 1 else query
        url = f"{self.cfg.api_base}/versions/title-{title}.json?{urlencode(paged)}"
        return self._request(
            url,
            self.parse_versions,
            f"versions title {title}",
            fatal=True,
            title=title,
            query=query,
            handler=handler,
            page=page,
            rows=rows,
            extra=kwargs,
        )

    def parse_versions(
        self,
        response: Response,
        title: int,
        query: dict[str, str],
        handler: str,
        page: int,
        rows: tuple[ContentVersion, ...],
        extra: dict[str, Any],
    ) -> Iterator[Any]:
        what = f"versions of title {title} page {page}"
        try:
            found = parse_versions_page(response.body, what)
        except ParseError as exc:
            yield self._bad_input(f"versions title {title}", exc)
            return
        rows = (*rows, *found.rows)
        if page < found.total_pages and found.rows:
            yield self._versions(title, query, handler, page + 1, rows, **extra)
            return
        yield from getattr(self, handler)(title=title, rows=rows, **extra)

    def _bad_input(self, target: str, exc: ParseError) -> CrawlError:
        """The source sent what it should not have: the eCFR failed for this run."""
        return CrawlError(self.name, target, str(exc), fatal=True, kind=ErrorKind.INPUT)

    def parse_titles(self, response: Response) -> Iterator[Any]:
        try:
            titles = parse_titles(response.body, "titles.json")
        except ParseError as exc:
            yield self._bad_input("titles", exc)
            return
        for title, parts in self.watches.items():
            info = titles.get(title)
            if info is None or info.up_to_date_as_of is None:
                yield CrawlError(
                    self.name,
                    f"title {title}",
                    f"title {title} is not in the eCFR's titles.json",
                    fatal=True,
                    kind=ErrorKind.INPUT,
                )
                continue
            latest = min(info.up_to_date_as_of, self.until)
            last = {p: self.store.last_valid_from(cfr_key(title, p)) for p in parts}
            if self.only:
                # every date up to the latest: the ones before --since tell which text was
                # in effect on --since
                query = {"issue_date[lte]": latest.isoformat(), "part": parts[0]}
                yield self._versions(title, query, "from_history", latest=latest)
                continue
            known = {p: d for p, d in last.items() if d}
            if known:
                query = {"issue_date[gte]": min(known.values())}
                yield self._versions(title, query, "from_changes", latest=latest, known=known)
            for part in (p for p in parts if p not in known):
                query = {"issue_date[lte]": latest.isoformat(), "part": part}
                yield self._versions(title, query, "from_first", latest=latest, part=part)

    def from_changes(
        self, title: int, rows: tuple[ContentVersion, ...], latest: date, known: dict[str, str]
    ) -> Iterator[Any]:
        """Daily: for each stored part, every amendment date after its last version, and
        every date whose fetch is still held as implausible (fetched again until a fetch
        is confirmed or comes back right: crawler.snapshot.held)."""
        held: dict[str, set[date]] = {}  # one query for every part, not one per part
        for row in self.store.held_fetches():
            held.setdefault(row.document, set()).add(date.fromisoformat(row.valid_from))
        for part, last in sorted(known.items()):
            after = date.fromisoformat(last)
            later = {d for d in _dates(rows, part, latest) if d > after}
            again = {d for d in held.get(cfr_key(title, part), ()) if d <= latest}
            for day in sorted(later | again):
                yield self._part(title, part, day, _removed(title, part, rows, day))

    def from_first(
        self, title: int, rows: tuple[ContentVersion, ...], latest: date, part: str
    ) -> Iterator[Any]:
        """A watched part not stored yet: its text as of its latest amendment (a part the
        eCFR does not have, e.g. a reserved number in a range, is skipped)."""
        days = _dates(rows, part, latest)
        if days:
            yield self._part(title, part, max(days))

    def from_history(
        self, title: int, rows: tuple[ContentVersion, ...], latest: date
    ) -> Iterator[Any]:
        """Backfill: every amendment date of the part since ``since``, oldest first, skipping
        dates already stored (so an interrupted backfill resumes where it stopped)."""
        assert self.only is not None
        part = self.only[1][0]
        stored = set(self.store.valid_dates(cfr_key(title, part)))
        days = sorted(d.isoformat() for d in _dates(rows, part, latest))
        if self.since:
            earlier = [d for d in days if d < self.since.isoformat()]
            days = [d for d in days if d >= self.since.isoformat()]
            if earlier and self.since.isoformat() not in days:
                days.insert(0, max(earlier))  # the text in effect on --since, by its own date

        todo = [d for d in days if d not in stored]
        yield WindowCounted(self.name, self.since or FIRST_DAY, latest, len(todo))
        for day in todo:
            on = date.fromisoformat(day)
            yield self._part(title, part, on, _removed(title, part, rows, on))

    def _part(
        self, title: int, part: str, day: date, removed: tuple[tuple[str, str], ...] = ()
    ) -> scrapy.Request:
        url = part_url(self.cfg.api_base, title, part, day)
        request = self._request(
            url,
            self.parse_part,
            f"{cfr_key(title, part)} on {day}",
            title=title,
            part=part,
            day=day,
            removed=removed,
        )
        request.headers["Accept-Encoding"] = "gzip"
        return request

    def parse_part(
        self,
        response: Response,
        title: int,
        part: str,
        day: date,
        removed: tuple[tuple[str, str], ...] = (),
    ) -> Iterator[Any]:
        yield FetchedCfrPart(
            self.name, title, part, day, response.url, response.body, self.now, removed
        )


def _dates(rows: tuple[ContentVersion, ...], part: str, latest: date) -> set[date]:
    """The amendment dates of ``part`` on or before ``latest``."""
    return {r.amendment_date for r in rows if r.part == part and r.amendment_date <= latest}


def _removed(
    title: int, part: str, rows: tuple[ContentVersion, ...], day: date
) -> tuple[tuple[str, str], ...]:
    """(unit key, date) of each unit of ``part`` the versions API marks removed by ``day``:
    what confirms a loss that would otherwise be held as implausible (crawler.snapshot.held)."""
    return tuple(
        sorted(
            {
                (unit_key(title, part, Node(r.identifier, r.type)), r.amendment_date.isoformat())
                for r in rows
                if r.removed and r.part == part and r.identifier and r.amendment_date <= day
            }
        )
    )


FETCH = EcfrSpider
