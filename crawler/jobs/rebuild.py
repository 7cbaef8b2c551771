"""``regwatch rebuild``: every stored version's tree, hash and change verdicts made again from
the stored raw payloads by the current parser, one transaction per document. Publication-day
redlines are made again last, from their rules' stored XML projected onto the prior text as
made again (as crawler.amend.store made them), so they compare like with like with the eCFR.

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
from typing import Any

from crawler.amend import Projection
from crawler.amend.store import project_rule, redline_version
from crawler.config import Config
from crawler.deliver.email import fingerprint
from crawler.deliver.files import subscription_slug
from crawler.digest.report import report_for
from crawler.digest.select import for_subscription
from crawler.keys import fr_key, is_projection
from crawler.parse.version import PARSER_VERSION
from crawler.records import FrDocument, from_json
from crawler.snapshot.rederive import (
    PROJECTED,
    NotRemade,
    Remade,
    remake,
    remake_document,
    write_remade,
)
from crawler.snapshot.rows import searchable
from storage import DocumentRow, Store, VersionRow

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
    indexed: int = 0  # versions in the full-text index, made again whole

    def summary(self) -> str:
        kept = f", {len(self.kept)} kept as stored" if self.kept else ""
        return (
            f"rebuilt {self.documents} documents with parser {PARSER_VERSION}: "
            f"{self.versions} versions made again, {self.changed} changed, "
            f"{self.changes} changes judged again{kept}; {self.indexed} versions indexed "
            "for search"
        )


def rebuild(store: Store, config: Config, progress: Progress = nullcontext) -> RebuildReport:
    """Rebuild every document (``progress`` wraps the list of keys: a progress bar)."""
    # redlines last: they are made from rules and prior texts made again before them
    keys = sorted(store.keys(""), key=is_projection)
    said = _digest_fingerprints(store, config)
    redlines = Redlines()
    with progress(keys) as each:
        done = [rebuild_document(store, key, redlines) for key in each]
    _keep_fingerprints(store, config, said)
    indexed = store.reindex(_texts(store, keys))
    return RebuildReport(
        documents=len(keys),
        versions=sum(d.versions for d in done),
        changed=sum(d.changed for d in done),
        changes=sum(d.changes for d in done),
        kept=tuple(line for d in done for line in d.kept),
        indexed=indexed,
    )


def _texts(store: Store, keys: list[str]) -> Iterator[tuple[int, str]]:
    """The words of every stored version that has any, for the full-text index."""
    for key in keys:
        row = store.document(key)
        for version in store.history(key) if row is not None else ():
            words = searchable(key, row.kind if row else "", store.blob(version.tree_blob))
            if words:
                yield version.id, words


def rebuild_document(store: Store, key: str, redlines: Redlines | None = None) -> DocumentRebuild:
    """One document's versions and changes, written in one transaction (or not at all).
    A publication-day redline is made again by ``redlines`` (from its rule's stored XML and
    the prior text, both made again first: :func:`rebuild` does them last)."""
    row = store.document(key)
    if row is None:
        return DocumentRebuild(0, 0, 0, ())
    redlines = redlines or Redlines()
    remade = remake_document(store, row, redlines if row.kind == PROJECTED else remake)
    meta = redlines.metas.get(key)
    why = write_remade(store, row, remade, () if meta in (None, row.meta) else [(key, meta)])
    if why is not None:
        return DocumentRebuild(0, 0, 0, (why,))
    kept = tuple(remade.kept.values())
    return DocumentRebuild(len(remade.trees) - len(kept), remade.changed, len(remade.judged), kept)


class Redlines:
    """Makes a redline's version again as ``crawler.amend.store`` made it: its rule's stored
    XML projected onto the prior text as it is stored now (each rule projected once). The
    redline's new meta (flags, instructions, base version) is kept in ``metas`` by key."""

    def __init__(self) -> None:
        self.metas: dict[str, dict[str, Any]] = {}
        self._projected: dict[int, Projected] = {}

    def __call__(self, store: Store, row: DocumentRow, version: VersionRow) -> Remade | NotRemade:
        unit, number = str(row.meta.get("unit")), str(row.meta.get("fr"))
        rule = _rule_version(store, fr_key(number), version.id)
        if rule is None:
            return NotRemade(f"{row.key}: its rule fr:{number} is not in the store")
        if rule.id not in self._projected:
            self._projected[rule.id] = _project_rule(store, rule)
        done = self._projected[rule.id]
        if done.doc.xml is None:
            return NotRemade(f"{row.key}: the stored rule fr:{number} has no XML to project")
        found = done.projections.get(unit)
        if found is None:
            line = f"the current parser's projection of fr:{number} no longer touches {unit}"
            return NotRemade(f"{row.key}: {line}")
        base = done.priors.get(unit)
        new = redline_version(found, done.doc, base, version.run, version.fetched_at)
        self.metas[row.key] = new.meta
        return Remade(new.tree, new.text_hash, None)


@dataclass(frozen=True)
class Projected:
    """A stored rule projected onto the prior text as it is stored now."""

    doc: FrDocument
    projections: dict[str, Projection]  # by unit key
    priors: dict[str, int]  # the prior versions projected onto, by unit key


def _rule_version(store: Store, key: str, before: int) -> VersionRow | None:
    """The rule's version a redline (stored as version ``before``) was made from: the
    latest stored before it."""
    versions = [v for v in store.history(key) if v.id < before] or store.history(key)
    return max(versions, key=lambda v: v.id, default=None)


def _project_rule(store: Store, rule: VersionRow) -> Projected:
    doc = from_json(FrDocument, store.blob(rule.tree_blob))
    projections, priors = project_rule(store, doc)
    return Projected(doc, {p.key: p for p in projections}, priors)


def _digest_fingerprints(store: Store, config: Config) -> dict[int, str]:
    """What each digest that a later run may correct (made while sources failed) says now,
    by outbox row."""
    said: dict[int, str] = {}
    subscriptions = {subscription_slug(s.name): s for s in config.subscriptions}
    for day in store.outbox_degraded_days(""):
        digest = report_for(store, date.fromisoformat(day), config)
        for row in store.outbox(f"{day}/"):
            subscription = subscriptions.get(_REVISION.sub("", row.digest).split("/")[1])
            if row.degraded and subscription is not None:
                said[row.id] = fingerprint(for_subscription(digest, subscription))
    return said


def _keep_fingerprints(store: Store, config: Config, before: dict[int, str]) -> None:
    """A digest that said what its day's digest said before the rebuild says what it says
    after: the rebuild's rewording is not a correction to mail."""
    after = _digest_fingerprints(store, config)
    for row in store.outbox():
        was = before.get(row.id)
        if was is not None and row.fingerprint == was and after.get(row.id, was) != was:
            store.outbox_mark(row.id, fingerprint=after[row.id])
