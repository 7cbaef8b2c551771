"""What waits in the email outbox and why: each message's state, attempts, next attempt
and last error (``regwatch send --list``), and the mail ``regwatch send`` left waiting."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from crawler.clock import stamp
from crawler.config import Config
from crawler.deliver.email import SendReport
from storage import OutboxState, Store

WAITING = (OutboxState.PENDING, OutboxState.RETRY, OutboxState.SENDING)


@dataclass(frozen=True)
class OutboxLine:
    """One queued message as the outbox holds it."""

    digest: str  # the day (and revision) it carries
    recipient: str
    subject: str
    status: OutboxState
    attempts: int
    next_attempt: str  # when it is tried again, "" when it will not be
    last_error: str


@dataclass(frozen=True)
class Waiting:
    """Mail not sent yet because its next attempt is later than now (backoff)."""

    count: int
    next_attempt: str  # the earliest of them, "" when none waits


def unsent(store: Store) -> list[OutboxLine]:
    """Every message not sent (pending, retrying, being sent, failed), oldest first."""
    out = []
    for row in store.outbox():
        status = row.status
        if status == OutboxState.SENT:
            continue
        out.append(
            OutboxLine(
                row.digest,
                row.recipient,
                row.subject or "",
                status,
                row.attempts,
                row.next_attempt or "" if status in WAITING else "",
                row.last_error or "",
            )
        )
    return out


def waiting(store: Store, now: datetime) -> Waiting:
    """The messages whose next attempt is still to come (a later ``send`` tries them)."""
    later = sorted(
        line.next_attempt
        for line in unsent(store)
        if line.status in WAITING and line.next_attempt > stamp(now)
    )
    return Waiting(len(later), later[0] if later else "")


@dataclass(frozen=True)
class Sent:
    """What ``regwatch send`` did now, and what it left waiting for a later attempt."""

    report: SendReport
    waiting: Waiting


def send(config: Config, now: datetime, env: Mapping[str, str]) -> Sent:
    """Send what is due (``job.send``), then count what waits for its backoff."""
    from crawler.jobs import daily as job

    report = job.send(config, now, env)
    store = job.open_store(config, create=False)
    try:
        return Sent(report, waiting(store, now))
    finally:
        store.close()
