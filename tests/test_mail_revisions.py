"""A digest mailed clean is mailed again, as the next revision, when a second run of the
same day finds more (issue 13: a report has revisions, and the outbox keys mail by day,
revision, channel and recipient); a rerun that finds nothing new mails nothing."""

from __future__ import annotations

import dataclasses
import json
from datetime import date
from email import message_from_bytes, policy

from conftest import DemoTour, mailing, point_at, run_day
from test_email import Inbox, serve

from crawler import config as config_module
from crawler.digest.report import decode, encode, fingerprint, stored_report
from storage import Store

MON = date(2026, 10, 5)


def test_a_second_run_that_finds_more_mails_the_next_revision(demo_server, tmp_path):
    config = mailing(point_at(config_module.load(None, env={}), demo_server, tmp_path))
    with_bis = point_at(config_module.load(None, env={}), demo_server, tmp_path, bis=True)
    with_bis = dataclasses.replace(with_bis, subscriptions=config.subscriptions, smtp=config.smtp)
    inbox = Inbox()
    controller = serve(config, inbox)
    try:
        first = run_day(config, MON)
        again = run_day(config, MON)  # the same findings: no mail
        count_after_rerun = len(inbox.messages)
        more = run_day(with_bis, MON)  # bis.gov now watched: the day says more
    finally:
        controller.stop()
    assert first.ok and again.ok and more.ok, (first.errors, again.errors, more.errors)
    assert count_after_rerun == 1
    assert len(inbox.messages) == 2
    second = message_from_bytes(inbox.messages[1][1], policy=policy.default)
    assert "(corrected, revision 2)" in str(second["Subject"])
    assert ".r2." in str(second["Message-ID"])
    # what the second run found: bis.gov's press release of the day
    assert "Commerce Adds Eleven Entities" in second.get_body(("plain",)).get_content()


def _without_provenance(value: object) -> object:
    if isinstance(value, dict):
        return {k: _without_provenance(v) for k, v in value.items() if k != "provenance"}
    if isinstance(value, list):
        return [_without_provenance(v) for v in value]
    return value


def test_a_report_kept_before_redlines_named_their_provenance_is_not_corrected_for_it(
    demo_tour: DemoTour, tmp_path
):
    """The demo's Friday report cites what each redline compared (the eCFR changes' and
    the rule's publication-day redlines'); the same report as kept before that has the
    same fingerprint, so no corrected digest is mailed for it."""
    tour = demo_tour.copy(tmp_path / "tour")  # opening a store writes beside it
    store = Store.open(tour / "regwatch.db", create=False, readonly=True)
    try:
        report = stored_report(store, date(2026, 10, 9))
    finally:
        store.close()
    assert report is not None
    said = json.loads(encode(report))
    before = decode(json.dumps(_without_provenance(said)).encode())
    assert report.cfr_changes[0].provenance and before.cfr_changes[0].provenance == ()
    redlines = [r for s in report.sections for e in s.entries for r in e.redlines]
    assert redlines and all(len(r.provenance) == 2 for r in redlines)
    assert fingerprint(before) == fingerprint(report)
