"""What anyone needs to check one side of a comparison: which stored version it is, where
and when each payload was fetched, the sha256 of each payload exactly as fetched (fetch the
same URL and compare), the sha256 of its normalised text, and the FR documents its source
note names. `regwatch diff`, the API, the compare page and the digest's redlines say it."""

from __future__ import annotations

from typing import Any

from crawler.parse.cfr_units import fr_citations
from crawler.records import Node
from storage import VersionRow

# how the normalised hash is made, for anyone who checks it (crawler.snapshot.rows.text_hash)
NORMALISED = (
    "normalised_sha256 is the sha256 of the parsed text as canonical JSON (keys sorted, no "
    "spaces, whitespace squashed within each text), the form regwatch compares; "
    "payload_sha256 is the sha256 of each payload exactly as fetched from fetched_from"
)


def provenance(version: VersionRow, tree: Node | None) -> dict[str, Any]:
    """One side's provenance as data (the JSON of `regwatch diff` and the API); ``tree``:
    the unit's text (whose source note names FR documents), None for an FR document."""
    return {
        "version": version.seq,
        "in_effect_from": version.valid_from,
        "fetched_at": version.fetched_at,
        "fetched_from": dict(sorted(version.fetched_from.items())),
        "payload_sha256": dict(sorted(version.raw_blobs.items())),
        "normalised_sha256": version.text_hash,
        "sources": sorted(fr_citations(tree)) if tree is not None else [],
    }


def provenance_line(name: str, said: dict[str, Any]) -> str:
    """One side's provenance as a reader is shown it under a redline."""
    urls = said.get("fetched_from", {})
    payloads = ", ".join(
        f"{role} sha256 {sha}" + (f" from {urls[role]}" if role in urls else "")
        for role, sha in said["payload_sha256"].items()
    )
    sources = f"; source note: {', '.join(said['sources'])}" if said["sources"] else ""
    return (
        f"{name}: v{said['version']} in effect from {said['in_effect_from']}, fetched "
        f"{said['fetched_at']}; {payloads or 'no payload'}; normalised sha256 "
        f"{said['normalised_sha256']}{sources}"
    )
