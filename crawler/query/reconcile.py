"""Whether the eCFR says what a rule said. A rule's operations on a unit are the nodes its
publication-day redline changed (prior text -> the text the rule said); each is compared with
the eCFR's text of the unit on a day, there and only there, so another rule's change to the
same unit elsewhere neither hides a match nor makes a difference:

    matched      the eCFR's text there is what the rule said (no substantive difference)
    not yet      the eCFR's text there is still the prior text
    different    neither: the eCFR says something else there (the difference is given)

And the other way: an eCFR change of a unit that no stored rule's operations touch is
"unexplained" (an editorial correction, or a rule regwatch has not seen)."""

from __future__ import annotations

import dataclasses
import enum
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from crawler.diff.cite import cited_diff
from crawler.diff.model import DocumentDiff, FieldChange, NodeChange, Op
from crawler.errors import RegwatchError
from crawler.keys import (
    CFR,
    fr_key,
    is_projection,
    projection_key,
    projection_parts,
    projections_of,
)
from crawler.query.lookup import History, Lookup
from crawler.records import Node, ProjectionOp, from_json
from storage import Store, VersionRow

Path_ = tuple[str, ...]
# the eCFR's own record of what amended a unit (its source and citation notes): it changes
# with every rule, by the compiler's hand, never by an instruction
BOOKKEEPING = frozenset({"citation", "source"})


class Status(enum.StrEnum):
    MATCHED = "matched"
    NOT_YET = "not yet in the eCFR"
    DIFFERENT = "different from what the rule said"
    SUPERSEDED = "changed again by a later rule"


@dataclass(frozen=True)
class Operation:
    """One node a rule changed, and what the eCFR says there."""

    path: Path_
    citation: str  # "§ 447.21 Category VI (a)"
    op: Op  # what the rule did there: added, removed, changed, moved
    status: Status
    difference: tuple[NodeChange, ...] = ()  # rule's text -> eCFR's text there, if different
    by: str = ""  # the later rule that changed the node again (SUPERSEDED)


def operations(
    unit: str,
    prior: Node | None,
    projected: Node,
    ecfr: Node | None,
    corrected: Sequence[Node] = (),
    later: Sequence[tuple[str, list[Path_]]] = (),
) -> list[Operation]:
    """Each node ``projected`` changed from ``prior``, with what ``ecfr`` says there; a node
    is matched too where ``ecfr`` says what a correction of the rule said it would
    (``corrected``: the unit as each correction's redline left it); a node a later rule
    changed again (``later``: each rule's number and the paths its redline changed) is
    superseded where it is not matched."""
    empty = Node(projected.label, projected.kind, projected.title)
    base = prior if prior is not None else empty
    changed = _differences(unit, base, projected, substantive=False)
    shown = ecfr if ecfr is not None else empty
    against_rule = _differences(unit, projected, shown)
    against_prior = _differences(unit, base, shown)
    against_corrections = [
        (
            [p for c in _differences(unit, base, fix, substantive=False) for p in _where(c)],
            _differences(unit, fix, shown),
        )
        for fix in corrected
    ]
    out = []
    for change in changed:
        where = _where(change)
        difference = tuple(c for c in against_rule if _touches(c, where))
        fixes_here = [
            d for owns, d in against_corrections if any(_touches(change, [p]) for p in owns)
        ]
        # a correction changed the node too, and the eCFR says what it said
        fixed = any(not any(_touches(c, where) for c in d) for d in fixes_here)
        if fixes_here and not fixed:  # what the eCFR says against the corrected text
            difference = tuple(c for c in fixes_here[-1] if _touches(c, where))
        if not difference or fixed:
            status = Status.MATCHED
        elif not any(_touches(c, where) for c in against_prior):
            status = Status.NOT_YET
        else:
            status = Status.DIFFERENT
        by = ""
        if status != Status.MATCHED:
            by = next((n for n, paths in later if any(_touches(change, [p]) for p in paths)), "")
            status = Status.SUPERSEDED if by else status
        shown_difference = difference if status == Status.DIFFERENT else ()
        out.append(Operation(change.path, change.citation, change.op, status, shown_difference, by))
    return out


def unexplained(diff: DocumentDiff, targets: Iterable[Path_]) -> list[NodeChange]:
    """The substantive changes of ``diff`` (two eCFR versions of a unit) that touch none of
    ``targets`` (the nodes the rules that took effect between them changed)."""
    paths = list(targets)
    return [
        c
        for c in _said(diff)
        if c.kind not in BOOKKEEPING and not any(_touches(c, [p]) for p in paths)
    ]


def _differences(unit: str, old: Node, new: Node, substantive: bool = True) -> list[NodeChange]:
    return _said(cited_diff(unit, old, new), substantive)


def _said(diff: DocumentDiff, substantive: bool = True) -> list[NodeChange]:
    """The substantive changes that say something: not a container's reordering, not a
    parent's note that its children changed (their own changes say it), not a table cell's
    closing period."""
    out = []
    for change in diff.substantive if substantive else diff.changes:
        if _order_only(change) or (change.op == Op.CHANGED and not change.fields):
            continue
        fields = tuple(f for f in change.fields if not _presentation_only(f))
        if change.op == Op.CHANGED and not fields:
            continue  # "(See § 744.11 of the EAR)." in the FR table, no period in the eCFR
        out.append(dataclasses.replace(change, fields=fields))
    return out


def _presentation_only(field: FieldChange) -> bool:
    """The field's two texts differ only in how the compilation sets them, not in what they
    say: spacing ("(a) [Reserved]", "(a)[Reserved]"), the period that closes a table cell
    (the FR's tables have it, the eCFR's rows leave it out), a note's bare "Note:" heading."""
    old = "".join(op.text for op in field.ops if op.op != "insert")
    new = "".join(op.text for op in field.ops if op.op != "delete")
    return old != new and _meaning(field.name, old) == _meaning(field.name, new)


_GENERIC_HEADING = re.compile(r"^notes?:?$", re.I)


def _meaning(name: str, text: str) -> str:
    bare = re.sub(r"\s+", "", text).rstrip(".;,")
    return "" if name == "title" and _GENERIC_HEADING.match(bare) else bare


@dataclass(frozen=True)
class Unexplained:
    """What an eCFR change of a unit did that no stored rule's redline did."""

    changes: tuple[NodeChange, ...]
    flagged: tuple[str, ...]  # rules in the window whose instructions were not applied: they
    # may explain it, regwatch cannot tell


def unexplained_between(
    store: Store, unit: str, old: VersionRow, new: VersionRow, diff: DocumentDiff
) -> Unexplained:
    """``diff`` (``old`` -> ``new``, two eCFR versions of ``unit``) less what the rules with a
    redline of ``unit`` that took effect after ``old`` and by ``new`` changed."""
    targets: list[Path_] = []
    flagged = []
    for number in rules_of(store, unit):
        row = store.document(fr_key(number))
        when = (row.meta.get("effective_on") or row.published) if row else None
        if not when or not old.valid_from < when <= new.valid_from:
            continue
        found = redline(store, unit, number)
        if found is None:
            flagged.append(number)
        else:
            targets += changed_paths(found)
    return Unexplained(tuple(unexplained(diff, targets)), tuple(flagged))


def _where(change: NodeChange) -> list[Path_]:
    return [change.path] + ([change.old_path] if change.old_path else [])


def _touches(change: NodeChange, paths: Sequence[Path_]) -> bool:
    """``change`` is at one of ``paths``, within it, or around it."""
    for mine in _where(change):
        for path in paths:
            n = min(len(mine), len(path))
            if mine[:n] == path[:n]:
                return True
    return False


def _order_only(change: NodeChange) -> bool:
    """A container whose children came and went: the children's changes say it."""
    return change.op == Op.CHANGED and not change.fields and change.order is not None


# --- from the store -------------------------------------------------------------------------


@dataclass(frozen=True)
class Redline:
    """What FR Doc. ``number`` said ``unit`` would read, and the prior text it amended."""

    unit: str
    number: str
    prior: Node | None
    projected: Node


def redline(store: Store, unit: str, number: str) -> Redline | None:
    """None when the rule's change was not applied as text (flagged, removed) or not stored."""
    key = projection_key(unit, number)
    version, row = store.latest_version(key), store.document(key)
    if version is None or row is None:
        return None
    tree = from_json(Node, store.blob(version.tree_blob))
    if tree.kind in (ProjectionOp.FLAGGED, ProjectionOp.REMOVED):
        return None
    base = row.meta.get("base_version")
    prior = from_json(Node, store.blob(store.version(base).tree_blob)) if base else None
    return Redline(unit, number, prior, tree)


def reconcile(
    lookup: Lookup,
    found: Redline,
    day: str,
    corrections: Sequence[Redline] = (),
    later: Sequence[Redline] = (),
) -> list[Operation] | None:
    """``found``'s operations against the eCFR's text on ``day``, ``corrections`` (the
    redlines of the documents correcting it) applied, ``later`` (the redlines of the rules
    published after it, through ``day``) owning what they changed again; None: the eCFR
    not stored then."""
    try:
        ecfr = lookup.side(found.unit, date.fromisoformat(day)).tree
    except RegwatchError:
        return None
    corrected = [c.projected for c in corrections]
    owned = [(r.number, changed_paths(r)) for r in later]
    return operations(found.unit, found.prior, found.projected, ecfr, corrected, owned)


def changed_paths(found: Redline) -> list[Path_]:
    """The nodes ``found``'s redline changed."""
    base = found.prior or Node(found.projected.label, found.projected.kind)
    changed = _differences(found.unit, base, found.projected, substantive=False)
    return [p for c in changed for p in _where(c)]


def redlined_units(store: Store) -> dict[str, list[str]]:
    """Every FR document with a stored publication-day redline, and the units it amends
    (one read of the store's CFR keys)."""
    out: dict[str, list[str]] = {}
    for key in store.keys(CFR):
        if is_projection(key):
            unit, number = projection_parts(key)
            out.setdefault(number, []).append(unit)
    return out


def rules_of(store: Store, unit: str) -> list[str]:
    """The FR documents with a stored publication-day redline of ``unit``."""
    return [projection_parts(k)[1] for k in store.keys(projections_of(unit)) if is_projection(k)]


def unexplained_history(store: Store, history: History) -> dict[int, Unexplained]:
    """By version (its seq): what each eCFR change of the unit did that no stored rule's
    redline did; versions whose changes are all explained are left out."""
    out = {}
    for before, line in zip(history.lines, history.lines[1:], strict=False):
        if line.diff is None or before.version is None or line.version is None:
            continue
        found = unexplained_between(store, history.key, before.version, line.version, line.diff)
        if found.changes:
            out[line.seq] = found
    return out
