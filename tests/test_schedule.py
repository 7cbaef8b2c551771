"""The scheduler: on time across daylight-saving changes, once after an outage, one per store
(on PostgreSQL: one active, the others standing by to take over)."""

from __future__ import annotations

import itertools
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from crawler.errors import ConfigError
from crawler.jobs.schedule import trigger

NY = ZoneInfo("America/New_York")
TICKS: list[datetime] = []


def tick() -> None:
    TICKS.append(datetime.now(NY))


def fire_times(cron: str, start: datetime, count: int) -> list[datetime]:
    job = trigger(cron, "America/New_York")
    out: list[datetime] = []
    previous = None
    now = start
    while len(out) < count:
        nxt = job.get_next_fire_time(previous, now)
        out.append(nxt)
        previous, now = nxt, nxt + timedelta(microseconds=1)
    return out


def test_two_years_of_daily_runs_across_daylight_saving_changes():
    start = datetime(2025, 1, 1, tzinfo=NY)
    runs = fire_times("30 6 * * *", start, 730)
    days = [r.date() for r in runs]
    assert len(set(days)) == 730  # none doubled
    assert all(b - a == timedelta(days=1) for a, b in itertools.pairwise(days))  # none skipped
    assert {(r.hour, r.minute) for r in runs} == {(6, 30)}  # 6:30 Eastern, EST and EDT alike
    assert {r.utcoffset() for r in runs} == {timedelta(hours=-5), timedelta(hours=-4)}


def test_cron_weekdays_are_cron_s_not_apscheduler_s():
    runs = fire_times("30 6 * * 1-5", datetime(2026, 3, 1, tzinfo=NY), 10)
    assert {r.strftime("%a") for r in runs} == {"Mon", "Tue", "Wed", "Thu", "Fri"}
    sundays = fire_times("0 9 * * 0", datetime(2026, 3, 1, tzinfo=NY), 3)
    assert {r.strftime("%a") for r in sundays} == {"Sun"}


def test_a_bad_cron_line_is_a_config_error():
    with pytest.raises(ConfigError, match="five-field"):
        trigger("30 6 * *", "America/New_York")


def test_a_thirty_hour_outage_gives_one_catch_up_run(tmp_path: Path):
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.background import BackgroundScheduler

    TICKS.clear()
    store = f"sqlite:///{tmp_path / 'regwatch.db'}"
    scheduler = BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(url=store, tablename="apscheduler_jobs")},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 86400},
        timezone=NY,
    )
    now = datetime.now(NY)
    due = (now - timedelta(hours=30)).replace(second=0, microsecond=0)
    cron = f"{due.minute} {due.hour} * * *"
    scheduler.add_job(
        "test_schedule:tick", trigger(cron, "America/New_York"), id="run", next_run_time=due
    )  # it fell due 30 hours ago, and again 6 hours ago
    scheduler.start()
    try:
        deadline = time.monotonic() + 10
        while not TICKS and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(1.0)
        assert len(TICKS) == 1  # coalesced: one catch-up run, not two
        assert scheduler.get_job("run").next_run_time > now
    finally:
        scheduler.shutdown(wait=True)


def test_one_scheduler_per_store_and_sigterm_exits_cleanly(tmp_path: Path):
    config = tmp_path / "regwatch.toml"
    config.write_text(
        '[schedule]\nrun = "0 3 1 1 *"\nsend = ""\ninspect = 0\n[sources.ecfr]\nenabled = false\n'
    )
    command = [sys.executable, "-m", "crawler", "--config", str(config), "schedule"]
    first = subprocess.Popen(
        command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        lock = tmp_path / "regwatch.db.scheduler.lock"
        deadline = time.monotonic() + 30
        while not (lock.exists() and lock.read_text().strip()) and time.monotonic() < deadline:
            time.sleep(0.1)
        second = subprocess.run(
            command, cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False
        )
        assert second.returncode == 2
        assert second.stderr.strip() == (
            f"regwatch: another scheduler is running on {tmp_path / 'regwatch.db'} "
            f"(pid {first.pid}); not starting a second"
        )
        first.send_signal(signal.SIGTERM)
        assert first.wait(timeout=30) == 0
    finally:
        if first.poll() is None:
            first.kill()


def test_the_scheduler_runs_three_crawls_in_a_row_in_subprocesses(tmp_path: Path):
    from crawler.demo.replay import Corpus, ReplayServer
    from storage import Store

    with ReplayServer(Corpus.demo()) as server:
        config = tmp_path / "regwatch.toml"
        # every second (a second that falls due while a crawl runs is skipped: one at a
        # time), the eCFR only: three short crawls, back to back
        config.write_text(
            '[schedule]\nrun = "* * * * * *"\nsend = ""\ninspect = 0\n[http]\npolite = false\n'
            "[sources.federal_register]\nenabled = false\n"
            f'[sources.ecfr]\napi_base = "{server.base}/api/versioner/v1"\n'
            'watches = ["15:744"]\n'
            "[sources.bis]\nenabled = false\n"
        )
        scheduler = subprocess.Popen(
            [sys.executable, "-m", "crawler", "--config", str(config), "schedule"],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            db = tmp_path / "regwatch.db"
            deadline = time.monotonic() + 120
            finished = 0
            while finished < 3 and time.monotonic() < deadline:
                time.sleep(0.2)
                if db.exists():
                    store = Store.open(db)
                    runs = [r for r in store.runs_on(datetime.now(NY).date().isoformat())]
                    finished = sum(1 for r in runs if r.finished)
                    store.close()
            scheduler.send_signal(signal.SIGTERM)
            assert scheduler.wait(timeout=60) == 0
        finally:
            if scheduler.poll() is None:
                scheduler.kill()
        store = Store.open(db)
        runs = store.runs_on(datetime.now(NY).date().isoformat())
        assert len(runs) >= 3 and all(r.finished for r in runs)  # SIGTERM let the last finish
        assert {r.status for r in runs} == {"ok"}
        assert store.keys("cfr:")  # the crawls really ran (the eCFR part was stored)


def test_list_shows_the_jobs_and_their_next_run_times(tmp_path: Path):
    from click.testing import CliRunner

    from crawler.cli import main

    config = tmp_path / "regwatch.toml"
    config.write_text('[schedule]\nrun = "30 6 * * 1-5"\nsend = ""\ninspect = 0\n')
    result = CliRunner().invoke(main, ["--config", str(config), "schedule", "--list"])
    assert result.exit_code == 0, result.output
    [line] = result.output.splitlines()
    name, *_cron, _next, when = line.split()
    when = datetime.fromisoformat(when)
    assert name == "run" and (when.hour, when.minute) == (6, 30)
    assert when.strftime("%a") in {"Mon", "Tue", "Wed", "Thu", "Fri"}


def _lines(process: subprocess.Popen) -> queue.Queue:
    """The process's stdout lines, as they come (read by a thread: a wait can time out)."""
    lines: queue.Queue = queue.Queue()

    def read() -> None:
        for line in process.stdout:
            lines.put(line.strip())

    threading.Thread(target=read, daemon=True).start()
    return lines


def _wait_for(lines: queue.Queue, start: str, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while True:
        line = lines.get(timeout=max(0.01, deadline - time.monotonic()))
        if line.startswith(start):
            return line


def test_on_postgresql_a_second_scheduler_stands_by_and_takes_over_after_kill_9(
    tmp_path: Path, pg_url: str
):
    config = tmp_path / "regwatch.toml"
    config.write_text(
        f'[store]\nurl = "{pg_url}"\n[schedule]\nrun = "0 3 1 1 *"\nsend = ""\ninspect = 0\n'
        "[sources.ecfr]\nenabled = false\n"
    )
    command = [sys.executable, "-m", "crawler", "--config", str(config), "schedule"]
    started = []
    try:
        # as on two machines: nothing shared but the database
        started.append(subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.PIPE, text=True))
        first, one = started[0], _lines(started[0])
        _wait_for(one, "regwatch schedule: active on", 60)
        started.append(subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.PIPE, text=True))
        second, two = started[1], _lines(started[1])
        line = _wait_for(two, "regwatch schedule:", 60)
        assert "standing by to take over" in line and "t_" in line
        killed = time.monotonic()
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=30)
        line = _wait_for(two, "regwatch schedule: active on", 30)
        took = time.monotonic() - killed
        print(f"\nthe standby scheduler took over {took:.2f} s after kill -9 of the active one")
        assert f"pid {second.pid}" in line and took < 10
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=30) == 0
    finally:
        for process in started:
            if process.poll() is None:
                process.kill()
                process.wait()


def test_on_postgresql_a_scheduler_that_loses_its_lock_stops(tmp_path: Path, pg_url: str):
    """The advisory lock dies with its connection (a server restart, a terminated session):
    the scheduler that held it notices within seconds and stops with status 4, so that a
    standby that took the lock over is the only active scheduler."""
    import psycopg

    config = tmp_path / "regwatch.toml"
    config.write_text(
        f'[store]\nurl = "{pg_url}"\n[schedule]\nrun = "0 3 1 1 *"\nsend = ""\ninspect = 0\n'
        "[sources.ecfr]\nenabled = false\n"
    )
    command = [sys.executable, "-m", "crawler", "--config", str(config), "schedule"]
    process = subprocess.Popen(
        command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        _wait_for(_lines(process), "regwatch schedule: active on", 60)
        with psycopg.connect(pg_url.replace("postgresql+psycopg://", "postgresql://")) as conn:
            ended = conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory'"
                " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
                " AND pid <> pg_backend_pid()"
            ).fetchall()
        assert ended and all(ok for (ok,) in ended)  # the scheduler's lock session, ended
        cut = time.monotonic()
        status = process.wait(timeout=30)
        took = time.monotonic() - cut
        stderr = process.stderr.read() if process.stderr else ""
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    print(f"\nthe scheduler stopped {took:.1f} s after its lock's session was ended")
    assert status == 4, stderr
    assert "lost the scheduler lock" in stderr and "Traceback" not in stderr
