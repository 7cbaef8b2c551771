"""One report, every channel: a change planted per source (an FR rule, an eCFR section, a BIS
press release) and a `source moved` alert, run through the daily job against the replay
server, are found with the same citation and the same inserted and deleted words in the
digest (text and HTML), the email (a real SMTP server on loopback), the Atom and RSS feeds
(parsed with feedparser) and the site."""

from __future__ import annotations

import dataclasses
import html
import re
from datetime import date
from email import message_from_bytes, policy
from pathlib import Path

import feedparser
import pytest
from conftest import mailing, point_at, run_day
from test_email import Inbox, serve

from crawler import config as config_module
from crawler.demo.replay import Corpus, ReplayServer
from crawler.diff.model import DocumentDiff
from crawler.digest.report import fingerprint, report_for, stored_report
from crawler.records import AlertKind
from storage import Store

MON, FRI = date(2026, 10, 5), date(2026, 10, 9)
WATCHED, MOVED_TO = "/licensing/guidance", "/licensing/guidance-renamed"
# § 744.11(b)(2) as FRI's eCFR planted: one word deleted, two inserted
PLANTED = (b"(2) Preparing to transfer", b"(2) Getting ready to transfer")
RELEASE = "Commerce Adds Eleven Entities to the Entity List"  # the demo's BIS press release
RULE = "91 FR 70101"  # the demo's FR rule (2026-21001), with its publication-day redlines


def _html_words(text: str, tag: str) -> set[str]:
    found = re.findall(rf"<{tag}\b[^>]*>(.*?)</{tag}>", text, re.DOTALL)
    return {" ".join(html.unescape(w).split()) for w in found}


def _text_words(text: str, sign: str) -> set[str]:
    pattern = r"\{\+(.*?)\+\}" if sign == "+" else r"\[-(.*?)-\]"
    return {" ".join(w.split()) for w in re.findall(pattern, text, re.DOTALL)}


def _words(diff: DocumentDiff) -> tuple[set[str], set[str]]:
    """The inserted and deleted runs of words of a stored diff."""
    ops = [o for c in diff.changes for f in c.fields for o in f.ops]
    inserted = {" ".join(o.text.split()) for o in ops if o.op == "insert"}
    deleted = {" ".join(o.text.split()) for o in ops if o.op == "delete"}
    return inserted, deleted


@pytest.fixture
def week(tmp_path: Path):
    """MON and FRI of the demo week, the eCFR change planted and a watched BIS page moved,
    mailed to a real SMTP server: the channels' outputs, and the store."""
    corpus = Corpus.demo()
    friday = ("2026-10-09", 15, "744")
    assert corpus.ecfr_full[friday].count(PLANTED[0]) == 1
    corpus.ecfr_full[friday] = corpus.ecfr_full[friday].replace(*PLANTED)
    release = corpus.web["/press-release/commerce-adds-eleven-entities-entity-list"]
    corpus.web[MOVED_TO] = release.replace(
        b"Commerce Adds Eleven Entities", b"Guidance on Entities"
    )
    corpus.web_redirects[WATCHED] = (301, MOVED_TO)
    inbox = Inbox()
    with ReplayServer(corpus) as server:
        base = point_at(config_module.load(None, env={}), server, tmp_path, ecfr=True, bis=True)
        bis = dataclasses.replace(base.sources.bis, pages=(WATCHED,))
        config = mailing(
            dataclasses.replace(base, sources=dataclasses.replace(base.sources, bis=bis))
        )
        controller = serve(config, inbox)
        try:
            run_day(config, MON)
            run_day(config, FRI)
        finally:
            controller.stop()
    mail = [message_from_bytes(raw, policy=policy.default) for _, raw in inbox.messages]
    yield config, mail


def _entries(feed: feedparser.FeedParserDict) -> str:
    return "\n".join(
        f"{e.title}\n{html.unescape(e.summary)}\n{e.content[0].value}" for e in feed.entries
    )


def _channels(config: config_module.Config, mail: list, day: date) -> dict[str, str]:
    """Every channel's rendering of ``day``'s report, as text a reader is shown."""
    iso = day.isoformat()
    [message] = [m for m in mail if iso in m["Subject"]]
    feeds = {fmt: feedparser.parse(config.root / "feeds" / f"all.{fmt}") for fmt in ("atom", "rss")}
    for parsed in feeds.values():
        assert parsed.bozo == 0
    site = config.root / "site"
    return {
        "digest text": (config.digest_dir / f"{iso}.txt").read_text(encoding="utf-8"),
        "digest html": (config.digest_dir / f"{iso}.html").read_text(encoding="utf-8"),
        "email text": message.get_body(("plain",)).get_content(),
        "email html": message.get_body(("html",)).get_content(),
        "atom": _entries(feeds["atom"]),
        "rss": _entries(feeds["rss"]),
        "site": "\n".join(p.read_text(encoding="utf-8") for p in sorted(site.rglob("*.html"))),
    }


def test_every_channel_shows_the_same_changes_citations_and_words(week):
    config, mail = week
    store = Store.open(config.store_url)
    try:
        monday, friday = stored_report(store, MON), stored_report(store, FRI)
        row = store.report(FRI.isoformat())
        # what was kept is what the store, read again, says of the day
        assert row is not None and row.fingerprint == fingerprint(report_for(store, FRI, config))
    finally:
        store.close()
    assert monday is not None and friday is not None
    [section] = [e for e in friday.cfr_changes if e.key == "cfr:15:744.11"]
    inserted, deleted = _words(section.diff)
    assert "Preparing" in deleted and "Getting ready" in inserted  # the planted edit
    [rule] = [e for s in monday.sections for e in s.entries if e.citation == RULE]
    rule_inserted = set().union(*(_words(r.diff)[0] for r in rule.redlines if r.diff))
    rule_deleted = set().union(*(_words(r.diff)[1] for r in rule.redlines if r.diff))
    assert rule_inserted and rule_deleted, "the rule's redlines add and revise entities"
    [release] = [e for e in monday.web if e.title == RELEASE]
    [moved] = [a for a in friday.notices if a.kind == AlertKind.SOURCE_MOVED]
    assert moved.target == f"bis:{WATCHED}"
    [filing] = [a for a in friday.notices if a.kind == AlertKind.FILING]  # FRI's PI list
    assert filing.target == "pi:2026-21455"

    for day in (MON, FRI):
        for name, text in _channels(config, mail, day).items():
            plain = html.unescape(text)
            if day == MON:
                assert RULE in plain, name
                assert release.title in plain, name
            else:
                assert section.citation in plain, name
                assert "source moved" in plain and WATCHED in plain, name
                assert "Revisions to the Unverified List" in plain, name  # the filing
            if name in ("digest text", "email text"):
                found = (_text_words(text, "+"), _text_words(text, "-"))
            else:
                found = (_html_words(text, "ins"), _html_words(text, "del"))
            want = (rule_inserted, rule_deleted) if day == MON else (inserted, deleted)
            assert want[0] <= found[0], (name, want[0] - found[0])
            assert want[1] <= found[1], (name, want[1] - found[1])


def test_a_report_that_says_more_is_the_next_revision_and_one_that_does_not_is_updated(tmp_path):
    store = Store.open(tmp_path / "store.db")
    try:
        run = store.start_run("daily", "2026-10-05", "2026-10-05T10:30:00+00:00")
        first = store.put_report("2026-10-05", run, "t1", "a" * 64, b'{"said": 1}')
        again = store.put_report("2026-10-05", run, "t2", "a" * 64, b'{"said": 1, "at": 2}')
        corrected = store.put_report("2026-10-05", run, "t3", "b" * 64, b'{"said": 2}')
        assert (first.revision, again.revision, corrected.revision) == (1, 1, 2)
        assert again.created == "t2"  # the same report, its run lines brought up to date
        assert store.report("2026-10-05") == corrected
        assert store.report_days() == ["2026-10-05"] and store.report_months() == ["2026-10"]
    finally:
        store.close()
