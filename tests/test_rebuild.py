"""Parser upgrades don't become news (issue 12, Deliver 7): every stored tree carries the
parser version that made it; ``regwatch rebuild`` makes trees and changes again from the raw
payloads without adding news; a new version is compared with the version before it as the
current parser reads it."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import ROOT, SHARED, DemoTour, require

from crawler import config as config_module
from crawler.cli import main
from crawler.deliver.feeds import report_items
from crawler.deliver.site import write_site
from crawler.deliver.web.layout import compare_file, day_file
from crawler.diff import diff_documents
from crawler.digest.report import fingerprint, report_for
from crawler.fetch.items import FetchedCfrPart
from crawler.parse.ecfr_xml import parse_ecfr_xml
from crawler.parse.version import PARSER_VERSION
from crawler.records import Node, from_json
from crawler.snapshot.rederive import NotRemade, remake
from crawler.snapshot.rows import cfr_versions
from crawler.snapshot.versioning import store_cfr_part
from storage import Store

OLD_COMMIT = "f1f5108"  # the last commit before issue 12's paragraph tree
OLD_DAY, NEW_DAY = date(2025, 1, 2), date(2025, 1, 3)
PARTS = ("740", "742")  # real 15 CFR parts (../shared/data/ecfr_title15)

# Run by the code of OLD_COMMIT: stores the real parts as its daily job would have
OLD_STORE = """
import sys
from datetime import date
from crawler import config
from crawler.items import FetchedCfrPart  # the old code's layout
from crawler.versioning import store_cfr_part
from storage import Store

path, day, *files = sys.argv[1:]
store = Store.open(path)
run = store.start_run("daily", day, day + "T11:30:00+00:00")
ecfr = config.load(None, env={}).sources.ecfr
for name in files:
    part = name.rsplit("-", 1)[1].split("_")[0]
    body = open(name, "rb").read()
    at = day + "T11:30:00+00:00"
    item = FetchedCfrPart("ecfr", 15, part, date.fromisoformat(day), "", body, at)
    print(part, dict(store_cfr_part(store, item, run, ecfr)))
store.finish_run(run, day + "T11:40:00+00:00", "ok")
"""


def rebuild(config_file: Path) -> str:
    result = CliRunner().invoke(main, ["--config", str(config_file), "rebuild"])
    assert result.exit_code == 0, result.output
    return result.output.strip().splitlines()[-1]


def table_counts(db: Path) -> dict[str, int]:
    with sqlite3.connect(db) as conn:
        return {
            t: conn.execute(f"select count(*) from {t}").fetchone()[0]
            for t in ("documents", "versions", "changes", "runs", "outbox", "links")
        }


# --- the demo store ---------------------------------------------------------------------


@pytest.fixture
def demo_store(demo_tour: DemoTour, tmp_path: Path) -> Path:
    """A copy of the session's demo store (tests/conftest.py), this test's own to rebuild."""
    return demo_tour.copy(tmp_path / "tour")


def test_rebuild_of_the_demo_store_adds_no_news_and_converges(demo_store, tmp_path):
    config = config_module.load(demo_store / "demo.toml", env={})
    store = Store.open(config.store_path)
    try:
        days = [date(2026, 10, d) for d in range(5, 10)]
        said = {d: _entries(store, d, config) for d in days}
        feed = _feed(store, config, days)
    finally:
        store.close()
    before = table_counts(config.store_path)

    first = rebuild(demo_store / "demo.toml")
    again = rebuild(demo_store / "demo.toml")

    assert first.startswith("rebuilt 26 documents"), first
    assert " 0 changed, 0 changes judged again" in again, again
    assert table_counts(config.store_path) == before  # no version, change, run or mail
    assert before["outbox"] == 0
    store = Store.open(config.store_path)
    try:
        assert {d: _entries(store, d, config) for d in days} == said
        assert _feed(store, config, days) == feed
        stale = [v for k in store.keys("") for v in store.history(k) if v.parser_version == 1]
        kinds = {store.document(v.document).kind for v in stale}
        assert kinds <= {"as-amended", "part"}, kinds  # redlines are made from rules
    finally:
        store.close()


def _feed(store: Store, config: config_module.Config, days: list[date]) -> list[tuple[str, str]]:
    """What each day's report, built again from the store, gives the feeds."""
    return [(i.id, i.content) for d in days for i in report_items(report_for(store, d, config))]


def _entries(store: Store, day: date, config: config_module.Config) -> str:
    """What the day's report, built again from the store, says (run ids and times aside)."""
    return fingerprint(report_for(store, day, config))


def test_rebuild_makes_a_redline_again_from_its_rule_and_the_prior_text(demo_store, tmp_path):
    """A publication-day redline whose tree an older parser made (its paths) is projected
    again from the rule's stored XML onto the prior text as stored now, adding no news."""
    folder = demo_store
    config = config_module.load(folder / "demo.toml", env={})
    key = "cfr:15:744:supp-4~fr:2026-21001"
    store = Store.open(config.store_path)
    try:
        [made] = store.history(key)
        meta = store.document(key).meta
        prior = store.version(meta["base_version"])  # a tree the redline was not
    finally:
        store.close()
    with sqlite3.connect(config.store_path) as conn:  # as a parser-1 store would hold it
        conn.execute(
            "update versions set tree_blob = ?, text_hash = ?, parser_version = 1 where id = ?",
            (prior.tree_blob, prior.text_hash, made.id),
        )
    before = table_counts(config.store_path)

    line = rebuild(folder / "demo.toml")

    assert "1 changed" in line, line
    assert table_counts(config.store_path) == before
    store = Store.open(config.store_path)
    try:
        [remade] = store.history(key)
        assert (remade.tree_blob, remade.text_hash) == (made.tree_blob, made.text_hash)
        assert remade.parser_version == PARSER_VERSION
        assert store.document(key).meta == meta
    finally:
        store.close()


# --- a store built before issue 12 ------------------------------------------------------


@pytest.fixture(scope="module")
def old_code(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The code of OLD_COMMIT, exported (``git archive``) into a temporary folder: the
    repository itself is only read."""
    require(shutil.which("git") and (ROOT / ".git").exists(), "no git repository to export from")
    found = subprocess.run(
        ["git", "-C", str(ROOT), "cat-file", "-e", f"{OLD_COMMIT}^{{commit}}"],
        capture_output=True,
    )
    require(found.returncode == 0, f"commit {OLD_COMMIT} is not in this repository (shallow?)")
    tree = tmp_path_factory.mktemp("old-code")
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", OLD_COMMIT], check=True, capture_output=True
    )
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive.stdout, check=True)
    return tree


def run_old(code: Path, script: str, *args: str) -> None:
    """``script`` run by the code of OLD_COMMIT."""
    subprocess.run(
        [sys.executable, "-c", script, *args],
        cwd=code,
        env={"PYTHONPATH": str(code), "PATH": "/usr/bin:/bin"},
        check=True,
        capture_output=True,
    )


@pytest.fixture(scope="module")
def old_store(tmp_path_factory: pytest.TempPathFactory, old_code: Path) -> Path:
    """A store written by the code of OLD_COMMIT from the real parts."""
    data = SHARED / "ecfr_title15"
    require(data.is_dir(), f"real sample data not found at {data}")
    files = [str(data / f"title-15-part-{p}_2025.xml") for p in PARTS]
    db = tmp_path_factory.mktemp("old") / "old.db"
    run_old(old_code, OLD_STORE, str(db), OLD_DAY.isoformat(), *files)
    return db


def test_an_old_store_opens_with_its_trees_marked_as_made_by_parser_1(old_store, tmp_path):
    db = shutil.copy(old_store, tmp_path / "store.db")
    store = Store.open(db)
    try:
        versions = [v for k in store.keys("cfr:") for v in store.history(k)]
        assert versions and {v.parser_version for v in versions} == {1}
    finally:
        store.close()


def test_without_like_with_like_an_old_store_would_report_sections_changed(old_store, tmp_path):
    """The measure of the problem: the old trees against the new parser's trees of the very
    same payloads."""
    db = shutil.copy(old_store, tmp_path / "store.db")
    store = Store.open(db)
    try:
        noisy = []
        for part in PARTS:
            body = _payload(part)
            root = parse_ecfr_xml(body)
            news = cfr_versions(
                15, part, root, body, NEW_DAY, run=0, fetched_at="", source="", site_base=""
            )
            for new in news[1:]:
                old = store.version_at(new.key, OLD_DAY.isoformat())
                diff = diff_documents(
                    from_json(Node, store.blob(old.tree_blob)), from_json(Node, new.tree)
                )
                noisy += [new.key] if diff.substantive else []
    finally:
        store.close()
    print(f"sections an old store would report changed: {len(noisy)}")
    assert len(noisy) >= 10, noisy  # the parser change is real: it would be news


@pytest.mark.parametrize("rebuilt", [False, True], ids=["like-with-like", "after-rebuild"])
def test_the_first_run_after_the_upgrade_reports_no_change_for_the_same_payloads(
    old_store, tmp_path, rebuilt
):
    db = Path(shutil.copy(old_store, tmp_path / "store.db"))
    config = config_module.load(None, env={"REGWATCH_STORE__PATH": str(db)})
    if rebuilt:
        (tmp_path / "c.toml").write_text(f'[store]\npath = "{db}"\n', encoding="utf-8")
        line = rebuild(tmp_path / "c.toml")
        assert " 0 changed" not in line, line
    store = Store.open(db)
    try:
        run = store.start_run("daily", NEW_DAY.isoformat(), f"{NEW_DAY}T11:30:00+00:00")
        counts = {}
        for part in PARTS:
            item = FetchedCfrPart(
                "ecfr", 15, part, NEW_DAY, "", _payload(part), f"{NEW_DAY}T11:30:00+00:00"
            )
            counts[part] = store_cfr_part(store, item, run, config.sources.ecfr)
        assert store.changes_in([run]) == [], counts
        assert store.versions_in([run]) == []
        assert store.errors([run]) == []
        assert all(set(c) == {"sections_unchanged"} for c in counts.values()), counts
    finally:
        store.close()


def test_a_version_whose_payload_is_gone_is_said_not_silently_compared(old_store, tmp_path):
    """§ 740.2, whose tree the new parser makes differently: its stored tree cannot be made
    again, so the next payload's § 740.2 (the same XML) is compared with the old tree, and
    the run says so. (A unit whose old tree is what the new parser makes, § 740.1, is the
    same content: nothing to say.)"""
    db = shutil.copy(old_store, tmp_path / "store.db")
    with sqlite3.connect(db) as conn:  # the payload lost (a store copied without its blobs)
        conn.execute("update versions set raw_blobs = '{}' where document = 'cfr:15:740.2'")
    store = Store.open(db)
    try:
        version = store.history("cfr:15:740.2")[0]
        why = remake(store, store.document("cfr:15:740.2"), version)
        assert isinstance(why, NotRemade)
        assert why.reason == (
            "cfr:15:740.2: the raw payload of its version of 2025-01-02 is not in the store"
        )
        run = store.start_run("daily", NEW_DAY.isoformat(), f"{NEW_DAY}T11:30:00+00:00")
        config = config_module.load(None, env={})
        item = FetchedCfrPart(
            "ecfr", 15, "740", NEW_DAY, "", _payload("740"), f"{NEW_DAY}T11:30:00+00:00"
        )
        store_cfr_part(store, item, run, config.sources.ecfr)
        [error] = store.errors([run])
        assert error.target == "cfr:15:740.2"
        assert "compared with a tree made by parser 1" in error.message
        assert "\n" not in error.message
    finally:
        store.close()


def _payload(part: str) -> bytes:
    return (SHARED / "ecfr_title15" / f"title-15-part-{part}_2025.xml").read_bytes()


# --- an old change, as feeds and the site show it ----------------------------------------

CHANGED_DAY, LATER_DAY = date(2025, 1, 3), date(2025, 1, 4)
FLIGHT_CREW = (  # § 740.15(a)(3)(i) as the day after OLD_DAY changes it
    b"Right to hire and fire the cockpit crew.</P>",
    b"Right to hire and fire the flight crew.</P>",
)
AIRPLANE = (  # § 740.15(a)(3)(ii) as LATER_DAY changes it
    b"Right to dispatch the aircraft.</P>",
    b"Right to dispatch the airplane.</P>",
)


@pytest.fixture(scope="module")
def old_store_with_a_change(
    tmp_path_factory: pytest.TempPathFactory, old_code: Path, old_store: Path
) -> Path:
    """The old store, and the next day's part 740 (one word of § 740.15 changed) stored by
    the code of OLD_COMMIT too: a change whose trees parser 1 made."""
    folder = tmp_path_factory.mktemp("old-change")
    db = Path(shutil.copy(old_store, folder / "old.db"))
    payload = folder / "title-15-part-740_2025.xml"
    payload.write_bytes(_edited(_payload("740"), FLIGHT_CREW))
    run_old(old_code, OLD_STORE, str(db), CHANGED_DAY.isoformat(), str(payload))
    return db


def test_the_first_run_after_the_upgrade_keeps_what_an_old_change_says(
    old_store_with_a_change, tmp_path
):
    """Feeds and the site diff stored trees again: after the first run of the new parser,
    the old change still says what it said (one change, at the same citation), not the
    difference between the two parsers' trees."""
    db = Path(shutil.copy(old_store_with_a_change, tmp_path / "store.db"))
    (tmp_path / "c.toml").write_text(f'[store]\npath = "{db}"\n', encoding="utf-8")
    config = config_module.load(tmp_path / "c.toml", env={})
    key = "cfr:15:740.15"
    store = Store.open(db)
    try:
        assert {v.parser_version for v in store.history(key)} == {1}
        feed_before, page_before = _what_the_change_says(store, config, key)
        run = store.start_run("daily", LATER_DAY.isoformat(), f"{LATER_DAY}T11:30:00+00:00")
        body = _edited(_edited(_payload("740"), FLIGHT_CREW), AIRPLANE)
        item = FetchedCfrPart("ecfr", 15, "740", LATER_DAY, "", body, f"{LATER_DAY}T11:30:00+00:00")
        counts = store_cfr_part(store, item, run, config.sources.ecfr)
        feed_after, page_after = _what_the_change_says(store, config, key)
        history = store.history(key)
    finally:
        store.close()

    assert counts == {"sections_unchanged": 35, "sections_changed": 1}, counts
    assert [v.valid_from for v in history] == ["2025-01-02", "2025-01-03", "2025-01-04"]
    summary, content = feed_before
    assert summary.endswith(": 1 change (1 substantive) since 2025-01-02."), summary
    assert "§ 740.15(a)(3)(i)" in content
    assert feed_after == feed_before
    assert page_after == page_before
    assert {v.parser_version for v in history} == {PARSER_VERSION}  # one parser per document


def _what_the_change_says(
    store: Store, config: config_module.Config, key: str
) -> tuple[tuple[str, str], str]:
    """The feed entry of the change of ``key`` in effect CHANGED_DAY (summary, content) and
    the day's page on the site, its redline (the in-context page shows the unchanged text as
    the store parses it now, so it may read better after an upgrade)."""
    report = report_for(store, CHANGED_DAY, config)
    [entry] = [
        i for i in report_items(report) if i.id == f"urn:regwatch:change:{key}:{CHANGED_DAY}"
    ]
    [change] = [c for c in report.cfr_changes if c.key == key]
    written = write_site(store, config, report)
    page = config.root / "site" / day_file(CHANGED_DAY.isoformat())  # the day's redlines
    in_context = config.root / "site" / compare_file(key, change.from_date, change.to_date)
    assert page in written and in_context in written
    return (entry.summary, entry.content), page.read_text(encoding="utf-8")


def _edited(body: bytes, edit: tuple[bytes, bytes]) -> bytes:
    old, new = edit
    assert body.count(old) == 1, old
    return body.replace(old, new)
