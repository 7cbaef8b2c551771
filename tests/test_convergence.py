"""Reruns converge after any crash: a daily run killed before each of its commits in turn,
then run again, ends in the state of a run never killed (tests/crashes.py says how states
are compared). The random kill -9 loops are bench/crash.py."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from conftest import free_port
from crashes import SmallRun, commits, state

from crawler.demo.replay import Corpus, ReplayServer

FRIDAY = "2026-10-09"


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


def test_a_run_killed_before_any_of_its_commits_then_rerun_ends_as_a_clean_run(
    world: tuple[ReplayServer, int, Inbox], tmp_path: Path
) -> None:
    """Friday 2026-10-09 on a store that holds Monday: an FR rule that removes an Entity
    List entry (so a redline, and an eCFR part that is first held, then confirmed by the
    rule), an eCFR change of 744.11, and the day's digest mailed."""
    server, port, inbox = world
    seed = SmallRun(tmp_path / "seed", server.base, port, ecfr=True)
    assert seed.run(day="2026-10-05") == 0
    clean = seed.copy(tmp_path / "clean")
    assert clean.run(day=FRIDAY) == 0
    total = commits(clean.folder / "commits")
    expected = state(clean.folder)
    assert total >= 20, total
    assert expected["changes"] and expected["redlined"] and expected["outbox"]

    def kill_then_rerun(point: int) -> dict:
        killed = seed.copy(tmp_path / f"killed-{point}")
        status = killed.run(day=FRIDAY, crash_at=point)
        reached = commits(killed.folder / "commits")
        rerun = killed.run(day=FRIDAY)
        got = state(killed.folder)
        wrong = {k: (got[k], expected[k]) for k in expected if got[k] != expected[k]}
        if (status, reached, rerun) != (-signal.SIGKILL, point, 0):
            wrong["process"] = ((status, reached, rerun), (-signal.SIGKILL, point, 0))
        return wrong

    with ThreadPoolExecutor(max_workers=2) as pool:  # each point runs in processes of its own
        results = pool.map(kill_then_rerun, range(1, total + 1))
        differ = {point: wrong for point, wrong in enumerate(results, 1) if wrong}
    assert not differ, differ
    # a message the server accepted just before the kill is sent again with its Message-ID
    assert set(inbox.message_ids) == {row[2] for row in expected["outbox"]}
