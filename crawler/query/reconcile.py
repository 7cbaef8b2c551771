"""Whether the eCFR says what a rule said: the unit as the rule's publication-day redline
left it, against the eCFR's text on a day, compared only where the rule changed the unit (its
operations' targets: the nodes its redline changed), so another rule's change to the same
unit elsewhere does not hide the match."""

from __future__ import annotations

from datetime import date

from crawler.diff.cite import cited_diff
from crawler.diff.model import NodeChange, Op
from crawler.errors import RegwatchError
from crawler.keys import projection_key
from crawler.query.lookup import Lookup
from crawler.records import Node, ProjectionOp, from_json
from storage import Store


def targets(store: Store, unit: str, number: str) -> tuple[Node, list[tuple[str, ...]]] | None:
    """The unit as FR Doc. ``number`` said it would read and the paths its redline changed;
    None when the rule's change was not applied as text (flagged, removed) or not stored."""
    key = projection_key(unit, number)
    version, row = store.latest_version(key), store.document(key)
    if version is None or row is None:
        return None
    tree = from_json(Node, store.blob(version.tree_blob))
    if tree.kind in (ProjectionOp.FLAGGED, ProjectionOp.REMOVED):
        return None
    base = row.meta.get("base_version")
    if not base:
        return tree, [()]  # no prior text: the whole unit is the rule's
    old = from_json(Node, store.blob(store.version(base).tree_blob))
    changed = [c for c in cited_diff(unit, old, tree).changes if not _order_only(c)]
    return tree, [c.path for c in changed] + [c.old_path for c in changed if c.old_path]


def reads_as_said(store: Store, lookup: Lookup, unit: str, number: str, day: str) -> bool:
    """The eCFR's text of ``unit`` on ``day`` is, wherever FR Doc. ``number`` changed it,
    what the rule said (no substantive difference there)."""
    found = targets(store, unit, number)
    if found is None:
        return False
    projected, paths = found
    try:
        ecfr = lookup.side(unit, date.fromisoformat(day)).tree
    except RegwatchError:  # not stored for that day
        return False
    for change in cited_diff(unit, projected, ecfr).changes:
        if _order_only(change):  # a container whose children came and went: see them
            continue
        where = [change.path] + ([change.old_path] if change.old_path else [])
        if change.substantive and any(_related(w, p) for w in where for p in paths):
            return False
    return True


def _order_only(change: NodeChange) -> bool:
    return change.op == Op.CHANGED and not change.fields and change.order is not None


def _related(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """One path is the other or within it."""
    n = min(len(a), len(b))
    return a[:n] == b[:n]
