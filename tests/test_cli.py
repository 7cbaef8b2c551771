"""The regwatch command as a user runs it: a fresh process (its crawls in processes of their
own), or in this process with click's runner where the process itself is not the point."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from crawler.cli import main

ROOT = Path(__file__).resolve().parents[1]
COMMANDS = sorted(main.commands)


def regwatch(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "crawler", *args],
        cwd=cwd,
        text=True,
        capture_output=True,
        timeout=300,
        check=False,
    )


def test_demo_twice_adds_nothing_the_second_time_and_renders_the_same_digests(
    tmp_path, monkeypatch, demo_tour
):
    """Both demos in this process (their crawls forked: tests/forkcrawl.py; `regwatch demo`
    in a process of its own is tests/test_readme_commands.py), the re-render in a fresh one.
    The first is the session's demo (tests/conftest.py, exit status 0 checked there), copied
    here."""
    monkeypatch.chdir(tmp_path)
    demo_tour.copy(tmp_path / "tour")
    # 7 FR documents, 6 on public inspection, 4 CFR units and their part, 6 redlines,
    # 2 BIS press releases
    assert "this demo added 26 documents" in demo_tour.output
    digests = {p.name: p.read_bytes() for p in (tmp_path / "tour" / "digests").iterdir()}
    assert sorted(digests) == [
        f"2026-10-{d:02d}.{ext}" for d in range(5, 10) for ext in ("html", "txt")
    ]
    assert b"nothing new" in digests["2026-10-07.txt"]
    assert b"  Topics: quantum\n" in digests["2026-10-08.txt"]  # the 4A906 rule, tagged
    second = CliRunner().invoke(main, ["demo", "--dir", "tour"])
    assert second.exit_code == 0, second.output
    assert "this demo added 0 documents, 0 versions, 0 changes" in second.stdout
    again = {p.name: p.read_bytes() for p in (tmp_path / "tour" / "digests").iterdir()}
    assert again == digests
    rerender = regwatch(
        "--config", "tour/demo.toml", "digest", "--date", "2026-10-08", cwd=tmp_path
    )
    assert rerender.returncode == 0, rerender.stderr
    assert (tmp_path / "tour/digests/2026-10-08.txt").read_bytes() == digests["2026-10-08.txt"]


def test_run_against_an_unreachable_source_fails_with_one_line_and_status_3(tmp_path):
    (tmp_path / "config.toml").write_text(
        '[sources.federal_register]\napi_base = "http://127.0.0.1:9/api/v1"\n'
        'site_base = "http://127.0.0.1:9"\n[sources.ecfr]\nenabled = false\n'
        "[sources.bis]\nenabled = false\n"
    )
    result = regwatch("run", "--date", "2026-10-05", cwd=tmp_path)
    assert result.returncode == 3
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("regwatch: run 1 failed: federal_register failed")
    assert "Traceback" not in result.stderr
    assert "cannot reach 127.0.0.1:9: connection refused" in result.stderr
    assert (tmp_path / "digests" / "2026-10-05.txt").exists()


def test_config_errors_are_one_line_with_exit_status_2(tmp_path):
    (tmp_path / "config.toml").write_text("[store]\nfile = 'x.db'\n")
    result = regwatch("sources", cwd=tmp_path)
    assert result.returncode == 2
    line = "regwatch: config.toml: unknown key 'store.file'; allowed here: "
    assert result.stderr.startswith(line) and result.stderr.count("\n") == 1
    assert "path" in result.stderr.removeprefix(line).strip().split(", ")


def test_unknown_source_is_named_with_the_known_ones(tmp_path):
    result = regwatch("crawl", "ecfr-typo", "--since", "2026-10-01", cwd=tmp_path)
    assert result.returncode == 2
    assert "unknown source 'ecfr-typo'; known sources: bis, ecfr, federal_register" in result.stderr


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command):
    result = CliRunner().invoke(main, [command, "--help"])
    assert result.exit_code == 0
    assert len(main.commands[command].help or "") > 20


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_is_documented_in_the_readme(command):
    readme = (ROOT / "README.md").read_text()
    assert re.search(rf"regwatch( --\S+( \S+)?)* {command}\b", readme), command


@pytest.mark.parametrize(
    "command",
    [
        ["sources"],
        ["history", "744.11"],
        ["diff", "744.11", "--from", "2026-10-01"],
        ["digest", "--date", "2026-10-05"],
    ],
)
def test_commands_that_do_not_crawl_do_not_import_scrapy(tmp_path, command):
    (tmp_path / "config.toml").write_text(
        '[sources.ecfr]\napi_base = "http://127.0.0.1:9/api/versioner/v1"\n'
    )
    code = (
        "import sys; from click.testing import CliRunner; from crawler.cli import main; "
        f"r = CliRunner().invoke(main, {command!r}); "
        "print('scrapy' in sys.modules, 'twisted' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, text=True, capture_output=True, check=True
    )
    assert out.stdout.strip() == "False False"


def test_crawl_backfills_a_date_range_from_the_replay_server(tmp_path):
    from crawler.demo.replay import Corpus, ReplayServer

    with ReplayServer(Corpus.demo()) as server:
        (tmp_path / "config.toml").write_text(
            "[http]\npolite = false\n[sources.federal_register]\n"
            f'api_base = "{server.base}/api/v1"\nsite_base = "{server.base}"\n'
        )
        result = regwatch("crawl", "--since", "2026-10-01", "--until", "2026-10-08", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "federal_register: ok (2026-10-01 to 2026-10-08; found 6, new 6)" in result.stdout


READERS = [
    ["digest", "--date", "2026-10-05"],
    ["diff", "744.11"],
    ["history", "744.11"],
    ["entities", "--since", "2026-10-01"],
    ["eccn", "3A090"],
    ["feeds"],
    ["send"],
    ["send", "--list"],
]


@pytest.mark.parametrize("command", READERS, ids=" ".join)
def test_a_command_that_reads_the_store_refuses_a_missing_one_and_creates_none(
    tmp_path, monkeypatch, command
):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, command)
    assert result.exit_code == 2
    assert result.stderr == (
        f"regwatch: no store at {tmp_path}/regwatch.db: make one with `regwatch run` or "
        "`regwatch demo`\n"
    )
    assert result.stdout == ""
    assert list(tmp_path.iterdir()) == []  # no store, no lock file, no digest folder


def test_sources_lists_every_source_without_a_store_and_says_none_was_checked(
    tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["sources"])
    assert result.exit_code == 0, result.output
    assert "bis  (BIS web site, enabled, https://www.bis.gov)" in result.stdout
    assert result.stdout.count("    checked: never\n") == 3
    assert f"(no store at {tmp_path}/regwatch.db" in result.stdout
    assert list(tmp_path.iterdir()) == []


def test_a_bad_timezone_is_one_line_with_exit_status_2(tmp_path):
    (tmp_path / "config.toml").write_text('timezone = "Eastern"\n')
    result = regwatch("sources", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == (
        "regwatch: config.toml: 'timezone' 'Eastern' is not a time zone; "
        'use an IANA name such as "America/New_York" or "UTC"\n'
    )
