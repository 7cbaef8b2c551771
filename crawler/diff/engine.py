"""Structure first: align two Node trees by label, skip equal subtrees by digest, diff words
inside the nodes that changed, and pair removed and added subtrees of equal content as moves
or redesignations.

Work is proportional to what changed: a subtree whose digest is unchanged is never read, and
content (typography-folded) hashes are computed only for the few nodes that may have been
renumbered or moved.
"""

from __future__ import annotations

import hashlib
import re

from crawler.diff.model import DocumentDiff, FieldChange, NodeChange, Op
from crawler.diff.normalize import quiet, substantive
from crawler.diff.words import word_diff
from crawler.records import Node

Path = tuple[str, ...]
_POSITIONAL = re.compile(r"p\d+")


def diff_documents(old: Node, new: Node) -> DocumentDiff:
    """Every difference between ``old`` and ``new`` (two versions of one document)."""
    differ = _Differ()
    differ.walk(old, new, ())
    changes = differ.changes + differ.pair_moves()
    changes.sort(key=lambda c: (c.path, c.op))
    return DocumentDiff(tuple(changes))


class _Differ:
    def __init__(self) -> None:
        self.changes: list[NodeChange] = []
        self.removed: list[tuple[Path, Node]] = []
        self.added: list[tuple[Path, Node]] = []
        self._content: dict[int, bytes] = {}

    def walk(self, old: Node, new: Node, path: Path) -> None:
        if old.digest == new.digest:
            return
        self._own_change(old, new, path)
        old_left = {c.label: c for c in old.children}
        pending = []
        for child in new.children:
            before = old_left.get(child.label)
            if before is not None and before.digest == child.digest:
                del old_left[child.label]
            else:
                pending.append(child)
        if any(c.label not in old_left for c in pending) or len(old_left) > len(pending):
            pending = self._redesignations(old_left, pending, path)
        for child in pending:
            before = old_left.pop(child.label, None)
            if before is None:
                self.added.append(((*path, child.label), child))
            else:
                self.walk(before, child, (*path, child.label))
        self.removed.extend(((*path, label), child) for label, child in old_left.items())

    def _own_change(self, old: Node, new: Node, path: Path) -> None:
        fields = _field_changes(old, new)
        old_labels = [c.label for c in old.children]
        new_labels = [c.label for c in new.children]
        order = tuple(new_labels) if old_labels != new_labels else None
        if not fields and order is None:
            return
        if not fields and sorted(old_labels) == sorted(new_labels) and _same_children(old, new):
            self.changes.append(NodeChange(Op.REORDERED, path, new.kind, False, order=order))
            return
        substantive = any(f.substantive for f in fields) or set(old_labels) != set(new_labels)
        self.changes.append(
            NodeChange(Op.CHANGED, path, new.kind, substantive, tuple(fields), order=order)
        )

    def _redesignations(
        self, old_left: dict[str, Node], pending: list[Node], path: Path
    ) -> list[Node]:
        """Children whose content now stands under another label of the same parent:
        (b) became (c). Preferred over a label match, so that a chain of renumbered
        paragraphs is not reported as rewritten text. Returns the children still to place."""
        by_content: dict[bytes, list[Node]] = {}
        for child in old_left.values():
            by_content.setdefault(self.content(child), []).append(child)
        rest = []
        for child in pending:
            twins = by_content.get(self.content(child)) or []
            twin = next((t for t in twins if t.label in old_left), None)
            if twin is None or twin.label == child.label:
                rest.append(child)
                continue
            del old_left[twin.label]
            twins.remove(twin)
            self.changes.append(
                NodeChange(
                    Op.REDESIGNATED,
                    (*path, child.label),
                    child.kind,
                    _label_matters(twin.label, child.label),
                    old_path=(*path, twin.label),
                    node=child,
                )
            )
        return rest

    def content(self, node: Node) -> bytes:
        """A digest of what a subtree says, ignoring its own label and typography."""
        cached = self._content.get(id(node))
        if cached is None:
            h = hashlib.blake2b(digest_size=16)
            h.update(quiet(f"{node.kind}\x00{node.title}\x00{node.text}").encode())
            for name, value in node.fields:
                h.update(quiet(f"{name}\x01{value}").encode())
            for child in node.children:
                h.update(child.label.encode() + b"\x02" + self.content(child))
            cached = self._content[id(node)] = h.digest()
        return cached

    def pair_moves(self) -> list[NodeChange]:
        """Removed and added subtrees with the same content are one move (or, under the
        same parent, one redesignation); the rest are plain removals and additions."""
        gone: dict[bytes, list[tuple[Path, Node]]] = {}
        for path, node in self.removed:
            if _has_content(node):
                gone.setdefault(self.content(node), []).append((path, node))
        out: list[NodeChange] = []
        for path, node in self.added:
            candidates = gone.get(self.content(node)) if _has_content(node) else None
            if not candidates:
                out.append(NodeChange(Op.ADDED, path, node.kind, True, node=node))
                continue
            old_path, _ = candidates.pop(0)
            same_parent = old_path[:-1] == path[:-1]
            op = Op.REDESIGNATED if same_parent else Op.MOVED
            substantive = _label_matters(old_path[-1], path[-1]) if same_parent else True
            out.append(NodeChange(op, path, node.kind, substantive, old_path=old_path, node=node))
        paired = {c.old_path for c in out if c.old_path}
        out += [
            NodeChange(Op.REMOVED, path, node.kind, True, node=node)
            for path, node in self.removed
            if path not in paired
        ]
        return out


def _has_content(node: Node) -> bool:
    return bool(node.text or node.children or node.fields)


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
    if old.fields or new.fields:
        old_fields, new_fields = dict(old.fields), dict(new.fields)
        for name in dict.fromkeys([*old_fields, *new_fields]):
            pairs.append((f"field:{name}", old_fields.get(name, ""), new_fields.get(name, "")))
        if [n for n, _ in old.fields] != [n for n, _ in new.fields]:
            pairs.append(
                ("columns", "|".join(n for n, _ in old.fields), "|".join(n for n, _ in new.fields))
            )
    out = []
    for name, a, b in pairs:
        if a != b:
            ops = word_diff(a, b)
            out.append(FieldChange(name, ops, substantive(a, b, ops)))
    return out
