"""Content addressing and compression of payloads.

Every blob is stored once under its sha256. Standalone blobs are zstd frames. A blob may
instead be stored as a zstd frame against a *base* blob used as a raw-content dictionary:
a new version of a 2.5 MB part costs a few hundred bytes when its base is an earlier
version, and a parsed tree costs little when its base is the payload it was parsed from.
"""

from __future__ import annotations

import hashlib
import math
import zlib

import zstandard as zstd

RAW, ZLIB, ZSTD, ZSTD_DICT = "raw", "zlib", "zstd", "zstd+dict"
LEVEL = 15  # a blob on its own
# a blob against a base: 12 costs about 100 bytes more per version of a 2.5 MB part than 15
# and stores it eight times faster (loading a megabytes-long dictionary is the cost at 15)
DELTA_LEVEL = 12


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _params(size: int, base_size: int = 0) -> zstd.ZstdCompressionParameters:
    """A window that reaches back over the whole base: matches anywhere in a megabytes-long
    dictionary must stay in reach, even for a small blob."""
    window = max(17, min(30, math.ceil(math.log2(max(size + base_size, 1) + 1))))
    level = DELTA_LEVEL if base_size else LEVEL
    return zstd.ZstdCompressionParameters.from_level(level, window_log=window)


class Packer:
    """Compresses blobs, reusing one compressor per base (digesting a dictionary of
    megabytes is the expensive part)."""

    def __init__(self) -> None:
        self._by_base: dict[str, zstd.ZstdCompressor] = {}

    def pack(
        self, data: bytes, base: bytes | None = None, base_sha: str | None = None
    ) -> tuple[str, bytes]:
        if len(data) < 64:
            return RAW, data
        if base is None:
            return ZSTD, zstd.ZstdCompressor(compression_params=_params(len(data))).compress(data)
        key = base_sha or digest(base)
        compressor = self._by_base.get(key)
        if compressor is None:
            if len(self._by_base) >= 8:
                self._by_base.pop(next(iter(self._by_base)))
            dictionary = zstd.ZstdCompressionDict(base, dict_type=zstd.DICT_TYPE_RAWCONTENT)
            # one window for all that is compressed against this base: the base, plus a
            # payload as large again (a new version of a part is about the size of the old)
            compressor = zstd.ZstdCompressor(
                compression_params=_params(len(base), len(base)), dict_data=dictionary
            )
            self._by_base[key] = compressor
        return ZSTD_DICT, compressor.compress(data)


def unpack(codec: str, stored: bytes, base: bytes | None = None) -> bytes:
    if codec == RAW:
        return stored
    if codec == ZSTD:
        return zstd.ZstdDecompressor().decompress(stored)
    if codec == ZSTD_DICT:
        if base is None:
            raise ValueError("a zstd+dict blob needs its base")
        dictionary = zstd.ZstdCompressionDict(base, dict_type=zstd.DICT_TYPE_RAWCONTENT)
        return zstd.ZstdDecompressor(dict_data=dictionary).decompress(stored)
    if codec == ZLIB:  # stores written before 0002
        return zlib.decompress(stored)
    raise ValueError(f"unknown blob codec {codec!r}")
