"""``regwatch rebuild``: every stored version's tree, hash and change verdicts made again from
the stored raw payloads by the current parser, one transaction per document.

A rebuild adds no version, change, run or outbox row, so nothing it does is news: the day's
report selects changes by the runs that stored them, feeds key entries by change, and a
mailed digest that a later run might correct keeps saying what it said (its fingerprint is
brought up to date when the rebuild alone changed the digest's wording)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import date

from sqlalchemy.exc import IntegrityError

from crawler.config import Config
from crawler.deliver.email import fingerprint, slug
from crawler.digest.select import for_subscription
from crawler.parse.version import PARSER_VERSION
from crawler.records import Node, from_json
from crawler.rederive import PROJECTED, NotRemade, remake
from crawler.report import digest_for
from crawler.versioning import judge_change
from storage import DocumentRow, Rederived, Rejudged, Store

NODE_TREES = ("cfr:", "bis:")  # documents whose changes the diff engine judges
_REVISION = re.compile(r"/r\d+$")

Progress = Callable[[list[str]], AbstractContextManager[Iterable[str]]]


@dataclass(frozen=True)
class DocumentRebuild:
    """What a rebuild did to one document."""

    versions: int  # made again
    changed: int  # of which the tree is not the one stored
    changes: int  # changes whose verdict or stats were judged differently
    kept: tuple[str, ...]  # why versions were kept as they are (one line each)


@dataclass(frozen=True)
class RebuildReport:
    documents: int
    versions: int
    changed: int
    changes: int
    kept: tuple[str, ...]

    def summary(self) -> str:
        kept = f", {len(self.kept)} kept as stored" if self.kept else ""
        return (
            f"rebuilt {self.documents} documents with parser {PARSER_VERSION}: "
            f"{self.versions} versions made again, {self.changed} changed, "
            f"{self.changes} changes judged again{kept}"
        )


def rebuild(store: Store, config: Config, progress: Progress = nullcontext) -> RebuildReport:
    """Rebuild every document (``progress`` wraps the list of keys: a progress bar)."""
    keys = store.keys("")
    said = _digest_fingerprints(store, config)
    with progress(keys) as each:
        done = [rebuild_document(store, key) for key in each]
    _keep_fingerprints(store, config, said)
    return RebuildReport(
        documents=len(keys),
        versions=sum(d.versions for d in done),
        changed=sum(d.changed for d in done),
        changes=sum(d.changes for d in done),
        kept=tuple(line for d in done for line in d.kept),
    )


def rebuild_document(store: Store, key: str) -> DocumentRebuild:
    """One document's versions and changes, written in one transaction (or not at all)."""
    row = store.document(key)
    if row is None or row.kind == PROJECTED:  # redlines are made from rules, not payloads
        return DocumentRebuild(0, 0, 0, ())
    trees: dict[int, bytes] = {}
    redone: list[Rederived] = []
    kept: list[str] = []
    changed = 0
    for version in store.history(key):
        remade = remake(store, row, version)
        if isinstance(remade, NotRemade):
            kept.append(remade.reason)
            trees[version.id] = store.blob(version.tree_blob)
            continue
        trees[version.id] = remade.tree
        changed += remade.text_hash != version.text_hash
        if remade.text_hash != version.text_hash or version.parser_version != PARSER_VERSION:
            redone.append(
                Rederived(version.id, remade.tree, remade.text_hash, PARSER_VERSION, remade.base)
            )
    judged = list(_rejudge(store, row, trees))
    try:
        store.restate(redone, judged)
    except IntegrityError:
        line = f"{key}: two versions of one day are the same once made again; kept as stored"
        return DocumentRebuild(0, 0, 0, (line,))
    return DocumentRebuild(len(trees) - len(kept), changed, len(judged), tuple(kept))


def _rejudge(store: Store, row: DocumentRow, trees: dict[int, bytes]) -> Iterator[Rejudged]:
    node_tree = row.key.startswith(NODE_TREES)
    for change in store.changes_of(row.key):
        old = trees.get(change["from_version"]) if change["from_version"] else None
        new = trees[change["to_version"]]
        kind = from_json(Node, new).kind if node_tree else row.kind
        stats, substantive = judge_change(old, new, kind, node_tree)
        if stats != change["stats"] or substantive != bool(change["substantive"]):
            yield Rejudged(change["id"], substantive, stats)


def _digest_fingerprints(store: Store, config: Config) -> dict[int, str]:
    """What each digest that a later run may correct (made while sources failed) says now,
    by outbox row."""
    said: dict[int, str] = {}
    subscriptions = {slug(s.name): s for s in config.subscriptions}
    for day in store.outbox_degraded_days(""):
        digest = digest_for(store, date.fromisoformat(day), config)
        for row in store.outbox(f"{day}/"):
            subscription = subscriptions.get(_REVISION.sub("", row["digest"]).split("/")[1])
            if row["degraded"] and subscription is not None:
                said[row["id"]] = fingerprint(for_subscription(digest, subscription))
    return said


def _keep_fingerprints(store: Store, config: Config, before: dict[int, str]) -> None:
    """A digest that said what its day's digest said before the rebuild says what it says
    after: the rebuild's rewording is not a correction to mail."""
    after = _digest_fingerprints(store, config)
    for row in store.outbox():
        was = before.get(row["id"])
        if was is not None and row["fingerprint"] == was and after.get(row["id"], was) != was:
            store.outbox_mark(row["id"], fingerprint=after[row["id"]])
