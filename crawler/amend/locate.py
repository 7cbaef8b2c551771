"""Where an operation's target is in a unit's tree: heading-qualified paragraph paths, the
notes after a paragraph, definitions; and the small immutable edits the projection makes.

A path is the labels from the unit down to the node: ("Category VI", "a") for the second
"(a)" of § 447.21. Nothing is found by position: a label that is not there, or that two
headings both hold when the instruction names neither, is a ``NotApplied`` with the reason.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator

from crawler.parse.amdpar_ops import Target
from crawler.parse.text import fold
from crawler.records import Node

Path = tuple[str, ...]

ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth")
_NOTE = re.compile(r"^(?:(?P<ord>\w+) )?note after(?:, (?P<rest>.+))?$")
DEFINITION = re.compile(r'^definition "(?P<term>.+)"$')


class NotApplied(Exception):
    """An operation that cannot be applied mechanically; the message says why."""


def where(target: Target) -> str:
    """The target as cited in a flag, without the title: '447.21 Category VI (a), note after'."""
    cite = target.cite()
    return cite.split(" CFR ", 1)[1] if " CFR " in cite else cite


def own_portion(portion: str) -> str:
    """The part of a portion that acts on the located node itself: "introductory text" for
    "note after, introductory text" and "introductory text"; "" for the whole node."""
    note = _NOTE.match(portion)
    if note is not None:
        return note.group("rest") or ""
    return portion if portion in ("introductory text", "heading") else ""


def locate(tree: Node, target: Target, text: str) -> Path:
    """The path of ``target`` in ``tree`` (``text`` names the tree in the reason: "prior")."""
    path = _paragraph(tree, target, text)
    note = _NOTE.match(target.portion)
    if note is not None:
        return _note(tree, path, note.group("ord"), target, text)
    definition = DEFINITION.match(target.portion)
    if definition is not None:
        return _definition(tree, path, definition.group("term"), target, text)
    return path


def _paragraph(tree: Node, target: Target, text: str) -> Path:
    path: Path = ()
    if target.heading:
        path = _heading(tree, target.heading, target, text)
    for label in target.paragraph:
        path = _child(tree, path, label, bool(target.heading), target, text)
    return path


def _heading(tree: Node, heading: str, target: Target, text: str) -> Path:
    wanted = fold(heading).lower()
    found = [p for p, n in walk(tree, ()) if n.kind == "heading" and n.label.lower() == wanted]
    if len(found) != 1:
        count = "not found" if not found else f"found {len(found)} times"
        raise NotApplied(f"heading {heading} is {count} in the {text} text")
    return found[0]


def _child(tree: Node, path: Path, label: str, headed: bool, target: Target, text: str) -> Path:
    node = tree.find(path)
    assert node is not None
    if node.child(label) is not None:
        return (*path, label)
    if not headed:
        under = [p for p, n in walk(node, path) if n.kind == "heading" and n.child(label)]
        if len(under) == 1:
            return (*under[0], label)
        if under:
            raise NotApplied(
                f"paragraph ({label}) is under {len(under)} headings in the {text} text "
                "and the instruction names none"
            )
    raise NotApplied(f"no paragraph {where(target)} in the {text} text")


def _note(tree: Node, path: Path, ordinal: str | None, target: Target, text: str) -> Path:
    """The notes after a paragraph are attached to it or to its last descendant."""
    index = ORDINALS.index(ordinal.lower()) if ordinal and ordinal.lower() in ORDINALS else 0
    notes = notes_after(tree, path)
    if index >= len(notes):
        raise NotApplied(f"no {ordinal or ''} note after it in the {text} text".replace("  ", " "))
    return notes[index]


def notes_after(tree: Node, path: Path) -> list[Path]:
    """Paths of the notes that follow the paragraph at ``path`` (attached to it, or to its
    last sub-paragraph, as the tree attaches a note to the paragraph it follows)."""
    node = tree.find(path)
    while node is not None:
        paragraphs = [i for i, c in enumerate(node.children) if c.kind not in ("note", "stars")]
        last = paragraphs[-1] if paragraphs else -1
        trailing = [c.label for c in node.children[last + 1 :] if c.kind == "note"]
        if trailing or last < 0 or node.children[last].kind != "paragraph":
            return [(*path, label) for label in trailing]
        path = (*path, node.children[last].label)
        node = node.children[last]
    return []


def _definition(tree: Node, path: Path, term: str, target: Target, text: str) -> Path:
    wanted = fold(term).lower().strip(" .")
    base = tree.find(path)
    assert base is not None
    found = [p for p, n in walk(base, path) if _defines(n, wanted)]
    if len(found) != 1:
        count = "not found" if not found else f"found {len(found)} times"
        raise NotApplied(f'the definition of "{term}" is {count} in the {text} text')
    return found[0]


def _defines(node: Node, term: str) -> bool:
    """A definition of ``term``; in a rule's text, where the tree was not told the unit holds
    definitions, also an unlabelled paragraph that starts with the term."""
    if node.kind == "definition":
        return fold(node.label).lower().strip(" .") == term
    opening = fold(node.text).lower().lstrip("\"' ")
    return node.kind == "paragraph" and node.label[:1] == "p" and opening.startswith(term)


def walk(node: Node, path: Path = ()) -> Iterator[tuple[Path, Node]]:
    """Every node below ``node`` (whose path is ``path``), parents first, with its path."""
    for child in node.children:
        here = (*path, child.label)
        yield here, child
        yield from walk(child, here)


# --- immutable edits -------------------------------------------------------------------------


def replace_at(root: Node, path: Path, node: Node | None) -> Node:
    """``root`` with the node at ``path`` replaced by ``node`` (removed when None)."""
    if not path:
        assert node is not None
        return node
    children = []
    for child in root.children:
        if child.label != path[0]:
            children.append(child)
        elif len(path) == 1:
            if node is not None:
                children.append(node)
        else:
            children.append(replace_at(child, path[1:], node))
    return dataclasses.replace(root, children=tuple(children))


def insert_at(root: Node, parent: Path, node: Node, after: str | None) -> Node:
    """``root`` with ``node`` put under ``parent``: after the sibling labelled ``after``, or
    where its label sorts among its siblings when ``after`` is None or not there."""
    owner = root.find(parent)
    assert owner is not None
    children = list(owner.children)
    labels = [c.label for c in children]
    index = labels.index(after) + 1 if after in labels else _position(children, node)
    children.insert(index, node)
    return replace_at(root, parent, dataclasses.replace(owner, children=tuple(children)))


def _position(children: list[Node], node: Node) -> int:
    """After the last sibling of the same kind whose label sorts before the new one's."""

    if node.kind == "definition":
        terms = [i for i, c in enumerate(children) if c.kind == "definition"]
        later = [i for i in terms if fold(children[i].label).lower() > fold(node.label).lower()]
        return later[0] if later else (terms[-1] + 1 if terms else len(children))

    def rank(label: str) -> tuple[int, str]:
        return (int(label), "") if label.isdigit() else (len(label), label.lower())

    for i in range(len(children) - 1, -1, -1):
        child = children[i]
        if child.kind == node.kind and rank(child.label) < rank(node.label):
            return i + 1
    metadata = [i for i, c in enumerate(children) if c.label in ("citation", "authority")]
    return metadata[0] if metadata else len(children)
