"""Downloader middlewares: the one fetch policy (``crawler.fetch.policy``) on every request.

In the order a request meets them (priorities in ``crawler.fetch.settings``):

- ``FetchPolicyMiddleware`` (40, before robots.txt is asked for): http(s) to the configured
  hosts and ports only; a body cut off by Scrapy's DOWNLOAD_MAXSIZE (set to
  ``max_compressed_bytes``) becomes the policy's one-line FetchError.
- ``RetryAfterMiddleware`` (545): 429 and 503 retried after the server's Retry-After.
- ``DecompressMiddleware`` (590, in place of Scrapy's HttpCompressionMiddleware): gzip and
  deflate inflated a chunk at a time, stopped at ``max_bytes``.
- ``RedirectPolicyMiddleware`` (610, before Scrapy's RedirectMiddleware): a redirect that
  leaves the configured hosts, ports or http(s) is an error, never followed.

What they refuse reaches the request's errback as a FetchError (``crawler.errors``), which
the spider records as a CrawlError with the same one line the on-demand client raises.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import Any

from scrapy import Request
from scrapy.exceptions import DownloadCancelledError
from scrapy.http import Response, TextResponse
from scrapy.responsetypes import responsetypes

from crawler.clock import utcnow
from crawler.errors import FetchError
from crawler.fetch.policy import ACCEPT_ENCODING, REDIRECTS, RETRY_STATUSES, FetchPolicy


class _PolicyMiddleware:
    """Shared construction: the policy from the crawl's settings, the crawler for its spider."""

    def __init__(self, policy: FetchPolicy, crawler: Any = None) -> None:
        self.policy = policy
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Any) -> Any:
        return cls(crawler.settings["REGWATCH_FETCH_POLICY"], crawler)

    def handled(self, request: Request, status: int) -> bool:
        """Whether the spider asked to see this status itself (Scrapy's own conventions)."""
        spider = getattr(self.crawler, "spider", None)
        return (
            status in request.meta.get("handle_httpstatus_list", ())
            or bool(request.meta.get("handle_httpstatus_all"))
            or status in getattr(spider, "handle_httpstatus_list", ())
        )


class FetchPolicyMiddleware(_PolicyMiddleware):
    def process_request(self, request: Request) -> None:
        refusal = self.policy.refusal(request.url)
        if refusal:
            raise FetchError(refusal)

    def process_exception(self, request: Request, exception: Exception) -> None:
        # Scrapy 2.19's download handler cancels a body over DOWNLOAD_MAXSIZE: a declared
        # Content-Length with a "max size" message, a longer body read with none (timeouts
        # are DownloadTimeoutError)
        text = str(exception)
        if isinstance(exception, DownloadCancelledError) and (not text or "max size" in text):
            raise FetchError(self.policy.too_large(request.url, compressed=True))


class RetryAfterMiddleware(_PolicyMiddleware):
    """Retries 429/503 after the server's Retry-After (or a backoff when it gives none), up
    to ``[http] retries``; a longer wait than ``max_retry_after`` is not waited for."""

    def __init__(
        self, policy: FetchPolicy, crawler: Any = None, now: Callable[[], datetime] = utcnow
    ) -> None:
        super().__init__(policy, crawler)
        self.now = now

    async def process_response(self, request: Request, response: Response) -> Any:
        if response.status not in RETRY_STATUSES or request.meta.get("dont_retry"):
            return response
        tries = request.meta.get("retry_after_tries", 0)
        header = _header(response, "Retry-After")
        wait = self.policy.retry_wait(header, tries, self.now())
        refusal = self.policy.gives_up(request.url, response.status, header, tries, wait)
        if refusal:
            if self.handled(request, response.status):
                return response
            raise FetchError(refusal)
        await asyncio.sleep(wait)
        retry = request.replace(dont_filter=True)
        retry.meta["retry_after_tries"] = tries + 1
        return retry


class DecompressMiddleware(_PolicyMiddleware):
    def process_request(self, request: Request) -> None:
        request.headers.setdefault("Accept-Encoding", ACCEPT_ENCODING)

    def process_response(self, request: Request, response: Response) -> Response:
        encoding = _header(response, "Content-Encoding")
        if request.method == "HEAD" or not encoding:
            return response
        body = self.policy.decompress(response.url, encoding, response.body)
        cls = responsetypes.from_args(headers=response.headers, url=response.url, body=body)
        text = {"encoding": None} if issubclass(cls, TextResponse) else {}
        response = response.replace(cls=cls, body=body, **text)
        del response.headers["Content-Encoding"]
        return response


class RedirectPolicyMiddleware(_PolicyMiddleware):
    def process_response(self, request: Request, response: Response) -> Response:
        location = _header(response, "Location")
        if (
            response.status not in REDIRECTS
            or location is None
            or request.meta.get("dont_redirect")
            or self.handled(request, response.status)
        ):
            return response
        refusal = self.policy.redirect_refusal(request.url, response.status, location)
        if refusal:
            raise FetchError(refusal)
        return response


def _header(response: Response, name: str) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value is not None else None
