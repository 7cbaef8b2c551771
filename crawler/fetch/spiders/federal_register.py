"""The ``federal_register`` spider: FR API search windows, documents, Public Inspection.

Windows are split (halved by date) until each holds at most ``split_above`` results, far
from the API's silent caps (10,000 results, 50 pages; SOURCES.md 1.4); a one-day window at
the cap is an error, never a silent truncation. Pages are requested by number, never by
following ``next_page_url``, and a page that repeats earlier results (the API's silent reset
to page 1) stops that window with an error.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Iterator
from datetime import date, timedelta
from typing import Any, Self
from urllib.parse import urlencode, urlsplit

import scrapy
from scrapy.crawler import Crawler
from scrapy.http import Response

from crawler.config import FederalRegisterConfig
from crawler.errors import ParseError
from crawler.fetch.items import (
    CrawlError,
    FetchedDocument,
    FetchedPublicInspection,
    Unchanged,
    WindowCounted,
)
from crawler.fetch.spiders.base import RegwatchSpider, validators
from crawler.keys import FR, fr_key, fr_number
from crawler.parse.expect import shown
from crawler.parse.fr_json import parse_document_links, parse_search_page
from storage import ErrorKind

API_SLOT = "fr-api"  # download slots: the API and the XML have their own published rates
XML_SLOT = "fr-xml"
API_CAP = 10_000
SEARCH_FIELDS = ("document_number", "publication_date", "json_url", "full_text_xml_url")
FR_HOSTS = ("www.federalregister.gov", "federalregister.gov")


class FederalRegisterSpider(RegwatchSpider[FederalRegisterConfig]):
    name = "federal_register"
    known: set[str]  # document keys with a stored version

    def __init__(
        self,
        since: str,
        until: str,
        public_inspection_on: str | None = None,
        inspection_only: str = "",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.since = date.fromisoformat(since)
        self.until = date.fromisoformat(until)
        self.pi_day = date.fromisoformat(public_inspection_on) if public_inspection_on else None
        self.inspection_only = bool(inspection_only)  # the intraday poll: the list alone
        self.requested: set[str] = set()

    @classmethod
    def slots(cls, cfg: FederalRegisterConfig) -> dict[str, float]:
        return {API_SLOT: cfg.api_rate, XML_SLOT: cfg.xml_rate}

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.known = spider.store.known_keys(FR)
        return spider

    async def start(self) -> AsyncIterator[Any]:
        if not self.inspection_only:
            yield self._search(self.since, self.until, 1, set())
            for target in self.retrying():  # documents that failed in earlier runs
                for request in self._document(fr_number(target)):
                    yield request
        if self.pi_day and self.cfg.public_inspection:
            yield self._public_inspection(self.pi_day)

    # --- search windows ------------------------------------------------------------------

    def _search(self, since: date, until: date, page: int, seen: set[str]) -> scrapy.Request:
        query: list[tuple[str, Any]] = [("conditions[agencies][]", a) for a in self.cfg.agencies]
        query += [("conditions[type][]", t) for t in self.cfg.types]
        query += [
            ("conditions[publication_date][gte]", since.isoformat()),
            ("conditions[publication_date][lte]", until.isoformat()),
        ]
        query += [("fields[]", f) for f in SEARCH_FIELDS]
        query += [("order", "oldest"), ("per_page", self.cfg.per_page), ("page", page)]
        url = f"{self.cfg.api_base}/documents.json?{urlencode(query)}"
        return scrapy.Request(
            url,
            callback=self.parse_search,
            errback=self.failed,
            dont_filter=True,
            cb_kwargs={"since": since, "until": until, "page": page, "seen": seen},
            meta={"download_slot": API_SLOT, "target": f"search {since}..{until}", "fatal": True},
        )

    def parse_search(
        self, response: Response, since: date, until: date, page: int, seen: set[str]
    ) -> Iterator[Any]:
        window = f"search {since}..{until}"
        try:
            result = parse_search_page(response.body, f"{window} page {page}")
        except ParseError as exc:  # fatal: the window is not searched, so it does not move on
            yield CrawlError(self.name, window, str(exc), fatal=True, kind=ErrorKind.INPUT)
            return
        if page == 1 and result.count > min(self.cfg.split_above, API_CAP - 1):
            if since < until:
                middle = since + timedelta(days=(until - since).days // 2)
                yield self._search(since, middle, 1, set())
                yield self._search(middle + timedelta(days=1), until, 1, set())
                return
            if result.count >= API_CAP:
                yield CrawlError(
                    self.name,
                    window,
                    (
                        f"{since} alone has {result.count:,} results, at the API's 10,000-result "
                        "cap;"
                        " narrow [sources.federal_register] agencies or types"
                    ),
                    fatal=True,
                )
                return
        if page == 1:
            yield WindowCounted(self.name, since, until, result.count)
        per_page = self.cfg.per_page
        numbers = {hit.number for hit in result.hits}
        expected = max(0, min(per_page, result.count - (page - 1) * per_page))
        if numbers & seen:
            yield CrawlError(
                self.name,
                window,
                (
                    f"page {page} repeats results of an earlier page (the API reset the page);"
                    " stopped this window"
                ),
                fatal=True,
            )
            return
        if len(result.hits) != expected:
            yield CrawlError(
                self.name,
                window,
                (
                    f"page {page} has {len(result.hits)} results where {expected} were due "
                    f"(per_page {per_page} not honoured?); stopped this window"
                ),
                fatal=True,
            )
            return
        seen |= numbers
        for hit in result.hits:
            yield from self._document(hit.number)
        if page < math.ceil(result.count / per_page):
            yield self._search(since, until, page + 1, seen)

    # --- documents -----------------------------------------------------------------------

    def _document(self, number: str, reference_for: str | None = None) -> Iterator[Any]:
        if number in self.requested:
            return
        self.requested.add(number)
        url = f"{self.cfg.api_base}/documents/{number}.json"
        yield scrapy.Request(
            url,
            headers=self._conditional(url, number),
            callback=self.parse_document,
            errback=self.failed,
            cb_kwargs={"number": number, "reference_for": reference_for},
            meta={
                "download_slot": API_SLOT,
                "target": fr_key(number),
                "handle_httpstatus_list": [304],
            },
        )

    def parse_document(
        self, response: Response, number: str, reference_for: str | None
    ) -> Iterator[Any]:
        try:
            body = self._body_or_stored(response, number, "json")
            links = parse_document_links(body, f"{fr_key(number)} JSON")
            xml_url = self._rebase(links.xml_url, f"{fr_key(number)} JSON")
        except ParseError as exc:
            yield CrawlError(self.name, fr_key(number), str(exc), kind=ErrorKind.INPUT)
            return
        corrected = links.correction_of
        if corrected and fr_key(corrected) not in self.known:
            yield from self._document(corrected, reference_for=number)
        fetched = FetchedDocument(
            source=self.name,
            number=number,
            json_url=response.url,
            json=body,
            xml_url=xml_url,
            xml=None,
            fetched_at=self.now,
            validators=validators(response),
            reference_for=reference_for,
        )
        if xml_url is None:
            yield fetched
            return
        yield scrapy.Request(
            xml_url,
            headers=self._conditional(xml_url, number),
            callback=self.parse_xml,
            errback=self.failed,
            cb_kwargs={"fetched": fetched, "json_status": response.status},
            meta={
                "download_slot": XML_SLOT,
                "target": fr_key(number),
                "handle_httpstatus_list": [304],
            },
        )

    def parse_xml(
        self, response: Response, fetched: FetchedDocument, json_status: int
    ) -> Iterator[Any]:
        if response.status == 304 and json_status == 304:
            yield Unchanged(self.name, fr_key(fetched.number))
            return
        try:
            xml = self._body_or_stored(response, fetched.number, "xml")
        except ParseError as exc:
            yield CrawlError(self.name, fr_key(fetched.number), str(exc), kind=ErrorKind.INPUT)
            return
        both = {**fetched.validators, **validators(response)}
        yield FetchedDocument(**{**fetched.__dict__, "xml": xml, "validators": both})

    def _conditional(self, url: str, number: str) -> dict[str, str]:
        return self.conditional(url) if fr_key(number) in self.known else {}

    def _body_or_stored(self, response: Response, number: str, role: str) -> bytes:
        if response.status != 304:
            return response.body
        version = self.store.latest_version(fr_key(number))
        if version is None or role not in version.raw_blobs:
            raise ParseError(f"{fr_key(number)}: server said 304 but no stored {role} to reuse")
        return self.store.blob(version.raw_blobs[role])

    def _rebase(self, url: str | None, what: str) -> str | None:
        """Map an API-given URL (www.federalregister.gov) onto the configured site base."""
        if not url:
            return None
        try:
            parts = urlsplit(url)
            host = parts.hostname
        except ValueError:  # "http://[::1" and the like
            raise ParseError(f"{what}: full_text_xml_url is not a URL: {shown(url)}") from None
        base = urlsplit(self.cfg.site_base)
        if parts.scheme not in ("http", "https") or (
            host not in FR_HOSTS and parts.netloc != base.netloc
        ):
            raise ParseError(f"{what}: refusing a URL outside the configured hosts: {shown(url)}")
        return (
            self.cfg.site_base.rstrip("/") + parts.path + (f"?{parts.query}" if parts.query else "")
        )

    # --- public inspection ---------------------------------------------------------------

    def _public_inspection(self, day: date) -> scrapy.Request:
        query = [("conditions[available_on]", day.isoformat())]
        query += [("conditions[agencies][]", a) for a in self.cfg.agencies]
        url = f"{self.cfg.api_base}/public-inspection-documents.json?{urlencode(query)}"
        return scrapy.Request(
            url,
            callback=self.parse_public_inspection,
            errback=self.failed,
            cb_kwargs={"day": day},
            meta={
                "download_slot": API_SLOT,
                "target": f"public inspection {day}",
                "fatal": self.inspection_only,  # the poll's one request: it found nothing
            },
        )

    def parse_public_inspection(self, response: Response, day: date) -> Iterator[Any]:
        query = ",".join(sorted(self.cfg.agencies))
        yield FetchedPublicInspection(self.name, day, response.url, response.body, self.now, query)

    # --- failures ------------------------------------------------------------------------


FETCH = FederalRegisterSpider
