"""Entity List changes, entry by entry, from the stored versions of Supplement No. 4 to
Part 744: added, removed and revised entries (with the fields that changed), each linked to
the FR document named in its citation cell."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from crawler.diff import DocumentDiff, diff_documents
from crawler.records import Node, from_json
from storage import Store

ENTITY_LIST = "cfr:15:744:supp-4"
_CITE = re.compile(r"\b(\d+) FR (\d+)\b")


@dataclass(frozen=True)
class EntityChange:
    day: str  # the date the eCFR version took effect
    op: str  # added, removed, revised
    country: str
    entity: str
    fields: tuple[str, ...]  # revised: Aliases, Address, License requirement, ...
    citation: str  # the newest FR citation in the entry's citation cell
    fr_document: str  # its document number, when the store has it


def entity_changes(diff: DocumentDiff) -> list[tuple[str, str, str, tuple[str, ...], str]]:
    """(op, country, entity, fields, newest FR citation) for each entry a diff touches."""
    out = []
    for change in diff.changes:
        if len(change.path) < 2 or "|" not in change.path[-1]:
            continue
        country, _, entity = change.path[-1].partition("|")
        op = {"changed": "revised"}.get(str(change.op), str(change.op))
        fields = tuple(f.name.removeprefix("field:") for f in change.fields)
        cell = (
            dict(change.node.fields).get("Federal Register citation", "")
            if change.node
            else next(
                (f.new for f in change.fields if f.name == "field:Federal Register citation"), ""
            )
        )
        cites = _CITE.findall(cell)
        out.append(
            (
                op,
                country,
                entity.split("#")[0],
                fields,
                f"{cites[-1][0]} FR {cites[-1][1]}" if cites else "",
            )
        )
    return out


def summary(diff: DocumentDiff) -> str:
    """ "Entity List: 7 added (Iran 7), 1 removed (China 1), 2 revised (...)"."""
    by_op: dict[str, Counter[str]] = {}
    for op, country, *_ in entity_changes(diff):
        by_op.setdefault(op, Counter())[country.split(",")[0].title()] += 1
    parts = []
    for op in ("added", "removed", "revised", "moved", "redesignated"):
        if op in by_op:
            counts = by_op[op]
            detail = ", ".join(f"{c} {n}" for c, n in sorted(counts.items()))
            parts.append(f"{sum(counts.values())} {op} ({detail})")
    return "Entity List: " + ", ".join(parts) if parts else ""


def history(store: Store, since: str, country: str | None = None) -> list[EntityChange]:
    versions = store.history(ENTITY_LIST)
    rules: dict[str, list[str]] = {}  # effective date -> rules that amend the Entity List then
    for key in store.keys(f"{ENTITY_LIST}~fr:"):
        for version in store.history(key):
            rules.setdefault(version.valid_from, []).append(key.rsplit("~fr:", 1)[1])
    out: list[EntityChange] = []
    previous: Node | None = None
    for version in versions:
        tree = from_json(Node, store.blob(version.tree_blob))
        if previous is not None and version.valid_from >= since and tree.kind != "removed":
            for op, where, entity, fields, cite in entity_changes(diff_documents(previous, tree)):
                if country and country.upper() not in where.upper():
                    continue
                found = store.by_citation(cite) if cite and op != "removed" else []
                number = found[0].key.removeprefix("fr:") if found else ""
                if not number and len(rules.get(version.valid_from, [])) == 1:
                    number = rules[version.valid_from][0]  # the rule effective that day
                cited = cite if op != "removed" else ""
                out.append(
                    EntityChange(version.valid_from, op, where, entity, fields, cited, number)
                )
        previous = tree if tree.kind != "removed" else previous
    return out


CCL = "cfr:15:774:supp-1"


@dataclass(frozen=True)
class EccnChange:
    day: str
    op: str  # added, removed, changed
    parts: tuple[str, ...]  # what changed: heading, reasons for control, license exceptions...
    text: str  # the redline of the entry, as plain text


_PARTS = (
    ("reason for control", "reasons for control"),
    ("license exception", "license exceptions"),
    ("list of items controlled", "items"),
    ("items:", "items"),
    ("related controls", "related controls"),
    ("related definitions", "definitions"),
)


def eccn_history(store: Store, eccn: str) -> list[EccnChange]:
    """Each stored date on which the CCL entry ``eccn`` was added, removed or changed."""
    from crawler.diff.model import DocumentDiff
    from crawler.diff.views import text_view

    out: list[EccnChange] = []
    previous: Node | None = None
    for version in store.history(CCL):
        tree = from_json(Node, store.blob(version.tree_blob))
        if previous is not None and tree.kind != "removed":
            mine = tuple(
                c
                for c in diff_documents(previous, tree).changes
                if eccn in c.path or (c.old_path and eccn in c.old_path)
            )
            if mine:
                top = next((c for c in mine if c.path[-1] == eccn), None)
                op = str(top.op) if top and str(top.op) in ("added", "removed") else "changed"
                out.append(
                    EccnChange(version.valid_from, op, _what(mine), text_view(DocumentDiff(mine)))
                )
        previous = tree if tree.kind != "removed" else previous
    return out


def _what(changes: tuple) -> tuple[str, ...]:
    parts: list[str] = []
    for change in changes:
        if any(f.name == "title" for f in change.fields) and change.kind == "eccn":
            parts.append("heading")
        text = " ".join(f.old + " " + f.new for f in change.fields).lower()
        named = [name for key, name in _PARTS if key in text]
        if change.fields and not named and change.kind != "eccn":
            named = ["text"]
        parts += named
    return tuple(dict.fromkeys(parts or ["text"]))
