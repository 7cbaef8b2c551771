"""The store interface: every read and write the rest of regwatch makes goes through here."""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Engine,
    bindparam,
    create_engine,
    event,
    func,
    inspect,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import OperationalError

from storage import blobs as blobcodec
from storage import migrations
from storage.outcomes import Outcome
from storage.rows import (
    DocumentRow,
    ErrorRow,
    RunRow,
    RunSourceRow,
    VersionRow,
    from_mapping,
)
from storage.schema import (
    blobs,
    changes,
    documents,
    http_cache,
    links,
    outbox,
    run_errors,
    run_sources,
    runs,
    schema_migrations,
    versions,
)

CACHE_BYTES = 64 * 1024 * 1024


class StoreOpenError(Exception):
    """The store file cannot be opened or migrated (wrapped by the CLI as StorageError)."""


@dataclass(frozen=True)
class NewVersion:
    """One parsed thing to snapshot: its identity, listing fields, payloads and tree."""

    key: str
    kind: str
    source: str
    title: str
    url: str
    published: str | None
    meta: dict[str, Any]
    raw: dict[str, bytes]  # role -> payload ("json", "xml")
    tree: bytes  # canonical JSON of the parsed record
    text_hash: str
    valid_from: str
    fetched_at: str
    run: int
    links: tuple[tuple[str, str], ...] = ()  # (relation, target key)
    change_stats: dict[str, Any] = field(default_factory=dict)
    # what the tree is compressed against: the version's own payload ("payload"), or the
    # tree of an earlier version of the same document ("previous", for manifests)
    tree_base: str = "payload"
    substantive: bool = True  # whether the change from the previous version is more than noise


@dataclass(frozen=True)
class SnapshotResult:
    outcome: Outcome
    version: int | None


class Store:
    """A migrated store over one SQLAlchemy engine (SQLite file by default)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._packer = blobcodec.Packer()
        self._cache: OrderedDict[str, bytes] = OrderedDict()
        self._cached = 0

    @classmethod
    def open(cls, path: Path | str) -> Store:
        path = Path(path)
        if not path.parent.exists():
            raise StoreOpenError(f"store folder {path.parent} does not exist")
        engine = create_engine(f"sqlite:///{path}", future=True)
        event.listen(engine, "connect", _sqlite_pragmas)
        store = cls(engine)
        try:
            with engine.connect() as conn:
                unknown = _applied(conn) - migrations.known_names()
                if unknown:
                    raise StoreOpenError(
                        f"{path} has migrations this regwatch does not know "
                        f"({sorted(unknown)[0]}): "
                        "upgrade regwatch"
                    )
                migrations.apply(conn)
        except OperationalError as exc:
            raise StoreOpenError(f"cannot open store {path}: {exc.orig}") from None
        return store

    def close(self) -> None:
        self.engine.dispose()

    # --- blobs -----------------------------------------------------------------------------

    def _put_blob(self, conn: Any, data: bytes, base: str | None = None) -> str:
        """Store ``data`` once under its sha256, compressed against ``base`` if given."""
        sha = blobcodec.digest(data)
        if conn.scalar(_BLOB_EXISTS, {"sha": sha}) is not None:
            return sha
        base = None if base == sha else base
        base_data = self._blob(conn, base) if base else None
        codec, stored = self._packer.pack(data, base_data, base)
        conn.execute(
            _INSERT_BLOB,
            dict(
                sha256=sha,
                size=len(data),
                codec=codec,
                data=stored,
                base=base if codec == blobcodec.ZSTD_DICT else None,
            ),
        )
        self._remember(sha, data)
        return sha

    def blob(self, sha: str) -> bytes:
        with self.engine.connect() as conn:
            return self._blob(conn, sha)

    def _blob(self, conn: Any, sha: str) -> bytes:
        cached = self._cache.get(sha)
        if cached is not None:
            self._cache.move_to_end(sha)
            return cached
        row = conn.execute(
            select(blobs.c.codec, blobs.c.data, blobs.c.base).where(blobs.c.sha256 == sha)
        ).one()
        base = self._blob(conn, row.base) if row.base else None
        data = blobcodec.unpack(row.codec, row.data, base)
        self._remember(sha, data)
        return data

    def _remember(self, sha: str, data: bytes) -> None:
        """Keep recently used payloads decompressed (delta chains read their bases)."""
        self._cache[sha] = data
        self._cached += len(data)
        while self._cached > CACHE_BYTES and len(self._cache) > 1:
            _, dropped = self._cache.popitem(last=False)
            self._cached -= len(dropped)

    # --- runs ------------------------------------------------------------------------------

    def start_run(self, kind: str, day: str | None, started: str, command: str = "") -> int:
        with self.engine.begin() as conn:
            return conn.execute(
                runs.insert().values(
                    kind=kind, day=day, started=started, status="running", command=command
                )
            ).inserted_primary_key[0]

    def finish_run(self, run: int, finished: str, status: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(runs).where(runs.c.id == run).values(finished=finished, status=status)
            )

    def source_started(
        self, run: int, source: str, started: str, since: str | None, until: str | None
    ) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                sqlite_insert(run_sources)
                .values(
                    run=run,
                    source=source,
                    status="running",
                    started=started,
                    since=since,
                    until=until,
                    stats="{}",
                )
                .on_conflict_do_nothing()
            )

    def source_finished(
        self, run: int, source: str, finished: str, status: str, stats: dict[str, Any]
    ) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(run_sources)
                .where(run_sources.c.run == run, run_sources.c.source == source)
                .values(finished=finished, status=status, stats=json.dumps(stats, sort_keys=True))
            )

    def record_error(self, run: int, source: str, target: str, message: str, at: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                run_errors.insert().values(
                    run=run, source=source, target=target, message=message, at=at
                )
            )

    def run(self, run: int) -> RunRow:
        with self.engine.connect() as conn:
            row = conn.execute(select(runs).where(runs.c.id == run)).mappings().one()
        return from_mapping(RunRow, row)

    def runs_on(self, day: str) -> list[RunRow]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(runs).where(runs.c.day == day).order_by(runs.c.id))
            return [from_mapping(RunRow, r) for r in rows.mappings()]

    def run_sources(self, run_ids: Sequence[int]) -> list[RunSourceRow]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(run_sources)
                .where(run_sources.c.run.in_(run_ids))
                .order_by(run_sources.c.run, run_sources.c.source)
            )
            return [from_mapping(RunSourceRow, r) for r in rows.mappings()]

    def errors(self, run_ids: Sequence[int]) -> list[ErrorRow]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(run_errors).where(run_errors.c.run.in_(run_ids)).order_by(run_errors.c.id)
            )
            return [from_mapping(ErrorRow, r) for r in rows.mappings()]

    def last_good_until(self, source: str) -> str | None:
        """The end of the latest window this source covered without any error."""
        with self.engine.connect() as conn:
            return conn.scalar(
                select(func.max(run_sources.c.until)).where(
                    run_sources.c.source == source, run_sources.c.status == "ok"
                )
            )

    # --- documents and versions ------------------------------------------------------------

    def snapshot(self, new: NewVersion) -> SnapshotResult:
        """Store ``new`` as a version of its document unless the version in effect at its
        ``valid_from`` has the same normalised content. All or nothing, in one transaction."""
        return self.snapshot_many([new])[0]

    def snapshot_many(self, news: Sequence[NewVersion]) -> list[SnapshotResult]:
        """``snapshot`` for several documents at once, in one transaction (a CFR part's
        sections and its manifest are stored together or not at all)."""
        with self.engine.begin() as conn:
            return [self._snapshot(conn, new) for new in news]

    def _snapshot(self, conn: Any, new: NewVersion) -> SnapshotResult:
        before = _version_at(conn, new.key, new.valid_from)
        if before is not None and before["text_hash"] == new.text_hash:
            return SnapshotResult(Outcome.UNCHANGED, before["id"])
        if before is not None:  # with nothing in effect yet, no equal version can exist
            same = conn.scalar(
                _SAME, {"key": new.key, "hash": new.text_hash, "day": new.valid_from}
            )
            if same is not None:
                return SnapshotResult(Outcome.UNCHANGED, same)
        last_seq = conn.scalar(_LAST_SEQ, {"key": new.key})
        seq = (last_seq or 0) + 1
        base = _skip_base(conn, new.key, seq)
        base_raw = json.loads(base["raw_blobs"]) if base is not None else {}
        raw = {
            role: self._put_blob(conn, data, base_raw.get(role))
            for role, data in sorted(new.raw.items())
        }
        tree_base = raw.get("xml") or raw.get("json")  # the payload it was parsed from
        if new.tree_base == "previous" and base is not None:
            tree_base = base["tree_blob"]
        tree = self._put_blob(conn, new.tree, tree_base)
        self._upsert_document(conn, new, is_new=last_seq is None)
        version = conn.execute(
            _INSERT_VERSION,
            dict(
                document=new.key,
                seq=seq,
                valid_from=new.valid_from,
                fetched_at=new.fetched_at,
                run=new.run,
                raw_blobs=json.dumps(raw, sort_keys=True),
                text_hash=new.text_hash,
                tree_blob=tree,
            ),
        ).inserted_primary_key[0]
        if before is not None:
            conn.execute(
                _INSERT_CHANGE,
                dict(
                    document=new.key,
                    from_version=before["id"],
                    to_version=version,
                    substantive=new.substantive,
                    stats=json.dumps(new.change_stats, sort_keys=True),
                    run=new.run,
                ),
            )
        for relation, target in new.links:
            conn.execute(
                sqlite_insert(links)
                .values(source=new.key, relation=relation, target=target)
                .on_conflict_do_nothing()
            )
        return SnapshotResult(Outcome.NEW if before is None else Outcome.CHANGED, version)

    def _upsert_document(self, conn: Any, new: NewVersion, is_new: bool) -> None:
        values = dict(
            kind=new.kind,
            source=new.source,
            title=new.title,
            url=new.url,
            published=new.published,
            meta=json.dumps(new.meta, sort_keys=True),
        )
        if is_new and conn.scalar(select(documents.c.key).where(documents.c.key == new.key)):
            is_new = False
        if is_new:
            conn.execute(_INSERT_DOCUMENT, dict(key=new.key, first_run=new.run, **values))
        else:
            conn.execute(_UPDATE_DOCUMENT, dict(doc_key=new.key, **values))

    def document(self, key: str) -> DocumentRow | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(documents).where(documents.c.key == key)).mappings().first()
        return from_mapping(DocumentRow, row) if row else None

    def documents(
        self,
        *,
        published: str | None = None,
        first_runs: Sequence[int] = (),
        prefix: str | None = None,
    ) -> list[DocumentRow]:
        """Documents published on a day, or first seen in the given runs, or both (union)."""
        query = select(documents)
        conds = []
        if published is not None:
            conds.append(documents.c.published == published)
        if first_runs:
            conds.append(documents.c.first_run.in_(first_runs))
        if conds:
            query = query.where(or_(*conds))
        if prefix is not None:
            query = query.where(documents.c.key.startswith(prefix))
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(documents.c.published, documents.c.key))
            return [from_mapping(DocumentRow, r) for r in rows.mappings()]

    def known_keys(self, prefix: str) -> set[str]:
        """Keys under ``prefix`` that have at least one stored version."""
        with self.engine.connect() as conn:
            return set(
                conn.scalars(
                    select(versions.c.document)
                    .distinct()
                    .where(versions.c.document.startswith(prefix))
                )
            )

    def latest_version(self, key: str) -> VersionRow | None:
        with self.engine.connect() as conn:
            row = (
                conn.execute(
                    select(versions)
                    .where(versions.c.document == key)
                    .order_by(versions.c.seq.desc())
                    .limit(1)
                )
                .mappings()
                .first()
            )
        return from_mapping(VersionRow, row) if row else None

    def version(self, version_id: int) -> VersionRow:
        with self.engine.connect() as conn:
            row = conn.execute(select(versions).where(versions.c.id == version_id)).mappings()
            return from_mapping(VersionRow, row.one())

    def by_citation(self, citation: str) -> list[DocumentRow]:
        """Documents whose listing gives this FR citation ("91 FR 70101")."""
        needle = json.dumps(citation)
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(documents).where(documents.c.meta.contains(f'"citation": {needle}'))
            )
            return [from_mapping(DocumentRow, r) for r in rows.mappings()]

    def version_at(self, key: str, day: str) -> VersionRow | None:
        """The version of ``key`` in effect on ``day``."""
        with self.engine.connect() as conn:
            row = _version_at(conn, key, day)
        return from_mapping(VersionRow, row) if row else None

    def history(self, key: str) -> list[VersionRow]:
        """Every version of ``key``, oldest first (by the date it took effect)."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(versions)
                .where(versions.c.document == key)
                .order_by(versions.c.valid_from, versions.c.seq)
            )
            return [from_mapping(VersionRow, r) for r in rows.mappings()]

    def last_valid_from(self, key: str) -> str | None:
        """The date the newest stored version of ``key`` took effect."""
        with self.engine.connect() as conn:
            return conn.scalar(
                select(func.max(versions.c.valid_from)).where(versions.c.document == key)
            )

    def valid_dates(self, key: str) -> list[str]:
        with self.engine.connect() as conn:
            return list(
                conn.scalars(
                    select(versions.c.valid_from).distinct().where(versions.c.document == key)
                )
            )

    def keys(self, prefix: str) -> list[str]:
        """Document keys under ``prefix`` (publication-day projections, ``...~fr:N``,
        included)."""
        with self.engine.connect() as conn:
            return list(
                conn.scalars(
                    select(documents.c.key)
                    .where(documents.c.key.startswith(prefix))
                    .order_by(documents.c.key)
                )
            )

    def versions_in(self, run_ids: Sequence[int]) -> list[VersionRow]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(versions).where(versions.c.run.in_(run_ids)).order_by(versions.c.id)
            )
            return [from_mapping(VersionRow, r) for r in rows.mappings()]

    def all_changes(self, prefix: str) -> list[dict[str, Any]]:
        """Every change of documents under ``prefix``, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(changes).where(changes.c.document.startswith(prefix)).order_by(changes.c.id)
            )
            return [dict(r, stats=json.loads(r["stats"])) for r in rows.mappings()]

    def changes_in(self, run_ids: Sequence[int]) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(changes).where(changes.c.run.in_(run_ids)).order_by(changes.c.id)
            )
            return [dict(r, stats=json.loads(r["stats"])) for r in rows.mappings()]

    def linked(self, key: str, relation: str, reverse: bool = False) -> list[str]:
        """Targets of ``key``'s links (or, with ``reverse``, the keys linking to ``key``)."""
        mine, other = (
            (links.c.target, links.c.source) if reverse else (links.c.source, links.c.target)
        )
        with self.engine.connect() as conn:
            return list(
                conn.scalars(select(other).where(mine == key, links.c.relation == relation))
            )

    def counts(self) -> dict[str, int]:
        """Row counts of the main tables (for `regwatch demo` and tests)."""
        with self.engine.connect() as conn:
            return {
                t.name: conn.scalar(select(func.count()).select_from(t))
                for t in (documents, versions, changes, blobs, runs, run_errors)
            }

    # --- outbox ----------------------------------------------------------------------------

    def outbox_add(
        self,
        digest: str,
        channel: str,
        recipient: str,
        message_id: str,
        subject: str,
        message: bytes,
        now: str,
    ) -> bool:
        """Queue a message unless this digest was already queued for this recipient; the
        message is stored so that every attempt sends the same bytes. True if queued."""
        with self.engine.begin() as conn:
            blob = self._put_blob(conn, message)
            result = conn.execute(
                sqlite_insert(outbox)
                .values(
                    digest=digest,
                    channel=channel,
                    recipient=recipient,
                    message_id=message_id,
                    status="pending",
                    attempts=0,
                    next_attempt=now,
                    message_blob=blob,
                    subject=subject,
                )
                .on_conflict_do_nothing()
            )
            return result.rowcount == 1

    def outbox_due(self, now: str) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(outbox)
                .where(outbox.c.status.in_(("pending", "retry")), outbox.c.next_attempt <= now)
                .order_by(outbox.c.id)
            )
            return [dict(r) for r in rows.mappings()]

    def outbox_mark(self, row_id: int, **values: Any) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(outbox).where(outbox.c.id == row_id).values(**values))

    def outbox(self, digest_prefix: str = "") -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(outbox)
                .where(outbox.c.digest.startswith(digest_prefix))
                .order_by(outbox.c.id)
            )
            return [dict(r) for r in rows.mappings()]

    # --- HTTP validators -------------------------------------------------------------------

    def validators(self, urls: Iterable[str]) -> dict[str, tuple[str | None, str | None]]:
        urls = list(urls)
        with self.engine.connect() as conn:
            rows = conn.execute(select(http_cache).where(http_cache.c.url.in_(urls)))
            return {r.url: (r.etag, r.last_modified) for r in rows}

    def set_validators(
        self, url: str, etag: str | None, last_modified: str | None, at: str
    ) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                sqlite_insert(http_cache)
                .values(
                    url=url,
                    etag=etag,
                    last_modified=last_modified,
                    updated=at,
                )
                .on_conflict_do_update(
                    index_elements=["url"],
                    set_=dict(etag=etag, last_modified=last_modified, updated=at),
                )
            )


# Hot statements, built once (building a select costs more than running it on SQLite).
_AT_DAY = (
    select(versions)
    .where(versions.c.document == bindparam("key"), versions.c.valid_from <= bindparam("day"))
    .order_by(versions.c.valid_from.desc(), versions.c.seq.desc())
    .limit(1)
)
_AT_SEQ = select(versions).where(
    versions.c.document == bindparam("key"), versions.c.seq == bindparam("seq")
)
_SAME = select(versions.c.id).where(
    versions.c.document == bindparam("key"),
    versions.c.text_hash == bindparam("hash"),
    versions.c.valid_from == bindparam("day"),
)
_LAST_SEQ = select(func.max(versions.c.seq)).where(versions.c.document == bindparam("key"))
_BLOB_EXISTS = select(blobs.c.sha256).where(blobs.c.sha256 == bindparam("sha"))
_INSERT_BLOB = blobs.insert()
_INSERT_VERSION = versions.insert()
_INSERT_CHANGE = changes.insert()
_INSERT_DOCUMENT = documents.insert()
_UPDATE_DOCUMENT = update(documents).where(documents.c.key == bindparam("doc_key"))


def _skip_base(conn: Any, key: str, seq: int) -> Any:
    """The version whose payloads version ``seq`` is stored against: ``seq`` with its lowest
    set bit cleared (skip-deltas, as in Subversion's FSFS), so that reading any version
    decompresses at most log2(seq) deltas while most deltas span few versions."""
    index = seq - 1  # zero-based: version 1 is stored whole
    if index < 1:
        return None
    base_seq = (index & (index - 1)) + 1
    return conn.execute(_AT_SEQ, {"key": key, "seq": base_seq}).mappings().first()


def _version_at(conn: Any, key: str, day: str) -> Any:
    """The version of ``key`` in effect on ``day`` (the latest valid from then or before)."""
    return conn.execute(_AT_DAY, {"key": key, "day": day}).mappings().first()


def _applied(conn: Any) -> set[str]:
    if not inspect(conn).has_table("schema_migrations"):
        return set()
    return set(conn.scalars(select(schema_migrations.c.name)))


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()
