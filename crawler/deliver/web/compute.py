"""Comparisons made and rendered in processes of their own. Diffing two versions of a large
unit (the CCL, the Entity List) and rendering the page is hundreds of milliseconds of Python;
made in the serving process it would hold every other request behind it. `regwatch serve`
hands each comparison not in its cache of rendered pages to a worker process (which opens the
store read-only itself and keeps its own parsed trees and comparisons) and serves everything
else meanwhile. One worker per core, up to four; a pair of versions always goes to the same
worker, so its other views (side by side, changes only, JSON) reuse the comparison."""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
import zlib
from concurrent.futures import ProcessPoolExecutor

from crawler.clock import utcnow
from crawler.config import Config
from crawler.deliver.web.reader import Reader, Variant

_reader: Reader | None = None  # in a worker
MOST = 4  # workers at most


def _start(config: Config) -> None:
    from crawler.jobs.daily import open_store

    global _reader
    _reader = Reader(open_store(config, create=False, readonly=True), config, utcnow)
    parent = os.getppid()

    def orphaned() -> None:  # the server killed (kill -9 included): go with it
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=orphaned, daemon=True).start()


def _ready() -> bool:
    from crawler.deliver.web import views  # noqa: F401 (imported before the first request)

    return _reader is not None


def _render(key: str, old: int, new: int, asked: Variant) -> bytes:
    from crawler.deliver.web.views import rendered

    assert _reader is not None, "the worker was not started"
    store = _reader.store
    found = _reader.compare_versions(key, store.version(old), store.version(new))
    return rendered(_reader, found, asked)


class Worker:
    """Worker processes, started by ``start`` or when first needed; ``close`` stops them."""

    def __init__(self, config: Config, count: int | None = None) -> None:
        self.config = config
        self.count = count or max(1, min(MOST, os.cpu_count() or 1))
        self._pools: dict[int, ProcessPoolExecutor] = {}
        self._lock = threading.Lock()

    def start(self) -> None:
        """Start every worker now (a second of imports each), not on the first request."""
        for future in [self._pool(at).submit(_ready) for at in range(self.count)]:
            future.result()

    def render(self, key: str, old: int, new: int, asked: Variant) -> bytes:
        at = zlib.crc32(f"{key}|{old}|{new}".encode()) % self.count
        return self._pool(at).submit(_render, key, old, new, asked).result()

    def _pool(self, at: int) -> ProcessPoolExecutor:
        with self._lock:
            pool = self._pools.get(at)
            if pool is None:
                pool = self._pools[at] = ProcessPoolExecutor(
                    max_workers=1,
                    mp_context=multiprocessing.get_context("spawn"),  # never fork threads
                    initializer=_start,
                    initargs=(self.config,),
                )
            return pool

    def close(self) -> None:
        with self._lock:
            for pool in self._pools.values():
                pool.shutdown(cancel_futures=True)
            self._pools.clear()
