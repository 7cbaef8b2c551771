"""What the store hands back: plain frozen rows, no ORM objects."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


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


def from_mapping(cls: type, mapping: Any) -> Any:
    """Build a row from a SQLAlchemy row mapping, decoding JSON text columns."""
    values = dict(mapping)
    for name in ("meta", "stats", "raw_blobs"):
        if name in values and isinstance(values[name], str):
            values[name] = json.loads(values[name])
    return cls(**{k: v for k, v in values.items() if k in cls.__dataclass_fields__})
