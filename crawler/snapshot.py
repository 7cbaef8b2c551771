"""Parsed records -> NewVersion rows for the store: identity, listing fields, hashes."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from crawler.parse.text import fold
from crawler.records import FrDocument, PublicInspectionDocument, to_json
from storage import NewVersion


def text_hash(tree: bytes) -> str:
    """The hash of a record's normalised content: typography and whitespace folded, so a
    re-serialised or re-typeset payload with the same words is the same version."""
    return hashlib.sha256(fold(tree.decode()).encode()).hexdigest()


def changed_fields(old_tree: bytes | None, new_tree: bytes) -> dict[str, Any]:
    """Which top-level fields of a record differ between two versions."""
    if old_tree is None:
        return {}
    old, new = json.loads(old_tree), json.loads(new_tree)
    fields = sorted(
        k
        for k in set(old) | set(new)
        if fold(json.dumps(old.get(k), sort_keys=True))
        != fold(json.dumps(new.get(k), sort_keys=True))
    )
    return {"fields": fields}


def fr_version(
    doc: FrDocument,
    raw: dict[str, bytes],
    *,
    run: int,
    fetched_at: str,
    source: str,
    reference_for: str | None,
) -> NewVersion:
    tree = to_json(doc)
    meta = {
        "type": doc.type,
        "citation": doc.citation,
        "correction_of": doc.correction_of,
        "effective_on": doc.effective_on and doc.effective_on.isoformat(),
        "comments_close_on": doc.comments_close_on and doc.comments_close_on.isoformat(),
        "cfr_parts": list(doc.cfr_parts),
    }
    if reference_for:
        meta["reference_for"] = reference_for
    links = (("corrects", f"fr:{doc.correction_of}"),) if doc.correction_of else ()
    return NewVersion(
        key=doc.key,
        kind=doc.type,
        source=source,
        title=doc.title,
        url=doc.html_url,
        published=doc.publication_date.isoformat(),
        meta=meta,
        raw=raw,
        tree=tree,
        text_hash=text_hash(tree),
        valid_from=doc.publication_date.isoformat(),
        fetched_at=fetched_at,
        run=run,
        links=links,
    )


def pi_version(
    doc: PublicInspectionDocument, raw: bytes, *, run: int, fetched_at: str, source: str
) -> NewVersion:
    tree = to_json(doc)
    meta = {
        "type": doc.type,
        "special_filing": doc.special_filing,
        "filed_at": doc.filed_at,
        "publication_date": doc.publication_date and doc.publication_date.isoformat(),
    }
    return NewVersion(
        key=doc.key,
        kind=doc.type,
        source=source,
        title=doc.title,
        url=doc.html_url,
        published=doc.available_on.isoformat(),
        meta=meta,
        raw={"json": raw},
        tree=tree,
        text_hash=text_hash(tree),
        valid_from=doc.available_on.isoformat(),
        fetched_at=fetched_at,
        run=run,
    )
