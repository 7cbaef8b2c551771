"""One-line descriptions of failed requests, for the run's error records."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet import error as net
from twisted.web._newclient import ResponseFailed, ResponseNeverReceived


def describe(failure: Any) -> str:
    exc = failure.value
    url = failure.request.url if hasattr(failure, "request") else ""
    host = urlsplit(url).netloc
    if isinstance(exc, HttpError):
        response = exc.response
        text = f"HTTP {response.status} from {url}"
        if response.status in (429, 503):
            wait = response.headers.get("Retry-After")
            tries = response.request.meta.get("retry_after_tries", 0) + 1
            text += f" after {tries} tries" + (f" (Retry-After: {wait.decode()})" if wait else "")
        return text
    if isinstance(exc, net.DNSLookupError):
        return f"cannot reach {host}: DNS lookup failed"
    if isinstance(exc, net.ConnectionRefusedError):
        return f"cannot reach {host}: connection refused"
    if isinstance(exc, net.TimeoutError | net.TCPTimedOutError):
        return f"cannot reach {host}: timed out"
    if isinstance(exc, ResponseFailed | ResponseNeverReceived):
        reasons = " ".join(str(r.value) for r in getattr(exc, "reasons", []))
        if "DataLoss" in repr(getattr(exc, "reasons", "")) or "loss" in reasons.lower():
            return f"response from {url} was cut short (connection closed before the end)"
        return f"no complete response from {host}: {reasons or type(exc).__name__}"
    if isinstance(exc, net.ConnectError):
        return f"cannot reach {host}: {exc.__class__.__name__}"
    return f"{type(exc).__name__} fetching {url}: {exc}"
