"""A parsed CFR part -> its units (sections and appendices), each tracked as a document.

Keys (DESIGN.md "Identity"): ``cfr:15:744.11`` for a section, ``cfr:15:744:supp-4`` for
Supplement No. 4 to Part 744, ``cfr:15:744:app-A`` for an appendix, ``cfr:15:744`` for the
part itself (its manifest: which units it holds, in order, by content hash)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from crawler.errors import ParseError
from crawler.keys import appendix_key, cfr_key, label_key, supplement_key
from crawler.parse.expect import CFR_TITLE, FR_CITATION
from crawler.records import Node

UNIT_KINDS = ("section", "appendix")
SUPPLEMENT = re.compile(r"Supplement\s+No\.?\s*(\d+)\s+to\s+Part\s+(\d+)", re.I)
_APPENDIX = re.compile(r"Appendix\s+([A-Z0-9-]+)\s+to\s+Part\s+(\d+)", re.I)


def unit_key(title: int, part: str, node: Node) -> str:
    """The document key of a section or appendix node of ``title`` CFR ``part``."""
    if node.kind == "section":
        return cfr_key(title, node.label)
    supplement = SUPPLEMENT.search(node.label)
    if supplement:
        return supplement_key(title, supplement.group(2), supplement.group(1))
    appendix = _APPENDIX.search(node.label)
    if appendix:
        return appendix_key(title, appendix.group(2), appendix.group(1))
    return label_key(title, part, node.label)


def units(title: int, part: str, root: Node) -> Iterator[tuple[str, tuple[str, ...], Node]]:
    """(key, path below the part, node) of every section and appendix, in document order."""

    def walk(node: Node, path: tuple[str, ...]) -> Iterator[tuple[str, tuple[str, ...], Node]]:
        for child in node.children:
            where = (*path, child.label)
            if child.kind in UNIT_KINDS:
                yield unit_key(title, part, child), where, child
            else:
                yield from walk(child, where)

    yield from walk(root, ())


def manifest(root: Node, unit_hashes: dict[tuple[str, ...], tuple[str, str, str | None]]) -> Node:
    """The part with each unit replaced by a stub naming its key, its content hash and the
    hash of its XML (``raw``, when known): small, and enough with the units' own versions to
    rebuild the whole part at any date; the XML hash lets the next payload skip parsing the
    units it did not change (crawler.parse.ecfr_xml.Reuse). Units already stubs (reused
    from the manifest before) stay as they are."""

    def strip(node: Node, path: tuple[str, ...]) -> Node:
        children = []
        for child in node.children:
            where = (*path, child.label)
            if where in unit_hashes:
                key, digest, raw = unit_hashes[where]
                fields: tuple[tuple[str, str], ...] = (("key", key), ("kind", child.kind))
                if raw:
                    fields += (("raw", raw),)
                children.append(Node(child.label, "unit-ref", child.title, digest, fields=fields))
            else:
                children.append(strip(child, where))
        return Node(node.label, node.kind, node.title, node.text, tuple(children), node.fields)

    return strip(root, ())


def unit_refs(stub: Node) -> list[tuple[str, str]]:
    """(key, content hash) of every unit a manifest names, in document order."""
    out = []
    for child in stub.children:
        if child.kind == "unit-ref":
            out.append((dict(child.fields)["key"], child.text))
        else:
            out += unit_refs(child)
    return out


def by_raw_digest(stub: Node) -> dict[str, Node]:
    """The unit-refs of a manifest by the hash of their unit's XML (those that record it)."""
    out: dict[str, Node] = {}
    for child in stub.children:
        if child.kind == "unit-ref":
            raw = dict(child.fields).get("raw")
            if raw:
                out[raw] = child
        else:
            out |= by_raw_digest(child)
    return out


def rebuild(stub: Node, resolve: dict[str, Node]) -> Node:
    """The inverse of ``manifest``: stubs replaced by the units (looked up by hash)."""
    children = tuple(
        resolve[c.text] if c.kind == "unit-ref" else rebuild(c, resolve) for c in stub.children
    )
    return Node(stub.label, stub.kind, stub.title, stub.text, children, stub.fields)


def fr_citations(node: Node) -> set[str]:
    """FR citations ("91 FR 70101") in a unit's source note (CITA)."""
    note = node.child("citation")
    return {f"{v} FR {p}" for v, p in FR_CITATION.findall(note.text)} if note else set()


MAX_WATCHED_PARTS = 10_000
_WATCH_ITEM = re.compile(r"([0-9]{1,5})(?:-([0-9]{1,5}))?", re.ASCII)


def parse_watch(watch: str) -> tuple[int, list[str]]:
    """ "15:730-774" -> (15, ["730", ..., "774"]); "31:560,561" -> (31, ["560", "561"])."""
    title, _, parts = watch.partition(":")
    items = [_WATCH_ITEM.fullmatch(item.strip()) for item in parts.split(",")]
    if not CFR_TITLE.fullmatch(title.strip()) or not all(items):
        raise ParseError(f"watch {watch!r} is not TITLE:PARTS like 15:730-774")
    out: list[str] = []
    for item in items:
        assert item is not None  # all(items) above
        low, high = item.group(1), item.group(2) or item.group(1)
        out += [str(n) for n in range(int(low), int(high) + 1)]
        if len(out) > MAX_WATCHED_PARTS:
            raise ParseError(f"watch {watch!r} names more than {MAX_WATCHED_PARTS:,} parts")
    return int(title), out
