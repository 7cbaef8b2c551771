"""Content addressing and compression of payloads."""

from __future__ import annotations

import hashlib
import zlib

CODEC = "zlib"


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def pack(data: bytes) -> tuple[str, bytes]:
    """(codec, stored bytes) for ``data``; tiny payloads are kept as they are."""
    if len(data) < 64:
        return "raw", data
    return CODEC, zlib.compress(data, 6)


def unpack(codec: str, stored: bytes) -> bytes:
    if codec == "raw":
        return stored
    if codec == CODEC:
        return zlib.decompress(stored)
    raise ValueError(f"unknown blob codec {codec!r}")
