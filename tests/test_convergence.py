"""Reruns converge after any crash: a daily run killed before a commit, then run again, ends
in the state of a run never killed (tests/crashes.py says how states are compared).

The run is killed at representative commits, chosen from the clean run's own commits by the
stage of the daily job that made them (crawler/jobs/daily.py: opening the run, the crawl, the
redlines, the held eCFR fetches, the mail, closing): the first, middle and last commit of
every stage, and every commit of the mail (queued, claimed, accepted by
the server but not yet marked sent ...). Runs are forks of the test process (no interpreter
start; a crash kills the run and its crawl, as kill -9 would). ``CONVERGENCE_POINTS=all``
kills before every commit instead (about 40 points, a minute). The random kill -9 loops, in
processes of their own, are bench/crash.py."""

from __future__ import annotations

import os
import signal
import traceback
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from conftest import free_port
from crashes import SmallRun, commits, state
from sqlalchemy import event

from crawler.demo.replay import Corpus, ReplayServer
from storage import crashpoints

FRIDAY = "2026-10-09"
STAGES = "CONVERGENCE_STAGES"  # a file: one line per commit, the job's stage that made it
JOB = os.sep + os.path.join("crawler", "jobs", "daily.py")
MAIL = "_mail"
SWEEP = "CONVERGENCE_POINTS"  # "all": kill before every commit of the run, not a selection


class Inbox:
    def __init__(self) -> None:
        self.message_ids: list[str] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        for line in envelope.content.decode(errors="replace").splitlines():
            if line.lower().startswith("message-id:"):
                self.message_ids.append(line.split(":", 1)[1].strip())
        return "250 OK"


@pytest.fixture(scope="module")
def world() -> Iterator[tuple[ReplayServer, int, Inbox]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with ReplayServer(Corpus.demo()) as server:
            yield server, port, inbox
    finally:
        controller.stop()


@pytest.fixture
def stages(monkeypatch: pytest.MonkeyPatch) -> None:
    """With $CONVERGENCE_STAGES set, every commit also writes the daily job's stage that
    made it (the innermost function of crawler/jobs/daily.py on the stack) to that file."""
    install = crashpoints.install

    def labelled(engine: Any, env: Any = os.environ) -> None:
        install(engine, env)
        if env.get(STAGES):
            event.listen(engine, "commit", lambda _conn: _label(env[STAGES]))

    monkeypatch.setattr(crashpoints, "install", labelled)


def _label(path: str) -> None:
    frames = [f.name for f in traceback.extract_stack() if f.filename.endswith(JOB)]
    with open(path, "a") as out:
        out.write((frames[-1] if frames else "other") + "\n")


def representative(labels: list[str]) -> list[int]:
    """Commit numbers (1-based) to kill at: the first and last of every stage, the middle
    of a long one, every one of the mail."""
    points: set[int] = set()
    runs: list[list[int]] = []
    for number, label in enumerate(labels, 1):
        if runs and labels[runs[-1][0] - 1] == label:
            runs[-1].append(number)
        else:
            runs.append([number])
    for run in runs:
        if labels[run[0] - 1] == MAIL:
            points.update(run)
        points.update((run[0], run[len(run) // 2], run[-1]))
    return sorted(points)


def test_a_run_killed_at_each_stage_then_rerun_ends_as_a_clean_run(
    world: tuple[ReplayServer, int, Inbox], tmp_path: Path, stages: None
) -> None:
    """Friday 2026-10-09 on a store that holds Monday: an FR rule that removes an Entity
    List entry (so a redline, and an eCFR part that is first held, then confirmed by the
    rule), an eCFR change of 744.11, and the day's digest mailed."""
    server, port, inbox = world
    seed = SmallRun(tmp_path / "seed", server.base, port, ecfr=True)
    assert seed.run(day="2026-10-05", fork=True) == 0
    clean = seed.copy(tmp_path / "clean")
    os.environ[STAGES] = str(tmp_path / "stages")
    try:
        assert clean.run(day=FRIDAY, fork=True) == 0
    finally:
        del os.environ[STAGES]
    total = commits(clean.folder / "commits")
    labels = (tmp_path / "stages").read_text().split()
    expected = state(clean.folder)
    assert total >= 20 and len(labels) == total, (total, labels)
    assert MAIL in labels and "_crawl" in labels, labels
    assert expected["changes"] and expected["redlined"] and expected["outbox"]

    def kill_then_rerun(point: int) -> dict:
        killed = seed.copy(tmp_path / f"killed-{point}")
        status = killed.run(day=FRIDAY, crash_at=point, fork=True)
        reached = commits(killed.folder / "commits")
        rerun = killed.run(day=FRIDAY, fork=True)
        got = state(killed.folder)
        wrong = {k: (got[k], expected[k]) for k in expected if got[k] != expected[k]}
        if (status, reached, rerun) != (-signal.SIGKILL, point, 0):
            wrong["process"] = ((status, reached, rerun), (-signal.SIGKILL, point, 0))
        return wrong

    points = list(range(1, total + 1)) if os.environ.get(SWEEP) == "all" else representative(labels)
    with ThreadPoolExecutor(max_workers=2) as pool:  # each run in processes of its own
        results = pool.map(kill_then_rerun, points)
        differ = {point: wrong for point, wrong in zip(points, results, strict=True) if wrong}
    assert not differ, differ
    # a message the server accepted just before the kill is sent again with its Message-ID
    assert set(inbox.message_ids) == {row[2] for row in expected["outbox"]}


def test_the_representative_commits_cover_every_stage_and_all_of_the_mail():
    labels = ["_opened", "daily", "daily"] + ["_crawl"] * 9 + [MAIL] * 3 + ["_close"]
    assert representative(labels) == [1, 2, 3, 4, 8, 12, 13, 14, 15, 16]
