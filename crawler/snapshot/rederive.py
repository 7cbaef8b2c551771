"""A stored version's tree made again, by the current parsers, from the raw payloads it was
stored with: what ``regwatch rebuild`` writes back, and what a new version is compared with
when the version before it was made by an older parser (like with like)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError, NoResultFound

from crawler.diff import diff_documents
from crawler.errors import ParseError
from crawler.parse.version import PARSER_VERSION
from crawler.records import UNIT_REMOVED, Node, from_json
from crawler.snapshot.rows import changed_fields, text_hash
from crawler.snapshot.source import maker_for, node_trees
from storage import DocumentRow, Rederived, Rejudged, Store, VersionRow

PROJECTED = "as-amended"  # publication-day redlines: made from a rule, not from a payload


@dataclass(frozen=True)
class Remade:
    """The tree the current parser makes of a version's payload."""

    tree: bytes
    text_hash: str
    base: str | None  # the payload's blob (the tree is compressed against it)


@dataclass(frozen=True)
class NotRemade:
    """Why a version's tree cannot be made again (one line)."""

    reason: str


def current(version: VersionRow) -> bool:
    return version.parser_version >= PARSER_VERSION


def remake(store: Store, row: DocumentRow, version: VersionRow) -> Remade | NotRemade:
    """``version`` of the document ``row`` as the current parser makes it from its payload."""
    if row.kind == UNIT_REMOVED:  # a stub: no parser made it
        return Remade(store.blob(version.tree_blob), version.text_hash, None)
    if row.kind == PROJECTED:
        return NotRemade(f"{row.key}: a publication-day redline, made from its rule")
    maker = maker_for(row.key)
    if maker is None:
        return NotRemade(f"{row.key}: no parser makes this kind of document")
    try:
        raw = {role: store.blob(sha) for role, sha in version.raw_blobs.items()}
    except NoResultFound:
        raw = {}
    if not raw:
        return NotRemade(f"{row.key}: {_missing(version)}")
    try:
        tree = maker(row, version, raw)
    except (ParseError, KeyError) as exc:
        return NotRemade(f"{row.key}: the current parser cannot read {_made(version)}: {exc}")
    shas = version.raw_blobs
    return Remade(tree, text_hash(tree), shas.get("xml") or shas.get("json") or shas.get("html"))


@dataclass(frozen=True)
class DocumentRemade:
    """Every version of one document made again, and its changes judged again between the
    trees made (nothing written yet)."""

    trees: dict[int, bytes]  # every version's tree, by version id (as stored where kept)
    redone: tuple[Rederived, ...]  # versions whose tree, hash or parser version is new
    judged: tuple[Rejudged, ...]  # changes whose verdict or stats are new
    changed: int  # versions whose text is not the one stored
    kept: dict[int, str]  # versions that cannot be made again: why (one line), by id


Remaker = Callable[[Store, DocumentRow, VersionRow], "Remade | NotRemade"]


def remake_document(store: Store, row: DocumentRow, make: Remaker | None = None) -> DocumentRemade:
    """Every version of ``row`` made again (by ``make``, the payload's parser by default)
    and every change between them judged again: so no change compares trees of two parsers."""
    make = make or remake
    trees: dict[int, bytes] = {}
    redone: list[Rederived] = []
    kept: dict[int, str] = {}
    changed = 0
    for version in store.history(row.key):
        remade = make(store, row, version)
        if isinstance(remade, NotRemade):
            kept[version.id] = remade.reason
            trees[version.id] = store.blob(version.tree_blob)
            continue
        trees[version.id] = remade.tree
        changed += remade.text_hash != version.text_hash
        if remade.text_hash != version.text_hash or not current(version):
            tree = Rederived(version.id, remade.tree, remade.text_hash, PARSER_VERSION, remade.base)
            redone.append(tree)
    judged = tuple(_rejudge(store, row, trees))
    return DocumentRemade(trees, tuple(redone), judged, changed, kept)


def write_remade(
    store: Store,
    row: DocumentRow,
    remade: DocumentRemade,
    metas: Sequence[tuple[str, dict[str, Any]]] = (),
) -> str | None:
    """``remade`` (and the document's new ``metas``) written in one transaction; the line
    saying why it was not, or None."""
    try:
        store.restate(remade.redone, remade.judged, metas)
    except IntegrityError:
        return f"{row.key}: two versions of one day are the same once made again; kept as stored"
    return None


def upgrade(store: Store, version: VersionRow) -> VersionRow | NotRemade:
    """``version`` as the current parser makes it (one already made by it is returned as it
    is). Its whole document is made again and written back in one transaction, every change
    of it judged again, so every stored tree of a document is made by one parser: what a new
    version is compared with, and what feeds and pages diff again, are like with like."""
    if current(version):
        return version
    row = store.document(version.document)
    if row is None:
        return NotRemade(f"{version.document}: no document row")
    if row.kind == PROJECTED:
        return NotRemade(f"{row.key}: a publication-day redline, made from its rule")
    remade = remake_document(store, row)
    why = write_remade(store, row, remade)
    if why is not None:
        return NotRemade(why)
    if version.id in remade.kept:
        return NotRemade(remade.kept[version.id])
    return store.version(version.id)


def judge_change(
    old_tree: bytes | None, new_tree: bytes, kind: str, node_tree: bool
) -> tuple[dict[str, Any], bool]:
    """The stats of the change from ``old_tree`` to ``new_tree`` (a version of ``kind``),
    and whether it is substantive."""
    if node_tree and old_tree is not None and kind not in ("part", UNIT_REMOVED):
        diff = diff_documents(from_json(Node, old_tree), from_json(Node, new_tree))
        return {"diff": diff.stats()}, bool(diff.substantive)
    return changed_fields(old_tree, new_tree)


def _rejudge(store: Store, row: DocumentRow, trees: dict[int, bytes]) -> Iterator[Rejudged]:
    node_tree = node_trees(row.key)
    for change in store.changes_of(row.key):
        old = trees.get(change.from_version) if change.from_version else None
        new = trees[change.to_version]
        kind = from_json(Node, new).kind if node_tree else row.kind
        stats, substantive = judge_change(old, new, kind, node_tree)
        if stats != change.stats or substantive != change.substantive:
            yield Rejudged(change.id, substantive, stats)


def _made(version: VersionRow) -> str:
    return f"the payload of {version.valid_from} (stored by parser {version.parser_version})"


def _missing(version: VersionRow) -> str:
    return f"the raw payload of its version of {version.valid_from} is not in the store"
