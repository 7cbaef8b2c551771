"""The diff model: what changed, where, and whether it changes the law."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from crawler.records import Node, to_jsonable


class Op(enum.StrEnum):
    ADDED = "added"
    REMOVED = "removed"
    CHANGED = "changed"
    MOVED = "moved"  # same content under another parent
    REDESIGNATED = "redesignated"  # same content, same parent, new label: (b) became (c)
    REORDERED = "reordered"  # same children in another order (never substantive)


@dataclass(frozen=True)
class TextOp:
    """A run of words: ``equal`` text is kept, ``delete`` is old only, ``insert`` new only."""

    op: str
    text: str


@dataclass(frozen=True)
class FieldChange:
    """A changed field of a node: ``title``, ``text``, or a table column by name."""

    name: str
    ops: tuple[TextOp, ...]
    substantive: bool

    @property
    def old(self) -> str:
        return "".join(o.text for o in self.ops if o.op != "insert")

    @property
    def new(self) -> str:
        return "".join(o.text for o in self.ops if o.op != "delete")


@dataclass(frozen=True)
class NodeChange:
    op: Op
    path: tuple[str, ...]  # where the node is in the new version (the old one if removed)
    kind: str
    substantive: bool
    fields: tuple[FieldChange, ...] = ()
    old_path: tuple[str, ...] | None = None  # moved / redesignated from here
    node: Node | None = None  # the new node (added, moved), or the old one (removed)
    order: tuple[str, ...] | None = None  # the new order of child labels, when it changed

    @property
    def key(self) -> str:
        return "/".join(self.path)


@dataclass(frozen=True)
class DocumentDiff:
    changes: tuple[NodeChange, ...]

    @property
    def substantive(self) -> tuple[NodeChange, ...]:
        return tuple(c for c in self.changes if c.substantive)

    def stats(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for change in self.changes:
            counts[change.op] = counts.get(change.op, 0) + 1
        counts["substantive"] = len(self.substantive)
        return counts

    def to_json(self) -> dict:
        return {"stats": self.stats(), "changes": to_jsonable(list(self.changes))}
