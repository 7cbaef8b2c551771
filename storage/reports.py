"""What the report half keeps: each change's diff once computed, the day's report by
revision, and alerts outside the daily rhythm. A mixin of ``Store`` (storage.store)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, func, select, update

from storage import sql
from storage.outcomes import AlertKind
from storage.rows import ChangeRow, from_mapping, once_more_on_race
from storage.schema import alerts, changes, inspection_lists, reports, versions


@dataclass(frozen=True)
class ReportRow:
    """One revision of a day's report: its JSON is in ``report_blob``."""

    id: int
    day: str
    revision: int
    run: int
    created: str
    fingerprint: str
    report_blob: str


@dataclass(frozen=True)
class AlertRow:
    """Something to tell outside the daily rhythm: a watched page moved, a filing seen."""

    id: int
    kind: AlertKind
    source: str
    target: str
    title: str
    detail: dict[str, Any]
    day: str
    at: str
    run: int


@dataclass(frozen=True)
class NewAlert:
    kind: AlertKind
    source: str
    target: str  # a document key or URL
    title: str  # one line
    day: str  # ISO
    at: str
    run: int
    detail: dict[str, Any] | None = None


@dataclass(frozen=True)
class InspectionListRow:
    """A Public Inspection list as one fetch returned it: the documents it held."""

    id: int
    run: int
    day: str  # its available_on date
    at: str
    query: str  # the agencies asked for, comma-separated ("": every agency)
    count: int  # how many documents the API said it holds
    numbers: tuple[str, ...]
    complete: bool  # it held as many as it said


class ReportStore:
    """Store methods for changes' diffs, reports and alerts."""

    if TYPE_CHECKING:
        engine: Engine

        def _write(self) -> AbstractContextManager[Any]: ...
        def _put_blob(self, conn: Any, data: bytes, base: str | None = None) -> str: ...

    # --- changes ---------------------------------------------------------------------------

    def changes_in(self, run_ids: Sequence[int]) -> list[ChangeRow]:
        """The changes stored by the runs ``run_ids``, oldest first (found through their
        versions, which are indexed by run: the day's cost, not the history's)."""
        made = select(versions.c.id).where(versions.c.run.in_(list(run_ids)))
        return self._changes(changes.c.to_version.in_(made))

    def changes_of(self, key: str) -> list[ChangeRow]:
        """Every change of the document ``key`` (exactly), oldest first."""
        return self._changes(changes.c.document == key)

    def _changes(self, where: Any) -> list[ChangeRow]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(changes).where(where).order_by(changes.c.id))
            return [from_mapping(ChangeRow, r) for r in rows.mappings()]

    def set_change_diff(self, change: int, diff: bytes) -> str:
        """Keep the diff of a change stored before diffs were (computed once, backfilled)."""
        with self._write() as conn:
            sha = self._put_blob(conn, diff)
            conn.execute(update(changes).where(changes.c.id == change).values(diff_blob=sha))
        return sha

    # --- reports ---------------------------------------------------------------------------

    def put_report(
        self, day: str, run: int, created: str, fingerprint: str, report: bytes
    ) -> ReportRow:
        """Keep the day's report: a new revision when it says something the latest did not
        (its fingerprint differs), else the latest revision brought up to date in place.
        Two processes keeping the same day's report at once (PostgreSQL): the one that loses
        the race on (day, revision) reads the winner's and tries once more."""
        return once_more_on_race(lambda: self._put_report(day, run, created, fingerprint, report))

    def _put_report(
        self, day: str, run: int, created: str, fingerprint: str, report: bytes
    ) -> ReportRow:
        with self._write() as conn:
            sha = self._put_blob(conn, report)
            latest = conn.execute(_latest(day)).mappings().first()
            values = dict(run=run, created=created, fingerprint=fingerprint, report_blob=sha)
            if latest is not None and latest["fingerprint"] == fingerprint:
                conn.execute(update(reports).where(reports.c.id == latest["id"]).values(**values))
            else:
                revision = latest["revision"] + 1 if latest is not None else 1
                conn.execute(reports.insert().values(day=day, revision=revision, **values))
            row = conn.execute(_latest(day)).mappings().one()
            return from_mapping(ReportRow, row)

    def report(self, day: str) -> ReportRow | None:
        """The latest revision of ``day``'s report."""
        with self.engine.connect() as conn:
            row = conn.execute(_latest(day)).mappings().first()
            return from_mapping(ReportRow, row) if row is not None else None

    def report_days(self, prefix: str = "", limit: int | None = None) -> list[str]:
        """The days that have a report (those starting with ``prefix``: "2026-10"), newest
        first, ``limit`` at most."""
        query = select(reports.c.day).distinct().order_by(reports.c.day.desc())
        if prefix:
            query = query.where(reports.c.day.startswith(prefix))
        with self.engine.connect() as conn:
            return list(conn.scalars(query.limit(limit)))

    def report_months(self) -> list[str]:
        """The months ("2026-10") that have a report, newest first."""
        month = func.substr(reports.c.day, 1, 7)
        query = select(month).distinct().order_by(month.desc())
        with self.engine.connect() as conn:
            return list(conn.scalars(query))

    def recent_reports(self, until: str) -> Iterator[ReportRow]:
        """The latest revision of each day's report up to ``until``, newest day first; read
        lazily, so a caller that needs a few days reads a few."""
        newest = (
            select(reports.c.day, func.max(reports.c.revision).label("revision"))
            .where(reports.c.day <= until)
            .group_by(reports.c.day)
            .subquery()
        )
        query = (
            select(reports)
            .join(
                newest,
                (reports.c.day == newest.c.day) & (reports.c.revision == newest.c.revision),
            )
            .order_by(reports.c.day.desc())
        )
        with self.engine.connect() as conn:
            for row in conn.execute(query).mappings():
                yield from_mapping(ReportRow, row)

    # --- alerts ----------------------------------------------------------------------------

    def record_alert(self, new: NewAlert) -> bool:
        """Keep an alert once per kind, target and day; False when it was already kept."""
        with self._write() as conn:
            # one statement: two processes keeping the same alert at once (a backfill and a
            # daily run, on PostgreSQL) never both pass a check and collide
            added = conn.execute(
                sql.insert(conn, alerts)
                .values(
                    kind=str(new.kind),
                    source=new.source,
                    target=new.target,
                    title=new.title,
                    detail=json.dumps(new.detail or {}, sort_keys=True),
                    day=new.day,
                    at=new.at,
                    run=new.run,
                )
                .on_conflict_do_nothing(index_elements=["kind", "target", "day"])
                .returning(alerts.c.id)  # a row when inserted (rowcount is not reliable)
            )
            return added.first() is not None

    def alerts_of_run(self, run: int) -> list[AlertRow]:
        """The alerts ``run`` kept, in the order they were seen."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(alerts).where(alerts.c.run == run).order_by(alerts.c.id))
            return [from_mapping(AlertRow, r) for r in rows.mappings()]

    def alerts_on(self, day: str) -> list[AlertRow]:
        """The alerts seen on ``day``, in the order they were seen."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(alerts).where(alerts.c.day == day).order_by(alerts.c.id))
            return [from_mapping(AlertRow, r) for r in rows.mappings()]

    # --- Public Inspection lists -----------------------------------------------------------

    def record_inspection_list(
        self, run: int, day: str, at: str, query: str, count: int, numbers: Sequence[str]
    ) -> InspectionListRow:
        """Keep a fetched list; it is complete when it held ``count`` documents."""
        complete = count == len(numbers)
        values = {
            "run": run,
            "day": day,
            "at": at,
            "query": query,
            "count": count,
            "numbers": json.dumps(list(numbers)),
            "complete": complete,
        }
        with self._write() as conn:
            new = conn.execute(inspection_lists.insert().values(**values)).inserted_primary_key
        assert new is not None
        return InspectionListRow(new[0], run, day, at, query, count, tuple(numbers), complete)

    def inspection_lists(self, run: int) -> list[InspectionListRow]:
        """The lists ``run`` fetched, in order."""
        return self._lists(inspection_lists.c.run == run)

    def complete_list_before(self, row: InspectionListRow) -> InspectionListRow | None:
        """The latest complete list of ``row``'s day fetched before it with the same query
        (the lists of two days are not compared: a filing leaves the list when it is
        published, and a day's list is posted during the day)."""
        found = self._lists(
            (inspection_lists.c.query == row.query)
            & (inspection_lists.c.day == row.day)
            & (inspection_lists.c.id < row.id)
            & inspection_lists.c.complete,
            newest=True,
        )
        return found[0] if found else None

    def _lists(self, where: Any, newest: bool = False) -> list[InspectionListRow]:
        order = inspection_lists.c.id.desc() if newest else inspection_lists.c.id
        query = select(inspection_lists).where(where).order_by(order)
        with self.engine.connect() as conn:
            rows = conn.execute(query.limit(1) if newest else query).mappings()
            return [
                InspectionListRow(
                    r["id"],
                    r["run"],
                    r["day"],
                    r["at"],
                    r["query"],
                    r["count"],
                    tuple(json.loads(r["numbers"])),
                    bool(r["complete"]),
                )
                for r in rows
            ]


def _latest(day: str) -> Any:
    return select(reports).where(reports.c.day == day).order_by(reports.c.revision.desc()).limit(1)
