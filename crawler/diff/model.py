"""The diff model: what changed, where, and whether it changes the law."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from crawler.records import Node, to_jsonable


class Op(enum.StrEnum):
    """What happened to a node between two versions: the one vocabulary of change operations,
    used by the diff engine, the report (its entries and templates) and the queries."""

    ADDED = "added"
    REMOVED = "removed"
    CHANGED = "changed"
    MOVED = "moved"  # same content under another parent
    REDESIGNATED = "redesignated"  # same content, same parent, new label: (b) became (c)
    REORDERED = "reordered"  # same children in another order (never substantive)

    @property
    def entry_word(self) -> str:
        """How the change of a list entry (an Entity List row) reads: "revised" when changed."""
        return "revised" if self is Op.CHANGED else self.value


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
    # as people cite it ("§ 744.11(b)(2)"), filled in by crawler.diff.cite once the unit is known
    citation: str = ""
    old_citation: str = ""  # the citation of ``old_path``

    @property
    def key(self) -> str:
        return "/".join(self.path)


@dataclass(frozen=True)
class DocumentDiff:
    changes: tuple[NodeChange, ...]

    @property
    def substantive(self) -> tuple[NodeChange, ...]:
        return tuple(c for c in self.changes if c.substantive)

    @property
    def listed(self) -> tuple[NodeChange, ...]:
        """The changes a reader is shown: all but a parent's note that its children changed
        ("Supp. No. 4 to Part 744, table changed"), which the children's own lines say."""
        return tuple(c for c in self.changes if c.op != Op.CHANGED or c.fields)

    def counted(self) -> str:
        """ "3 changes (2 substantive)", of the changes a reader is shown."""
        shown = self.listed
        real = sum(1 for c in shown if c.substantive)
        return f"{len(shown)} change{'' if len(shown) == 1 else 's'} ({real} substantive)"

    def stats(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for change in self.changes:
            counts[change.op] = counts.get(change.op, 0) + 1
        counts["substantive"] = len(self.substantive)
        return counts

    def to_json(self) -> dict:
        return {"stats": self.stats(), "changes": to_jsonable(list(self.changes))}
