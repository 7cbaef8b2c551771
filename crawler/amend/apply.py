"""One operation applied to one unit's tree (pure).

``apply`` takes the unit as the operations so far left it (None: not there), the unit as
the rule gives it (its paragraphs built from the REGTEXT: a ``stars`` node where the rule
leaves text out, "(b) * * *" where it restates a paragraph only to reach one below it) and
one operation, and returns the unit after it (with the sub-paragraphs it kept only because
the rule did not say), or raises ``NotApplied`` with the reason. Only the node the operation
names changes: a revised paragraph takes the rule's text (keeping the prior text where the
rule elides it), "introductory text" changes the paragraph's own text and keeps its
children, a reserved paragraph keeps the notes after it.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

from crawler.amend.locate import (
    DEFINITION,
    ORDINALS,
    NotApplied,
    Path,
    insert_at,
    locate,
    own_portion,
    replace_at,
    walk,
)
from crawler.parse.amdpar_ops import Operation, OpKind, Target
from crawler.parse.text import fold
from crawler.records import Node

_ELIDED = re.compile(r"\*\s*\*\s*\*\s*$")
_SENTENCE = re.compile(rf"^(?P<ord>{'|'.join(ORDINALS)}|last|final) sentence$")
_HANDLED = re.compile(
    r'^(?:|introductory text|heading|(?:\w+ )?note after(?:, .+)?|definition ".+")$'
)
_SENTENCES = re.compile(r"(?<=[.;:])\s+(?=[A-Z(\"\u201c])")
PRIOR, RULE = "prior", "rule's"


def elided(text: str) -> bool:
    """Whether the rule's text of a node elides the node's own text ("(b) * * *")."""
    return bool(_ELIDED.search(text))


def stars(node: Node) -> bool:
    """Whether ``node`` is one of the rule's elisions ("* * *" where text is left out)."""
    return node.kind == "stars"


@dataclass(frozen=True)
class Doubt:
    """Prior sub-paragraphs the rule's text neither gives nor marks as elided: kept as they
    were, though the rule may have meant to remove them."""

    path: Path  # the node whose children they are
    kept: tuple[str, ...]  # their labels, as cited: "(i)", "Note to paragraph (b)"


@dataclass(frozen=True)
class Applied:
    """A unit after one operation, and what it kept only because the rule did not say."""

    tree: Node | None
    doubts: tuple[Doubt, ...] = ()


def apply(
    tree: Node | None, given: Node, op: Operation, added: set[Path], everywhere: bool
) -> Applied:
    """``tree`` after ``op``. ``added`` holds the paths this projection created (an "add" may
    name them again); ``everywhere``: the instruction says "wherever it appears"."""
    target = op.target
    whole = not target.paragraph and not target.heading and not target.portion
    if whole:
        return _unit(tree, given, op)
    if tree is None:
        raise NotApplied(f"no prior text of {target.unit_id} is stored")
    merges = op.kind in (OpKind.REVISE, OpKind.ADD) and _HANDLED.match(target.portion)
    if merges and not own_portion(target.portion):
        return _put(tree, given, op, added)
    return Applied(_edit(tree, given, op, everywhere))


def _edit(tree: Node, given: Node, op: Operation, everywhere: bool) -> Node:
    """An operation that changes text without merging the rule's paragraphs in."""
    target = op.target
    if op.kind in (OpKind.REPLACE_PHRASE, OpKind.REMOVE_PHRASE, OpKind.ADD_PHRASE):
        return _phrase(tree, op, everywhere)
    if _SENTENCE.match(target.portion) and op.kind in (OpKind.REVISE, OpKind.ADD):
        return _own_text(tree, given, dataclasses.replace(target, portion=""))
    if not _HANDLED.match(target.portion):
        raise NotApplied(f"the {target.portion} is not applied mechanically; shown as given")
    if not target.paragraph and not target.heading and target.portion == "heading":
        return _unit_heading(tree, given)
    if op.kind is OpKind.REMOVE:
        return replace_at(tree, locate(tree, target, PRIOR), None)
    if op.kind is OpKind.RESERVE:
        return _reserve(tree, given, target)
    if op.kind is OpKind.REDESIGNATE:
        assert op.destination is not None
        return redesignate(tree, [(target, op.destination)])
    if op.kind in (OpKind.REVISE, OpKind.ADD):
        return _own_text(tree, given, target)
    raise NotApplied(f"{op.kind.value} is not applied to a paragraph")


# --- whole units ----------------------------------------------------------------------------


def _unit(tree: Node | None, given: Node, op: Operation) -> Applied:
    if op.kind is OpKind.REMOVE:
        return Applied(None)
    if op.kind is OpKind.RESERVE:
        number = op.target.unit_id
        return Applied(Node(number, "section", f"§ {number} [Reserved]"))
    if op.kind in (OpKind.REVISE, OpKind.ADD):
        if not [c for c in given.children if not stars(c)]:
            raise NotApplied("the rule gives no text for it")
        if tree is None and _partial(given):
            raise NotApplied("the rule gives part of it and no prior text is stored")
        return Applied(*merge(tree, given))
    raise NotApplied(f"{op.kind.value} of a whole unit is not applied mechanically")


def _partial(node: Node) -> bool:
    """Whether the rule's text of ``node`` leaves anything out ("* * *")."""
    return elided(node.text) or any(stars(c) or _partial(c) for c in node.children)


def _unit_heading(tree: Node, given: Node) -> Node:
    if not given.title:
        raise NotApplied("the rule gives no heading")
    return dataclasses.replace(tree, title=given.title)


def merge(old: Node | None, new: Node, at: Path = ()) -> tuple[Node, tuple[Doubt, ...]]:
    """The rule's node (at ``at``) over the prior one: its text unless elided ("(b) * * *");
    its children merged with the prior children of their labels. A prior child the rule does
    not give is kept where the rule elides text at its place (a "* * *" there, or the node's
    own text elided); removed where the rule restates the whole list with no "* * *" in it;
    otherwise kept and returned as a ``Doubt``. No "* * *" of the rule reaches the result."""
    if old is None:
        return bare(new), ()
    text = old.text if elided(new.text) else new.text
    children, doubts = _children(old.children, new.children, at, elided(new.text))
    node = dataclasses.replace(new, text=text, title=old.title or new.title, children=children)
    return node, doubts


def bare(node: Node) -> Node:
    """``node`` without the rule's "* * *" nodes."""
    children = tuple(bare(c) for c in node.children if not stars(c))
    return dataclasses.replace(node, children=children)


def _children(
    prior: tuple[Node, ...], given: tuple[Node, ...], at: Path, elided_own: bool
) -> tuple[tuple[Node, ...], tuple[Doubt, ...]]:
    """The prior children with the rule's merged in (see ``merge``)."""
    labels = [c.label for c in given]
    restated = bool(given) and not any(stars(c) or elided(c.text) for c in given)
    doubts: list[Doubt] = []
    kept: list[Node] = []
    unsure: list[str] = []
    for i, child in enumerate(prior):
        if child.label in labels:
            new = given[labels.index(child.label)]
            node, more = merge(child, new, (*at, child.label))
            doubts += more
            kept.append(node)
        elif elided_own or _elided_at(prior, i, given):
            kept.append(child)
        elif not restated:
            unsure.append(_cited(child))
            kept.append(child)
    holder = Node("", children=tuple(kept))
    for index, new in enumerate(given):
        if stars(new) or holder.child(new.label) is not None:
            continue
        before = [c.label for c in given[:index] if holder.child(c.label) is not None]
        holder = insert_at(holder, (), bare(new), before[-1] if before else None)
    if unsure:
        doubts.insert(0, Doubt(at, tuple(unsure)))
    return holder.children, tuple(doubts)


def _elided_at(prior: tuple[Node, ...], index: int, given: tuple[Node, ...]) -> bool:
    """Whether the rule's text has a "* * *" where the prior child ``index`` stands: between
    the given children that stand before and after it in the prior text."""
    labels = [c.label for c in given]
    before = [labels.index(c.label) for c in prior[:index] if c.label in labels]
    after = [labels.index(c.label) for c in prior[index + 1 :] if c.label in labels]
    start, end = (before[-1] + 1 if before else 0), (after[0] if after else len(given))
    return any(stars(c) for c in given[start:end])


def _cited(node: Node) -> str:
    return f"({node.label})" if node.kind == "paragraph" and "~" not in node.label else node.label


# --- paragraphs, notes, definitions ---------------------------------------------------------


def _put(tree: Node, given: Node, op: Operation, added: set[Path]) -> Applied:
    """Revise or add: the rule's node at its place in the rule's text."""
    new_path = locate(given, op.target, RULE)
    new = given.find(new_path)
    assert new is not None
    try:
        old_path: Path | None = locate(tree, op.target, PRIOR)
    except NotApplied:
        if op.kind is OpKind.REVISE:
            raise
        old_path = None
    old = tree.find(old_path) if old_path is not None else None
    if op.kind is OpKind.ADD and old is not None and old_path is not None:
        ours = any(old_path[:n] in added for n in range(1, len(old_path) + 1))
        if not ours and fold(old.text) != fold(new.text):
            raise NotApplied("it is already in the prior text")
    if op.kind is OpKind.REVISE and elided(new.text) and all(stars(c) for c in new.children):
        raise NotApplied("the rule's text elides it")
    definition = DEFINITION.match(op.target.portion)
    if definition is not None and new.kind != "definition":
        term = old.label if old is not None else definition.group("term")
        new = dataclasses.replace(new, kind="definition", label=term)
        new_path = (*new_path[:-1], term)
    node, doubts = merge(old, new, new_path)
    if old_path == new_path:
        return Applied(replace_at(tree, new_path, node), doubts)
    if old_path is not None:
        tree = replace_at(tree, old_path, None)
    parent = new_path[:-1]
    if tree.find(parent) is None:
        raise NotApplied(f"its place ({' '.join(parent)}) is not in the prior text")
    added.add(new_path)
    after = None if definition else _sibling_before(given, tree, new_path)
    return Applied(insert_at(tree, parent, node, after), doubts)


def _sibling_before(given: Node, tree: Node, path: Path) -> str | None:
    """The label of the node before ``path`` in the rule's text, if the tree has it too."""
    parent, owner = path[:-1], given.find(path[:-1])
    assert owner is not None
    labels = [c.label for c in owner.children]
    index = labels.index(path[-1])
    home = tree.find(parent)
    for label in reversed(labels[:index]):
        if home is not None and home.child(label) is not None:
            return label
    return None


def _own_text(tree: Node, given: Node, target: Target) -> Node:
    """'Revise the introductory text': the node's own text only; its children stay."""
    path = locate(tree, target, PRIOR)
    new = given.find(locate(given, target, RULE))
    assert new is not None
    if elided(new.text) or not new.text:
        raise NotApplied("the rule's text elides it")
    old = tree.find(path)
    assert old is not None
    return replace_at(tree, path, dataclasses.replace(old, text=new.text))


def _reserve(tree: Node, given: Node, target: Target) -> Node:
    path = locate(tree, target, PRIOR)
    old = tree.find(path)
    assert old is not None
    try:
        shown = given.find(locate(given, target, RULE))
    except NotApplied:
        shown = None
    label = path[-1]
    text = shown.text if shown is not None and "reserved" in shown.text.lower() else ""
    notes = tuple(c for c in old.children if c.kind == "note")
    node = dataclasses.replace(old, text=text or f"({label}) [Reserved]", children=notes)
    return replace_at(tree, path, node)


def redesignate(tree: Node, moves: list[tuple[Target, Target]]) -> Node:
    """Each target renamed to its destination, all at once ("(b) as (c) and (c) as (d)")."""
    taken: list[tuple[Node, Target]] = []
    for source, destination in moves:
        if not destination.paragraph:
            raise NotApplied(f"redesignation to {destination.cite()} is not applied mechanically")
        path = locate(tree, source, PRIOR)
        node = tree.find(path)
        assert node is not None
        taken.append((node, destination))
        tree = replace_at(tree, path, None)
    for node, destination in taken:
        parent_target = dataclasses.replace(
            destination, paragraph=destination.paragraph[:-1], portion=""
        )
        parent = locate(tree, parent_target, PRIOR)
        label = destination.paragraph[-1]
        home = tree.find(parent)
        if home is not None and home.child(label) is not None:
            raise NotApplied(f"({label}) is already in the prior text")
        text = re.sub(rf"^\(\s*{re.escape(node.label)}\s*\)", f"({label})", node.text)
        tree = insert_at(tree, parent, dataclasses.replace(node, label=label, text=text), None)
    return tree


# --- phrases --------------------------------------------------------------------------------


def _phrase(tree: Node, op: Operation, everywhere: bool) -> Node:
    target = op.target
    if op.kind is OpKind.ADD_PHRASE or op.phrase is None:
        raise NotApplied("where the added phrase goes is not read")
    sentence = _SENTENCE.match(target.portion)
    scoped = dataclasses.replace(target, portion="") if sentence else target
    if scoped.portion and not _HANDLED.match(scoped.portion):
        raise NotApplied(f"a phrase in the {scoped.portion} is not applied mechanically")
    base = locate(tree, scoped, PRIOR)
    before, after = op.phrase, op.replacement or ""
    ordinal = sentence.group("ord") if sentence else None
    scope = tree.find(base)
    nodes = [(base, scope), *walk(scope, base)] if scope is not None else []
    counted = [(p, n, _count(n.text, before, ordinal)) for p, n in nodes]
    hits = [(p, n) for p, n, times in counted if times]
    total = sum(times for _, _, times in counted)
    if total == 0 or (total > 1 and not everywhere):
        count = "not found" if total == 0 else f"found {total} times"
        raise NotApplied(f'the phrase "{before}" is {count}')
    for path, node in hits:
        text = _replace(node.text, before, after, ordinal)
        tree = replace_at(tree, path, dataclasses.replace(node, text=text))
    return tree


def _count(text: str, phrase: str, ordinal: str | None) -> int:
    return sum(fold(s).count(fold(phrase)) for s in _scope(text, ordinal)[1])


def _scope(text: str, ordinal: str | None) -> tuple[list[str], list[str]]:
    """The text's sentences, and those the ordinal names (all of them for None)."""
    sentences = _SENTENCES.split(text)
    if ordinal is None:
        return sentences, sentences
    index = len(sentences) - 1 if ordinal in ("last", "final") else ORDINALS.index(ordinal)
    return sentences, sentences[index : index + 1]


def _replace(text: str, phrase: str, replacement: str, ordinal: str | None) -> str:
    if ordinal is None:
        return _swap(text, phrase, replacement)
    sentences, _ = _scope(text, ordinal)
    index = len(sentences) - 1 if ordinal in ("last", "final") else ORDINALS.index(ordinal)
    sentences[index] = _swap(sentences[index], phrase, replacement)
    return " ".join(sentences)


def _swap(text: str, phrase: str, replacement: str) -> str:
    """``phrase`` replaced in ``text``, compared typography-folded where it must be: only the
    matched spans change, the rest keeps its quotes, dashes and spacing."""
    if phrase in text:
        return re.sub(r"  +", " ", text.replace(phrase, replacement))
    folded, starts = _folded(text)
    wanted = fold(phrase)
    out, done, at = [], 0, folded.find(wanted)
    while at >= 0 and wanted:
        start, end = starts[at], starts[at + len(wanted)]
        out += [text[done:start], replacement]
        done, at = end, folded.find(wanted, at + len(wanted))
    return re.sub(r"  +", " ", "".join([*out, text[done:]]))


def _folded(text: str) -> tuple[str, list[int]]:
    """``text`` folded as ``fold`` does (before trimming its ends), and for each folded
    character the offset in ``text`` it comes from (one more: the end)."""
    chars: list[str] = []
    starts: list[int] = []
    for i, char in enumerate(text):
        piece = " " if char.isspace() else fold(char)
        if piece == " " and chars and chars[-1] == " ":
            piece = ""
        chars += piece
        starts += [i] * len(piece)
    starts.append(len(text))
    return "".join(chars), starts
