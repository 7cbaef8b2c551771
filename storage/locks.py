"""Named locks between processes that share a store, released when their holder dies (kill -9
included), so a lock can never be left behind by a crash. One interface, two backends:

- SQLite (``FileLocks``): each name is a file in ``<store>.locks/`` held with ``flock``; the
  lock belongs to the open file, so a child process handed the descriptor holds it too.
- PostgreSQL (``AdvisoryLocks``): each name is a session-level advisory lock held on a
  connection of its own; the server drops it when that connection closes, which the kernel
  does when the holder dies. Processes on other machines see it too (a standby scheduler).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

_SAFE = re.compile(r"[^a-z0-9_.-]+")


class LockBusy(Exception):
    """Raised by ``Locks.acquire`` when another process held the lock for the whole wait."""


class Held:
    """A lock this process holds until ``release`` (or its death)."""

    def __init__(
        self, name: str, release: Callable[[], None], alive: Callable[[], bool] | None = None
    ) -> None:
        self.name = name
        self._release: Callable[[], None] | None = release
        self._alive = alive

    def alive(self) -> bool:
        """Whether the lock is still held. A flock lives as long as this process; an
        advisory lock dies with its connection (a server restart, a terminated session),
        which its holder finds out only by asking."""
        if self._release is None:
            return False
        return self._alive() if self._alive is not None else True

    def release(self) -> None:
        if self._release is not None:
            release, self._release = self._release, None
            release()

    def __enter__(self) -> Held:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.release()


class Locks(Protocol):
    def acquire(self, name: str, wait: float = 0.0, unique: bool = False) -> Held:
        """Hold ``name``, waiting up to ``wait`` seconds for its holder; LockBusy after.
        ``unique``: a name only this holder uses (a run's, a sender's)."""
        ...

    def is_held(self, name: str) -> bool:
        """Whether some process (this one included) holds ``name`` right now."""
        ...


def _poll(try_once: Callable[[], Held | None], name: str, wait: float) -> Held:
    """Call ``try_once`` until it gives a lock or ``wait`` seconds are over (LockBusy)."""
    deadline = time.monotonic() + wait
    delay = 0.05
    while True:
        held = try_once()
        if held is not None:
            return held
        if time.monotonic() >= deadline:
            raise LockBusy(name)
        time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
        delay = min(delay * 2, 1.0)


class FileLocks:
    """flock files beside a SQLite store."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _path(self, name: str) -> Path:
        slug = _SAFE.sub("-", name.lower()).strip("-")[:60]
        token = hashlib.sha256(name.encode()).hexdigest()[:8]
        return self.folder / f"{slug}.{token}.lock"

    def acquire(self, name: str, wait: float = 0.0, unique: bool = False) -> Held:
        """``unique`` names' files are removed on release so that they do not pile up."""
        self.folder.mkdir(exist_ok=True)
        path = self._path(name)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)

        def release() -> None:
            if unique:
                path.unlink(missing_ok=True)  # while still held: nobody waits on it
            os.close(fd)  # closing the descriptor drops the flock

        def try_once() -> Held | None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return None
            return Held(name, release)

        try:
            return _poll(try_once, name, wait)
        except LockBusy:
            os.close(fd)
            raise

    def is_held(self, name: str) -> bool:
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


def advisory_key(name: str) -> int:
    """The signed 64-bit advisory lock key of a lock name."""
    return int.from_bytes(
        hashlib.sha256(f"regwatch:{name}".encode()).digest()[:8], "big", signed=True
    )


class AdvisoryLocks:
    """PostgreSQL session-level advisory locks, each on a connection of its own (never a
    pooled one: a pooled connection would outlive the lock's holder)."""

    def __init__(self, connect: Callable[[], Any]) -> None:
        self._connect = connect  # a new autocommit DB-API connection
        # the connections holding locks: a lock lives until released or its process dies,
        # never only as long as its Held object (as a flock lives with its descriptor)
        self._holding: set[Any] = set()

    def _try(self, conn: Any, name: str) -> bool:
        with conn.cursor() as cur:
            cur.execute("SELECT pg_try_advisory_lock(%s)", (advisory_key(name),))
            return bool(cur.fetchone()[0])

    def acquire(self, name: str, wait: float = 0.0, unique: bool = False) -> Held:
        conn = self._connect()

        def release() -> None:
            self._holding.discard(conn)
            conn.close()  # the server drops the session's advisory locks with it

        def alive() -> bool:
            try:
                with conn.cursor() as cur:
                    cur.execute(
                        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
                        " AND pid = pg_backend_pid() AND granted"
                    )
                    return bool(cur.fetchone()[0])
            except Exception:  # the connection is gone: so is the lock
                return False

        def try_once() -> Held | None:
            return Held(name, release, alive) if self._try(conn, name) else None

        try:
            held = _poll(try_once, name, wait)
        except BaseException:
            conn.close()
            raise
        self._holding.add(conn)
        return held

    def is_held(self, name: str) -> bool:
        conn = self._connect()
        try:
            if not self._try(conn, name):
                return True
            with conn.cursor() as cur:
                cur.execute("SELECT pg_advisory_unlock(%s)", (advisory_key(name),))
            return False
        finally:
            conn.close()
