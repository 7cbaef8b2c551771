"""APScheduler wiring only: `regwatch schedule` runs the configured jobs on time, once.

Each job runs the matching CLI command in its own process (a crawl needs a fresh Twisted
reactor). Jobs live in the project's database (APScheduler's SQLAlchemy job store), are
coalesced and have a misfire grace of a day: a job that fell due while the scheduler was
down runs once when it comes back, never twice (the Public Inspection poll, every few
minutes in the FR's office hours, has a grace of one interval: a missed poll is not worth
running late; the next one fetches the whole list anyway). One scheduler per store: on
SQLite a second one refuses to start; on PostgreSQL (schedulers on several machines) a second
one is a standby that waits on the store's ``scheduler`` advisory lock and takes over when
the active one dies (kill -9 included). SIGTERM lets the running job finish, then exits.
"""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger

from crawler.config import Config
from crawler.errors import Busy, ConfigError, RegwatchError
from crawler.jobs.hours import OfficeHours
from crawler.workdays import Hours
from storage import Held, LockBusy, Store
from storage.engine import target

JOBS = ("run", "send")  # cron jobs; ``inspect`` runs on the FR's office hours
_DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class SchedulerBusy(RegwatchError):
    """Raised by ``lock`` when another scheduler already runs on the same store."""

    exit_code = 2


@dataclass(frozen=True)
class PlannedJob:
    name: str
    when: str  # as config.toml says it
    trigger: BaseTrigger
    grace: int | None = None  # seconds; None: [schedule] misfire_grace_hours
    store: str = "default"  # "memory": planned afresh at each start, never kept


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
    fr = config.sources.federal_register
    if config.schedule.inspect and fr.enabled and fr.public_inspection:
        # a poll missed while down is not worth running late; kept in memory only, so
        # turning it off (or the FR's Public Inspection off) leaves no stored job firing
        hours = Hours.parse(config.schedule.inspect_hours, "schedule.inspect_hours")
        poll = OfficeHours(config.schedule.inspect, hours)
        grace = config.schedule.inspect * 60
        jobs.append(PlannedJob("inspect", str(poll), poll, grace=grace, store="memory"))
    return jobs


def next_runs(config: Config, now: datetime) -> list[tuple[str, str, datetime | None]]:
    """(job, when, next fire time) for `regwatch schedule --list`."""
    return [(j.name, j.when, j.trigger.get_next_fire_time(None, now)) for j in planned(config)]


def standby(store: Store, label: str, stopped: list[int]) -> Held | None:
    """PostgreSQL: hold the store's ``scheduler`` lock, waiting as a standby while another
    scheduler holds it; None when a stop was asked for while waiting."""
    try:
        return store.lock("scheduler")
    except LockBusy:
        print(
            f"regwatch schedule: another scheduler is active on {label}; "
            "standing by to take over when it stops",
            flush=True,
        )
    while not stopped:
        try:
            return store.lock("scheduler", wait=1.0)
        except LockBusy:
            continue
    return None


def lock(config: Config) -> Any:
    """SQLite: hold the store's scheduler lock file for the life of the process, or raise
    SchedulerBusy."""
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


LOCK_CHECK_SECONDS = 5  # how often an active scheduler on PostgreSQL checks it still leads


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
    if target(config.store_url).is_sqlite:
        held, store = lock(config), None
        jobs_url = f"sqlite:///{config.store_path}"
    else:
        from crawler.jobs.daily import open_store

        store = open_store(config)  # the schema (and its jobs table) made before waiting
        held = standby(store, config.store_label, requested)
        jobs_url = config.store_url
        if held is None:
            store.close()
            return
    from apscheduler.events import EVENT_SCHEDULER_START
    from apscheduler.jobstores.memory import MemoryJobStore
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore

    scheduler = BlockingScheduler(
        jobstores={
            "default": SQLAlchemyJobStore(url=jobs_url, tablename="apscheduler_jobs"),
            "memory": MemoryJobStore(),  # this process's own checks, never shared
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
            jobstore=job.store,
            **({"misfire_grace_time": job.grace} if job.grace is not None else {}),
        )

    def started(_event: Any) -> None:
        """Said once the scheduler runs (a SIGTERM from now on stops it); a stop asked for
        while it was starting stops it now."""
        print(f"regwatch schedule: active on {config.store_label} (pid {os.getpid()})", flush=True)
        if requested:
            threading.Thread(target=scheduler.shutdown).start()

    scheduler.add_listener(started, EVENT_SCHEDULER_START)
    lost: list[bool] = []
    if store is not None:  # PostgreSQL: the advisory lock can die with its connection

        def watch() -> None:
            """Leave when the lock is gone, so that a standby that took it over is the only
            active scheduler; the exit status asks a supervisor to start this one again
            (it then stands by)."""
            if not held.alive():
                lost.append(True)
                threading.Thread(target=scheduler.shutdown).start()

        scheduler.add_job(
            watch, "interval", seconds=LOCK_CHECK_SECONDS, id="lock-watch", jobstore="memory"
        )
    stopping.append(scheduler)
    try:
        if not requested:
            scheduler.start()
    finally:
        if store is None:
            held.close()  # the lock file's handle
        else:
            held.release()
            store.close()
    if lost:
        raise Busy(
            f"regwatch schedule: lost the scheduler lock on {config.store_label} (its database "
            "connection was closed); stopped so that only one scheduler is active: start it "
            "again to stand by"
        )
