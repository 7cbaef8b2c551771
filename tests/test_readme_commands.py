"""Every command in the README's command-line table, run as a user runs it (a fresh process)
against the demo's store, with the demo's sources on a replay server on 127.0.0.1: its exit
status and what it prints. A README row without a case here fails, so a command that
crashes cannot ship undocumented or untested again."""

from __future__ import annotations

import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import DemoTour
from test_cli import regwatch

from crawler.demo.replay import Corpus, ReplayServer

ROOT = Path(__file__).resolve().parents[1]
ROW = re.compile(r"^\| `(regwatch [^`]+)` \|", re.M)


@dataclass(frozen=True)
class Call:
    args: tuple[str, ...]
    status: int
    says: tuple[str, ...]  # what stdout (or, for a refusal, stderr) must contain


# README row (its command column, as written) -> the calls that exercise it
CASES: dict[str, tuple[Call, ...]] = {
    "regwatch run [--date D]": (
        Call(("run", "--date", "2026-10-09"), 0, ("ecfr: ok", "digest: ")),
    ),
    "regwatch crawl [SOURCE] [--since D] [--until D]": (
        Call(("crawl", "bis", "--since", "2026-10-09", "--until", "2026-10-09"), 0, ("bis: ok",)),
        Call(
            ("crawl", "federal_register", "--since", "2026-10-05", "--until", "2026-10-06"),
            0,
            ("federal_register: ok", "unchanged"),
        ),
    ),
    "regwatch backfill ecfr --title 15 --part 744 [--since 2017-01-01] [--until D]": (
        Call(
            (
                "backfill",
                "ecfr",
                "--title",
                "15",
                "--part",
                "744",
                "--since",
                "2026-10-01",
                "--until",
                "2026-10-09",
            ),
            0,
            ("ecfr: ok",),
        ),
    ),
    "regwatch diff CITATION [--from D1] [--to D2] [--format text\\|unified\\|html\\|json]": (
        Call(("diff", "744.11"), 0, ("2026-10-01 -> 2026-10-09, 1 change (1 substantive)",)),
        Call(("diff", "15 CFR 744", "--format", "unified"), 0, ("--- cfr:15:744@2026-10-01",)),
        Call(("diff", "744.11", "--to", "2030-01-01"), 2, ("--to 2030-01-01 is in the future",)),
        Call(
            ("diff", "744.11", "--from", "2026-10-09", "--to", "2026-10-02"),
            2,
            ("--from 2026-10-09 is after --to 2026-10-02",),
        ),
        Call(
            ("diff", "744.11", "--from", "2026-10-02", "--to", "2026-10-08"),
            0,
            ("no change from 2026-10-02 to 2026-10-08",),
        ),
    ),
    "regwatch diff CITATION --rule FRDOC [--to D]": (
        Call(
            ("diff", "Supp. No. 4 to Part 744", "--rule", "2026-21001"),
            0,
            ("as amended by FR Doc. 2026-21001 -> 2026-10-09",),
        ),
    ),
    "regwatch diff FILE_A FILE_B [--format text\\|unified\\|html\\|json]": (
        Call(
            (
                "diff",
                str(ROOT / "tests/data/fr/regtext_chain_rule.xml"),
                str(ROOT / "tests/data/fr/regtext_chain_rule.xml"),
            ),
            0,
            ("(FR XML (REGTEXT)): 0 changes (0 substantive)",),
        ),
        Call(("diff", "no-such-a.xml", "no-such-b.xml"), 2, ("no-such-a.xml is not a file",)),
    ),
    "regwatch entities --since D [--country C]": (
        Call(
            ("entities", "--since", "2026-10-01", "--country", "iran"),
            0,
            (
                "2026-10-08  revised  IRAN: Pars Aero Parts Trading",
                "effective 2026-10-08, published 2026-10-08, in eCFR: 2026-10-09",
                "nothing is known after 2026-10-09",
            ),
        ),
        Call(
            ("entities", "--since", "2026-12-01"),
            1,
            ("Entity List: the store has checked the eCFR only from 2026-10-01 to",),
        ),
    ),
    "regwatch eccn ECCN": (
        # the demo watches part 744 only: no CCL, and it says so rather than "no change"
        Call(("eccn", "3A090"), 1, ("the store holds no version of the Commerce Control List",)),
    ),
    "regwatch history CITATION": (
        Call(
            ("history", "Supp. No. 4 to Part 744"),
            0,
            ("2026-10-09  v2  4 changes (4 substantive)", "(checked the eCFR from 2026-10-01"),
        ),
    ),
    "regwatch rule FRDOC [--date D] [--format text\\|json]": (
        Call(
            ("rule", "2026-21001", "--date", "2026-10-14"),
            0,
            (
                "2026-10-02 08:45  filed for public inspection (regular filing)  [FRDOC line]",
                "15 CFR 744 Supp. No. 4: in the eCFR since 2026-10-09 (3 operations",
                "changed again by a later rule (FR Doc. 2026-21390)",
            ),
        ),
        Call(("rule", "2026-99999"), 2, ("FR Doc. 2026-99999 is not in the store",)),
    ),
    "regwatch upcoming [--date D] [--days N]": (
        Call(
            ("upcoming", "--date", "2026-10-06", "--days", "30"),
            0,
            ("2026-10-09  FR Doc. 2026-21390 (91 FR 71012)", "Taking effect in days 8 to 30"),
        ),
    ),
    "regwatch digest --date D": (
        Call(("digest", "--date", "2026-10-08"), 0, ("2026-10-08.txt", "2026-10-08.html")),
    ),
    "regwatch inspect": (Call(("inspect",), 0, ("federal_register: ok (no window;",)),),
    "regwatch send": (
        Call(("send",), 0, ("email: 0 sent, 0 failed",)),
        Call(("send", "--list"), 0, ("nothing waits in the outbox",)),
    ),
    "regwatch schedule [--list]": (Call(("schedule", "--list"), 0, ("run", "next: ")),),
    "regwatch feeds": (Call(("feeds",), 0, ("all.atom", "index.html")),),
    "regwatch serve [--host H] [--port P]": (  # serving itself: tests/test_serve.py
        Call(("serve", "--host", "0.0.0.0"), 2, ("needs a token", "REGWATCH_SERVE_TOKEN")),
    ),
    "regwatch demo [--dir FOLDER]": (
        Call(("demo", "--dir", "tour"), 0, ("this demo added 0 documents, 0 versions, 0 changes",)),
    ),
    "regwatch rebuild": (Call(("rebuild",), 0, ("rebuilt ", "versions made again", " changed")),),
    "regwatch sources": (
        Call(
            ("sources",),
            0,
            (
                "federal_register  (Federal Register, enabled, http://127.0.0.1:",
                "bis  (BIS web site, enabled, http://127.0.0.1:",
                "checked: 2026-10-02 to",
            ),
        ),
    ),
    "regwatch topics": (Call(("topics",), 0, ("quantum",)),),
}

CONFIG = ("--config", "tour/replay.toml")
# rows whose calls only read the store and print: run side by side
READ_ONLY = {
    "regwatch diff CITATION [--from D1] [--to D2] [--format text\\|unified\\|html\\|json]",
    "regwatch diff FILE_A FILE_B [--format text\\|unified\\|html\\|json]",
    "regwatch entities --since D [--country C]",
}

REPLAY_CONFIG = """\
[store]
path = "regwatch.db"

[output]
digests = "digests"

[http]
polite = false

[sources.federal_register]
api_base = "{base}/api/v1"
site_base = "{base}"

[sources.ecfr]
api_base = "{base}/api/versioner/v1"
watches = ["15:744"]

[sources.bis]
site_base = "{base}"
"""


def readme_rows() -> list[str]:
    return ROW.findall((ROOT / "README.md").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, demo_tour: DemoTour) -> Iterator[Path]:
    """A folder with a copy of the demo's store (the session's, tests/conftest.py: the
    `regwatch demo` row below runs the demo again in a process of its own) and
    ``replay.toml``, which points the sources at a replay server of the demo corpus."""
    folder = tmp_path_factory.mktemp("readme")
    demo_tour.copy(folder / "tour")
    with ReplayServer(Corpus.demo()) as server:
        (folder / "tour" / "replay.toml").write_text(REPLAY_CONFIG.format(base=server.base))
        yield folder


def test_the_readme_table_is_read():
    assert len(readme_rows()) >= 15


def test_every_case_is_a_readme_row():
    assert sorted(set(CASES) - set(readme_rows())) == []
    assert set(CASES) >= READ_ONLY


@pytest.mark.parametrize("row", readme_rows())
def test_each_readme_command_runs_against_the_demo_store(demo, row):
    assert row in CASES, f"README command {row!r} has no case in tests/test_readme_commands.py"
    calls = CASES[row]
    if row in READ_ONLY:  # the row's calls side by side, each in a fresh process
        with ThreadPoolExecutor(max_workers=len(calls)) as pool:
            results = list(pool.map(lambda c: regwatch(*CONFIG, *c.args, cwd=demo), calls))
    else:  # one after the other: each sees what the one before wrote
        results = [regwatch(*CONFIG, *call.args, cwd=demo) for call in calls]
    for call, result in zip(calls, results, strict=True):
        shown = f"{call.args}: exit {result.returncode}\n{result.stdout}\n{result.stderr}"
        assert result.returncode == call.status, shown
        assert "Traceback" not in result.stderr, shown
        said = result.stdout if call.status == 0 else result.stderr
        for text in call.says:
            assert text in said, shown
        if call.status != 0:  # a refusal is one line naming the thing
            assert result.stderr.count("\n") == 1 and said.startswith("regwatch: "), shown
