"""Digests by email through a real SMTP server (aiosmtpd) on 127.0.0.1."""

from __future__ import annotations

import dataclasses
import socket
from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller
from conftest import point_at, run_day

from crawler import config as config_module
from crawler import job
from crawler.config import SmtpConfig, SubscriptionConfig
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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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
    assert ids == {row["message_id"] for row in store.outbox()}


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
    status = {row["recipient"]: row["status"] for row in store.outbox()}
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
