"""Email digests through an outbox: a message is committed to the outbox before it is sent
and marked after, so a down server means a later retry (with backoff), never a lost digest;
a server that accepted a message just before a crash may get it again, with the same
Message-ID; a permanent refusal (5xx) is marked failed and reported, not retried."""

from __future__ import annotations

import hashlib
import smtplib
import ssl
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime, parseaddr

from crawler.clock import stamp
from crawler.config import Config, SubscriptionConfig
from crawler.deliver.files import subscription_slug
from crawler.digest.context import Report
from crawler.digest.render import render
from crawler.digest.report import alert_entry, fingerprint
from crawler.digest.select import for_subscription
from crawler.parse.text import one_line
from storage import AlertRow, OutboxRow, OutboxState, Outcome, Store

MAX_ATTEMPTS = 30


@dataclass(frozen=True)
class SendReport:
    sent: int
    retry: int
    failed: int
    errors: tuple[str, ...]  # one line each


def compose(
    digest: Report,
    subscription: SubscriptionConfig,
    recipient: str,
    config: Config,
    now: datetime,
    revision: int = 1,
) -> EmailMessage:
    """The multipart (text + HTML) digest for one recipient, folded into a summary with
    links when it would exceed the size budget. A revision after the first is a corrected
    digest, and its subject says so."""
    pages = [e.op for e in digest.web]
    changed = len(digest.cfr_changes) + len(digest.changes) + pages.count(Outcome.CHANGED)
    corrected = f" (corrected, revision {revision})" if revision > 1 else ""
    subject = one_line(
        f"regwatch {subscription.name}: {digest.day}{corrected} - "
        f"{digest.total_new + pages.count(Outcome.NEW)} new, "
        f"{changed} changed" + (" - SOURCES FAILED" if digest.degraded else "")
    )
    parts = (digest, subscription, recipient, config, now, subject, revision)
    message = _message(*parts, brief=False)
    if len(message.as_bytes()) > config.smtp.max_bytes:
        message = _message(*parts, brief=True)
    return message


def _message(
    digest: Report,
    subscription: SubscriptionConfig,
    recipient: str,
    config: Config,
    now: datetime,
    subject: str,
    revision: int,
    brief: bool,
) -> EmailMessage:
    name = "summary" if brief else "digest"
    return _email(
        config,
        recipient,
        now,
        subject,
        message_id(digest.day, subscription.name, recipient, revision),
        render(f"digest/{name}.txt.j2", digest=digest),
        render(f"digest/{name}.html.j2", digest=digest),
    )


def _email(
    config: Config, to: str, now: datetime, subject: str, message_id: str, text: str, html: str
) -> EmailMessage:
    """A multipart (text + HTML) message from regwatch's sender."""
    message = EmailMessage(policy=policy.SMTP)
    message["Subject"] = subject
    message["From"] = one_line(config.smtp.sender)
    message["To"] = to
    message["Date"] = format_datetime(now)
    message["Message-ID"] = message_id
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


def _addresses(recipients: Iterable[str]) -> list[str]:
    """The mail addresses of ``recipients``, each once; an entry that is not one address
    (no @, or a line break that could smuggle in a header) is left out."""
    out: dict[str, None] = {}
    for recipient in recipients:
        address = parseaddr(recipient)[1]
        if address and "@" in address and "\n" not in recipient and "\r" not in recipient:
            out[address] = None
    return list(out)


def message_id(day: str, subscription: str, recipient: str, revision: int = 1) -> str:
    """The same digest (revision) for the same recipient always has the same Message-ID."""
    token = hashlib.sha256(f"{day}\0{subscription}\0{recipient}".encode()).hexdigest()[:16]
    rev = f".r{revision}" if revision > 1 else ""
    return f"<{day}{rev}.{subscription_slug(subscription)}.{token}@regwatch>"


def queue_digests(store: Store, config: Config, digest: Report, now: datetime) -> int:
    """Put the day's digest for every subscription and recipient in the outbox once; when
    the one queued was made while sources failed and the day's digest now says something
    else, queue it again as a corrected revision (never silence after a failed run)."""
    queued = 0
    for subscription in config.subscriptions:
        mine = for_subscription(digest, subscription)
        said = fingerprint(mine)
        key = f"{digest.day}/{subscription_slug(subscription.name)}"
        for address in _addresses(subscription.recipients):
            revision = _revision(store.outbox_latest(key, "email", address), said)
            if revision is None:
                continue
            message = compose(mine, subscription, address, config, now, revision)
            if revision > 1:
                store.outbox_supersede(key, "email", address)
            queued += store.outbox_add(
                key if revision == 1 else f"{key}/r{revision}",
                "email",
                address,
                message["Message-ID"],
                message["Subject"],
                message.as_bytes(),
                stamp(now),
                revision=revision,
                degraded=mine.degraded,
                fingerprint=said,
            )
    return queued


def queue_alerts(store: Store, config: Config, alerts: list[AlertRow], now: datetime) -> int:
    """Put each alert found outside the daily rhythm (a backfill that saw a watched page
    move) in the outbox once for every recipient of every subscription: it concerns what
    they all rely on. The next day's digest shows it too."""
    addresses = _addresses(r for s in config.subscriptions for r in s.recipients)
    queued = 0
    for row in alerts:
        alert = alert_entry(row)
        text = render("digest/alert.txt.j2", alert=alert)
        html = render("digest/alert.html.j2", alert=alert)
        subject = one_line(f"regwatch alert: {alert.line}")
        for address in addresses:
            token = hashlib.sha256(f"{row.id}\0{address}".encode()).hexdigest()[:16]
            message = _email(
                config, address, now, subject, f"<alert.{row.id}.{token}@regwatch>", text, html
            )
            queued += store.outbox_add(
                f"{ALERT}{row.id}",
                "email",
                address,
                message["Message-ID"],
                message["Subject"],
                message.as_bytes(),
                stamp(now),
            )
    return queued


ALERT = "alert/"  # the outbox key of an alert's mail: alert/<id>


def _revision(latest: OutboxRow | None, said: str) -> int | None:
    """The revision to queue: 1 for a first digest; the next one when the digest now says
    something the latest mailed did not (a rerun after sources failed, or a second run of
    the day that found more); None: nothing new to send (a rerun adds no mail)."""
    if latest is None:
        return 1
    if latest.fingerprint is not None and latest.fingerprint != said:
        return latest.revision + 1
    return None


def send_due(
    store: Store, config: Config, now: datetime, env: Mapping[str, str], holder: str
) -> SendReport:
    """Send every queued message that is due; mark each sent, retry (backoff) or failed.
    Each message is claimed first for ``holder`` (a lock this process holds), so two
    senders never send one message; one claimed by a sender that died is sent again, with
    the same Message-ID."""
    due = store.outbox_due(stamp(now))
    if not due:
        return SendReport(0, 0, 0, ())
    sent = retry = failed = 0
    errors: list[str] = []
    try:
        smtp = _connect(config, env)
    except (OSError, smtplib.SMTPException) as exc:
        reason = f"cannot reach SMTP server {config.smtp.host}:{config.smtp.port}: {_why(exc)}"
        mine = [row for row in due if store.outbox_claim(row, holder)]  # never another's
        for row in mine:
            _retry(store, row, now, reason)
        return SendReport(0, len(mine), 0, (reason,))
    with smtp:
        for row in due:
            if not store.outbox_claim(row, holder):
                continue
            message = BytesParser(policy=policy.SMTP).parsebytes(store.blob(row.message_blob or ""))
            try:
                smtp.send_message(
                    message, from_addr=parseaddr(config.smtp.sender)[1], to_addrs=[row.recipient]
                )
            except smtplib.SMTPRecipientsRefused as exc:
                codes = [code for code, _ in exc.recipients.values()]
                reason = f"{row.recipient}: refused ({_why(exc)})"
                if all(code >= 500 for code in codes):
                    _fail(store, row, reason)
                    failed += 1
                    errors.append(reason)
                    continue
                _retry(store, row, now, reason)
                retry += 1
                continue
            except smtplib.SMTPResponseException as exc:
                reason = f"{row.recipient}: {exc.smtp_code} {_why(exc)}"
                if exc.smtp_code >= 500:
                    _fail(store, row, reason)
                    failed += 1
                    errors.append(reason)
                else:
                    _retry(store, row, now, reason)
                    retry += 1
                continue
            except (OSError, smtplib.SMTPException) as exc:
                _retry(store, row, now, f"{row.recipient}: {_why(exc)}")
                retry += 1
                continue
            store.outbox_mark(
                row.id,
                status=OutboxState.SENT,
                sent_at=stamp(now),
                attempts=row.attempts + 1,
                last_error=None,
            )
            sent += 1
    return SendReport(sent, retry, failed, tuple(errors))


def _connect(config: Config, env: Mapping[str, str]) -> smtplib.SMTP:
    s = config.smtp
    if s.security == "ssl":
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(
            s.host, s.port, timeout=s.timeout, context=ssl.create_default_context()
        )
    else:
        smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
        if s.security == "starttls":
            smtp.starttls(context=ssl.create_default_context())
    if s.user:
        smtp.login(s.user, env.get("REGWATCH_SMTP_PASSWORD", ""))
    return smtp


def _retry(store: Store, row: OutboxRow, now: datetime, reason: str) -> None:
    attempts = row.attempts + 1
    if attempts >= MAX_ATTEMPTS:
        _fail(store, row, f"gave up after {attempts} attempts: {reason}")
        return
    wait = timedelta(minutes=min(5 * 2 ** (attempts - 1), 360))
    store.outbox_mark(
        row.id,
        status=OutboxState.RETRY,
        attempts=attempts,
        next_attempt=stamp(now + wait),
        last_error=one_line(reason, 500),
    )


def _fail(store: Store, row: OutboxRow, reason: str) -> None:
    store.outbox_mark(
        row.id,
        status=OutboxState.FAILED,
        attempts=row.attempts + 1,
        last_error=one_line(reason, 500),
    )


def _why(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        detail = (
            exc.smtp_error.decode(errors="replace")
            if isinstance(exc.smtp_error, bytes)
            else str(exc.smtp_error)
        )
        return one_line(detail, 200)
    return one_line(str(exc) or type(exc).__name__, 200)
