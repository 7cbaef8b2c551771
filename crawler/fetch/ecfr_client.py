"""A small eCFR versioner client for on-demand use (``regwatch diff``), without Scrapy.

Same manners and the same fetch policy as the spiders (``crawler.fetch.policy``): the
configured User-Agent, gzip (the full-XML endpoint requires it), http(s) to the configured
hosts and ports only (a redirect elsewhere is refused), bodies read in bounded chunks and
inflated incrementally within the size limits, 429/503 retried after Retry-After, and
one-line FetchErrors for everything that goes wrong.
"""

from __future__ import annotations

import http.client
import itertools
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode

from crawler.clock import utcnow
from crawler.config import Config
from crawler.errors import FetchError
from crawler.fetch.policy import ACCEPT_ENCODING, CHUNK, RETRY_STATUSES, FetchPolicy, short_url


class EcfrClient:
    def __init__(
        self,
        config: Config,
        *,
        now: Callable[[], datetime] = utcnow,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base = config.sources.ecfr.api_base.rstrip("/")
        self.agent = config.http.user_agent
        self.policy = FetchPolicy.from_config(config)
        self.now = now
        self.sleep = sleep
        self._opener = urllib.request.build_opener(_PolicyRedirects(self.policy))

    def fetch(self, url: str) -> bytes:
        """The body of ``url``, decompressed, as the fetch policy allows; else a FetchError."""
        refusal = self.policy.refusal(url)
        if refusal:
            raise FetchError(refusal)
        for tries in itertools.count():
            try:
                return self._once(url)
            except urllib.error.HTTPError as exc:
                wait = self._retry_wait(url, exc, tries)
            except (urllib.error.URLError, TimeoutError, OSError) as exc:
                reason = getattr(exc, "reason", exc)
                raise FetchError(f"cannot reach {short_url(url)}: {reason}") from None
            except http.client.HTTPException as exc:
                raise FetchError(f"no complete response from {short_url(url)}: {exc!r}") from None
            self.sleep(wait)
        raise AssertionError("unreachable")

    def _once(self, url: str) -> bytes:
        request = urllib.request.Request(
            url, headers={"User-Agent": self.agent, "Accept-Encoding": ACCEPT_ENCODING}
        )
        deadline = time.monotonic() + self.policy.timeout
        with self._opener.open(request, timeout=self.policy.timeout) as response:
            final = response.geturl()
            self.policy.check_declared(final, response.headers.get("Content-Length"))
            inflater = self.policy.inflater(final, response.headers.get("Content-Encoding"))
            body = []
            while chunk := response.read(CHUNK):
                body.append(inflater.feed(chunk))
                if time.monotonic() > deadline:
                    raise FetchError(
                        f"{final}: no complete response within [http] timeout "
                        f"({self.policy.timeout:g} s)"
                    )
            body.append(inflater.finish())
            return b"".join(body)

    def _retry_wait(self, url: str, error: urllib.error.HTTPError, tries: int) -> float:
        """Seconds before the next try of a 429/503; a FetchError for any other status or
        when the policy gives up."""
        with error:
            if error.code not in RETRY_STATUSES:
                raise FetchError(f"HTTP {error.code} from {short_url(url)}") from None
            header = error.headers.get("Retry-After")
            wait = self.policy.retry_wait(header, tries, self.now())
            refusal = self.policy.gives_up(url, error.code, header, tries, wait)
        if refusal:
            raise FetchError(refusal) from None
        return wait

    def _get(self, path: str, query: dict[str, str] | None = None) -> bytes:
        return self.fetch(f"{self.base}/{path}" + (f"?{urlencode(query)}" if query else ""))

    def _json(self, path: str, query: dict[str, str] | None = None) -> Any:
        body = self._get(path, query)
        try:
            return json.loads(body)
        except ValueError:
            raise FetchError(f"{self.base}/{path}: not JSON") from None

    def up_to_date_as_of(self, title: int) -> date:
        try:
            for entry in self._json("titles.json").get("titles", []):
                if entry.get("number") == title and entry.get("up_to_date_as_of"):
                    return date.fromisoformat(entry["up_to_date_as_of"])
        except (AttributeError, TypeError, ValueError):
            raise FetchError(
                f"{self.base}/titles.json: not the expected titles list with dates"
            ) from None
        raise FetchError(f"title {title} is not in the eCFR's titles.json")

    def amendment_dates(self, title: int, part: str, until: date) -> list[str]:
        path = f"versions/title-{title}.json"
        data = self._json(path, {"issue_date[lte]": until.isoformat(), "part": part})
        try:
            days = {
                r["amendment_date"]
                for r in data.get("content_versions", [])
                if r.get("part") == part and r["amendment_date"] <= until.isoformat()
            }
        except (AttributeError, KeyError, TypeError):
            raise FetchError(
                f"{self.base}/{path}: not the expected content_versions list"
            ) from None
        return sorted(days)

    def part_xml(self, title: int, part: str, day: date) -> tuple[str, bytes]:
        path = f"full/{day.isoformat()}/title-{title}.xml"
        return part_url(self.base, title, part, day), self._get(path, {"part": part})


def part_url(base: str, title: int, part: str, day: date) -> str:
    """The versioner API's URL of one part's XML as it stood on ``day``."""
    return f"{base.rstrip('/')}/full/{day.isoformat()}/title-{title}.xml?part={part}"


class _PolicyRedirects(urllib.request.HTTPRedirectHandler):
    """urllib's redirects, asked of the fetch policy before following (urllib itself would
    follow to any host, and to ftp)."""

    max_redirections = 5

    def __init__(self, policy: FetchPolicy) -> None:
        super().__init__()
        self.policy = policy

    def http_error_302(self, req: Any, fp: Any, code: int, msg: str, headers: Any) -> Any:
        location = headers.get("Location") or headers.get("URI") or ""
        refusal = self.policy.redirect_refusal(req.full_url, code, location)
        if refusal:
            fp.close()
            raise FetchError(refusal)
        return super().http_error_302(req, fp, code, msg, headers)

    http_error_301 = http_error_303 = http_error_307 = http_error_308 = http_error_302
