"""One headless Chromium for many pages: what ``chromium --headless --virtual-time-budget=N
--dump-dom URL`` prints, for each page, from a single browser process driven over the
DevTools protocol on a pipe (``--remote-debugging-pipe``: no port, no websocket library).

Each page gets a tab of its own (a fresh document, as a fresh process gave it), is loaded
with the same virtual time budget ``--dump-dom`` waits for, and its serialised DOM is
``document.documentElement.outerHTML`` (what ``--dump-dom`` prints), read after the budget
has run out. Starting Chromium costs most of a page's time, hence one process."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)

# what --dump-dom prints: the doctype, if any, on a line of its own, then the root element
DUMP = (
    "(document.doctype ? new XMLSerializer().serializeToString(document.doctype) + '\\n' : '')"
    " + document.documentElement.outerHTML"
)


class Browser:
    """A Chromium process and its DevTools pipe (fd 3 in, fd 4 out, in the child)."""

    def __init__(self, chromium: str, profile: Path, timeout: float = 90) -> None:
        profile.mkdir(parents=True, exist_ok=True)
        self.blank = profile / "blank.html"  # a file: URL, as the pages are: one renderer
        self.blank.write_text("<html></html>", encoding="utf-8")
        to_chrome, self._send = os.pipe()
        self._receive, from_chrome = os.pipe()

        def pipes() -> None:  # in the child, before exec: the two ends at fds 3 and 4
            os.dup2(to_chrome, 3)
            os.dup2(from_chrome, 4)

        self.process = subprocess.Popen(
            [chromium, *FLAGS, f"--user-data-dir={profile}", "--remote-debugging-pipe"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,  # never read: a full pipe would stall chromium
            pass_fds=(3, 4),
            preexec_fn=pipes,
        )
        os.close(to_chrome)
        os.close(from_chrome)
        self.timeout = timeout
        self._next = 0
        self._buffer = b""
        self._events: list[dict[str, Any]] = []

    def close(self) -> None:
        with suppress(OSError, RuntimeError, TimeoutError):
            self.call("Browser.close")
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        finally:
            os.close(self._send)
            os.close(self._receive)

    def _message(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            if time.monotonic() > deadline:
                raise TimeoutError("Chromium did not answer in time")
            chunk = os.read(self._receive, 1 << 16)
            if not chunk:
                raise RuntimeError("Chromium closed its DevTools pipe")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(raw)

    def call(self, method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
        """Send one command and wait for its answer (events met meanwhile are kept)."""
        self._next += 1
        message: dict[str, Any] = {"id": self._next, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        os.write(self._send, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + self.timeout
        while True:
            answer = self._message(deadline)
            if answer.get("id") == self._next:
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                return answer.get("result", {})
            self._events.append(answer)

    def wait_for(self, event: str, session: str) -> dict[str, Any]:
        deadline = time.monotonic() + self.timeout
        while True:
            for kept in self._events:
                if kept.get("method") == event and kept.get("sessionId") == session:
                    self._events.remove(kept)
                    return kept
            self._events.append(self._message(deadline))

    def _settled(self, session: str) -> None:
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            state = self.call("Runtime.evaluate", session, expression="document.readyState")
            if state["result"].get("value") == "complete":
                return
            time.sleep(0.01)
        raise TimeoutError("the blank page did not load")

    def dump_dom(self, url: str, budget_ms: int = 2000) -> str:
        """``--dump-dom`` of ``url`` with ``--virtual-time-budget=budget_ms``, in a new tab."""
        target = self.call("Target.createTarget", url=self.blank.as_uri())["targetId"]
        session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        try:
            self.call("Page.enable", session)
            self._settled(session)  # the blank page loaded: the next load event is the page's
            self._events = [e for e in self._events if e.get("sessionId") != session]
            self.call("Page.navigate", session, url=url)
            self.wait_for("Page.loadEventFired", session)
            # then the budget of virtual time (timers run without waiting for them)
            self.call(
                "Emulation.setVirtualTimePolicy",
                session,
                policy="pauseIfNetworkFetchesPending",
                budget=budget_ms,
            )
            self.wait_for("Emulation.virtualTimeBudgetExpired", session)
            result = self.call(
                "Runtime.evaluate",
                session,
                expression=DUMP,
                returnByValue=True,
            )
            assert "value" in result["result"], (url, result)
            return str(result["result"]["value"])
        finally:
            self.call("Target.closeTarget", targetId=target)
            self._events = [e for e in self._events if e.get("sessionId") != session]

    @contextmanager
    def tab(self, width: int = 1200, height: int = 900) -> Iterator[Tab]:
        """A tab to drive as a user would: go to pages, click, fill forms, press keys,
        take screenshots."""
        target = self.call("Target.createTarget", url=self.blank.as_uri())["targetId"]
        session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        try:
            self.call("Page.enable", session)
            self._settled(session)
            self.call(
                "Emulation.setDeviceMetricsOverride",
                session,
                width=width,
                height=height,
                deviceScaleFactor=1,
                mobile=width < 700,
            )
            # keys go to a page that has the focus: a background tab of a busy browser may not
            self.call("Emulation.setFocusEmulationEnabled", session, enabled=True)
            self.call("Page.bringToFront", session)
            self._events = [e for e in self._events if e.get("sessionId") != session]
            yield Tab(self, session)
        finally:
            self.call("Target.closeTarget", targetId=target)
            self._events = [e for e in self._events if e.get("sessionId") != session]


class Tab:
    def __init__(self, browser: Browser, session: str) -> None:
        self.browser = browser
        self.session = session

    def evaluate(self, expression: str) -> Any:
        result = self.browser.call(
            "Runtime.evaluate", self.session, expression=expression, returnByValue=True
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def _navigating(self, start: str) -> None:
        """Run ``start`` (a JS expression that navigates) and wait for the new page."""
        self.browser._events = [
            e for e in self.browser._events if e.get("sessionId") != self.session
        ]
        self.evaluate("window.__regwatchLeaving = true")  # gone once the next page is in
        self.evaluate(start)
        self.browser.wait_for("Page.loadEventFired", self.session)
        self._arrived()

    def _arrived(self) -> None:
        """Wait until the new document has replaced the old one and loaded (a late event of
        the old page must not let a test read the page it is leaving)."""
        deadline = time.monotonic() + self.browser.timeout
        probe = "window.__regwatchLeaving === undefined && document.readyState === 'complete'"
        while time.monotonic() < deadline:
            found = self.browser.call(
                "Runtime.evaluate", self.session, expression=probe, returnByValue=True
            )
            if found.get("result", {}).get("value") is True:
                return
            time.sleep(0.02)
        raise TimeoutError("the next page did not load")

    def goto(self, url: str) -> None:
        self.browser._events = [
            e for e in self.browser._events if e.get("sessionId") != self.session
        ]
        self.evaluate("window.__regwatchLeaving = true")  # gone once the next page is in
        self.browser.call("Page.navigate", self.session, url=url)
        self.browser.wait_for("Page.loadEventFired", self.session)
        self._arrived()

    def click(self, selector: str) -> None:
        """Click the first element matching ``selector`` and wait for the page it opens."""
        self._navigating(f"document.querySelector({json.dumps(selector)}).click()")

    def submit(self, form: str, values: dict[str, str | bool]) -> None:
        """Fill the form's fields by name (a bool checks a checkbox) and submit it."""
        fill = "".join(
            f"f.elements[{json.dumps(k)}].{'checked' if isinstance(v, bool) else 'value'}"
            f" = {json.dumps(v)};"
            for k, v in values.items()
        )
        select = json.dumps(form)
        self._navigating(
            f"(() => {{ const f = document.querySelector({select}); {fill} f.requestSubmit(); }})()"
        )

    @property
    def url(self) -> str:
        return str(self.evaluate("location.href"))

    def text(self, selector: str = "body") -> str:
        found = self.evaluate(
            f"(document.querySelector({json.dumps(selector)}) || {{}}).innerText || ''"
        )
        return str(found)

    def press_tab(self) -> str:
        """Press Tab; the focused element as "TAG text" ("" when nothing took focus)."""
        self._arrived()  # a key pressed before the page is in lands nowhere
        for kind in ("keyDown", "keyUp"):
            self.browser.call(
                "Input.dispatchKeyEvent",
                self.session,
                type=kind,
                key="Tab",
                code="Tab",
                windowsVirtualKeyCode=9,
            )
        return str(
            self.evaluate(
                "document.activeElement ? document.activeElement.tagName + ' ' + "
                "(document.activeElement.innerText || '') : ''"
            )
        )

    def screenshot(self, path: Path, full: bool = True) -> Path:
        import base64

        shot = self.browser.call(
            "Page.captureScreenshot", self.session, format="png", captureBeyondViewport=full
        )
        path.write_bytes(base64.b64decode(shot["data"]))
        return path


@contextmanager
def chromium(path: str, profile: Path) -> Iterator[Browser]:
    browser = Browser(path, profile)
    try:
        yield browser
    finally:
        browser.close()
