"""Deterministic crash injection, for the convergence tests and ``bench/crash.py``.

With ``REGWATCH_CRASH_COUNTER`` naming a file, every commit of every process that opens a
store appends one byte to it, so the file's size counts the commits of a whole run (the job
and its crawl process). With ``REGWATCH_CRASH_AT=N`` as well, the process about to make the
N-th commit kills its whole process group with SIGKILL (the job and its crawl process, as
``kill -9`` of a run would): everything before is committed, nothing after is. Start such a
run in a session of its own. Without the variables this module does nothing."""

from __future__ import annotations

import os
import signal
from typing import Any

from sqlalchemy import Engine, event


def install(engine: Engine, env: Any = os.environ) -> None:
    counter = env.get("REGWATCH_CRASH_COUNTER")
    if not counter:
        return
    crash_at = int(env.get("REGWATCH_CRASH_AT") or 0)

    def before_commit(_conn: Any) -> None:
        fd = os.open(counter, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, b".")
            count = os.fstat(fd).st_size
        finally:
            os.close(fd)
        if count == crash_at:
            os.killpg(os.getpgrp(), signal.SIGKILL)

    event.listen(engine, "commit", before_commit)
