"""What the store hands back: plain frozen rows, no ORM objects."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import RowMapping

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


@dataclass(frozen=True)
class RunRow:
    id: int
    kind: str
    day: str | None
    started: str
    finished: str | None
    status: str
    command: str


@dataclass(frozen=True)
class RunSourceRow:
    run: int
    source: str
    status: str
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
    kind: str = "input"  # storage.outcomes.ErrorKind


@dataclass(frozen=True)
class RetryRow:
    """A document on the retry list: every run retries it until one stores it."""

    source: str
    target: str
    first_failed: str
    last_failed: str
    attempts: int
    kind: str
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
    status: str  # storage.outcomes.HeldStatus
    resolved_run: int | None
    resolution: str | None


def from_mapping(cls: type[Row], mapping: RowMapping) -> Row:
    """Build a row from a SQLAlchemy row mapping, decoding JSON text columns."""
    values = dict(mapping)
    for name in ("meta", "stats", "raw_blobs"):
        if name in values and isinstance(values[name], str):
            values[name] = json.loads(values[name])
    names = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: v for k, v in values.items() if k in names})
