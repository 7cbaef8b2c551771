"""A small eCFR versioner client for on-demand use (``regwatch diff``), without Scrapy.

Same manners as the spider: the configured User-Agent, gzip (the full-XML endpoint
requires it), the configured host only, one-line FetchErrors."""

from __future__ import annotations

import gzip
import json
import urllib.error
import urllib.request
from datetime import date
from typing import Any
from urllib.parse import urlencode, urlsplit

from crawler.config import Config
from crawler.errors import FetchError


class EcfrClient:
    def __init__(self, config: Config) -> None:
        self.base = config.sources.ecfr.api_base.rstrip("/")
        self.agent = config.http.user_agent
        self.timeout = config.http.timeout

    def _get(self, path: str, query: dict[str, str] | None = None) -> bytes:
        url = f"{self.base}/{path}" + (f"?{urlencode(query)}" if query else "")
        request = urllib.request.Request(
            url, headers={"User-Agent": self.agent, "Accept-Encoding": "gzip"}
        )
        host = urlsplit(url).netloc
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                body = response.read()
                if response.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                return body
        except urllib.error.HTTPError as exc:
            raise FetchError(f"HTTP {exc.code} from {host}/{path}") from None
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise FetchError(f"cannot reach {host}: {reason}") from None

    def _json(self, path: str, query: dict[str, str] | None = None) -> Any:
        body = self._get(path, query)
        try:
            return json.loads(body)
        except ValueError:
            raise FetchError(f"{self.base}/{path}: not JSON") from None

    def up_to_date_as_of(self, title: int) -> date:
        titles = self._json("titles.json").get("titles", [])
        for entry in titles:
            if entry.get("number") == title and entry.get("up_to_date_as_of"):
                return date.fromisoformat(entry["up_to_date_as_of"])
        raise FetchError(f"title {title} is not in the eCFR's titles.json")

    def amendment_dates(self, title: int, part: str, until: date) -> list[str]:
        data = self._json(
            f"versions/title-{title}.json", {"issue_date[lte]": until.isoformat(), "part": part}
        )
        return sorted(
            {
                r["amendment_date"]
                for r in data.get("content_versions", [])
                if r.get("part") == part and r["amendment_date"] <= until.isoformat()
            }
        )

    def part_xml(self, title: int, part: str, day: date) -> tuple[str, bytes]:
        path = f"full/{day.isoformat()}/title-{title}.xml"
        return f"{self.base}/{path}?part={part}", self._get(path, {"part": part})
