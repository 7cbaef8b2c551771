"""Comparisons made in a process of their own. Diffing two versions of a large unit (the CCL,
the Entity List) is hundreds of milliseconds of Python; made in the serving process it would
hold every other request behind it. `regwatch serve` hands each comparison not in its cache to
one worker process (which opens the store read-only itself and keeps its own parsed trees)
and serves everything else meanwhile."""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor

from crawler.clock import utcnow
from crawler.config import Config
from crawler.deliver.web.reader import CompareView, Reader

_reader: Reader | None = None  # in the worker


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


def _view(key: str, old: int, new: int) -> CompareView:
    assert _reader is not None, "the worker was not started"
    store = _reader.store
    return _reader.view(key, store.version(old), store.version(new))


class Worker:
    """One worker process, started when first needed; ``close`` stops it."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def view(self, key: str, old: int, new: int) -> CompareView:
        with self._lock:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(
                    max_workers=1,
                    mp_context=multiprocessing.get_context("spawn"),  # never fork threads
                    initializer=_start,
                    initargs=(self.config,),
                )
            pool = self._pool
        return pool.submit(_view, key, old, new).result()

    def close(self) -> None:
        with self._lock:
            if self._pool is not None:
                self._pool.shutdown(cancel_futures=True)
                self._pool = None
