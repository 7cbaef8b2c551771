"""A digest mailed clean is mailed again, as the next revision, when a second run of the
same day finds more (issue 13: a report has revisions, and the outbox keys mail by day,
revision, channel and recipient); a rerun that finds nothing new mails nothing."""

from __future__ import annotations

import dataclasses
from datetime import date
from email import message_from_bytes, policy

from conftest import mailing, point_at, run_day
from test_email import Inbox, serve

from crawler import config as config_module

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
