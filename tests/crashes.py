"""A small daily run in a process of its own (or a fork of the caller), killed at a chosen
commit, and the store's state compared as the issue defines convergence: versions by
(document, valid_from, content hash), changes, redlines, digests with run ids and times
masked, outbox statuses. Used by tests/test_convergence.py (a commit of each stage of the run),
tests/test_failures.py and bench/crash.py (random kill -9 loops)."""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import forkcrawl

DAY = "2026-10-05"
_TIMES = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2})?(\.\d+)?([+-]\d{2}:?\d{2}|Z)?")
_CLOCK = re.compile(r"\b\d{2}:\d{2}( [A-Z]{3,4})?\b")
_RUN = re.compile(r"\brun \d+\b")


@dataclass
class SmallRun:
    """One folder with its config: the Federal Register on the replay server at ``base``,
    mail to the SMTP server on ``smtp_port``; with ``ecfr`` also the eCFR (15 CFR 744)."""

    folder: Path
    base: str
    smtp_port: int
    ecfr: bool = False

    def copy(self, folder: Path) -> SmallRun:
        """The same store and outputs in another folder (a seed for many runs)."""
        shutil.copytree(self.folder, folder, ignore=shutil.ignore_patterns("*.locks", "commits"))
        return SmallRun(folder, self.base, self.smtp_port, self.ecfr)

    @property
    def config(self) -> Path:
        path = self.folder / "regwatch.toml"
        if not path.exists():
            self.folder.mkdir(parents=True, exist_ok=True)
            path.write_text(
                f"""[store]
path = "regwatch.db"
lock_wait = 5

[http]
polite = false

[sources.federal_register]
api_base = "{self.base}/api/v1"
site_base = "{self.base}"
first_run_days = 0

[sources.ecfr]
enabled = {"true" if self.ecfr else "false"}
api_base = "{self.base}/api/versioner/v1"
watches = ["15:744"]

[sources.bis]
enabled = false

[smtp]
host = "127.0.0.1"
port = {self.smtp_port}
security = "none"

[[subscriptions]]
name = "all"
recipients = ["compliance@example.com"]
"""
            )
        return path

    def run(
        self, day: str = DAY, crash_at: int = 0, counter: Path | None = None, fork: bool = False
    ) -> int:
        """``regwatch run --date DAY``; with ``crash_at``, killed before that commit. With
        ``fork``, in a fork of this process (no interpreter start: tests/forkcrawl.py), else
        in a process of its own (bench/crash.py)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("REGWATCH_")}
        env["REGWATCH_CRASH_COUNTER"] = str(counter or self.folder / "commits")
        if crash_at:
            env["REGWATCH_CRASH_AT"] = str(crash_at)
        args = ["--config", str(self.config), "run", "--date", day]
        if fork:
            return forked(args, env)
        proc = subprocess.run(
            [sys.executable, "-m", "crawler", *args],
            env=env,
            capture_output=True,
            check=False,
            timeout=120,
            start_new_session=True,  # a crash kills this run's process group, not pytest
        )
        return proc.returncode


def forked(args: list[str], env: dict[str, str]) -> int:
    """``regwatch ARGS`` with ``env`` in a fork of this process, in a session of its own as
    ``run`` starts it (a crash kills the session's group: the run and its crawl); its exit
    status, negative for the signal that killed it. Its crawl is forked from it in turn."""
    forkcrawl.warm()
    pid = os.fork()
    if pid == 0:  # the child: never returns into the caller
        code = 70
        try:
            os.setsid()
            quiet = os.open(os.devnull, os.O_RDWR)
            for fd in (0, 1, 2):
                os.dup2(quiet, fd)
            os.environ.clear()
            os.environ.update(env)
            from crawler.cli import main
            from crawler.jobs import crawl

            crawl.subprocess = forkcrawl.Subprocess  # type: ignore[assignment]
            main.main(args=args, prog_name="regwatch")
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def state(folder: Path) -> dict[str, Any]:
    """What a run leaves behind, comparable between runs made at different times."""
    db = sqlite3.connect(folder / "regwatch.db")
    try:
        versions = sorted(
            db.execute("select document, valid_from, text_hash from versions").fetchall()
        )
        changes = sorted(
            db.execute(
                """select c.document, f.text_hash, t.text_hash, c.substantive
                   from changes c left join versions f on f.id = c.from_version
                   join versions t on t.id = c.to_version"""
            ).fetchall()
        )
        redlined = sorted(
            db.execute(
                "select v.document, v.text_hash, r.units from redlined r"
                " join versions v on v.id = r.version"
            ).fetchall()
        )
        outbox = sorted(
            db.execute("select digest, recipient, message_id, status from outbox").fetchall()
        )
        retries = sorted(db.execute("select source, target from retries").fetchall())
    finally:
        db.close()
    digests = {
        p.name: mask(p.read_text()) for p in sorted((folder / "digests").glob("*")) if p.is_file()
    }
    return {
        "versions": versions,
        "changes": changes,
        "redlined": redlined,
        "outbox": outbox,
        "retries": retries,
        "digests": digests,
    }


def mask(text: str) -> str:
    return _RUN.sub("run N", _CLOCK.sub("HH:MM", _TIMES.sub("TIME", text)))


def commits(counter: Path) -> int:
    return counter.stat().st_size if counter.exists() else 0
