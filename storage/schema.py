"""The tables (SQLAlchemy Core), as the latest Alembic revision leaves them. Change them only
together with a new revision in storage/revisions/versions/ (tests/test_migrations.py checks
that a store made by the revisions has exactly these tables, columns, keys and indexes)."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from storage.outcomes import ErrorKind, HeldStatus, OutboxState, RunStatus

metadata = MetaData()

blobs = Table(
    "blobs",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("size", Integer, nullable=False),
    Column("codec", String, nullable=False),
    Column("data", LargeBinary, nullable=False),
    Column("base", String(64)),  # the blob this one is compressed against (a delta)
)

documents = Table(
    "documents",
    metadata,
    Column("key", String, primary_key=True),  # fr:2024-12345, pi:..., cfr:15:744.11
    Column("kind", String, nullable=False),  # Rule, Proposed Rule, Notice, ...
    Column("source", String, nullable=False),
    Column("title", Text, nullable=False),
    Column("url", Text, nullable=False),
    Column("published", String),  # ISO date the thing was published / made available
    Column("meta", Text, nullable=False, default="{}"),  # small JSON for listings
    Column("first_run", Integer, ForeignKey("runs.id")),
)
Index("documents_published", documents.c.published)

runs = Table(
    "runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String, nullable=False),  # daily, crawl
    Column("day", String),  # the day a daily run is for (ISO), None for backfills
    Column("started", String, nullable=False),
    Column("finished", String),
    Column("status", String, nullable=False, default=RunStatus.RUNNING.value),
    Column("command", Text, nullable=False, default=""),
)

run_sources = Table(
    "run_sources",
    metadata,
    Column("run", Integer, ForeignKey("runs.id"), primary_key=True),
    Column("source", String, primary_key=True),
    Column("status", String, nullable=False),
    Column("started", String, nullable=False),
    Column("finished", String),
    Column("since", String),
    Column("until", String),
    Column("stats", Text, nullable=False, default="{}"),
)

run_errors = Table(
    "run_errors",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run", Integer, ForeignKey("runs.id"), nullable=False),
    Column("source", String, nullable=False),
    Column("target", Text, nullable=False),  # a document key or URL, or the source itself
    Column("message", Text, nullable=False),
    Column("at", String, nullable=False),
    Column("kind", String, nullable=False, default=ErrorKind.INPUT.value),
)
Index("run_errors_run", run_errors.c.run)

# Documents that failed (fetch, parse or store) and are retried by every later run until
# one stores them; the digest lists them meanwhile.
retries = Table(
    "retries",
    metadata,
    Column("source", String, primary_key=True),
    Column("target", Text, primary_key=True),  # a document key: fr:2026-12345
    Column("first_failed", String, nullable=False),
    Column("last_failed", String, nullable=False),
    Column("attempts", Integer, nullable=False, default=1),
    Column("kind", String, nullable=False),  # storage.outcomes.ErrorKind
    Column("message", Text, nullable=False),
    Column("run", Integer, ForeignKey("runs.id"), nullable=False),  # the latest failing run
)

# FR rule versions whose publication-day redlines are made (none may be needed): every run
# projects the stored rules that are not here, so a killed run loses no redline.
redlined = Table(
    "redlined",
    metadata,
    Column("version", Integer, ForeignKey("versions.id"), primary_key=True),
    Column("units", Integer, nullable=False),
    Column("run", Integer, ForeignKey("runs.id"), nullable=False),
)

versions = Table(
    "versions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("document", String, ForeignKey("documents.key"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("valid_from", String, nullable=False),
    Column("fetched_at", String, nullable=False),
    Column("run", Integer, ForeignKey("runs.id"), nullable=False),
    Column("raw_blobs", Text, nullable=False),  # JSON {"json": sha, "xml": sha}
    Column("text_hash", String(64), nullable=False),
    Column("tree_blob", String(64), ForeignKey("blobs.sha256"), nullable=False),
    # crawler.parse.version.PARSER_VERSION of the parser that made the tree (1: before it)
    Column("parser_version", Integer, nullable=False, default=1, server_default="1"),
    # JSON {"json": url, "xml": url}: where each raw payload was fetched ({}: before r0004)
    Column("fetched_from", Text, nullable=False, default="{}", server_default="{}"),
    UniqueConstraint("document", "text_hash", "valid_from"),
    UniqueConstraint("document", "seq"),
)
Index("versions_run", versions.c.run)

changes = Table(
    "changes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("document", String, ForeignKey("documents.key"), nullable=False),
    Column("from_version", Integer, ForeignKey("versions.id")),
    Column("to_version", Integer, ForeignKey("versions.id"), nullable=False, unique=True),
    Column("substantive", Boolean, nullable=False, default=True),
    Column("stats", Text, nullable=False, default="{}"),
    Column("diff_blob", String(64), ForeignKey("blobs.sha256")),
    Column("run", Integer, ForeignKey("runs.id"), nullable=False),
)

links = Table(
    "links",
    metadata,
    Column("source", String, primary_key=True),  # fr:C1-2026-16628
    Column("relation", String, primary_key=True),  # corrects
    Column("target", String, primary_key=True),  # fr:2026-16628
)

http_cache = Table(
    "http_cache",
    metadata,
    Column("url", Text, primary_key=True),
    Column("etag", Text),
    Column("last_modified", Text),
    Column("updated", String, nullable=False),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("digest", String, nullable=False),
    Column("channel", String, nullable=False),
    Column("recipient", Text, nullable=False),
    Column("message_id", Text, nullable=False),
    Column("status", String, nullable=False, default=OutboxState.PENDING.value),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt", String),
    Column("sent_at", String),
    Column("message_blob", String(64)),  # the message as it will be sent, every time
    Column("subject", Text),
    Column("last_error", Text),
    Column("revision", Integer, nullable=False, default=1),  # 2+: a corrected digest
    Column("degraded", Boolean, nullable=False, default=False),  # sent while sources failed
    Column("fingerprint", String(64)),  # what the digest said, run ids and times aside
    Column("claimed_by", Text),  # the lock its sender holds while status is sending
    UniqueConstraint("digest", "revision", "channel", "recipient", name="outbox_message_key"),
)

# eCFR parts whose fetch looked implausible (most sections, or Entity List rows, gone at
# once): the payload is kept here, not applied, until the eCFR versions API, an FR rule or
# the same content on a later day confirms it (issue 11).
held_fetches = Table(
    "held_fetches",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("document", String, nullable=False),  # the part: cfr:15:744
    Column("valid_from", String, nullable=False),  # the eCFR date the payload is for
    Column("run", Integer, ForeignKey("runs.id"), nullable=False),  # the latest run holding it
    Column("fetched_at", String, nullable=False),  # when it was first fetched
    Column("raw_blob", String(64), ForeignKey("blobs.sha256"), nullable=False),
    Column("reason", Text, nullable=False),  # "212 of 220 sections missing"
    Column("status", String, nullable=False, default=HeldStatus.HELD.value),
    Column("resolved_run", Integer, ForeignKey("runs.id")),
    Column("resolution", Text),  # what confirmed it, or what replaced it
    UniqueConstraint("document", "valid_from", "raw_blob"),
)
Index("held_fetches_document", held_fetches.c.document, held_fetches.c.status)

# A day's report as built once by the run that made it; every channel renders this one
# record. A corrected report (after a failed or degraded run) is the next revision.
reports = Table(
    "reports",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("day", String, nullable=False),  # the day the report is for (ISO)
    Column("revision", Integer, nullable=False),  # 1, then 2+ for corrections
    Column("run", Integer, ForeignKey("runs.id"), nullable=False),  # the run that built it
    Column("created", String, nullable=False),
    Column("fingerprint", String(64), nullable=False),  # what it says, run ids and times aside
    Column("report_blob", String(64), ForeignKey("blobs.sha256"), nullable=False),  # JSON
    UniqueConstraint("day", "revision"),
)

# Something to tell people outside the daily rhythm (a watched page moved, a filing seen
# during the day): its own record, rendered by the same channels through the same outbox.
alerts = Table(
    "alerts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String, nullable=False),  # storage.outcomes.AlertKind
    Column("source", String, nullable=False),
    Column("target", Text, nullable=False),  # a document key or URL
    Column("title", Text, nullable=False),  # one line: "bis.gov page moved: /a -> /b"
    Column("detail", Text, nullable=False, default="{}"),  # small JSON (new URL, status ...)
    Column("day", String, nullable=False),  # the day it was seen (ISO)
    Column("at", String, nullable=False),  # when it was seen
    Column("run", Integer, ForeignKey("runs.id"), nullable=False),
    UniqueConstraint("kind", "target", "day"),  # seen twice in a day: one alert
)
Index("alerts_day", alerts.c.day)

inspection_lists = Table(  # each Public Inspection list fetched whole, as it was (r0004)
    "inspection_lists",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run", Integer, ForeignKey("runs.id"), nullable=False),
    Column("day", String, nullable=False),  # the list's available_on date (ISO)
    Column("at", String, nullable=False),  # when it was fetched
    Column("query", Text, nullable=False),  # the agencies asked for, comma-separated
    Column("count", Integer, nullable=False),  # how many documents the API said it holds
    Column("numbers", Text, nullable=False),  # JSON: the document numbers it held
    Column("complete", Boolean, nullable=False),  # it held as many as it said
)
Index("inspection_lists_query", inspection_lists.c.query, inspection_lists.c.id)
