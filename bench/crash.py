"""Random kill -9 loops: a small daily run killed at a random moment (SIGKILL to its process
group: the job and its crawl process), then rerun; the state must equal a clean run's.

    python bench/crash.py [--kills 200] [--seed 1]

Each round starts from an empty store, kills the run after a random delay (up to the clean
run's duration), reruns it to completion and compares the state as tests/crashes.py defines it
(versions by document, valid_from and content hash; changes; redlines; digests with times and
run ids masked; outbox statuses; the retry list). Prints the rounds that differ and a summary;
exits 1 if any differed. tests/test_convergence.py crashes deterministically at every commit.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from aiosmtpd.controller import Controller
from crashes import DAY, SmallRun, free_port, state

from crawler.demo.replay import Corpus, ReplayServer


class Inbox:
    async def handle_DATA(self, server, session, envelope) -> str:
        return "250 OK"


def killed_at(run: SmallRun, delay: float) -> int:
    """Start ``regwatch run`` and SIGKILL its process group after ``delay`` seconds."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGWATCH_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "crawler", "--config", str(run.config), "run", "--date", DAY],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        return proc.wait(timeout=delay)  # finished before the kill
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        return proc.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    port = free_port()
    controller = Controller(Inbox(), hostname="127.0.0.1", port=port)
    controller.start()
    differ = killed = 0
    try:
        with ReplayServer(Corpus.demo()) as server, tempfile.TemporaryDirectory() as tmp:
            clean = SmallRun(Path(tmp) / "clean", server.base, port)
            started = time.monotonic()
            assert clean.run() == 0, "the clean run failed"
            duration = time.monotonic() - started
            expected = state(clean.folder)
            print(f"clean run: {duration:.1f} s; killing {args.kills} runs at random moments")
            for n in range(1, args.kills + 1):
                run = SmallRun(Path(tmp) / f"round-{n}", server.base, port)
                status = killed_at(run, rng.uniform(0.05, duration))
                killed += status == -signal.SIGKILL
                rerun = run.run()
                got = state(run.folder)
                wrong = sorted(k for k in expected if got[k] != expected[k])
                if wrong or rerun != 0:
                    differ += 1
                    print(f"round {n}: rerun exit {rerun}; differs in {', '.join(wrong) or '-'}")
                if n % 20 == 0:
                    print(f"{n} rounds, {killed} killed mid-run, {differ} differ", flush=True)
    finally:
        controller.stop()
    print(f"{args.kills} rounds: {killed} killed mid-run, {differ} differ from the clean run")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
