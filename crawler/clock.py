"""The one place that reads the wall clock. Everything else is handed ``now``."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


def stamp(moment: datetime) -> str:
    """ISO-8601 UTC to the second: how times are stored."""
    return moment.astimezone(UTC).isoformat(timespec="seconds")
