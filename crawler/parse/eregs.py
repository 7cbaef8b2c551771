"""eRegs regulation trees (CFPB/18F regulations-parser JSON: label, text, title, children)
-> Node. Lets the diff engine be checked against another project's own diffs."""

from __future__ import annotations

from typing import Any

from crawler.errors import ParseError
from crawler.parse.expect import (
    JsonObject,
    expect_object,
    load_json,
    objects,
    optional_str,
    str_items,
)
from crawler.records import Node

MAX_DEPTH = 100  # a regulation tree nests about 10 deep


def parse_eregs(data: bytes | str | dict[str, Any], what: str = "eRegs tree") -> Node:
    """An eRegs regulation tree (bytes or text of its JSON, or the decoded object)."""
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    obj = load_json(data, what) if isinstance(data, bytes) else data
    return _node(expect_object(obj, what, "label"), what, 0)


def _node(obj: JsonObject, what: str, depth: int) -> Node:
    if depth > MAX_DEPTH:
        raise ParseError(f"{what}: nodes nested more than {MAX_DEPTH} deep")
    labels = str_items(obj, "label", what)
    if not labels:
        raise ParseError(f"{what}: field 'label' should be a non-empty list of strings")
    here = f"{what} node {'-'.join(labels)}"
    return Node(
        label=labels[-1],
        kind=optional_str(obj, "node_type", here) or "paragraph",
        title=optional_str(obj, "title", here) or "",
        text=optional_str(obj, "text", here) or "",
        children=tuple(_node(c, what, depth + 1) for c in objects(obj, "children", here)),
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
