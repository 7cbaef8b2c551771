"""APScheduler wiring only: `regwatch schedule` runs the configured jobs on time, once.

Each job runs the matching CLI command in its own process (a crawl needs a fresh Twisted
reactor). Jobs live in the project's database (APScheduler's SQLAlchemy job store), are
coalesced and have a misfire grace of a day: a job that fell due while the scheduler was
down runs once when it comes back, never twice. One scheduler per store: a second one
refuses to start. SIGTERM lets the running job finish, then exits.
"""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger

from crawler.config import Config
from crawler.errors import ConfigError, RegwatchError

JOBS = ("run", "send")
_DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class SchedulerBusy(RegwatchError):
    """Raised by ``lock`` when another scheduler already runs on the same store."""

    exit_code = 2


@dataclass(frozen=True)
class PlannedJob:
    name: str
    cron: str
    trigger: CronTrigger


def trigger(cron: str, timezone: str) -> CronTrigger:
    """A five-field crontab line (or six, seconds first) as an APScheduler trigger.
    Day-of-week numbers are cron's (0 or 7 Sunday, 1 Monday); APScheduler 3 counts from
    Monday, so they become names."""
    fields = cron.split()
    if len(fields) not in (5, 6):
        raise ConfigError(f"schedule: {cron!r} is not a five-field cron expression")
    second = fields.pop(0) if len(fields) == 6 else "0"
    minute, hour, day, month, dow = fields
    dow = "".join(
        _DAYS[int(part)] if part.isdigit() and int(part) <= 7 else part for part in _split(dow)
    )
    try:
        return CronTrigger(
            second=second,
            minute=minute,
            hour=hour,
            day=day,
            month=month,
            day_of_week=dow,
            timezone=ZoneInfo(timezone),
        )
    except ValueError as exc:
        raise ConfigError(f"schedule: {cron!r}: {exc}") from None


def _split(text: str) -> list[str]:
    """'1-5,7' -> ['1', '-', '5', ',', '7'] (numbers and separators)."""
    out, number = [], ""
    for ch in text:
        if ch.isdigit():
            number += ch
        else:
            if number:
                out.append(number)
                number = ""
            out.append(ch)
    if number:
        out.append(number)
    return out


def planned(config: Config) -> list[PlannedJob]:
    jobs = []
    for name in JOBS:
        cron = getattr(config.schedule, name)
        if cron:
            jobs.append(PlannedJob(name, cron, trigger(cron, config.timezone)))
    return jobs


def next_runs(config: Config, now: datetime) -> list[tuple[str, str, datetime | None]]:
    """(job, cron, next fire time) for `regwatch schedule --list`."""
    return [(j.name, j.cron, j.trigger.get_next_fire_time(None, now)) for j in planned(config)]


def lock(config: Config) -> Any:
    """Hold the store's scheduler lock for the life of the process, or raise SchedulerBusy."""
    path = Path(f"{config.store_path}.scheduler.lock")
    handle = path.open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        other = handle.read().strip() or "unknown"
        raise SchedulerBusy(
            f"another scheduler is running on {config.store_path} "
            f"(pid {other}); not starting a second"
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(str(os.getpid()))
    handle.flush()
    return handle


def run_command(config_file: str, command: str) -> int:
    """The job itself: ``regwatch --config FILE COMMAND`` in a process of its own."""
    return subprocess.run(
        [sys.executable, "-m", "crawler", "--config", config_file, command], check=False
    ).returncode


def serve(config: Config) -> None:
    """Run the scheduler in the foreground until SIGTERM or SIGINT."""
    if config.file is None:
        raise ConfigError(
            "regwatch schedule needs a config file (--config), which each job is run with"
        )
    stopping: list[BlockingScheduler] = []  # holds the scheduler once it exists
    requested = []

    def stop(signum: int, _frame: Any) -> None:
        requested.append(signum)
        if stopping and stopping[0].running:
            stopping[0].shutdown(wait=True)  # the running job finishes first

    signal.signal(signal.SIGTERM, stop)  # before anything else: a stop is never lost
    signal.signal(signal.SIGINT, stop)
    held = lock(config)
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore

    scheduler = BlockingScheduler(
        jobstores={
            "default": SQLAlchemyJobStore(
                url=f"sqlite:///{config.store_path}", tablename="apscheduler_jobs"
            )
        },
        job_defaults={
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": int(config.schedule.misfire_grace_hours * 3600),
        },
        timezone=ZoneInfo(config.timezone),
    )
    config_file = str(Path(config.file).resolve())
    for job in planned(config):
        scheduler.add_job(
            run_command,
            job.trigger,
            args=[config_file, job.name],
            id=job.name,
            name=f"regwatch {job.name}",
            replace_existing=True,
        )

    stopping.append(scheduler)
    try:
        if not requested:
            scheduler.start()
    finally:
        held.close()
