"""A change's diff as the store keeps it (``changes.diff_blob``): computed once, when the
version is stored, and read back by every channel, which never diff again."""

from __future__ import annotations

from crawler.diff.cite import cited_diff
from crawler.diff.model import DocumentDiff
from crawler.records import Node, from_json, to_json

UNDIFFED = ("part", "as-amended")  # manifests and redlines: shown elsewhere, never as a diff


def diffed(kind: str) -> bool:
    """Whether versions of a document of ``kind`` (a node tree) keep a diff."""
    return kind not in UNDIFFED


def compute(unit: str, old_tree: bytes, new_tree: bytes) -> DocumentDiff:
    """The diff between two stored trees of the unit ``unit``, cited as people cite it."""
    return cited_diff(unit, from_json(Node, old_tree), from_json(Node, new_tree))


def encode(diff: DocumentDiff) -> bytes:
    return to_json(diff)


def decode(data: bytes) -> DocumentDiff:
    diff: DocumentDiff = from_json(DocumentDiff, data)
    return diff
