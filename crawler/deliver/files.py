"""Write rendered output to disk atomically: a reader never sees half a file."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from crawler.parse.text import slug


def subscription_slug(name: str) -> str:
    """A subscription's name as its file names, feed names and Message-IDs spell it."""
    return slug(name, "subscription")


def write_atomic(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
