"""Downloader middleware: Retry-After honoured on 429 and 503."""

from __future__ import annotations

import asyncio
from email.utils import parsedate_to_datetime
from typing import Any

from scrapy import Request
from scrapy.http import Response

from crawler.clock import utcnow

RETRY_STATUSES = (429, 503)


def retry_after_seconds(value: str | None, now: Any = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - (now or utcnow())).total_seconds())


class RetryAfterMiddleware:
    """Retries 429/503 after the server's Retry-After (or a backoff when it gives none),
    up to HTTP retries; a wait longer than ``max_retry_after`` is not waited for: the
    response goes on to the spider's errback, which records it with the wait asked for."""

    def __init__(self, retries: int, max_wait: float, backoff: float) -> None:
        self.retries = retries
        self.max_wait = max_wait
        self.backoff = backoff

    @classmethod
    def from_crawler(cls, crawler: Any) -> RetryAfterMiddleware:
        s = crawler.settings
        return cls(
            s.getint("REGWATCH_RETRIES"),
            s.getfloat("REGWATCH_MAX_RETRY_AFTER"),
            s.getfloat("REGWATCH_BACKOFF"),
        )

    async def process_response(self, request: Request, response: Response) -> Any:
        if response.status not in RETRY_STATUSES or request.meta.get("dont_retry"):
            return response
        tries = request.meta.get("retry_after_tries", 0)
        header = response.headers.get("Retry-After")
        wait = retry_after_seconds(header.decode("latin-1") if header else None)
        if wait is None:
            wait = self.backoff * (2**tries)
        if tries >= self.retries or wait > self.max_wait:
            return response
        await asyncio.sleep(wait)
        retry = request.replace(dont_filter=True)
        retry.meta["retry_after_tries"] = tries + 1
        return retry
