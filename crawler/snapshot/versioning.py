"""Snapshotting parsed records into the store: each version with its change against the
version in effect before it. Used by the crawl pipeline and by on-demand fetches alike."""

from __future__ import annotations

import dataclasses
import hashlib
from collections import Counter
from datetime import timedelta
from typing import Any

from crawler.config import EcfrConfig
from crawler.diff import stored as stored_diff
from crawler.errors import ParseError
from crawler.fetch.items import FetchedCfrPart
from crawler.keys import cfr_key
from crawler.parse.cfr_units import by_raw_digest, unit_refs
from crawler.parse.ecfr_xml import Reuse, parse_ecfr_xml
from crawler.parse.expect import shown
from crawler.parse.version import PARSER_VERSION
from crawler.records import UNIT_REMOVED, Node, Outcome, from_json, to_json
from crawler.snapshot.held import Verdict, judge
from crawler.snapshot.rederive import PROJECTED, judge_change, upgrade
from crawler.snapshot.rows import cfr_versions, removed_version, searchable, text_hash
from storage import ErrorKind, NewVersion, Store, VersionRow

HELD = "parts_held"  # the count of held fetches in a run's eCFR stats


def prepare(store: Store, new: NewVersion, node_tree: bool = False) -> NewVersion | None:
    """``new`` with its change against the version in effect before it, or None when it
    is that version. ``node_tree``: the tree is a Node (CFR units, web pages), judged by
    the diff engine rather than field by field. The version before is first made again by
    the current parser if an older one made it (like with like)."""
    before, note = _like_with_like(store, store.version_at(new.key, new.valid_from), new)
    if before is not None and before.text_hash == new.text_hash:
        return None
    old_tree = store.blob(before.tree_blob) if before else None
    diff = None  # the change's diff, kept with it: channels read it, never diff again
    if node_tree and old_tree is not None and stored_diff.diffed(new.kind):
        found = stored_diff.compute(new.key, old_tree, new.tree)
        diff = stored_diff.encode(found)
    if diff is not None and new.kind != UNIT_REMOVED:  # judged by the diff just made
        stats, substantive = {"diff": found.stats()}, bool(found.substantive)
    else:
        stats, substantive = judge_change(old_tree, new.tree, new.kind, node_tree)
    return dataclasses.replace(
        new,
        change_stats=stats | note,
        substantive=substantive,
        parser_version=PARSER_VERSION,
        diff=diff,
        search_text=searchable(new.key, new.kind, new.tree),
    )


def _like_with_like(
    store: Store, before: VersionRow | None, new: NewVersion
) -> tuple[VersionRow | None, dict[str, Any]]:
    """``before`` made by the current parser (its whole document made again and written
    back in place: crawler.snapshot.rederive.upgrade); if it cannot be, it stays as it is, the run
    records why (one line) and the change says which parser made the tree it was compared
    with."""
    if before is None or new.kind == PROJECTED:
        return before, {}
    upgraded = upgrade(store, before)
    if isinstance(upgraded, VersionRow):
        return upgraded, {}
    line = f"compared with a tree made by parser {before.parser_version}: {upgraded.reason}"
    store.record_error(new.run, new.source, new.key, line, new.fetched_at, ErrorKind.INPUT)
    return before, {"compared_with_parser": before.parser_version}


def snapshot(store: Store, new: NewVersion, node_tree: bool = False) -> Outcome:
    prepared = prepare(store, new, node_tree)
    if prepared is None:
        return Outcome.UNCHANGED
    return store.snapshot(prepared).outcome


def store_cfr_part(
    store: Store, item: FetchedCfrPart, run: int, ecfr: EcfrConfig, *, hold: bool = True
) -> Counter[str]:
    """A part's sections and appendices, its manifest, and the units it no longer holds,
    stored in one transaction. A payload that does not parse stores nothing (so it can never
    turn into "section removed"); one that loses implausibly much is held (crawler.snapshot.held):
    its payload kept apart, nothing applied, until confirmed. ``hold=False``: applied as the
    eCFR gives it (a date the user asked the eCFR for on demand, shown to them as it is)."""
    what = f"{item.title} CFR part {item.part} on {item.day}"
    key = cfr_key(item.title, item.part)
    # judged against the part as it stood the day before (not a version of this same day,
    # which may be this payload applied in part, its suspect tables held)
    previous = _upgrade_part(
        store, store.version_at(key, (item.day - timedelta(days=1)).isoformat())
    )
    stub = from_json(Node, store.blob(previous.tree_blob)) if previous is not None else None
    reuse = Reuse(_reusable(store, stub, item.day.isoformat()) if stub is not None else {})
    root = parse_ecfr_xml(item.body, what, reuse)
    if root.kind != "part" or root.label != item.part:
        raise ParseError(f"{what}: the XML holds {root.kind} {shown(root.label)}, not the part")
    news = cfr_versions(
        item.title,
        item.part,
        root,
        item.body,
        item.day,
        run=run,
        fetched_at=item.fetched_at,
        source=item.source,
        site_base=ecfr.site_base,
        raw_digests=reuse.digest_of,
        url=item.url,
    )
    confirmed_by: tuple[str, ...] = ()
    held: Counter[str] = Counter()
    if previous is not None and stub is not None:
        verdict = judge(store, item, stub, previous.valid_from, news, ecfr, reuse.reused)
        if verdict.held and hold and not verdict.only:
            return _hold(store, item, run, verdict, previous)
        confirmed_by = verdict.confirmed_by
        before = [k for k, _ in unit_refs(stub)]
        news[:0] = _removals(store, item, run, before, news, reuse.reused)
        if verdict.held and hold:  # the part is plausible: hold only its suspect tables
            held = _hold(store, item, run, verdict, previous)
            news = keep_previous(news, stub, set(verdict.only))
    unchanged = Counter({f"sections_{Outcome.UNCHANGED}": len(reuse.reused)})
    counts = _apply(store, news) + held + unchanged
    if not held:
        sha = hashlib.sha256(item.body).hexdigest()
        resolution = "confirmed by " + " and ".join(confirmed_by) if confirmed_by else "applied"
        store.resolve_held(key, item.day.isoformat(), sha, run, resolution)
    return counts


def _reusable(store: Store, stub: Node, day: str) -> dict[str, Node]:
    """The units of the manifest ``stub`` that a payload for ``day`` need not parse when
    their XML is byte for byte what it was: those whose version in effect on ``day`` is the
    one the manifest names (not one a newer parser could not make again, nor one stored for
    ``day`` from another payload), by the hash of their XML."""
    known = by_raw_digest(stub)
    keys = [dict(ref.fields)["key"] for ref in known.values()]
    in_effect = store.hashes_at(keys, day)
    return {
        raw: ref
        for (raw, ref), key in zip(known.items(), keys, strict=True)
        if (found := in_effect.get(key))
        and found[0].startswith(ref.text)
        and found[1] >= PARSER_VERSION
    }


def _upgrade_part(store: Store, manifest: VersionRow | None) -> VersionRow | None:
    """The part's manifest and the units it names, in effect on its date, made again by the
    current parser where an older one made them: what a new payload is judged against. What
    cannot be made again is said when its unit's new version is compared with it."""
    if manifest is None or manifest.parser_version >= PARSER_VERSION:
        return manifest
    for key, _ in unit_refs(from_json(Node, store.blob(manifest.tree_blob))):
        unit = store.version_at(key, manifest.valid_from)
        if unit is not None:
            upgrade(store, unit)
    upgraded = upgrade(store, manifest)
    return upgraded if isinstance(upgraded, VersionRow) else manifest


def keep_previous(news: list[NewVersion], stub: Node, keep: set[str]) -> list[NewVersion]:
    """``news`` without new versions (or removals) of the units in ``keep``, and the part's
    manifest pointing at their versions in effect before, so the part rebuilds whole."""
    before = dict(unit_refs(stub))
    out = [n for n in news if n.key not in keep]
    for i, new in enumerate(out):
        if new.kind == "part":
            tree = to_json(_repoint(from_json(Node, new.tree), before, keep))
            out[i] = dataclasses.replace(new, tree=tree, text_hash=text_hash(tree))
    return out


def _repoint(node: Node, before: dict[str, str], keep: set[str]) -> Node:
    if node.kind == "unit-ref":
        key = dict(node.fields)["key"]
        if key not in keep:
            return node
        # the unit's XML in this payload is not what the kept version was parsed from:
        # no XML hash, so the next payload parses it again (and judges it again)
        fields = tuple(f for f in node.fields if f[0] != "raw")
        return dataclasses.replace(node, text=before[key], fields=fields)
    children = tuple(_repoint(c, before, keep) for c in node.children)
    return dataclasses.replace(node, children=children)


def _hold(
    store: Store, item: FetchedCfrPart, run: int, verdict: Verdict, previous: VersionRow
) -> Counter[str]:
    """Keep the payload apart (content-addressed, against the payload it would replace)."""
    store.hold_fetch(
        cfr_key(item.title, item.part),
        item.day.isoformat(),
        run=run,
        fetched_at=item.fetched_at,
        raw=item.body,
        reason=verdict.loss.describe(),
        base=previous.raw_blobs.get("xml"),
    )
    return Counter({HELD: 1})


def _removals(
    store: Store,
    item: FetchedCfrPart,
    run: int,
    before: list[str],
    news: list[NewVersion],
    reused: set[str],
) -> list[NewVersion]:
    """A "removed" version for each unit of ``before`` that the part no longer holds (in
    ``news``, or unchanged: ``reused``)."""
    kept = {n.key for n in news} | reused
    out = []
    for key in before:
        if key not in kept:
            row = store.document(key)
            out.append(
                removed_version(
                    key,
                    item.day,
                    run=run,
                    fetched_at=item.fetched_at,
                    source=item.source,
                    title=row.title if row else key,
                    url=row.url if row else "",
                )
            )
    return out[::-1]  # as they were inserted one by one at the front before


def _apply(store: Store, news: list[NewVersion]) -> Counter[str]:
    counts: Counter[str] = Counter()
    ready = []
    for new in news:
        prepared = prepare(store, new, node_tree=True)
        if prepared is None:
            counts[f"sections_{Outcome.UNCHANGED}"] += new.kind != "part"
        else:
            ready.append(prepared)
    for new, result in zip(ready, store.snapshot_many(ready), strict=True):
        if new.kind == UNIT_REMOVED:
            counts[f"sections_{Outcome.REMOVED}"] += 1
        elif new.kind != "part":
            counts[f"sections_{result.outcome}"] += 1
    return counts
