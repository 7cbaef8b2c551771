"""The one fetch policy: where regwatch may fetch from, how much it reads, when it retries.

Built once from config (``FetchPolicy.from_config``) and used by both fetchers: the Scrapy
downloader middlewares (``crawler.fetch.middlewares``) and the on-demand eCFR client
(``crawler.fetch.ecfr_client``, urllib). Whatever it refuses is a ``FetchError`` whose message is
one line naming the URL and what was expected, the same text on both sides.

- Origins: http or https to the scheme, host and port of a configured base URL (every
  ``*_base`` of every ``[sources.*]`` table). A redirect elsewhere is refused, not followed.
- Sizes: ``[http] max_compressed_bytes`` bounds the body as received (declared or actual),
  ``[http] max_bytes`` the body after decompression, checked while inflating (a gzip bomb
  stops at the limit, it is never inflated whole).
- Retries: 429 and 503 are retried after the server's Retry-After (or a backoff), up to
  ``[http] retries`` times; a longer wait than ``[http] max_retry_after`` is not waited for.
"""

from __future__ import annotations

import dataclasses
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit

from crawler.config import Config
from crawler.errors import FetchError
from crawler.fetch.spiders import SOURCES

DEFAULT_PORTS = {"http": 80, "https": 443}
REDIRECTS = (301, 302, 303, 307, 308)
RETRY_STATUSES = (429, 503)
ACCEPT_ENCODING = "gzip, deflate"
CHUNK = 64 * 1024  # bytes read, and inflated, at a time
WBITS = {"gzip": 31, "x-gzip": 31, "deflate": 15}  # zlib's window bits per Content-Encoding

Origin = tuple[str, str, int]  # scheme, host, port


def origin(url: str) -> Origin | None:
    """The (scheme, host, port) of an http(s) URL; None for any other scheme or a bad URL."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    return scheme, parts.hostname.lower(), port or DEFAULT_PORTS[scheme]


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():  # "²".isdigit() is true too
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - now).total_seconds())


@dataclass(frozen=True)
class FetchPolicy:
    origins: frozenset[Origin]
    max_bytes: int  # a body after decompression
    max_compressed_bytes: int  # a body as received
    retries: int  # tries after the first, for 429 and 503
    max_retry_after: float  # seconds; a longer Retry-After is not waited for
    backoff: float  # seconds before the first retry when the server gives no Retry-After
    timeout: float  # seconds for one request, body included

    @classmethod
    def from_config(cls, config: Config) -> FetchPolicy:
        http = config.http
        return cls(
            origins=frozenset(o for o in map(origin, base_urls(config)) if o is not None),
            max_bytes=http.max_bytes,
            max_compressed_bytes=http.max_compressed_bytes,
            retries=http.retries,
            max_retry_after=http.max_retry_after,
            backoff=1.0 if http.polite else 0.05,
            timeout=http.timeout,
        )

    def allows(self, url: str) -> bool:
        return origin(url) in self.origins

    def hosts(self) -> str:
        return ", ".join(sorted(f"{s}://{h}:{p}" for s, h, p in self.origins)) or "none"

    def refusal(self, url: str) -> str | None:
        """Why ``url`` may not be fetched (None: it may)."""
        if self.allows(url):
            return None
        return f"{url} is not fetched: only http(s) to the configured hosts ({self.hosts()})"

    def redirect_refusal(self, url: str, status: int, location: str) -> str | None:
        """Why the redirect from ``url`` to ``location`` may not be followed (None: it may)."""
        target = urljoin(url, location.strip()) if location.strip() else ""
        if target and self.allows(target):
            return None
        return (
            f"{url} redirects (HTTP {status}) to {location.strip() or 'nowhere'}, outside the "
            f"configured hosts ({self.hosts()}); not followed"
        )

    def too_large(self, url: str, *, compressed: bool) -> str:
        if compressed:
            limit, key, what = self.max_compressed_bytes, "max_compressed_bytes", "as received"
        else:
            limit, key, what = self.max_bytes, "max_bytes", "once decompressed"
        return f"{url}: body is larger than [http] {key} ({limit} bytes) {what}; not stored"

    def check_declared(self, url: str, content_length: str | None) -> None:
        """A declared Content-Length over the limit is refused before the body is read."""
        declared = (content_length or "").strip()
        if declared.isdigit() and int(declared) > self.max_compressed_bytes:
            raise FetchError(self.too_large(url, compressed=True))

    def retry_wait(self, retry_after: str | None, tries: int, now: datetime) -> float:
        """Seconds to wait before try ``tries + 1``: the server's Retry-After, else a backoff."""
        wait = retry_after_seconds(retry_after, now)
        return self.backoff * (2**tries) if wait is None else wait

    def gives_up(
        self, url: str, status: int, retry_after: str | None, tries: int, wait: float
    ) -> str | None:
        """Why a 429/503 is not retried (None: retry after ``wait``)."""
        where = short_url(url)
        if wait > self.max_retry_after:
            asked = f"Retry-After {retry_after} asks for" if retry_after else "a retry needs"
            return (
                f"HTTP {status} from {where}: {asked} {wait:.0f} s, "
                f"longer than [http] max_retry_after ({self.max_retry_after:.0f} s); "
                "left to the next run"
            )
        if tries >= self.retries:
            asked = f" (Retry-After: {retry_after})" if retry_after else ""
            return f"HTTP {status} from {where} after {tries + 1} tries{asked}"
        return None

    def inflater(self, url: str, encoding: str | None) -> Inflater:
        return Inflater(url, (encoding or "").strip().lower(), self)

    def decompress(self, url: str, encoding: str | None, body: bytes) -> bytes:
        """A whole body (at most ``max_compressed_bytes``) decompressed within ``max_bytes``."""
        inflater = self.inflater(url, encoding)
        out = [inflater.feed(body[i : i + CHUNK]) for i in range(0, len(body), CHUNK)]
        out.append(inflater.finish())
        return b"".join(out)


class Inflater:
    """Incremental decompression of one body: each ``feed`` inflates at most CHUNK bytes at a
    time and stops with a FetchError as soon as the total passes ``max_bytes``."""

    def __init__(self, url: str, encoding: str, policy: FetchPolicy) -> None:
        if encoding not in ("", "identity", *WBITS):
            raise FetchError(f"{url}: unsupported Content-Encoding {encoding!r}; expected gzip")
        self.url = url
        self.policy = policy
        self.wbits = WBITS.get(encoding)
        self.size = 0
        self.raw = 0
        self._z = zlib.decompressobj(self.wbits) if self.wbits else None
        self._started = False

    def feed(self, data: bytes) -> bytes:
        self.raw += len(data)
        if self.raw > self.policy.max_compressed_bytes:
            raise FetchError(self.policy.too_large(self.url, compressed=True))
        if self._z is None:
            return self._count(data)
        out = []
        if self._z.eof:
            data = self._next_member(data)
        while data:
            out.append(self._count(self._inflate(data)))
            data = self._z.unconsumed_tail
            if self._z.eof:
                data = self._next_member(self._z.unused_data + data)
        return b"".join(out)

    def finish(self) -> bytes:
        if self._z is not None and self._started and not self._z.eof:
            raise FetchError(f"{self.url}: compressed body is cut short")
        return b""

    def _inflate(self, data: bytes) -> bytes:
        assert self._z is not None
        try:
            piece = self._z.decompress(data, CHUNK)
        except zlib.error:
            if self.wbits != 15 or self._started:
                raise FetchError(f"{self.url}: body is not valid {self._name()} data") from None
            self.wbits = -15  # raw deflate, as some servers send it
            self._z = zlib.decompressobj(self.wbits)
            return self._inflate(data)
        self._started = True
        return piece

    def _next_member(self, rest: bytes) -> bytes:
        """After the end of a stream: another gzip member follows, or only padding."""
        if not rest.strip(b"\0"):
            return b""
        assert self.wbits is not None  # only a compressed body has a stream that ended
        self._z = zlib.decompressobj(self.wbits)
        return rest

    def _count(self, piece: bytes) -> bytes:
        self.size += len(piece)
        if self.size > self.policy.max_bytes:
            raise FetchError(self.policy.too_large(self.url, compressed=False))
        return piece

    def _name(self) -> str:
        return "gzip" if self.wbits == 31 else "deflate"


def base_urls(config: Config) -> Iterable[str]:
    """Every ``*_base`` URL of every registered source's table: the hosts regwatch may fetch
    from."""
    for registered in SOURCES.values():
        source = registered.settings(config)
        for f in dataclasses.fields(source):
            if f.name.endswith("_base"):
                yield getattr(source, f.name)


def short_url(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.netloc}{parts.path}"
