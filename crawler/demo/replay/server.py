"""The FR API, the eCFR API and bis.gov look-alike on 127.0.0.1, serving a Corpus with quirks.

It reproduces what the spider must cope with (SOURCES.md 1.4): ``per_page`` outside
2..2000 silently becomes 20, ``page`` outside 1..50 or past 10,000 results silently
becomes 1, ``total_pages`` is capped at 50, ``results`` is omitted when count is 0.
Scripted ``Fault``s add 429/503 with Retry-After, HTML maintenance pages, truncated bodies,
redirects anywhere, oversized bodies (declared or chunked) and gzip bombs made on the fly.
It answers conditional requests (ETag / Last-Modified -> 304) and checks the Host header.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import math
import re
import struct
import threading
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from crawler.demo.replay.corpus import Corpus

TYPES = {
    "RULE": "Rule",
    "PRORULE": "Proposed Rule",
    "NOTICE": "Notice",
    "PRESDOCU": "Presidential Document",
}
SEARCH_FIELDS = (
    "title",
    "type",
    "abstract",
    "document_number",
    "html_url",
    "pdf_url",
    "public_inspection_pdf_url",
    "publication_date",
    "agencies",
    "excerpts",
)
LAST_MODIFIED = "Mon, 05 Oct 2026 10:00:00 GMT"
GZIP = "gzip:"  # a content type prefixed so marks a body to send gzip-encoded
NOT_COMPRESSED = (
    b"<error><message>This endpoint requires response compression. Send an "
    b"Accept-Encoding header that permits compression.</message><supportCode>11"
    b"</supportCode></error>"
)
MAINTENANCE = (
    b"<!DOCTYPE html><html><head><title>Federal Register :: Scheduled Maintenance"
    b"</title></head><body><h1>We'll be back shortly</h1></body></html>"
)

NOT_FOUND_PAGE = (
    b"<!DOCTYPE html><html><head><title>Page not found | Bureau of Industry and Security"
    b"</title></head><body><main><h1>Page not found</h1></main></body></html>"
)


@dataclass
class Fault:
    """A scripted misbehaviour for requests whose path+query matches ``pattern``.

    ``times`` limits how often it fires (None: always). ``status`` replaces the status
    (with ``retry_after`` seconds when set); ``html`` serves a maintenance page with 200;
    ``truncate`` cuts the real body to that many bytes (declaring the short length);
    ``count`` overrides the search ``count`` (to simulate huge result sets); ``reset_page``
    serves page 1 whatever page was asked (as the API does past its caps); ``body`` serves
    those bytes with 200 and the route's content type (adversarial payloads). ``location``
    redirects there (HTTP ``status``, 302 by default); ``oversize`` serves that many bytes,
    with a Content-Length or, with ``chunked``, without; ``bomb`` serves gzip (chunked) that
    inflates to that many zero bytes, compressed about 1000:1 and made while it is sent."""

    pattern: str
    times: int | None = None
    status: int | None = None
    retry_after: int | None = None
    html: bool = False
    truncate: int | None = None
    count: int | None = None
    reset_page: bool = False
    body: bytes | None = None
    location: str | None = None
    oversize: int | None = None
    chunked: bool = False
    bomb: int | None = None
    fired: int = 0

    def applies(self, target: str) -> bool:
        return (self.times is None or self.fired < self.times) and bool(
            re.search(self.pattern, target)
        )


@dataclass
class ReplayServer:
    corpus: Corpus
    faults: list[Fault] = field(default_factory=list)
    port: int = 0
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._httpd: ThreadingHTTPServer | None = None
        self._lock = threading.Lock()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ReplayServer:
        server = self
        handler = type("Handler", (_Handler,), {"replay": server})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", self.port), handler)
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        # polled every 50 ms (not 0.5 s): stop() waits for one poll, once per test in the suite
        serve = {"poll_interval": 0.05}
        threading.Thread(target=self._httpd.serve_forever, kwargs=serve, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()

    def __enter__(self) -> ReplayServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def fault_for(self, target: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.applies(target):
                    fault.fired += 1
                    return fault
        return None

    def paths(self, prefix: str = "") -> list[str]:
        return [p for p, _ in self.requests if p.startswith(prefix)]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    replay: ReplayServer

    def log_message(self, format: str, *args: Any) -> None:
        return

    def handle(self) -> None:
        try:
            super().handle()
        except ConnectionError:  # a client that hung up (as a size limit makes it): no traceback
            self.close_connection = True

    def do_GET(self) -> None:
        self.replay.requests.append((self.path, dict(self.headers.items())))
        host = self.headers.get("Host", "")
        if host.rsplit(":", 1)[0] not in ("127.0.0.1", "localhost", "[::1]"):
            return self._send(421, b'{"status":421,"message":"Misdirected Request"}')
        fault = self.replay.fault_for(self.path)
        if fault and fault.location is not None:
            return self._send(fault.status or 302, b"", "text/html", {"Location": fault.location})
        if fault and (fault.oversize is not None or fault.bomb is not None):
            return self._send_large(fault)
        if fault and fault.status:
            headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after else {}
            return self._send(fault.status, b'{"status":%d}' % fault.status, headers=headers)
        if fault and fault.html:
            return self._send(200, MAINTENANCE, "text/html; charset=utf-8")
        moved = self.replay.corpus.web_redirects.get(urlsplit(self.path).path)
        if moved is not None:
            return self._send(moved[0], b"", "text/html", {"Location": moved[1]})
        status, body, ctype = self._route(fault)
        if fault and fault.body is not None:
            status, body = 200, fault.body
        if fault and fault.truncate is not None:
            body = body[: fault.truncate]
        etag = '"' + hashlib.sha1(body).hexdigest() + '"'
        if status == 200 and _not_modified(self.headers, etag):
            return self._send(304, b"", ctype, {"ETag": etag, "Last-Modified": LAST_MODIFIED})
        headers = {"ETag": etag, "Last-Modified": LAST_MODIFIED} if status == 200 else {}
        self._send(status, body, ctype, headers)

    def _send(
        self,
        status: int,
        body: bytes,
        ctype: str = "application/json; charset=utf-8",
        headers: dict[str, str] | None = None,
    ) -> None:
        if ctype.startswith(GZIP):
            ctype = ctype.removeprefix(GZIP)
            headers = {**(headers or {}), "Content-Encoding": "gzip"}
            body = gzip.compress(body, mtime=0) if status != 304 else body
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if status != 304:
            self.wfile.write(body)

    def _send_large(self, fault: Fault) -> None:
        """An oversized body or a gzip bomb, written as it is made (the client may hang up)."""
        self.send_response(200)
        self.send_header("Content-Type", "application/xml")
        if fault.bomb is not None:
            self.send_header("Content-Encoding", "gzip")
        chunked = fault.chunked or fault.bomb is not None
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(fault.oversize))
        self.end_headers()
        pieces = _gzip_bomb(fault.bomb) if fault.bomb is not None else _filler(fault.oversize or 0)
        try:
            for piece in pieces:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
            if chunked:
                self.wfile.write(b"0\r\n\r\n")
        except OSError:  # the client stopped reading: what a size limit does
            self.close_connection = True

    def _route(self, fault: Fault | None) -> tuple[int, bytes, str]:
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        corpus = self.replay.corpus
        if url.path == "/api/v1/documents.json":
            return 200, _json(_search(self.replay, corpus, query, fault)), "application/json"
        if url.path == "/api/v1/public-inspection-documents.json":
            return _public_inspection(corpus, query)
        if url.path.startswith("/api/versioner/v1/"):
            return _ecfr(
                corpus,
                url.path.removeprefix("/api/versioner/v1/"),
                query,
                self.headers.get("Accept-Encoding", ""),
            )
        match = re.fullmatch(r"/api/v1/documents/([A-Za-z0-9,-]+)\.json", url.path)
        if match:
            return _documents(corpus, match.group(1).split(","))
        match = re.fullmatch(
            r"/documents/full_text/xml/\d{4}/\d\d/\d\d/([A-Za-z0-9-]+)\.xml", url.path
        )
        if match and (xml := corpus.xml_for(match.group(1))) is not None:
            return 200, xml, "text/xml; charset=utf-8"
        if url.path == "/robots.txt" and corpus.robots is not None:
            return 200, corpus.robots, "text/plain; charset=utf-8"
        if url.path in corpus.web:
            return 200, corpus.web[url.path], "text/html; charset=utf-8"
        if not url.path.startswith(("/api/", "/documents/")):
            return 404, NOT_FOUND_PAGE, "text/html; charset=utf-8"
        return 404, b'{"status":404,"message":"Not Found"}', "application/json"


def _filler(size: int) -> Iterator[bytes]:
    block = b"<x>" + b"A" * 65_529 + b"</x>"
    for start in range(0, size, len(block)):
        yield block[: size - start]


def _gzip_bomb(size: int) -> Iterator[bytes]:
    """gzip of ``size`` zero bytes (whole MiBs), from one compressed MiB repeated: a 1 GiB
    bomb is about 1 MB on the wire and costs the server no real compression."""
    mib = bytes(1 << 20)
    count = max(1, size >> 20)
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    yield packer.compress(mib) + packer.flush(zlib.Z_SYNC_FLUSH)
    block = packer.compress(mib) + packer.flush(zlib.Z_SYNC_FLUSH)
    crc = zlib.crc32(mib)
    for _ in range(count - 1):
        yield block
        crc = zlib.crc32(mib, crc)
    yield b"\x03\x00" + struct.pack("<II", crc, (count << 20) & 0xFFFFFFFF)  # end, trailer


def _not_modified(headers: Any, etag: str) -> bool:
    """RFC 9110 13.2.2: If-None-Match decides when present; If-Modified-Since otherwise."""
    if headers.get("If-None-Match") is not None:
        return headers.get("If-None-Match") == etag
    return headers.get("If-Modified-Since") == LAST_MODIFIED


def _json(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False).encode()


def _search(
    server: ReplayServer, corpus: Corpus, q: dict[str, list[str]], fault: Fault | None
) -> dict[str, Any]:
    agencies = set(q.get("conditions[agencies][]", []))
    types = {TYPES.get(t, t) for t in q.get("conditions[type][]", [])}
    on = q.get("conditions[publication_date][is]", [None])[0]
    gte = q.get("conditions[publication_date][gte]", ["0000"])[0]
    lte = q.get("conditions[publication_date][lte]", ["9999"])[0]
    hits = [
        d
        for d in corpus.documents.values()
        if (not agencies or agencies & {a.get("slug") for a in d["agencies"]})
        and (not types or d["type"] in types)
        and (d["publication_date"] == on if on else gte <= d["publication_date"] <= lte)
    ]
    hits.sort(key=lambda d: (d["publication_date"], d["document_number"]), reverse=True)
    per_page = _int(q.get("per_page", ["20"])[0], 20)
    per_page = per_page if 1 < per_page <= 2000 else 20
    page = _int(q.get("page", ["1"])[0], 1)
    if not 1 <= page <= 50 or page * per_page > 10_000 or (fault and fault.reset_page):
        page = 1
    count = fault.count if fault and fault.count is not None else len(hits)
    fields = q.get("fields[]") or list(SEARCH_FIELDS)
    total_pages = min(math.ceil(count / per_page), 50)
    body: dict[str, Any] = {
        "count": count,
        "description": "Documents matching the search",
        "total_pages": total_pages,
    }
    if page < total_pages:
        rest = {k: v for k, v in q.items() if k != "page"}
        body["next_page_url"] = (
            f"{server.base}/api/v1/documents.json?{urlencode(rest, doseq=True)}&page={page + 1}"
        )
    if count:
        chunk = hits[(page - 1) * per_page : page * per_page]
        body["results"] = [{f: d.get(f) for f in fields} for d in chunk]
    return body


def _int(value: str, default: int) -> int:
    try:
        return int(value)
    except ValueError:
        return default


def _documents(corpus: Corpus, numbers: list[str]) -> tuple[int, bytes, str]:
    found = [corpus.documents[n] for n in numbers if n in corpus.documents]
    if len(numbers) == 1:
        if not found:
            return 404, b'{"status":404,"message":"Not Found"}', "application/json"
        return 200, _json(found[0]), "application/json"
    missing = [n for n in numbers if n not in corpus.documents]
    body = {"count": len(found), "results": found}
    if missing:
        body["errors"] = {"not_found": missing}
    return 200, _json(body), "application/json"


def _public_inspection(corpus: Corpus, q: dict[str, list[str]]) -> tuple[int, bytes, str]:
    day = q.get("conditions[available_on]", [None])[0]
    if not day:
        return 400, b'{"errors":{"available_on":"is required"}}', "application/json"
    date.fromisoformat(day)
    agencies = set(q.get("conditions[agencies][]", []))
    recorded = corpus.public_inspection.get(day, {"count": 0, "results": []})
    results = [
        r
        for r in recorded.get("results", [])
        if not agencies or agencies & {a.get("slug") for a in r.get("agencies", [])}
    ]
    body: dict[str, Any] = {"count": len(results)}
    if results:
        body["results"] = results
    return 200, _json(body), "application/json"


def _ecfr(
    corpus: Corpus, path: str, q: dict[str, list[str]], accept_encoding: str
) -> tuple[int, bytes, str]:
    """The eCFR versioner API (SOURCES.md 3.1, 3.2): titles, versions, full XML."""
    not_found = (404, b'{"error":"Not Found"}', "application/json")
    if corpus.ecfr_titles is None:
        return not_found
    if path == "titles.json":
        return 200, _json(corpus.ecfr_titles), "application/json"
    match = re.fullmatch(r"versions/title-(\d+)\.json", path)
    if match:
        data = corpus.ecfr_versions.get(int(match.group(1)))
        if data is None:
            return not_found
        gte = q.get("issue_date[gte]", [None])[0]
        lte = q.get("issue_date[lte]", [None])[0]
        on = q.get("issue_date[on]", [None])[0]
        if not (gte or lte or on):
            return (
                400,
                b'{"error":"at least one issue_date parameter is required"}',
                "application/json",
            )
        part = q.get("part", [None])[0]
        rows = [
            v
            for v in data["content_versions"]
            if (not part or v["part"] == part)
            and (
                v["issue_date"] == on
                if on
                else (gte or "0000") <= v["issue_date"] <= (lte or "9999")
            )
        ]
        size = corpus.ecfr_page_size
        page = max(1, _int(q.get("page", ["1"])[0], 1))
        meta = {
            **data.get("meta", {}),
            "result_count": len(rows),
            "page": page,
            "per_page": size,
            "total_pages": max(1, math.ceil(len(rows) / size)),
        }
        chunk = rows[(page - 1) * size : page * size]
        return 200, _json({"content_versions": chunk, "meta": meta}), "application/json"
    match = re.fullmatch(r"full/(\d{4}-\d\d-\d\d)/title-(\d+)\.xml", path)
    if match:
        if "gzip" not in accept_encoding:
            return 406, NOT_COMPRESSED, "application/xml"
        day, title = match.group(1), int(match.group(2))
        latest = next(
            (t["up_to_date_as_of"] for t in corpus.ecfr_titles["titles"] if t["number"] == title),
            None,
        )
        part = q.get("part", [None])[0]
        if latest is None or day > latest or not part:
            return not_found
        body = corpus.ecfr_part(day, title, part)
        return (200, body, GZIP + "application/xml") if body else not_found
    return not_found
