"""Golden files for rendered output: the demo's digests, feeds and site pages as they are
rendered today (the replay server's port masked). A change to any template or to what the
report holds shows here as a diff to review; accept it with
``REGWATCH_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_golden.py``."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

GOLDEN = Path(__file__).resolve().parent / "golden"
OUTPUTS = (
    "digests/2026-10-05.txt",
    "digests/2026-10-05.html",
    "digests/2026-10-09.txt",
    "digests/2026-10-09.html",
    "feeds/all.atom",
    "feeds/all.rss",
    "site/index.html",
    "site/days/2026-10-09.html",
    "site/rules/2026-21390.html",
    "site/compare/15-744_supp-4_2026-10-01_2026-10-09.html",
)
PORT = re.compile(r"127\.0\.0\.1:\d+")


@pytest.mark.parametrize("output", OUTPUTS)
def test_the_demo_renders_as_the_golden_file(demo_tour, output):
    made = PORT.sub("127.0.0.1:PORT", (demo_tour.folder / output).read_text(encoding="utf-8"))
    golden = GOLDEN / output.replace("/", "__")
    if os.environ.get("REGWATCH_UPDATE_GOLDEN"):
        golden.write_text(made, encoding="utf-8")
    assert golden.is_file(), f"no golden file {golden.name}: run with REGWATCH_UPDATE_GOLDEN=1"
    assert made == golden.read_text(encoding="utf-8"), f"{output} differs from {golden.name}"
