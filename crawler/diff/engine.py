"""Structure first: align two Node trees by label, skip equal subtrees by digest, diff words
inside the nodes that changed, and pair removed and added subtrees of equal content as moves
or redesignations."""

from __future__ import annotations

import hashlib
import re

from crawler.diff.model import DocumentDiff, FieldChange, NodeChange, Op
from crawler.diff.normalize import quiet
from crawler.diff.words import word_diff
from crawler.records import Node

Path = tuple[str, ...]


def diff_documents(old: Node, new: Node) -> DocumentDiff:
    """Every difference between ``old`` and ``new`` (two versions of one document)."""
    changes: list[NodeChange] = []
    removed: list[tuple[Path, Node]] = []
    added: list[tuple[Path, Node]] = []
    _walk(old, new, (), changes, removed, added)
    changes.extend(_pair_moves(removed, added))
    changes.sort(key=lambda c: (c.path, c.op))
    return DocumentDiff(tuple(changes))


def _walk(
    old: Node,
    new: Node,
    path: Path,
    changes: list[NodeChange],
    removed: list[tuple[Path, Node]],
    added: list[tuple[Path, Node]],
) -> None:
    if old.digest == new.digest:
        return
    fields = _field_changes(old, new)
    old_labels = [c.label for c in old.children]
    new_labels = [c.label for c in new.children]
    order = None
    op = Op.CHANGED
    if old_labels != new_labels:
        order = tuple(new_labels)
        if not fields and sorted(old_labels) == sorted(new_labels) and _same_children(old, new):
            op = Op.REORDERED
    if fields or order is not None:
        substantive = op != Op.REORDERED and (
            any(f.substantive for f in fields) or set(old_labels) != set(new_labels)
        )
        changes.append(NodeChange(op, path, new.kind, substantive, tuple(fields), order=order))
    # 1. same label, same subtree: nothing to do; 2. same content under another label of
    # this parent: a redesignation ((b) became (c)), preferred over a label match so that
    # a chain of renumbered paragraphs is not reported as rewritten text; 3. same label:
    # diff inside; 4. the rest is removed or added (moves are paired across the document).
    old_left = {c.label: c for c in old.children}
    new_left = []
    for child in new.children:
        before = old_left.get(child.label)
        if before is not None and before.digest == child.digest:
            del old_left[child.label]
        else:
            new_left.append(child)
    by_content: dict[bytes, list[Node]] = {}
    for child in old_left.values():
        by_content.setdefault(_content(child), []).append(child)
    unmatched = []
    for child in new_left:
        twins = by_content.get(_content(child))
        twin = next((t for t in twins or () if t.label in old_left), None)
        if twin is not None and twin.label != child.label:
            del old_left[twin.label]
            twins.remove(twin)
            changes.append(
                NodeChange(
                    Op.REDESIGNATED,
                    (*path, child.label),
                    child.kind,
                    _label_matters(twin.label, child.label),
                    old_path=(*path, twin.label),
                    node=child,
                )
            )
        else:
            unmatched.append(child)
    for child in unmatched:
        before = old_left.pop(child.label, None)
        if before is None:
            added.append(((*path, child.label), child))
        else:
            _walk(before, child, (*path, child.label), changes, removed, added)
    for label, child in old_left.items():
        removed.append(((*path, label), child))


_POSITIONAL = re.compile(r"p\d+")


def _label_matters(old: str, new: str) -> bool:
    """A redesignation is substantive unless only typography or an unlabelled paragraph's
    position changed (the parser numbers unlabelled paragraphs p1, p2, ...)."""
    if quiet(old) == quiet(new):
        return False
    return not (_POSITIONAL.fullmatch(old) and _POSITIONAL.fullmatch(new))


def _same_children(old: Node, new: Node) -> bool:
    digests = {c.label: c.digest for c in old.children}
    return all(digests.get(c.label) == c.digest for c in new.children)


def _field_changes(old: Node, new: Node) -> list[FieldChange]:
    pairs = [("title", old.title, new.title), ("text", old.text, new.text)]
    if old.kind != new.kind:
        pairs.append(("kind", old.kind, new.kind))
    old_fields, new_fields = dict(old.fields), dict(new.fields)
    for name in dict.fromkeys([*old_fields, *new_fields]):
        pairs.append((f"field:{name}", old_fields.get(name, ""), new_fields.get(name, "")))
    if [n for n, _ in old.fields] != [n for n, _ in new.fields]:
        pairs.append(
            ("columns", "|".join(n for n, _ in old.fields), "|".join(n for n, _ in new.fields))
        )
    return [
        FieldChange(name, word_diff(a, b), quiet(a) != quiet(b)) for name, a, b in pairs if a != b
    ]


def _content(node: Node) -> bytes:
    """A digest of what a subtree says, ignoring its own label and typography."""
    h = hashlib.blake2b(digest_size=16)
    h.update(quiet(f"{node.kind}\x00{node.title}\x00{node.text}").encode())
    for name, value in node.fields:
        h.update(quiet(f"{name}\x01{value}").encode())
    for child in node.children:
        h.update(child.label.encode() + b"\x02" + _content(child))
    return h.digest()


def _pair_moves(
    removed: list[tuple[Path, Node]], added: list[tuple[Path, Node]]
) -> list[NodeChange]:
    """Removed and added subtrees with the same content are one move (or redesignation)."""
    gone: dict[bytes, list[tuple[Path, Node]]] = {}
    for path, node in removed:
        if node.text or node.children or node.fields:
            gone.setdefault(_content(node), []).append((path, node))
    out: list[NodeChange] = []
    for path, node in added:
        candidates = (
            gone.get(_content(node)) if (node.text or node.children or node.fields) else None
        )
        if candidates:
            old_path, _old = candidates.pop(0)
            op = Op.REDESIGNATED if old_path[:-1] == path[:-1] else Op.MOVED
            out.append(NodeChange(op, path, node.kind, True, old_path=old_path, node=node))
        else:
            out.append(NodeChange(Op.ADDED, path, node.kind, True, node=node))
    for bucket in gone.values():
        for path, node in bucket:
            out.append(NodeChange(Op.REMOVED, path, node.kind, True, node=node))
    moved_from = {c.old_path for c in out if c.old_path}
    for path, node in removed:
        if not (node.text or node.children or node.fields) and path not in moved_from:
            out.append(NodeChange(Op.REMOVED, path, node.kind, True, node=node))
    return out
