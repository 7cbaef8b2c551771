"""Snapshotting parsed records into the store: each version with its change against the
version in effect before it. Used by the crawl pipeline and by on-demand fetches alike."""

from __future__ import annotations

from collections import Counter

from crawler.diff import diff_documents
from crawler.errors import ParseError
from crawler.items import FetchedCfrPart
from crawler.parse.cfr_units import unit_refs
from crawler.parse.ecfr_xml import parse_ecfr_xml
from crawler.records import Node, Outcome, from_json
from crawler.snapshot import cfr_versions, changed_fields, removed_version
from storage import NewVersion, Store


def prepare(store: Store, new: NewVersion, node_tree: bool = False) -> NewVersion | None:
    """``new`` with its change against the version in effect before it, or None when it
    is that version. ``node_tree``: the tree is a Node (CFR units, web pages), judged by
    the diff engine rather than field by field."""
    before = store.version_at(new.key, new.valid_from)
    if before is not None and before.text_hash == new.text_hash:
        return None
    old_tree = store.blob(before.tree_blob) if before else None
    if node_tree and old_tree is not None and new.kind not in ("part", "removed"):
        diff = diff_documents(from_json(Node, old_tree), from_json(Node, new.tree))
        stats, substantive = {"diff": diff.stats()}, bool(diff.substantive)
    else:
        stats, substantive = changed_fields(old_tree, new.tree)
    return NewVersion(**{**new.__dict__, "change_stats": stats, "substantive": substantive})


def snapshot(store: Store, new: NewVersion, node_tree: bool = False) -> Outcome:
    prepared = prepare(store, new, node_tree)
    if prepared is None:
        return Outcome.UNCHANGED
    return store.snapshot(prepared).outcome


def store_cfr_part(store: Store, item: FetchedCfrPart, run: int, site_base: str) -> Counter[str]:
    """A part's sections and appendices, its manifest, and the units it no longer holds,
    stored in one transaction. A payload that does not parse stores nothing (so it can never
    turn into "section removed")."""
    what = f"{item.title} CFR part {item.part} on {item.day}"
    root = parse_ecfr_xml(item.body, what)
    if root.kind != "part" or root.label != item.part:
        raise ParseError(f"{what}: the XML holds {root.kind} {root.label!r}, not the part")
    news = cfr_versions(
        item.title,
        item.part,
        root,
        item.body,
        item.day,
        run=run,
        fetched_at=item.fetched_at,
        source=item.source,
        site_base=site_base,
    )
    previous = store.version_at(f"cfr:{item.title}:{item.part}", item.day.isoformat())
    if previous is not None:
        kept = {n.key for n in news}
        stub = from_json(Node, store.blob(previous.tree_blob))
        for key, _ in unit_refs(stub):
            if key not in kept:
                row = store.document(key)
                news.insert(
                    0,
                    removed_version(
                        key,
                        item.day,
                        run=run,
                        fetched_at=item.fetched_at,
                        source=item.source,
                        title=row.title if row else key,
                        url=row.url if row else "",
                    ),
                )
    counts: Counter[str] = Counter()
    ready = []
    for new in news:
        prepared = prepare(store, new, node_tree=True)
        if prepared is None:
            counts[f"sections_{Outcome.UNCHANGED}"] += new.kind != "part"
        else:
            ready.append(prepared)
    for new, result in zip(ready, store.snapshot_many(ready), strict=True):
        if new.kind == "removed":
            counts[f"sections_{Outcome.REMOVED}"] += 1
        elif new.kind != "part":
            counts[f"sections_{result.outcome}"] += 1
    return counts
