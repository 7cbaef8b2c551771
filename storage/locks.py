"""Named locks between processes that share a store, released by the operating system when
their holder dies (kill -9 included), so a lock can never be left behind by a crash.

On SQLite each name is a file in ``<store>.locks/`` held with ``flock``; the lock belongs to
the open file, so a child process handed the descriptor holds it too (the crawl subprocess
keeps its run's lock alive while it writes)."""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

_SAFE = re.compile(r"[^a-z0-9_.-]+")


class LockBusy(Exception):
    """Raised by ``Locks.acquire`` when another process held the lock for the whole wait."""


@dataclass
class Held:
    """A lock this process holds until ``release`` (or its death)."""

    name: str
    fd: int
    path: Path | None = None  # a lock of a unique name: its file goes with it

    def release(self) -> None:
        if self.fd >= 0:
            if self.path is not None:
                self.path.unlink(missing_ok=True)  # while still held: nobody waits on it
            os.close(self.fd)  # closing the descriptor drops the flock
            self.fd = -1

    def __enter__(self) -> Held:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.release()


class Locks:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _path(self, name: str) -> Path:
        slug = _SAFE.sub("-", name.lower()).strip("-")[:60]
        token = hashlib.sha256(name.encode()).hexdigest()[:8]
        return self.folder / f"{slug}.{token}.lock"

    def acquire(self, name: str, wait: float = 0.0, unique: bool = False) -> Held:
        """Hold ``name``, waiting up to ``wait`` seconds for its holder; LockBusy after.
        ``unique``: a name only this holder uses (a run's, a sender's), whose file is removed
        on release so that such files do not pile up."""
        self.folder.mkdir(exist_ok=True)
        path = self._path(name)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + wait
        delay = 0.05
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return Held(name, fd, path if unique else None)
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    raise LockBusy(name) from None
                time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
                delay = min(delay * 2, 1.0)

    def is_held(self, name: str) -> bool:
        """Whether some process (this one included) holds ``name`` right now."""
        try:
            fd = os.open(self._path(name), os.O_RDWR)  # never creates one
        except FileNotFoundError:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(fd)
        return False
