"""The store interface: every read and write the rest of regwatch makes goes through here."""

from __future__ import annotations

import json
import re
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Engine,
    bindparam,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.exc import OperationalError

from storage import blobs as blobcodec
from storage import crashpoints, migrate, search
from storage import engine as engines
from storage.engine import first_line
from storage.locks import Held, LockBusy, Locks
from storage.outcomes import (
    ErrorKind,
    HeldStatus,
    OutboxState,
    Outcome,
    RunStatus,
    SourceState,
)
from storage.reports import ReportStore
from storage.rows import (
    DocumentRow,
    ErrorRow,
    HeldFetchRow,
    OutboxRow,
    RetryRow,
    RunRow,
    RunSourceRow,
    VersionRow,
    from_mapping,
    once_more_on_race,
)
from storage.schema import (
    blobs,
    changes,
    documents,
    held_fetches,
    http_cache,
    links,
    outbox,
    redlined,
    retries,
    run_errors,
    run_sources,
    runs,
    versions,
)
from storage.sql import bytewise, insert

OUTBOX_KEY = ("digest", "revision", "channel", "recipient")  # one message of one revision
CACHE_BYTES = 64 * 1024 * 1024
_REVISION = re.compile(r"/r\d+$")  # a corrected digest's key: <day>/<subscription>/r2


class StoreOpenError(Exception):
    """The store file cannot be opened or migrated (wrapped by the CLI as StorageError)."""


class StoreMissing(StoreOpenError):
    """``Store.open(path, create=False)`` found no store at ``path``."""


class StoreInputError(ValueError):
    """Something to store that no store can keep (a NUL byte in text: PostgreSQL refuses
    it in TEXT): one line naming the document, recorded on the run as an input error."""


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
    parser_version: int = 1  # the parser that made ``tree`` (stamped by the snapshot stage)
    diff: bytes | None = None  # the change from the previous version as JSON (node trees)
    search_text: str = ""  # its words for the full-text index ("" : not indexed)
    fetched_from: dict[str, str] = field(default_factory=dict)  # raw role -> URL fetched


@dataclass(frozen=True)
class Rederived:
    """A stored version's tree made again from its raw payloads by a newer parser."""

    version: int
    tree: bytes
    text_hash: str
    parser_version: int
    base: str | None  # the blob the tree is compressed against (its payload)


@dataclass(frozen=True)
class Rejudged:
    """A stored change judged again between rederived trees."""

    change: int
    substantive: bool
    stats: dict[str, Any]


@dataclass(frozen=True)
class SnapshotResult:
    outcome: Outcome
    version: int | None


class Store(ReportStore):
    """A migrated store over one SQLAlchemy engine (SQLite file by default)."""

    def __init__(self, engine: Engine, locks: Locks) -> None:
        self.engine = engine
        self.locks = locks
        self._packer = blobcodec.Packer()
        self._cache: OrderedDict[str, bytes] = OrderedDict()
        self._cached = 0
        self._cache_lock = threading.Lock()

    @classmethod
    def open(cls, where: Path | str, *, create: bool = True, readonly: bool = False) -> Store:
        """The store at ``where`` (a SQLite path, or a ``postgresql+psycopg://`` URL),
        migrated to this regwatch's schema under the ``migrations`` lock; a new one only when
        ``create`` (commands that only read refuse a missing store with StoreMissing instead
        of making an empty one; a PostgreSQL database itself is never created).
        ``readonly`` (the web app): never created nor migrated (an older schema is
        StoreOpenError, naming the command that upgrades it), and the database itself
        refuses every write made through this Store."""
        try:
            target = engines.target(where)
        except engines.TargetError as exc:
            raise StoreOpenError(str(exc)) from None
        if target.path is not None:
            if (readonly or not create) and not target.path.is_file():
                raise StoreMissing(f"no store at {target}")
            if not target.path.parent.exists():
                raise StoreOpenError(f"store folder {target.path.parent} does not exist")
        engine, locks = engines.make_engine(target, readonly)
        crashpoints.install(engine)
        store = cls(engine, locks)
        try:
            try:
                if readonly:
                    store._check_schema(target)
                else:
                    store._migrate(target, create)
            except migrate.MigrationError as exc:
                raise StoreOpenError(str(exc)) from None
            except OperationalError as exc:
                raise StoreOpenError(f"cannot open store {target}: {first_line(exc)}") from None
            except (LockBusy, OSError) as exc:
                raise StoreOpenError(f"cannot open store {target}: {_why(exc)}") from None
        except StoreOpenError:  # StoreMissing included
            engine.dispose()
            raise
        return store

    def _check_schema(self, target: engines.Target) -> None:
        with self.engine.connect() as conn:
            revision = migrate.current(conn)
            if revision is None:
                raise StoreMissing(f"no store at {target}")
            if not migrate.up_to_date(conn, revision):
                raise StoreOpenError(
                    f"the store at {target} has an older schema ({revision}); any command "
                    "that writes it (regwatch run, regwatch rebuild) upgrades it first"
                )

    def _migrate(self, target: engines.Target, create: bool) -> None:
        if target.is_sqlite:  # the lock file first, as ever: a read-only disk is named
            with self.lock("migrations", wait=120.0), self.engine.connect() as conn:
                migrate.upgrade(conn, str(target))
            return
        with self.engine.connect() as conn:  # a lock connection only when there is work
            revision = migrate.current(conn)
            if not create and revision is None:
                raise StoreMissing(f"no store at {target}")
            if not migrate.up_to_date(conn, revision):
                with self.lock("migrations", wait=120.0):
                    migrate.upgrade(conn, str(target))

    # --- locks -----------------------------------------------------------------------------

    def lock(self, name: str, wait: float = 0.0, unique: bool = False) -> Held:
        """Hold the lock ``name`` (waiting up to ``wait`` s); LockBusy if another holds it.
        Locks die with their holder, so a killed process never leaves one behind.
        ``unique``: only this holder ever uses the name (a run's, a sender's)."""
        return self.locks.acquire(name, wait, unique)

    def is_locked(self, name: str) -> bool:
        return self.locks.is_held(name)

    @contextmanager
    def _write(self) -> Iterator[Any]:
        """A write transaction. On SQLite it takes the write lock when it begins (BEGIN
        IMMEDIATE): two writers never both read the same state and then collide; PostgreSQL
        locks rows as they are written (a race on a unique key is retried, snapshot_many)."""
        with self.engine.connect() as conn:
            conn.execution_options(immediate=True)  # read by _sqlite_begin only
            with conn.begin():
                yield conn

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
        with self._cache_lock:
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
        """Keep recently used payloads decompressed (delta chains read their bases). Safe
        from several threads (the web app's requests share one Store)."""
        with self._cache_lock:
            if sha in self._cache:
                return
            self._cache[sha] = data
            self._cached += len(data)
            while self._cached > CACHE_BYTES and len(self._cache) > 1:
                _, dropped = self._cache.popitem(last=False)
                self._cached -= len(dropped)

    # --- runs ------------------------------------------------------------------------------

    def start_run(self, kind: str, day: str | None, started: str, command: str = "") -> int:
        with self._write() as conn:
            return conn.execute(
                runs.insert().values(
                    kind=kind, day=day, started=started, status=RunStatus.RUNNING, command=command
                )
            ).inserted_primary_key[0]

    def open_run(
        self, kind: str, day: str | None, started: str, command: str = ""
    ) -> tuple[int, Held]:
        """A new run and its ``run:<id>`` lock, to hold while it lasts; a run found
        ``running`` without its lock was killed, and is closed as interrupted first."""
        with self.lock("runs", wait=30.0):
            self.close_interrupted(started)
            run = self.start_run(kind, day, started, command)
            return run, self.lock(f"run:{run}", unique=True)

    def close_interrupted(self, at: str) -> list[int]:
        """Close as ``interrupted`` every run left ``running`` whose process is gone (nobody
        holds its ``run:<id>`` lock); their unfinished sources too. Returns their ids."""
        with self.engine.connect() as conn:
            candidates = list(
                conn.scalars(select(runs.c.id).where(runs.c.status == RunStatus.RUNNING))
            )
        dead = [run for run in candidates if not self.is_locked(f"run:{run}")]
        if not dead:
            return []
        with self._write() as conn:
            conn.execute(
                update(run_sources)
                .where(run_sources.c.run.in_(dead), run_sources.c.status == SourceState.RUNNING)
                .values(status=SourceState.INTERRUPTED, finished=at)
            )
            conn.execute(
                update(runs)
                .where(runs.c.id.in_(dead), runs.c.status == RunStatus.RUNNING)
                .values(status=RunStatus.INTERRUPTED, finished=at)
            )
        return dead

    def finish_run(self, run: int, finished: str, status: RunStatus) -> None:
        with self._write() as conn:
            conn.execute(
                update(runs).where(runs.c.id == run).values(finished=finished, status=status)
            )

    def source_started(
        self, run: int, source: str, started: str, since: str | None, until: str | None
    ) -> None:
        with self._write() as conn:
            conn.execute(
                insert(conn, run_sources)
                .values(
                    run=run,
                    source=source,
                    status=SourceState.RUNNING,
                    started=started,
                    since=since,
                    until=until,
                    stats="{}",
                )
                .on_conflict_do_nothing()
            )

    def source_finished(
        self, run: int, source: str, finished: str, status: SourceState, stats: dict[str, Any]
    ) -> None:
        with self._write() as conn:
            conn.execute(
                update(run_sources)
                .where(run_sources.c.run == run, run_sources.c.source == source)
                .values(finished=finished, status=status, stats=json.dumps(stats, sort_keys=True))
            )

    def record_error(
        self,
        run: int,
        source: str,
        target: str,
        message: str,
        at: str,
        kind: ErrorKind = ErrorKind.INPUT,
    ) -> None:
        target, message = _visible(target), _visible(message)
        with self._write() as conn:
            conn.execute(
                run_errors.insert().values(
                    run=run, source=source, target=target, message=message, at=at, kind=kind
                )
            )

    # --- the retry list --------------------------------------------------------------------

    def retry_failed(
        self, run: int, source: str, target: str, kind: ErrorKind, message: str, at: str
    ) -> None:
        """Put ``target`` on the retry list (or count one more failed attempt) and record the
        error on the run, in one transaction."""
        target, message = _visible(target), _visible(message)
        with self._write() as conn:
            conn.execute(
                run_errors.insert().values(
                    run=run, source=source, target=target, message=message, at=at, kind=kind
                )
            )
            done = conn.execute(
                update(retries)
                .where(retries.c.source == source, retries.c.target == target)
                .values(
                    last_failed=at,
                    attempts=retries.c.attempts + 1,
                    kind=kind,
                    message=message,
                    run=run,
                )
            )
            if done.rowcount == 0:
                conn.execute(
                    retries.insert().values(
                        source=source,
                        target=target,
                        first_failed=at,
                        last_failed=at,
                        attempts=1,
                        kind=kind,
                        message=message,
                        run=run,
                    )
                )

    def retry_done(self, targets: Iterable[str]) -> None:
        """Take ``targets`` off the retry list (they are stored now)."""
        targets = list(targets)
        if not targets:
            return
        with self._write() as conn:
            conn.execute(retries.delete().where(retries.c.target.in_(targets)))

    def retry_list(self, source: str | None = None) -> list[RetryRow]:
        query = select(retries).order_by(bytewise(retries.c.source), bytewise(retries.c.target))
        if source is not None:
            query = query.where(retries.c.source == source)
        with self.engine.connect() as conn:
            return [from_mapping(RetryRow, r) for r in conn.execute(query).mappings()]

    def interrupted_days(self, since: str, before: str) -> list[str]:
        """Days from ``since`` to before ``before`` that have a daily run closed as
        ``interrupted``."""
        with self.engine.connect() as conn:
            return list(
                conn.scalars(
                    select(runs.c.day)
                    .distinct()
                    .where(
                        runs.c.kind == "daily",
                        runs.c.status == RunStatus.INTERRUPTED,
                        runs.c.day >= since,
                        runs.c.day < before,
                    )
                    .order_by(runs.c.day)
                )
            )

    def run(self, run: int) -> RunRow:
        with self.engine.connect() as conn:
            row = conn.execute(select(runs).where(runs.c.id == run)).mappings().one()
        return from_mapping(RunRow, row)

    # --- full-text search -------------------------------------------------------------------

    def search(self, query: str, limit: int = 2000) -> list[VersionRow]:
        """Stored versions whose text has every word and "phrase" of ``query``."""
        with self.engine.connect() as conn:
            ids = search.matching(conn, query, limit)
            if not ids:
                return []
            rows = conn.execute(select(versions).where(versions.c.id.in_(ids))).mappings()
            return [from_mapping(VersionRow, r) for r in rows]

    def indexed(self) -> int:
        """How many versions the full-text index holds."""
        with self.engine.connect() as conn:
            return search.count(conn)

    def index_complete(self, kinds: Sequence[str]) -> bool:
        """Whether the oldest stored version of a document of one of ``kinds`` is in the
        full-text index: False for a store that had versions before the index existed
        (until `regwatch rebuild` indexes them)."""
        query = (
            select(versions.c.id)
            .join(documents, documents.c.key == versions.c.document)
            .where(documents.c.kind.in_(kinds))
            .order_by(versions.c.id)
            .limit(1)
        )
        with self.engine.connect() as conn:
            oldest = conn.scalar(query)
            return oldest is None or search.holds(conn, oldest)

    def reindex(self, texts: Iterable[tuple[int, str]]) -> int:
        """The full-text index made again from ``texts`` (version id, its words), whole, in
        one transaction (`regwatch rebuild`)."""
        with self._write() as conn:
            return search.index_all(conn, texts)

    def linking_to(self, target: str, relation: str) -> list[str]:
        """The documents that have ``relation`` to ``target`` (what corrects a rule)."""
        query = (
            select(links.c.source)
            .where(links.c.target == target, links.c.relation == relation)
            .order_by(bytewise(links.c.source))
        )
        with self.engine.connect() as conn:
            return list(conn.scalars(query))

    def recent_runs(self, limit: int, offset: int = 0) -> list[RunRow]:
        """Runs of every kind, newest first."""
        query = select(runs).order_by(runs.c.id.desc()).limit(limit).offset(offset)
        with self.engine.connect() as conn:
            return [from_mapping(RunRow, r) for r in conn.execute(query).mappings()]

    def runs_on(self, day: str) -> list[RunRow]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(runs).where(runs.c.day == day).order_by(runs.c.id))
            return [from_mapping(RunRow, r) for r in rows.mappings()]

    def run_sources(self, run_ids: Sequence[int]) -> list[RunSourceRow]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(run_sources)
                .where(run_sources.c.run.in_(run_ids))
                .order_by(run_sources.c.run, bytewise(run_sources.c.source))
            )
            return [from_mapping(RunSourceRow, r) for r in rows.mappings()]

    def errors(self, run_ids: Sequence[int]) -> list[ErrorRow]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(run_errors).where(run_errors.c.run.in_(run_ids)).order_by(run_errors.c.id)
            )
            return [from_mapping(ErrorRow, r) for r in rows.mappings()]

    def last_good_until(self, source: str) -> str | None:
        """The end of the latest window this source searched completely: ``ok``, or
        ``degraded`` by documents that failed (those are on the retry list)."""
        with self.engine.connect() as conn:
            return conn.scalar(
                select(func.max(run_sources.c.until)).where(
                    run_sources.c.source == source,
                    run_sources.c.status.in_((RunStatus.OK, RunStatus.DEGRADED)),
                )
            )

    def checked(self, source: str) -> tuple[str, str] | None:
        """(first, last) day of the windows this source searched completely (as
        ``last_good_until`` counts them), or None if it never was."""
        start = func.coalesce(run_sources.c.since, run_sources.c.until)
        with self.engine.connect() as conn:
            row = conn.execute(
                select(func.min(start), func.max(run_sources.c.until)).where(
                    run_sources.c.source == source,
                    run_sources.c.status.in_((RunStatus.OK, RunStatus.DEGRADED)),
                )
            ).one()
        return (row[0], row[1]) if row[1] else None

    # --- documents and versions ------------------------------------------------------------

    def snapshot(self, new: NewVersion) -> SnapshotResult:
        """Store ``new`` as a version of its document unless the version in effect at its
        ``valid_from`` has the same normalised content. All or nothing, in one transaction."""
        return self.snapshot_many([new])[0]

    def snapshot_many(self, news: Sequence[NewVersion]) -> list[SnapshotResult]:
        """``snapshot`` for several documents at once, in one transaction (a CFR part's
        sections and its manifest are stored together or not at all). Two writers storing
        the same thing at once: the second finds the first's version (a no-op). A NUL byte
        in any text is StoreInputError, before anything is written."""
        for new in news:
            _refuse_nul(new)
        return once_more_on_race(lambda: self._snapshot_all(news))

    def _snapshot_all(self, news: Sequence[NewVersion]) -> list[SnapshotResult]:
        with self._write() as conn:
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
                parser_version=new.parser_version,
                fetched_from=json.dumps(new.fetched_from, sort_keys=True),
            ),
        ).inserted_primary_key[0]
        search.add(conn, version, new.search_text)
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
                    diff_blob=self._put_blob(conn, new.diff) if new.diff is not None else None,
                ),
            )
        for relation, target in new.links:
            conn.execute(
                insert(conn, links)
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
            rows = conn.execute(
                query.order_by(
                    bytewise(documents.c.published).nulls_first(), bytewise(documents.c.key)
                )
            )
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

    def first_in_effect(self, key: str) -> str | None:
        """The day the earliest version of ``key`` took effect (None: no version)."""
        with self.engine.connect() as conn:
            found = conn.execute(
                select(func.min(versions.c.valid_from)).where(versions.c.document == key)
            ).scalar()
        return str(found) if found is not None else None

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

    def hashes_at(self, keys: Sequence[str], day: str) -> dict[str, tuple[str, int]]:
        """The content hash and parser version of the version of each of ``keys`` in effect
        on ``day`` (keys with none are left out), in one query: a part's hundreds of units."""
        out: dict[str, tuple[str, int]] = {}
        newest = (
            func.row_number()
            .over(
                partition_by=versions.c.document,
                order_by=(versions.c.valid_from.desc(), versions.c.seq.desc()),
            )
            .label("newest")
        )
        with self.engine.connect() as conn:
            for start in range(0, len(keys), 500):
                ranked = (
                    select(versions.c.document, versions.c.text_hash, versions.c.parser_version)
                    .add_columns(newest)
                    .where(
                        versions.c.document.in_(keys[start : start + 500]),
                        versions.c.valid_from <= day,
                    )
                    .subquery()
                )
                rows = conn.execute(select(ranked).where(ranked.c.newest == 1))
                out.update((row.document, (row.text_hash, row.parser_version)) for row in rows)
        return out

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
                    .order_by(bytewise(documents.c.key))
                )
            )

    def versions_in(self, run_ids: Sequence[int]) -> list[VersionRow]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(versions).where(versions.c.run.in_(run_ids)).order_by(versions.c.id)
            )
            return [from_mapping(VersionRow, r) for r in rows.mappings()]

    def restate(
        self,
        trees: Sequence[Rederived],
        judged: Sequence[Rejudged],
        metas: Sequence[tuple[str, dict[str, Any]]] = (),
    ) -> None:
        """Replace versions' trees, their changes' verdicts and documents' meta (by key) in
        place, in one transaction (``regwatch rebuild``): no version, change or run is
        added, so nothing becomes news."""
        with self._write() as conn:
            for key, meta in metas:
                conn.execute(
                    update(documents)
                    .where(documents.c.key == key)
                    .values(meta=json.dumps(meta, sort_keys=True))
                )
            for r in trees:
                sha = self._put_blob(conn, r.tree, r.base)
                conn.execute(
                    update(versions)
                    .where(versions.c.id == r.version)
                    .values(tree_blob=sha, text_hash=r.text_hash, parser_version=r.parser_version)
                )
                made = r.version
                touches = or_(changes.c.from_version == made, changes.c.to_version == made)
                # its changes are diffed again, from the new trees, when next read
                conn.execute(update(changes).where(touches).values(diff_blob=None))
            for j in judged:
                conn.execute(
                    update(changes)
                    .where(changes.c.id == j.change)
                    .values(substantive=j.substantive, stats=json.dumps(j.stats, sort_keys=True))
                )

    def unredlined(self, prefix: str, kinds: Sequence[str]) -> list[VersionRow]:
        """Versions of documents under ``prefix`` of the given kinds that have no
        publication-day redlines made yet, oldest first."""
        query = (
            select(versions)
            .join(documents, documents.c.key == versions.c.document)
            .where(
                versions.c.document.startswith(prefix),
                documents.c.kind.in_(list(kinds)),
                ~versions.c.id.in_(select(redlined.c.version)),
            )
            .order_by(versions.c.id)
        )
        with self.engine.connect() as conn:
            return [from_mapping(VersionRow, r) for r in conn.execute(query).mappings()]

    def mark_redlined(self, version: int, units: int, run: int) -> None:
        with self._write() as conn:
            exists = conn.scalar(select(redlined.c.version).where(redlined.c.version == version))
            if exists is None:
                conn.execute(redlined.insert().values(version=version, units=units, run=run))

    def counts(self) -> dict[str, int]:
        """Row counts of the main tables (for `regwatch demo` and tests)."""
        with self.engine.connect() as conn:
            return {
                t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
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
        *,
        revision: int = 1,
        degraded: bool = False,
        fingerprint: str | None = None,
    ) -> bool:
        """Queue a message unless this digest was already queued for this recipient; the
        message is stored so that every attempt sends the same bytes. True if queued."""
        with self._write() as conn:
            blob = self._put_blob(conn, message)
            added = conn.execute(  # one statement: a concurrent queuer's row is a no-op
                insert(conn, outbox)
                .values(
                    digest=digest,
                    channel=channel,
                    recipient=recipient,
                    message_id=message_id,
                    status=OutboxState.PENDING,
                    attempts=0,
                    next_attempt=now,
                    message_blob=blob,
                    subject=subject,
                    revision=revision,
                    degraded=degraded,
                    fingerprint=fingerprint,
                )
                .on_conflict_do_nothing(index_elements=list(OUTBOX_KEY))
                .returning(outbox.c.id)  # a row when inserted (rowcount is not reliable)
            )
            return added.first() is not None

    def outbox_latest(self, digest: str, channel: str, recipient: str) -> OutboxRow | None:
        """The latest revision queued of a day's digest (``digest`` is its revision-1 key)."""
        with self.engine.connect() as conn:
            row = (
                conn.execute(
                    select(outbox)
                    .where(*_revisions(digest, channel, recipient))
                    .order_by(outbox.c.revision.desc(), outbox.c.id.desc())
                    .limit(1)
                )
                .mappings()
                .first()
            )
        return from_mapping(OutboxRow, row) if row else None

    def outbox_supersede(self, digest: str, channel: str, recipient: str) -> None:
        """Revisions of a day's digest (``digest``: its revision-1 key) still waiting to be
        sent are not sent: a corrected revision replaces them."""
        with self._write() as conn:
            conn.execute(
                update(outbox)
                .where(
                    *_revisions(digest, channel, recipient),
                    outbox.c.status.in_((OutboxState.PENDING, OutboxState.RETRY)),
                )
                .values(status=OutboxState.SUPERSEDED)
            )

    def outbox_degraded_days(self, since: str) -> list[str]:
        """Days from ``since`` on whose latest queued digest (for some subscription and
        recipient) was made while sources failed: candidates for a corrected digest."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(outbox.c.digest, outbox.c.recipient, outbox.c.degraded)
                .where(outbox.c.digest >= since)
                .order_by(outbox.c.revision, outbox.c.id)
            ).all()
        latest: dict[tuple[str, str], bool] = {}
        for digest, recipient, degraded in rows:
            latest[(_REVISION.sub("", digest), recipient)] = bool(degraded)
        return sorted({base.split("/", 1)[0] for (base, _), bad in latest.items() if bad})

    def outbox_due(self, now: str) -> list[OutboxRow]:
        """Messages due now, and messages claimed by a sender that died (its lock is free)."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(outbox)
                .where(
                    or_(
                        (outbox.c.status.in_((OutboxState.PENDING, OutboxState.RETRY)))
                        & (outbox.c.next_attempt <= now),
                        outbox.c.status == OutboxState.SENDING,
                    )
                )
                .order_by(outbox.c.id)
            )
            found = [from_mapping(OutboxRow, r) for r in rows.mappings()]
        return [
            row
            for row in found
            if row.status != OutboxState.SENDING or not self.is_locked(row.claimed_by or "")
        ]

    def outbox_claim(self, row: OutboxRow, holder: str) -> bool:
        """Claim a due message for the sender holding the lock ``holder``: atomic, so two
        senders never both send it. False if another sender changed it first."""
        by = outbox.c.claimed_by
        with self._write() as conn:
            done = conn.execute(
                update(outbox)
                .where(
                    outbox.c.id == row.id,
                    outbox.c.status == row.status,
                    by.is_(None) if row.claimed_by is None else by == row.claimed_by,
                )
                .values(status=OutboxState.SENDING, claimed_by=holder)
            )
            return done.rowcount == 1

    def outbox_mark(self, row_id: int, **values: Any) -> None:
        with self._write() as conn:
            conn.execute(update(outbox).where(outbox.c.id == row_id).values(**values))

    def outbox(self, digest_prefix: str = "") -> list[OutboxRow]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(outbox)
                .where(outbox.c.digest.startswith(digest_prefix))
                .order_by(outbox.c.id)
            )
            return [from_mapping(OutboxRow, r) for r in rows.mappings()]

    # --- HTTP validators -------------------------------------------------------------------

    def validators(self, urls: Iterable[str]) -> dict[str, tuple[str | None, str | None]]:
        urls = list(urls)
        with self.engine.connect() as conn:
            rows = conn.execute(select(http_cache).where(http_cache.c.url.in_(urls)))
            return {r.url: (r.etag, r.last_modified) for r in rows}

    def set_validators(
        self, url: str, etag: str | None, last_modified: str | None, at: str
    ) -> None:
        with self._write() as conn:
            conn.execute(
                insert(conn, http_cache)
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

    # held fetches (issue 11) ----------------------------------------------------------------

    def hold_fetch(
        self,
        document: str,
        valid_from: str,
        *,
        run: int,
        fetched_at: str,
        raw: bytes,
        reason: str,
        base: str | None = None,
    ) -> HeldFetchRow:
        """Keep an implausible payload of ``document`` for ``valid_from`` apart from its
        history (compressed against ``base``, the blob of the payload it replaces). Holding
        the same payload again keeps its first ``fetched_at`` (a later day's sighting is what
        confirms it) and marks it held by ``run``."""
        with self._write() as conn:
            sha = self._put_blob(conn, raw, base)
            conn.execute(
                insert(conn, held_fetches)
                .values(
                    document=document,
                    valid_from=valid_from,
                    run=run,
                    fetched_at=fetched_at,
                    raw_blob=sha,
                    reason=reason,
                    status=HeldStatus.HELD,
                )
                .on_conflict_do_update(
                    index_elements=["document", "valid_from", "raw_blob"],
                    set_=dict(
                        run=run,
                        reason=reason,
                        status=HeldStatus.HELD,
                        resolved_run=None,
                        resolution=None,
                    ),
                )
            )
            row = conn.execute(
                select(held_fetches).where(
                    held_fetches.c.document == document,
                    held_fetches.c.valid_from == valid_from,
                    held_fetches.c.raw_blob == sha,
                )
            )
            return from_mapping(HeldFetchRow, row.mappings().one())

    def held_fetches(
        self, document: str | None = None, status: HeldStatus | None = HeldStatus.HELD
    ) -> list[HeldFetchRow]:
        """Held fetches (of ``document``, in ``status``; None: any), oldest first."""
        query = select(held_fetches).order_by(held_fetches.c.id)
        if document is not None:
            query = query.where(held_fetches.c.document == document)
        if status is not None:
            query = query.where(held_fetches.c.status == status)
        with self.engine.connect() as conn:
            return [from_mapping(HeldFetchRow, r) for r in conn.execute(query).mappings()]

    def resolve_held(
        self, document: str, up_to: str, applied_blob: str, run: int, resolution: str
    ) -> None:
        """A payload of ``document`` for ``up_to`` was applied: a held fetch of the same
        payload is ``applied`` (with ``resolution``: what confirmed it); any other held
        fetch for that date or earlier is ``discarded``, replaced by it."""
        where = (
            held_fetches.c.document == document,
            held_fetches.c.valid_from <= up_to,
            held_fetches.c.status == HeldStatus.HELD,
        )
        with self._write() as conn:
            conn.execute(
                update(held_fetches)
                .where(*where, held_fetches.c.raw_blob == applied_blob)
                .values(status=HeldStatus.APPLIED, resolved_run=run, resolution=resolution)
            )
            conn.execute(
                update(held_fetches)
                .where(*where)
                .values(
                    status=HeldStatus.DISCARDED,
                    resolved_run=run,
                    resolution=f"replaced by the fetch for {up_to} applied in run {run}",
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


def _revisions(digest: str, channel: str, recipient: str) -> tuple[Any, ...]:
    """Every revision of a day's digest (``digest``: its revision-1 key) for one recipient."""
    return (
        or_(outbox.c.digest == digest, outbox.c.digest.startswith(f"{digest}/r")),
        outbox.c.channel == channel,
        outbox.c.recipient == recipient,
    )


def failure_line(exc: BaseException, what: str) -> str:
    """One line for a store or disk that cannot be written ("cannot write the store:
    database or disk is full"), without the SQL or its parameters (payloads)."""
    orig = getattr(exc, "orig", None) or exc
    return f"cannot write {what}: {getattr(orig, 'strerror', None) or first_line(exc)}"


def _refuse_nul(new: NewVersion) -> None:
    """No database text may hold a NUL byte (PostgreSQL refuses it in TEXT): a document
    that has one is refused on every database alike, with one line naming it."""
    texts = {
        "key": new.key,
        "kind": new.kind,
        "title": new.title,
        "url": new.url,
        "published": new.published or "",
        "valid_from": new.valid_from,
        "links": "".join(f"{r}{t}" for r, t in new.links),
    }
    for name, text in texts.items():
        if "\x00" in text:
            raise StoreInputError(
                f"{_visible(new.key)}: a NUL byte in its {name}: not stored (text may not hold one)"
            )


def _visible(text: str) -> str:
    """``text`` with any NUL byte shown as ``\\x00`` (an error line quoting bad input)."""
    return text.replace("\x00", "\\x00")


def _why(exc: BaseException) -> str:
    if isinstance(exc, LockBusy):
        return "another regwatch is upgrading it (migrations lock held)"
    return getattr(exc, "strerror", None) or str(exc)
