"""The wheel carries the whole application: every module under crawler/ and storage/, every
template (as package data of ``crawler``, at crawler/templates/), the demo corpus, the
``py.typed`` markers (PEP 561); nothing
from tests/ or bench/; and building it prints no warning caused by our pyproject.toml.

The wheel is built once, without network or build isolation (setuptools from the venv),
from a copy of the checkout's files, so a stale build/ folder can't hide a missing one."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import ROOT, require

BUILD = "import sys; from setuptools import build_meta; build_meta.build_wheel(sys.argv[1])"


@dataclass(frozen=True)
class Built:
    names: frozenset[str]  # the wheel's entries
    sources: tuple[str, ...]  # the checkout's files (tracked, or new and not ignored)
    log: str  # everything setuptools printed


def checkout_files() -> tuple[str, ...]:
    require(shutil.which("git") and (ROOT / ".git").exists(), "not a git checkout")
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    return tuple(
        n for n in listed.split("\0") if n and (ROOT / n).is_symlink() | (ROOT / n).exists()
    )


def copy_checkout(files: tuple[str, ...], into: Path) -> None:
    for name in files:
        target = into / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target, follow_symlinks=False)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Built:
    files = checkout_files()
    src, dist = tmp_path_factory.mktemp("src"), tmp_path_factory.mktemp("dist")
    copy_checkout(files, src)
    result = subprocess.run(
        [sys.executable, "-W", "always", "-c", BUILD, str(dist)],
        cwd=src,
        env={k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-3000:]
    (wheel,) = dist.glob("regwatch-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        return Built(frozenset(archive.namelist()), files, log)


def test_every_module_is_in_the_wheel_at_its_place(built):
    modules = {n for n in built.sources if n.startswith(("crawler/", "storage/"))}
    modules = {n for n in modules if n.endswith(".py")}
    assert "crawler/diff/engine.py" in modules and "crawler/amend/project.py" in modules
    assert modules - built.names == set()
    assert {n for n in built.names if n.endswith(".py")} == modules


def test_every_template_is_package_data_of_crawler(built):
    templates = {n for n in built.sources if n.startswith("templates/")}
    assert "templates/feeds/document.html.j2" in templates
    assert {f"crawler/{n}" for n in templates} - built.names == set()
    shipped = {n for n in built.names if n.startswith("crawler/templates/")}
    assert shipped == {f"crawler/{n}" for n in templates}


def test_the_demo_corpus_is_shipped(built):
    corpus = {n for n in built.sources if n.startswith("crawler/demo/replay/corpus/")}
    assert len(corpus) > 20
    assert corpus - built.names == set()


def test_both_packages_are_marked_typed(built):
    assert {"crawler/py.typed", "storage/py.typed"} <= built.names


def test_nothing_else_is_in_the_wheel(built):
    for name in built.names:
        top = name.split("/", 1)[0]
        assert top in ("crawler", "storage") or top.endswith(".dist-info"), name
        assert "__pycache__" not in name and not name.endswith(".pyc"), name


def test_building_prints_no_warning(built):
    warnings = [line for line in built.log.splitlines() if "warn" in line.lower()]
    assert warnings == [], "\n".join(warnings[:20])
