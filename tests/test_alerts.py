"""Alerts outside the daily rhythm (issue 13, part 3): a run that is not the daily job (a
backfill) that sees a watched page move or go missing keeps each as an alert record and mails
it on its own through the outbox, to every recipient, once; the day's report, already made,
says it in its next revision: digest, site and feeds."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email import message_from_bytes, policy

from conftest import mailing, run_day
from test_bis import GUIDANCE, MON, TUE, config, site  # noqa: F401 (fixtures)
from test_email import Inbox, serve

from crawler.jobs import daily as job
from storage import AlertKind, Store

NOW = datetime(2026, 10, 6, 15, 0, tzinfo=UTC)


def test_a_backfill_that_sees_a_page_move_mails_the_alert_once(config, site):  # noqa: F811
    config = mailing(config)
    inbox = Inbox()
    controller = serve(config, inbox)
    try:
        run_day(config, MON)
        run_day(config, TUE)  # the day's report is made (and mailed) before the page moves
        mailed = len(inbox.messages)  # Monday's and Tuesday's digests
        site.corpus.web["/press-release/two-renamed"] = site.corpus.web.pop("/press-release/two")
        site.corpus.web_redirects["/press-release/two"] = (301, "/press-release/two-renamed")
        del site.corpus.web[GUIDANCE]
        report = job.backfill(config, "bis", TUE, TUE, NOW, lambda: NOW, progress=False, env={})
        alerts = inbox.messages[mailed:]
        again = job.backfill(config, "bis", TUE, TUE, NOW, lambda: NOW, progress=False, env={})
        after_again = len(inbox.messages)
    finally:
        controller.stop()

    assert report.errors and again.errors  # the run says so too, each time
    messages = [message_from_bytes(raw, policy=policy.default) for _, raw in alerts]
    subjects = sorted(str(m["Subject"]) for m in messages)
    assert len(subjects) == 2, subjects
    assert subjects[0].startswith("regwatch alert: source missing: http://")
    assert subjects[1].startswith("regwatch alert: source moved: http://")
    assert "/press-release/two redirects permanently (HTTP 301)" in subjects[1]
    for message, (recipients, _raw) in zip(messages, alerts, strict=True):
        assert recipients == ["a@x.org"]
        text = message.get_body(("plain",)).get_content()
        html = message.get_body(("html",)).get_content()
        line = str(message["Subject"]).removeprefix("regwatch alert: ")
        assert line[:60] in " ".join(text.split()) and line[:60] in " ".join(html.split())
        assert "<script" not in html and "bis:/" not in text + html  # no internal key
        assert str(message["Message-ID"]).startswith("<alert.")
    assert after_again == mailed + len(alerts)  # the rerun the same day mails nothing new
    # Tuesday's report, made before, says them now in every channel
    tuesday = (config.digest_dir / f"{TUE.isoformat()}.txt").read_text()
    assert "!! source moved: http://" in tuesday.split("==", 1)[0]
    page = (config.root / "site" / "days" / f"{TUE.isoformat()}.html").read_text()
    assert "source moved: http://" in page
    feed = (config.root / config.output.feeds / "all.atom").read_text()
    shown = re.sub(r"<id>[^<]*</id>", "", feed)  # entry ids are URNs, not read by people
    assert "Alert: source moved: http://" in shown and "bis:/" not in shown
    store = Store.open(config.store_path)
    try:
        kept = store.alerts_on(TUE.isoformat())
        assert sorted(a.kind for a in kept) == [AlertKind.SOURCE_MISSING, AlertKind.SOURCE_MOVED]
        # one message per alert, keyed by the alert
        assert sorted(r.digest for r in store.outbox("alert/")) == sorted(
            f"alert/{a.id}" for a in kept
        )
    finally:
        store.close()


def test_one_source_failing_to_report_costs_only_its_own_part(demo_config, monkeypatch):
    """A bug in one source's digest module: the day's report is still made, with the other
    sources' parts, and says at the top which part is missing (never a quiet day)."""
    from crawler.digest.bis import BisDigest
    from crawler.digest.report import report_for

    run_day(demo_config, MON)

    def broken(*_args: object) -> None:
        raise KeyError("a record the bis digest did not expect")

    monkeypatch.setattr(BisDigest, "gather", broken)
    store = Store.open(demo_config.store_path)
    try:
        report = report_for(store, MON, demo_config)
    finally:
        store.close()
    assert report.sections  # the Federal Register's part is there
    assert not report.web
    [line] = [a for a in report.alerts if "could not be made" in a]
    assert line.startswith("BIS web site: its part of this report could not be made (KeyError")
