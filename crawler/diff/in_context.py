"""A whole unit with its changes marked in place: the new version's nodes in order, each with
its own text (unchanged, or its word-level redline), removed nodes where they stood, and runs
of unchanged nodes grouped so a page can fold them. Pure: two trees and their diff in, blocks
out (the web app's compare page renders them, inline or side by side)."""

from __future__ import annotations

import enum
from collections import defaultdict
from dataclasses import dataclass

from crawler.diff.cite import cite
from crawler.diff.model import DocumentDiff, FieldChange, NodeChange, Op, TextOp
from crawler.records import Node

FOLD_AT = 4  # a run of this many unchanged nodes or more is folded


class Mark(enum.StrEnum):
    SAME = "same"
    CHANGED = "changed"
    ADDED = "added"
    REMOVED = "removed"
    MOVED = "moved"  # moved or redesignated, from ``Block.note``


@dataclass(frozen=True)
class Block:
    depth: int
    citation: str
    kind: str
    mark: Mark
    substantive: bool  # False: unchanged, or typography and whitespace only
    pieces: tuple[FieldChange, ...]  # its text, title or table cells (names as in a diff)
    note: str = ""  # "moved from § 744.11(b)"


@dataclass(frozen=True)
class Run:
    """Consecutive blocks: ``folded`` when they are a long stretch of unchanged text."""

    blocks: tuple[Block, ...]
    folded: bool

    @property
    def changed(self) -> bool:
        return any(b.mark != Mark.SAME for b in self.blocks)


def blocks(unit: str, old: Node, new: Node, diff: DocumentDiff) -> list[Block]:
    """Every node of ``new`` in order, and each removed node of ``old`` after the sibling it
    followed, marked as ``diff`` says."""
    by_path = {c.path: c for c in diff.changes if c.op != Op.REMOVED}
    removed: dict[tuple[str, ...], list[NodeChange]] = defaultdict(list)
    for change in diff.changes:
        if change.op == Op.REMOVED and change.path:
            removed[change.path[:-1]].append(change)
    out: list[Block] = []

    def walk(node: Node, path: tuple[str, ...], depth: int, added: bool) -> None:
        change = by_path.get(path)
        whole = added or (change is not None and change.op == Op.ADDED)
        out.append(_block(unit, new, node, path, depth, change, whole))
        kids = [(c.label, c) for c in node.children]
        gone = removed.get(path, [])
        before = {c.path[-1]: c for c in gone}
        old_node = old.find(path) if path else old
        order = [c.label for c in old_node.children] if old_node is not None else []
        placed = _interleave([label for label, _ in kids], list(before), order)
        children = dict(kids)
        for label in placed:
            if label in before:
                _removed(unit, old, before[label], depth + 1, out)
            else:
                walk(children[label], (*path, label), depth + 1, whole)

    walk(new, (), 0, False)
    return out


def runs(found: list[Block], fold_at: int = FOLD_AT) -> list[Run]:
    """``found`` in runs of changed and unchanged blocks; long unchanged runs folded."""
    out: list[Run] = []
    current: list[Block] = []
    for block in found:
        if current and (block.mark == Mark.SAME) != (current[-1].mark == Mark.SAME):
            out.append(_run(current, fold_at))
            current = []
        current.append(block)
    if current:
        out.append(_run(current, fold_at))
    return out


def _run(found: list[Block], fold_at: int) -> Run:
    same = all(b.mark == Mark.SAME for b in found)
    return Run(tuple(found), same and len(found) >= fold_at)


def _interleave(new: list[str], gone: list[str], old_order: list[str]) -> list[str]:
    """The new children's labels with each removed label after the label it followed in
    the old order (first if it followed none that remains). Linear: an Entity List table
    has thousands of rows."""
    removed, remaining = set(gone), set(new)
    after: dict[str | None, list[str]] = defaultdict(list)
    anchor: str | None = None
    for label in old_order:
        if label in removed:
            after[anchor].append(label)
        elif label in remaining:
            anchor = label
    placed = {label for labels in after.values() for label in labels}
    out = [label for label in gone if label not in placed] + after[None]
    for label in new:
        out.append(label)
        out.extend(after.get(label, ()))
    return out


def _pieces(node: Node) -> tuple[FieldChange, ...]:
    """A node's own text as unchanged fields, named as the diff names them."""
    named = [(f"field:{name}", value) for name, value in node.fields] or [
        ("title", node.title),
        ("text", node.text),
    ]
    return tuple(FieldChange(n, (TextOp("equal", v),), False) for n, v in named if v)


def _as(pieces: tuple[FieldChange, ...], op: str) -> tuple[FieldChange, ...]:
    return tuple(
        FieldChange(p.name, tuple(TextOp(op, o.text) for o in p.ops), True) for p in pieces
    )


def _block(
    unit: str,
    root: Node,
    node: Node,
    path: tuple[str, ...],
    depth: int,
    change: NodeChange | None,
    whole: bool,
) -> Block:
    citation = (change.citation if change else "") or cite(unit, path, root) or node.label
    plain = _pieces(node)
    if whole:
        substantive = change.substantive if change is not None else True
        return Block(depth, citation, node.kind, Mark.ADDED, substantive, _as(plain, "insert"))
    if change is None or (change.op == Op.CHANGED and not change.fields):
        return Block(depth, citation, node.kind, Mark.SAME, False, plain)
    changed = {f.name: f for f in change.fields}
    pieces = tuple(changed.pop(p.name, p) for p in plain) + tuple(changed.values())
    if change.op in (Op.MOVED, Op.REDESIGNATED):
        note = f"{change.op} from {change.old_citation or cite(None, change.old_path or ())}"
        return Block(depth, citation, node.kind, Mark.MOVED, change.substantive, pieces, note)
    if change.op == Op.REORDERED:
        return Block(depth, citation, node.kind, Mark.SAME, False, plain, "children reordered")
    return Block(depth, citation, node.kind, Mark.CHANGED, change.substantive, pieces)


def _removed(unit: str, old: Node, change: NodeChange, depth: int, out: list[Block]) -> None:
    node = change.node or old.find(change.path)
    if node is None:
        return

    def walk(current: Node, path: tuple[str, ...], level: int) -> None:
        citation = cite(unit, path, old) or current.label
        if path == change.path and change.citation:
            citation = change.citation
        pieces = _as(_pieces(current), "delete")
        out.append(Block(level, citation, current.kind, Mark.REMOVED, change.substantive, pieces))
        for child in current.children:
            walk(child, (*path, child.label), level + 1)

    walk(node, change.path, depth)
