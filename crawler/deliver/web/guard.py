"""What every request to the web app passes: the Host header checked (DNS rebinding), a token
when the app listens beyond loopback (a bearer header, or for a feed reader the feed's own
token in its URL), and headers that keep a page to itself (a strict Content-Security-Policy:
no script at all, styles and images from the app only)."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

TOKEN_ENV = "REGWATCH_SERVE_TOKEN"  # the token, from the environment only (never a flag)
FEEDS = "/feeds/"
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Resource-Policy": "same-origin",
}
_RAW_HEADERS = [(k.lower().encode(), v.encode()) for k, v in HEADERS.items()]


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def feed_token(token: str, name: str) -> str:
    """The token of one feed (``all.atom``): it opens that feed and nothing else, so a feed
    URL handed to a feed reader does not give away the app."""
    return hmac.new(token.encode(), f"feed:{name}".encode(), hashlib.sha256).hexdigest()[:32]


class Guard:
    """ASGI middleware. ``hosts``: the Host header values accepted (names, without the
    port); ``token``: required on every request when set (the app binds beyond loopback)."""

    def __init__(self, app: ASGIApp, hosts: frozenset[str], token: str | None = None) -> None:
        self.app = app
        self.hosts = hosts
        self.token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [
                    *[(k, v) for k, v in message["headers"] if k.decode().title() not in HEADERS],
                    *_RAW_HEADERS,
                ]
            await send(message)

        refused = self.refuse(Request(scope))
        if refused is not None:
            await refused(scope, receive, with_headers)
            return
        await self.app(scope, receive, with_headers)

    def refuse(self, request: Request) -> Response | None:
        host = _host_name(request.headers.get("host", ""))
        if host not in self.hosts:
            return PlainTextResponse("unknown Host header", status_code=400)
        if self.token is None or self._allowed(request):
            return None
        api = request.url.path.startswith("/api/")
        message = "a token is required: Authorization: Bearer <token>"
        if api:
            return SafeJSON({"error": message}, status_code=401, headers=_challenge())
        return PlainTextResponse(message, status_code=401, headers=_challenge())

    def _allowed(self, request: Request) -> bool:
        assert self.token is not None
        given = request.headers.get("authorization", "")
        if hmac.compare_digest(given.encode(), f"Bearer {self.token}".encode()):
            return True
        path = request.url.path
        if path.startswith(FEEDS):
            name = path.removeprefix(FEEDS)
            offered = request.query_params.get("token", "")
            return hmac.compare_digest(offered.encode(), feed_token(self.token, name).encode())
        return False


class SafeJSON(JSONResponse):
    """JSON with ``<``, ``>`` and ``&`` written as \\u escapes: a value echoed from a
    request can never read as markup, whatever sniffs the response."""

    def render(self, content: Any) -> bytes:
        text = json.dumps(content, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        for char, escape in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
            text = text.replace(char, escape)
        return text.encode("utf-8")


def _challenge() -> dict[str, str]:
    return {"WWW-Authenticate": 'Bearer realm="regwatch"'}


def _host_name(header: str) -> str:
    """The name in a Host header, without its port ("[::1]:8000" -> "[::1]")."""
    if header.startswith("["):
        return header.split("]", 1)[0] + "]"
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header
