"""eRegs regulation trees (CFPB/18F regulations-parser JSON: label, text, title, children)
-> Node. Lets the diff engine be checked against another project's own diffs."""

from __future__ import annotations

import json
from typing import Any

from crawler.records import Node


def parse_eregs(data: bytes | str | dict[str, Any]) -> Node:
    obj = json.loads(data) if isinstance(data, bytes | str) else data
    return _node(obj)


def _node(obj: dict[str, Any]) -> Node:
    return Node(
        label=obj["label"][-1],
        kind=obj.get("node_type") or "paragraph",
        title=obj.get("title") or "",
        text=obj.get("text") or "",
        children=tuple(_node(c) for c in obj.get("children") or ()),
    )


def eregs_key(root: Node, path: tuple[str, ...]) -> str:
    """The eRegs label string of the node at ``path`` below ``root`` ("447-21-a"): eRegs
    leaves subparts out of their members' labels and spells them "447-Subpart-C"."""
    parts = [root.label]
    node = root
    for label in path:
        node = node.child(label)  # type: ignore[assignment]
        if node is None:
            raise KeyError(path)
        if node.kind == "subpart" and label == path[-1]:
            return "-".join((*parts, "Subpart", label))
        if node.kind != "subpart":
            parts.append(label)
    return "-".join(parts)


def subtree_keys(root: Node, path: tuple[str, ...]) -> list[str]:
    """eRegs keys of the node at ``path`` and of every node below it."""
    keys = [eregs_key(root, path)]
    node = root.find(path)
    for child in node.children if node else ():
        keys += subtree_keys(root, (*path, child.label))
    return keys
