"""What the store hands back: plain frozen rows, no ORM objects."""

from __future__ import annotations

import dataclasses
import enum
import functools
import json
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import RowMapping
from sqlalchemy.exc import IntegrityError

from storage.outcomes import ErrorKind, HeldStatus, OutboxState, RunStatus, SourceState

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

Row = TypeVar("Row", bound="DataclassInstance")


@dataclass(frozen=True)
class DocumentRow:
    key: str
    kind: str
    source: str
    title: str
    url: str
    published: str | None
    meta: dict[str, Any]
    first_run: int | None


@dataclass(frozen=True)
class VersionRow:
    id: int
    document: str
    seq: int
    valid_from: str
    fetched_at: str
    run: int
    raw_blobs: dict[str, str]
    text_hash: str
    tree_blob: str
    parser_version: int = 1  # the parser that made the tree (crawler.parse.version)
    fetched_from: dict[str, str] = dataclasses.field(default_factory=dict)  # role -> URL


@dataclass(frozen=True)
class ChangeRow:
    """A stored change between two versions of a document, with its diff once computed."""

    id: int
    document: str
    from_version: int | None
    to_version: int
    substantive: bool
    stats: dict[str, Any]
    run: int
    diff_blob: str | None = None  # the change's DocumentDiff as JSON (node trees only)


@dataclass(frozen=True)
class RunRow:
    id: int
    kind: str
    day: str | None
    started: str
    finished: str | None
    status: RunStatus
    command: str


@dataclass(frozen=True)
class RunSourceRow:
    run: int
    source: str
    status: SourceState
    started: str
    finished: str | None
    since: str | None
    until: str | None
    stats: dict[str, Any]


@dataclass(frozen=True)
class ErrorRow:
    run: int
    source: str
    target: str
    message: str
    at: str
    kind: ErrorKind = ErrorKind.INPUT


@dataclass(frozen=True)
class RetryRow:
    """A document on the retry list: every run retries it until one stores it."""

    source: str
    target: str
    first_failed: str
    last_failed: str
    attempts: int
    kind: ErrorKind
    message: str
    run: int


@dataclass(frozen=True)
class HeldFetchRow:
    """An implausible eCFR fetch kept apart from the history until confirmed (issue 11)."""

    id: int
    document: str  # the part: cfr:15:744
    valid_from: str  # the eCFR date the payload is for
    run: int  # the latest run that held it
    fetched_at: str  # when it was first fetched
    raw_blob: str  # its payload, content-addressed like every payload
    reason: str  # "212 of 220 sections missing"
    status: HeldStatus
    resolved_run: int | None
    resolution: str | None


@dataclass(frozen=True)
class OutboxRow:
    """A message in the outbox: one day's digest (a revision of it) for one recipient."""

    id: int
    digest: str  # <day>/<subscription>, or <day>/<subscription>/r<revision>
    channel: str
    recipient: str
    message_id: str
    status: OutboxState
    attempts: int
    next_attempt: str | None
    sent_at: str | None
    message_blob: str | None  # the message as it is sent, every time
    subject: str | None
    last_error: str | None
    revision: int
    degraded: bool  # made while sources failed
    fingerprint: str | None  # what the digest said, run ids and times aside
    claimed_by: str | None  # the lock its sender holds while status is sending


T = TypeVar("T")


def once_more_on_race(write: Callable[[], T]) -> T:
    """``write`` (one transaction), tried once more when a concurrent writer won a race on
    a unique key (PostgreSQL: two processes storing the same thing at once); the second try
    reads what the winner wrote."""
    try:
        return write()
    except IntegrityError:
        return write()


def from_mapping(cls: type[Row], mapping: RowMapping) -> Row:
    """Build a row from a SQLAlchemy row mapping, decoding JSON text columns and turning
    enum columns into their enum (a value the enum lacks is an error, never a bare str)."""
    values = dict(mapping)
    for name in ("meta", "stats", "raw_blobs", "detail", "fetched_from"):
        if name in values and isinstance(values[name], str):
            values[name] = json.loads(values[name])
    enums = _enum_fields(cls)
    out = {}
    for f in dataclasses.fields(cls):
        if f.name not in values:
            continue
        value = values[f.name]
        kind = enums.get(f.name)
        if kind is not None and value is not None:
            value = kind(value)
        out[f.name] = value
    return cls(**out)


@functools.cache
def _enum_fields(cls: type) -> dict[str, type[enum.Enum]]:
    """The fields of a row class typed with an enum (``X`` or ``X | None``)."""
    found = {}
    for name, hint in typing.get_type_hints(cls).items():
        options = (
            typing.get_args(hint)
            if typing.get_origin(hint) in (types.UnionType, typing.Union)
            else (hint,)
        )
        for option in options:
            if isinstance(option, type) and issubclass(option, enum.Enum):
                found[name] = option
    return found
