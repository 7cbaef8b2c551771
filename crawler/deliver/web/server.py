"""Runs the web app on uvicorn: the store opened read-only, loopback unless told otherwise
(and then only with a token from the environment)."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable

from crawler.clock import utcnow
from crawler.config import Config
from crawler.deliver.web.app import check_bind, make_app
from crawler.deliver.web.compute import Worker
from crawler.deliver.web.guard import TOKEN_ENV
from crawler.jobs.daily import open_store


def _stop(_signal: int, _frame: object) -> None:
    raise SystemExit(0)


def serve(config: Config, host: str, port: int, announce: Callable[[str], None]) -> None:
    """Serve until SIGINT or SIGTERM; ``announce`` is told where, once the store is open."""
    import uvicorn

    token = os.environ.get(TOKEN_ENV) or None
    check_bind(host, token)
    store = open_store(config, create=False, readonly=True)
    worker = Worker(config)
    # uvicorn stops on SIGTERM, then raises it again with the handler it found: this one,
    # so the worker process is stopped (below) before regwatch exits
    signal.signal(signal.SIGTERM, _stop)
    try:
        app = make_app(store, config, utcnow, host=host, token=token)
        app.state.reader.worker = worker.render
        worker.start()
        shown = f"[{host}]" if ":" in host else host
        announce(f"regwatch: serving {config.store_label} on http://{shown}:{port}/ (Ctrl-C stops)")
        uvicorn.run(app, host=host, port=port, log_level="warning", server_header=False)
    finally:
        worker.close()
        store.close()
