"""`regwatch serve`: the web app and JSON API over the store, read-only. One FastAPI app: the
pages (crawler.deliver.web.pages), the API (crawler.deliver.web.api), the feeds as `regwatch
run` wrote them, its own stylesheet and icon; every request through the guard
(crawler.deliver.web.guard). Errors are one line, escaped in a page or as JSON under /api/."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException

from crawler.config import Config
from crawler.deliver.web import api, pages
from crawler.deliver.web.guard import Guard, SafeJSON, feed_token, is_loopback
from crawler.deliver.web.layout import ALL_FEED, STATIC, Frame, render_page
from crawler.deliver.web.reader import Reader
from crawler.errors import NotCovered, RegwatchError, UsageError
from storage import Store

FEED_NAME = re.compile(r"^[A-Za-z0-9_-]{1,80}\.(atom|rss)$")


def make_app(
    store: Store,
    config: Config,
    now: Callable[[], datetime],
    *,
    host: str = "127.0.0.1",
    token: str | None = None,
) -> FastAPI:
    """The app over ``store`` (opened read-only). ``host``: what it listens on (its name is
    the Host header it accepts, with the loopback names); ``token`` required on every request
    when given (`regwatch serve` requires one beyond loopback)."""
    app = FastAPI(
        title="regwatch",
        summary="What changed in US regulations: FR documents, CFR versions and their diffs.",
        version="1",
        openapi_url="/api/openapi.json",
        docs_url=None,  # the interactive docs load scripts from a CDN: none here
        redoc_url=None,
        default_response_class=SafeJSON,
    )
    app.state.reader = Reader(store, config, now)
    app.state.token = token
    app.state.feeds = config.root / config.output.feeds
    hosts = {"127.0.0.1", "localhost", "[::1]"}
    hosts.add(f"[{host}]" if ":" in host else host)
    app.add_middleware(Guard, hosts=frozenset(hosts), token=token)
    app.include_router(api.router)
    app.include_router(pages.router)
    app.add_api_route("/feeds", feed_list, include_in_schema=False)
    app.add_api_route("/feeds/{name}", feed, include_in_schema=False)
    app.add_api_route("/favicon.ico", favicon, include_in_schema=False)
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    app.add_exception_handler(RegwatchError, _regwatch_error)
    app.add_exception_handler(LookupError, _not_found)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(Exception, _bug)
    return app


def feed_list(request: Request) -> Response:
    folder: Path = request.app.state.feeds
    token: str | None = request.app.state.token
    names = sorted(p.name for p in folder.glob("*") if FEED_NAME.match(p.name))
    links = [
        (n, f"/feeds/{n}" + (f"?token={feed_token(token, n)}" if token else "")) for n in names
    ]
    frame = Frame("Feeds", "/feeds", (ALL_FEED,))
    return pages.page(request, "web/feeds.html.j2", frame, feeds=links)


def feed(request: Request, name: str) -> Response:
    """A feed file as `regwatch run` wrote it, by a name that can only be a feed's."""
    folder: Path = request.app.state.feeds
    if not FEED_NAME.match(name) or not (folder / name).is_file():
        raise LookupError(f"no feed named {name}")
    kind = "application/atom+xml" if name.endswith(".atom") else "application/rss+xml"
    return FileResponse(folder / name, media_type=f"{kind}; charset=utf-8")


def favicon(request: Request) -> Response:
    del request
    return FileResponse(str(STATIC / "favicon.svg"), media_type="image/svg+xml")


def _error(request: Request, status: int, message: str) -> Response:
    line = " ".join(message.split())[:300]
    if request.url.path.startswith("/api/"):
        return SafeJSON({"error": line}, status_code=status)
    frame = Frame(str(status), "")
    html = render_page(
        "web/error.html.j2", frame, pages.links_of(request), status=status, message=line
    )
    return HTMLResponse(html, status_code=status)


async def _regwatch_error(request: Request, exc: Exception) -> Response:
    status = 404 if isinstance(exc, NotCovered | UsageError) else 500
    return _error(request, status, str(exc))


async def _not_found(request: Request, exc: Exception) -> Response:
    return _error(request, 404, str(exc).strip("'\""))


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        return _error(request, 404, f"nothing at {request.url.path}")
    return _error(request, exc.status_code, str(exc.detail))


async def _invalid(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0] if exc.errors() else {}
    where = ".".join(str(x) for x in first.get("loc", ()) if x not in ("query", "path"))
    return _error(request, 400, f"{where or 'request'}: {first.get('msg', 'invalid')}")


async def _bug(request: Request, exc: Exception) -> Response:
    return _error(request, 500, f"regwatch could not answer: {type(exc).__name__}")


def check_bind(host: str, token: str | None) -> None:
    """Beyond loopback the app needs a token: refuse to start without one."""
    if not is_loopback(host) and not token:
        raise UsageError(
            f"serving on {host} (beyond this machine) needs a token: set REGWATCH_SERVE_TOKEN"
        )
