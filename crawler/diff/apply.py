"""Apply a diff to the old version: the new version back. The property tests use it to show
that a diff is complete (nothing the renderers show is made up, nothing is left out)."""

from __future__ import annotations

from crawler.diff.model import DocumentDiff, NodeChange, Op
from crawler.records import Node


def apply_diff(old: Node, diff: DocumentDiff) -> Node:
    at = {c.path: c for c in diff.changes if c.op != Op.REMOVED}
    return _build(old, (), at)


def _build(node: Node, path: tuple[str, ...], at: dict[tuple[str, ...], NodeChange]) -> Node:
    change = at.get(path)
    title, text, kind, fields = node.title, node.text, node.kind, node.fields
    order = [c.label for c in node.children]
    if change is not None and change.op in (Op.CHANGED, Op.REORDERED):
        values = {f.name: f.new for f in change.fields}
        title = values.get("title", title)
        text = values.get("text", text)
        kind = values.get("kind", kind)
        fields = _fields(fields, values)
        order = list(change.order) if change.order is not None else order
    old_children = {c.label: c for c in node.children}
    children = []
    for label in order:
        child_path = (*path, label)
        placed = at.get(child_path)
        if placed is not None and placed.op in (Op.ADDED, Op.MOVED, Op.REDESIGNATED):
            assert placed.node is not None
            children.append(placed.node)
        else:
            children.append(_build(old_children[label], child_path, at))
    return Node(node.label, kind, title, text, tuple(children), fields)


def _fields(
    fields: tuple[tuple[str, str], ...], values: dict[str, str]
) -> tuple[tuple[str, str], ...]:
    names = [n for n, _ in fields]
    if "columns" in values:
        names = [n for n in values["columns"].split("|") if n]
    current = dict(fields)
    return tuple((n, values.get(f"field:{n}", current.get(n, ""))) for n in names)
