"""One-line descriptions of failed requests, for the run's error records.

What the fetch policy refuses arrives as a FetchError whose message is already that line
(``crawler.fetch.policy``); everything else Scrapy or Twisted raises is named here."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from scrapy import exceptions as scrapy_errors
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet import error as net
from twisted.web._newclient import ResponseFailed, ResponseNeverReceived

from crawler.errors import RegwatchError, bug_line

_REACH = (
    ((scrapy_errors.CannotResolveHostError, net.DNSLookupError), "DNS lookup failed"),
    (
        (scrapy_errors.DownloadConnectionRefusedError, net.ConnectionRefusedError),
        "connection refused",
    ),
    ((scrapy_errors.DownloadTimeoutError, net.TimeoutError, net.TCPTimedOutError), "timed out"),
)


_THEIRS = (
    RegwatchError,
    HttpError,
    scrapy_errors.IgnoreRequest,
    scrapy_errors.ResponseDataLossError,
    ResponseFailed,
    ResponseNeverReceived,
    net.ConnectError,
    net.DNSLookupError,
    net.TimeoutError,
    net.ConnectionLost,
    *(kind for kinds, _ in _REACH for kind in kinds),
)


def is_bug(failure: Any) -> bool:
    """Whether a failed request failed in regwatch's own code (a middleware, the policy),
    not in the network or at the server: anything ``describe`` does not know."""
    return not isinstance(failure.value, _THEIRS)


def describe(failure: Any) -> str:
    exc = failure.value
    url = failure.request.url if hasattr(failure, "request") else ""
    parts = urlsplit(url)
    host = parts.netloc
    if isinstance(exc, RegwatchError):
        return str(exc)
    if isinstance(exc, HttpError):
        return f"HTTP {exc.response.status} from {host}{parts.path}"
    if isinstance(exc, scrapy_errors.IgnoreRequest) and "robots.txt" in str(exc):
        return f"{host}{parts.path} is disallowed by the site's robots.txt; not fetched"
    for kinds, reason in _REACH:
        if isinstance(exc, kinds):
            return f"cannot reach {host}: {reason}"
    if isinstance(exc, scrapy_errors.ResponseDataLossError) or "DataLoss" in repr(
        getattr(exc, "reasons", "")
    ):
        return f"response from {host}{parts.path} was cut short (connection closed early)"
    if isinstance(exc, ResponseFailed | ResponseNeverReceived | net.ConnectError):
        return f"no complete response from {host}: {type(exc).__name__}"
    return bug_line(f"fetching {host}{parts.path}", exc)
