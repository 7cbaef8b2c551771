"""Digests by email through a real SMTP server (aiosmtpd) on 127.0.0.1."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from conftest import free_port, mailing, point_at, run_day

from crawler import config as config_module
from crawler.config import SmtpConfig, SubscriptionConfig
from crawler.demo.replay import Corpus, Fault, ReplayServer
from crawler.jobs import daily as job
from storage import Store

MON = date(2026, 10, 5)


class Inbox:
    """An aiosmtpd handler: keeps what it accepts; refuses some recipients with 550."""

    def __init__(self, refuse: tuple[str, ...] = ()) -> None:
        self.messages: list[tuple[list[str], bytes]] = []
        self.refuse = refuse

    async def handle_RCPT(self, server, session, envelope, address, options):
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"


@pytest.fixture
def mail_config(demo_server, tmp_path):
    port = free_port()
    base = point_at(config_module.load(None, env={}), demo_server, tmp_path)
    subs = (
        SubscriptionConfig(
            name="Entity List", recipients=("alice@example.com",), keywords=("Entity List",)
        ),
        SubscriptionConfig(
            name="Everything\r\nBcc: evil@example.com",
            recipients=("bob@example.com", "carol@example.com"),
        ),
    )
    return dataclasses.replace(
        base,
        subscriptions=subs,
        smtp=SmtpConfig(
            host="127.0.0.1", port=port, security="none", sender="regwatch <rw@example.com>"
        ),
    )


def serve(config, inbox: Inbox) -> Controller:
    controller = Controller(inbox, hostname="127.0.0.1", port=config.smtp.port)
    controller.start()
    return controller


def test_each_subscription_gets_its_digest_once_with_both_parts(mail_config):
    inbox = Inbox()
    controller = serve(mail_config, inbox)
    try:
        report = run_day(mail_config, MON)
        assert report.ok, report.errors
        again = run_day(mail_config, MON)  # a second run sends nothing
        assert again.ok
    finally:
        controller.stop()
    assert sorted(r for rcpts, _ in inbox.messages for r in rcpts) == [
        "alice@example.com",
        "bob@example.com",
        "carol@example.com",
    ]
    for rcpts, raw in inbox.messages:
        message = message_from_bytes(raw, policy=policy.default)
        assert message["To"] == rcpts[0]  # the right recipients only
        assert "Bcc" not in message and "\n" not in message["Subject"]
        kinds = [part.get_content_type() for part in message.walk()]
        assert kinds == ["multipart/alternative", "text/plain", "text/html"]
        html = message.get_body(("html",)).get_content()
        assert "https://www.federalregister.gov/documents/2026/10/05/" in html
        assert "<style" not in html  # inline CSS only
    alice = next(raw for rcpts, raw in inbox.messages if rcpts == ["alice@example.com"])
    text = message_from_bytes(alice, policy=policy.default).get_body(("plain",)).get_content()
    assert "Additions to the Entity List" in text
    assert "Aerotrans Cargo" not in text  # filtered out for this subscription


def test_a_down_server_means_retries_then_exactly_one_delivery(mail_config):
    report = run_day(mail_config, MON)  # nothing listens: queued, to retry
    assert report.status == "degraded"
    assert any(
        e.source == "email" and "cannot reach SMTP server" in e.message for e in report.errors
    )
    later = datetime(2026, 10, 5, 13, tzinfo=UTC)
    assert job.send(mail_config, later, {}).retry == 3  # still down
    inbox = Inbox()
    controller = serve(mail_config, inbox)
    try:
        too_soon = job.send(mail_config, later, {})  # backoff: not due yet
        assert too_soon.sent == 0
        sent = job.send(mail_config, later + timedelta(hours=7), {})
        assert sent.sent == 3
        assert job.send(mail_config, later + timedelta(days=1), {}).sent == 0
    finally:
        controller.stop()
    assert len(inbox.messages) == 3
    ids = {
        message_from_bytes(raw, policy=policy.default)["Message-ID"].strip()
        for _, raw in inbox.messages
    }
    store = Store.open(mail_config.store_path)
    assert ids == {row.message_id for row in store.outbox()}


class Flaky(Inbox):
    """Answers the first DATA with 451 (try later), keeps the second and hangs up before
    saying so (the message arrived; the sender cannot know), accepts the rest."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    async def handle_DATA(self, server, session, envelope):
        self.calls += 1
        if self.calls == 1:
            return "451 4.3.0 try again later"
        self.messages.append((list(envelope.rcpt_tos), envelope.content))
        if self.calls == 2:
            server.transport.close()  # accepted, then the connection drops before the 250
        return "250 Message accepted for delivery"


def test_a_4xx_and_a_connection_dropped_after_data_are_retried_with_the_same_message_id(
    mail_config,
):
    one = dataclasses.replace(mail_config, subscriptions=mail_config.subscriptions[:1])
    inbox = Flaky()
    controller = serve(one, inbox)
    try:
        report = run_day(one, MON)  # 451: to retry
        assert report.status == "degraded"
        later = datetime(2026, 10, 5, 13, tzinfo=UTC)
        dropped = job.send(one, later, {})  # taken, but the sender never heard so
        assert (dropped.sent, dropped.retry) == (0, 1)
        assert job.send(one, later + timedelta(hours=1), {}).sent == 1
        assert job.send(one, later + timedelta(days=1), {}).sent == 0
    finally:
        controller.stop()
    ids = [message_from_bytes(raw)["Message-ID"] for _, raw in inbox.messages]
    assert len(ids) == 2 and ids[0] == ids[1]  # the reader's client folds the duplicate
    [row] = Store.open(one.store_path).outbox()
    assert (row.status, row.attempts) == ("sent", 3)


def test_a_permanent_refusal_is_marked_failed_and_not_retried(mail_config):
    inbox = Inbox(refuse=("carol@example.com",))
    controller = serve(mail_config, inbox)
    try:
        report = run_day(mail_config, MON)
        assert report.status == "degraded"
        assert any("carol@example.com: refused" in e.message for e in report.errors)
        assert job.send(mail_config, datetime(2026, 10, 6, tzinfo=UTC), {}).sent == 0
    finally:
        controller.stop()
    store = Store.open(mail_config.store_path)
    status = {row.recipient: row.status for row in store.outbox()}
    assert status == {
        "alice@example.com": "sent",
        "bob@example.com": "sent",
        "carol@example.com": "failed",
    }
    footer = (mail_config.digest_dir / "2026-10-05.txt").read_text()
    assert "Email: degraded" in footer and "carol@example.com: refused" in footer


def test_a_digest_over_the_size_budget_is_folded_into_a_summary(mail_config):
    small = dataclasses.replace(
        mail_config, smtp=dataclasses.replace(mail_config.smtp, max_bytes=5_000)
    )
    inbox = Inbox()
    controller = serve(small, inbox)
    try:
        run_day(small, MON)
    finally:
        controller.stop()
    for _, raw in inbox.messages:
        text = message_from_bytes(raw, policy=policy.default).get_body(("plain",))
        assert "larger than the mail size budget" in text.get_content()


def test_an_eccn_watch_gets_exactly_the_changes_that_touch_it(demo_server, tmp_path):
    """3A090*: its own CCL entry (not the 4A906 and 3A001 edits made on the same day), an EAR
    section that starts to name it, the proposed rule and the press releases that name it;
    nothing else."""
    corpus = demo_server.corpus
    ccl = (Path(__file__).parent / "data" / "ecfr" / "part-774_supp-1_excerpt.xml").read_bytes()
    corpus.ecfr_full[("2026-10-01", 15, "774")] = ccl
    corpus.ecfr_full[("2026-10-09", 15, "774")] = (
        ccl.replace(b"4800 or more", b"4000 or more")
        .replace(b"34 or more physical qubits", b"40 or more physical qubits")
        .replace(b"NS, RS, MT, NP, AT</P>", b"NS, RS, MT, NP, AT, UI</P>")
    )
    part = corpus.ecfr_full[("2026-10-09", 15, "744")]
    corpus.ecfr_full[("2026-10-09", 15, "744")] = part.replace(
        b"to defined nuclear end uses.</P>",
        b"to defined nuclear end uses, and of items in ECCN 3A090 to certain data centers.</P>",
    )
    rows = corpus.ecfr_versions[15]["content_versions"]
    for day, identifier, part_number in (
        ("2026-10-01", "Supplement No. 1 to Part 774", "774"),
        ("2026-10-09", "Supplement No. 1 to Part 774", "774"),
        ("2026-10-09", "744.1", "744"),
    ):
        rows.append(
            {
                **rows[0],
                "date": day,
                "amendment_date": day,
                "issue_date": day,
                "identifier": identifier,
                "part": part_number,
            }
        )
    listing = corpus.web["/news-updates"]
    corpus.web["/news-updates"] = listing.replace(
        b'<div class="view-content">',
        b'<div class="view-content"><a href="/press-release/deemed-export-seminar">Seminar</a>',
    )
    corpus.web["/press-release/deemed-export-seminar"] = corpus.web[
        "/press-release/bis-proposes-revisions-license-exception-aca"
    ].replace(b"3A090", b"the export of technology")  # names no ECCN at all
    base = point_at(config_module.load(None, env={}), demo_server, tmp_path, ecfr=True, bis=True)
    config = dataclasses.replace(
        base,
        sources=dataclasses.replace(
            base.sources, ecfr=dataclasses.replace(base.sources.ecfr, watches=("15:744,774",))
        ),
        subscriptions=(
            SubscriptionConfig(
                name="AI chips", recipients=("dana@example.com",), eccns=("3A090*",)
            ),
        ),
        smtp=SmtpConfig(host="127.0.0.1", port=free_port(), security="none"),
    )
    inbox = Inbox()
    controller = serve(config, inbox)
    try:
        for day in (MON, date(2026, 10, 6), date(2026, 10, 9)):
            report = run_day(config, day)
            assert report.ok, report.errors
    finally:
        controller.stop()
    mails = {}
    for _, raw in inbox.messages:
        message = message_from_bytes(raw, policy=policy.default)
        mails[message["Subject"].split(": ")[1][:10]] = (
            message.get_body(("plain",)).get_content().replace("\r\n", "\n")
        )

    monday = mails["2026-10-05"]  # the press releases that name 3A090; no FR document does
    assert "Commerce Adds Eleven Entities to the Entity List\n  Press Release" in monday
    assert "BIS Proposes Revisions to License Exception ACA\n  Press Release" in monday
    assert "Seminar" not in monday and "deemed-export" not in monday
    assert "0 new documents, 2 on public inspection." in monday  # that list is not filtered
    assert "Additions to the Entity List\n  " not in monday and "Aerotrans" not in monday
    tuesday = mails["2026-10-06"]  # the proposed rule amends License Exception ACA for 3A090
    assert "Revisions to License Exception Advanced Computing Authorized (ACA)" in tuesday
    assert "Five-Year Records Retention" not in tuesday
    friday = mails["2026-10-09"]
    assert "== eCFR: prior rule text changed (2) ==" in friday
    assert "* 15 CFR 744.1 -- " in friday and "{+, and of items in ECCN 3A090" in friday
    assert "* 15 CFR 774 Supp. No. 1 -- " in friday and "[-4800-]{+4000+}" in friday
    for other in ("qubits", "UI", "4A906", "3A001", "744.11", "744 Supp. No. 4"):
        assert other not in friday, other
    assert "Removal of Certain Entities" not in friday


def subjects(inbox: Inbox) -> list[str]:
    return [message_from_bytes(raw, policy=policy.default)["Subject"] for _, raw in inbox.messages]


def failing_monday(
    server: ReplayServer, folder: Path, inbox: Inbox, **fr: object
) -> tuple[Controller, config_module.Config]:
    """Monday's run with the FR search down (its digest mailed, sources failed), then the
    search back up; returns the SMTP server, still running, and the config."""
    server.faults.append(Fault(r"^/api/v1/documents\.json", html=True))
    config = mailing(point_at(config_module.load(None, env={}), server, folder, **fr))
    controller = serve(config, inbox)
    failed = run_day(config, MON)
    assert {s.source: s.status for s in failed.sources}["federal_register"] == "failed"
    server.faults.clear()
    return controller, config


def test_a_digest_mailed_while_a_source_failed_is_corrected_when_the_day_is_rerun(tmp_path):
    inbox = Inbox()
    with ReplayServer(Corpus.demo()) as server:
        controller, config = failing_monday(server, tmp_path, inbox)
        try:
            assert run_day(config, MON).ok
            assert run_day(config, MON).ok  # nothing new: nothing mailed
        finally:
            controller.stop()
    first, corrected = subjects(inbox)
    assert first == "regwatch all: 2026-10-05 - 0 new, 0 changed - SOURCES FAILED"
    assert corrected == "regwatch all: 2026-10-05 (corrected, revision 2) - 2 new, 0 changed"
    ids = [message_from_bytes(raw)["Message-ID"] for _, raw in inbox.messages]
    assert ids[0] != ids[1] and ".r2." in ids[1]


def test_a_later_day_that_finds_what_a_failed_day_missed_corrects_that_days_digest(tmp_path):
    inbox = Inbox()
    with ReplayServer(Corpus.demo()) as server:
        controller, config = failing_monday(server, tmp_path, inbox, first_run_days=1)
        try:
            assert run_day(config, date(2026, 10, 6)).ok  # its window starts on Monday
        finally:
            controller.stop()
    assert sorted(subjects(inbox)) == [
        "regwatch all: 2026-10-05 (corrected, revision 2) - 2 new, 0 changed - SOURCES FAILED",
        "regwatch all: 2026-10-05 - 0 new, 0 changed - SOURCES FAILED",
        "regwatch all: 2026-10-06 - 4 new, 0 changed",  # Monday's 2 as late finds, and 2
    ]
