"""Entity List changes, entry by entry, from the stored versions of Supplement No. 4 to
Part 744: added, removed and revised entries (with the fields that changed), each linked to
the FR document named in its citation cell."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from crawler.diff import DocumentDiff, diff_documents
from crawler.diff.model import Op
from crawler.errors import NotCovered
from crawler.keys import (
    ENTITY_LIST,
    fr_key,
    fr_number,
    projection_parts,
    projections_of,
    supplement_key,
)
from crawler.parse.expect import FR_CITATION
from crawler.query.coverage import Checked, checked, last_known, never, scope
from crawler.records import Node, from_json
from storage import Store


@dataclass(frozen=True)
class EntityChange:
    """One Entity List entry added, removed or revised, dated three ways: when it took legal
    effect, when the FR rule saying so was published, and when the eCFR first showed it."""

    effective: str  # the rule's effective date (the eCFR's date when no rule is known)
    published: str  # the rule's publication date, "" when no rule is known
    in_ecfr: str  # the eCFR version that first shows it, "" when the eCFR does not yet
    op: Op  # added, removed, changed (reads "revised": Op.entry_word)
    country: str
    entity: str
    fields: tuple[str, ...]  # revised: Aliases, Address, License requirement, ...
    citation: str  # the newest FR citation in the entry's citation cell
    fr_document: str  # its document number, when the store has it


@dataclass(frozen=True)
class EntityHistory:
    """The changes that took effect from ``since`` on, and what the store has checked."""

    since: str
    changes: tuple[EntityChange, ...]
    checked: tuple[Checked, ...]  # the eCFR and the Federal Register, those ever checked


def entity_changes(diff: DocumentDiff) -> list[tuple[Op, str, str, tuple[str, ...], str]]:
    """(op, country, entity, fields, newest FR citation) for each entry a diff touches."""
    out = []
    for change in diff.changes:
        if len(change.path) < 2 or "|" not in change.path[-1]:
            continue
        country, _, entity = change.path[-1].partition("|")
        op = change.op
        fields = tuple(f.name.removeprefix("field:") for f in change.fields)
        cell = (
            dict(change.node.fields).get("Federal Register citation", "")
            if change.node
            else next(
                (f.new for f in change.fields if f.name == "field:Federal Register citation"), ""
            )
        )
        cites = FR_CITATION.findall(cell)
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
    by_op: dict[Op, Counter[str]] = {}
    for op, country, *_ in entity_changes(diff):
        by_op.setdefault(op, Counter())[country.split(",")[0].title()] += 1
    parts = []
    for op in OPS:
        if op in by_op:
            counts = by_op[op]
            detail = ", ".join(f"{c} {n}" for c, n in sorted(counts.items()))
            parts.append(f"{sum(counts.values())} {op.entry_word} ({detail})")
    return "Entity List: " + ", ".join(parts) if parts else ""


SOURCES = ("ecfr", "federal_register")  # the eCFR's text and the FR rules amending it


def history(store: Store, since: str, country: str | None = None) -> EntityHistory:
    """Entity List entries that took effect on or after ``since``: those the eCFR shows,
    and those FR rules made effective that the eCFR does not show yet. NotCovered when
    the store has checked neither source through ``since``."""
    first = store.history(ENTITY_LIST)[:1]
    checks = tuple(
        c
        for c in (
            checked(store, "ecfr", first[0].valid_from if first else None),
            checked(store, "federal_register"),
        )
        if c is not None
    )
    if not checks:
        raise NotCovered(never("Entity List", SOURCES))
    if since > last_known(checks):
        raise NotCovered(scope("Entity List", checks) + f"; asked from {since}")
    ecfr = _ecfr_changes(store)
    changes = ecfr + [c for c in _rule_changes(store) if not _shown(c, ecfr)]
    wanted = [
        c
        for c in changes
        if c.effective >= since and (not country or country.upper() in c.country.upper())
    ]
    wanted.sort(key=lambda c: (c.effective, OPS.index(c.op), c.country, c.entity))
    return EntityHistory(since, tuple(wanted), checks)


OPS = (Op.ADDED, Op.REMOVED, Op.CHANGED, Op.MOVED, Op.REDESIGNATED)  # the order they are listed


def _ecfr_changes(store: Store) -> list[EntityChange]:
    """Each entry change between successive eCFR versions, dated by the rule behind it."""
    rules: dict[str, list[str]] = {}  # effective date -> rules that amend the Entity List then
    for key in store.keys(projections_of(ENTITY_LIST)):
        for version in store.history(key):
            rules.setdefault(version.valid_from, []).append(projection_parts(key)[1])
    out: list[EntityChange] = []
    previous: Node | None = None
    for version in store.history(ENTITY_LIST):
        tree = from_json(Node, store.blob(version.tree_blob))
        if previous is not None and tree.kind != "removed":
            for op, where, entity, fields, cite in entity_changes(diff_documents(previous, tree)):
                found = store.by_citation(cite) if cite and op != Op.REMOVED else []
                number = fr_number(found[0].key) if found else ""
                if not number and len(rules.get(version.valid_from, [])) == 1:
                    number = rules[version.valid_from][0]  # the rule effective that day
                effective, published = _rule_dates(store, number)
                out.append(
                    EntityChange(
                        effective or version.valid_from,
                        published,
                        version.valid_from,
                        op,
                        where,
                        entity,
                        fields,
                        cite if op != Op.REMOVED else "",
                        number,
                    )
                )
        previous = tree if tree.kind != "removed" else previous
    return out


def _rule_changes(store: Store) -> list[EntityChange]:
    """Each entry change an FR rule makes, read from its publication-day redline of the
    Entity List (crawler.amend) against the prior text it was projected onto."""
    out: list[EntityChange] = []
    for key in store.keys(projections_of(ENTITY_LIST)):
        row = store.document(key)
        projected = store.latest_version(key)
        base = row.meta.get("base_version") if row else None
        if projected is None or not base:
            continue
        tree = from_json(Node, store.blob(projected.tree_blob))
        if tree.kind in ("flagged", "removed"):
            continue
        prior = from_json(Node, store.blob(store.version(base).tree_blob))
        number = projection_parts(key)[1]
        rule = store.document(fr_key(number))
        if rule is None or rule.kind != "Rule":
            continue  # a proposed rule's redline takes effect nowhere
        published = row.published or "" if row else ""
        for op, where, entity, fields, cite in entity_changes(diff_documents(prior, tree)):
            out.append(
                EntityChange(
                    projected.valid_from,
                    published,
                    "",
                    op,
                    where,
                    entity,
                    fields,
                    cite if op != Op.REMOVED else "",
                    number,
                )
            )
    return out


def _shown(rule: EntityChange, ecfr: list[EntityChange]) -> bool:
    """Whether the eCFR shows ``rule``'s change: the same rule's row, or any change to the
    same entry that took effect on or after the rule (a later text of the entry)."""
    return any(
        (c.country, c.entity) == (rule.country, rule.entity)
        and (c.fr_document == rule.fr_document or c.in_ecfr >= rule.effective)
        for c in ecfr
    )


def _rule_dates(store: Store, number: str) -> tuple[str, str]:
    """(effective, published) of FR document ``number``, "" for what is not known."""
    row = store.document(fr_key(number)) if number else None
    if row is None:
        return "", ""
    return row.meta.get("effective_on") or row.published or "", row.published or ""


CCL = supplement_key(15, "774", "1")


@dataclass(frozen=True)
class EccnChange:
    day: str
    op: Op  # added, removed, changed
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


@dataclass(frozen=True)
class EccnHistory:
    eccn: str
    changes: tuple[EccnChange, ...]
    checked: Checked  # the days the store has checked the CCL in the eCFR


def eccn_report(store: Store, eccn: str) -> EccnHistory:
    """``eccn_history`` with what the store has checked; NotCovered when the store holds
    no version of the CCL at all (15 CFR 774 not watched, or never checked)."""
    first = store.history(CCL)[:1]
    seen = checked(store, "ecfr", first[0].valid_from) if first else None
    if seen is None:
        raise NotCovered(
            f"ECCN {eccn}: the store holds no version of the Commerce Control List "
            "(15 CFR 774 Supp. No. 1); is 15 CFR 774 watched and has `regwatch run` run?"
        )
    return EccnHistory(eccn, tuple(eccn_history(store, eccn)), seen)


def eccn_history(store: Store, eccn: str) -> list[EccnChange]:
    """Each stored date on which the CCL entry ``eccn`` was added, removed or changed."""
    from crawler.diff.cite import cited_diff
    from crawler.diff.model import DocumentDiff
    from crawler.diff.views import text_view

    out: list[EccnChange] = []
    previous: Node | None = None
    for version in store.history(CCL):
        tree = from_json(Node, store.blob(version.tree_blob))
        if previous is not None and tree.kind != "removed":
            mine = tuple(
                c
                for c in cited_diff(CCL, previous, tree).changes
                if eccn in c.path or (c.old_path and eccn in c.old_path)
            )
            if mine:
                top = next((c for c in mine if c.path[-1] == eccn), None)
                op = top.op if top and top.op in (Op.ADDED, Op.REMOVED) else Op.CHANGED
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
