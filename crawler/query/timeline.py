"""A rule's life from the store, each date with where regwatch read it: filed for Public
Inspection (the filing list, else the document's FRDOC line), published, comments due,
effective (every date its DATES paragraph gives, the FR API's, and later documents that move
it), corrected, and the day the eCFR first showed it in each unit it amends (the unit's
source note names the rule). `regwatch rule`, `regwatch upcoming`, the rule's page.

Business days are weekdays that are not US federal holidays (the ``holidays`` package's
calendar, observed days included; crawler.workdays): the eCFR's lag is counted in them."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from crawler.config import Config
from crawler.errors import NotCovered, UsageError
from crawler.keys import FR, fr_key, fr_number, pi_key, readable
from crawler.parse.rule_dates import DATES, filings, preamble_dates
from crawler.query.coverage import checked
from crawler.query.lookup import Lookup
from crawler.query.reconcile import (
    Operation,
    Redline,
    Status,
    reconcile,
    redline,
    redlined_units,
    rules_of,
)
from crawler.records import DateKind, RuleDate
from crawler.snapshot.rows import DELAYS
from crawler.workdays import business_days
from storage import DocumentRow, Store

EASTERN = ZoneInfo("America/New_York")
_ORDER = {kind: n for n, kind in enumerate(DateKind)}


@dataclass(frozen=True)
class UnitState:
    """A unit the rule amends and whether the eCFR shows it yet."""

    key: str
    citation: str  # "15 CFR 744.11"
    since: str | None  # the first eCFR date that shows the rule; None: not yet
    how: str = ""  # "its source note names the rule", "its text is what the rule said"
    operations: tuple[Operation, ...] = ()  # the rule's operations against the latest eCFR
    flagged: bool = False  # its redline was flagged, not applied: matched by source note only
    latest: str | None = None  # the day of the eCFR version ``operations`` were compared with
    looked: bool = True  # False: the store has never checked the eCFR for it (not known)
    seen: str | None = None  # the day regwatch stored the version that first showed it
    latest_seen: str | None = None  # the day regwatch stored the latest version compared

    @property
    def pending(self) -> bool:
        """The eCFR does not show the rule here yet: no version names it or matches it, and
        wherever the rule changed the unit the eCFR still has the prior text (or the rule's
        instructions were flagged, so only a source note could tell). False where nothing
        was compared: not known is not "not yet"."""
        if self.since is not None or not self.looked:
            return False
        if self.flagged:
            return True
        return bool(self.operations) and all(o.status == Status.NOT_YET for o in self.operations)

    def not_yet(self, lag: int, checked: str | None = None) -> str:
        """ "15 CFR 744.11: not yet in the eCFR (checked through D), 3 business days after
        it took effect (3 operations: 3 not yet in the eCFR)"."""
        seen = f" (checked through {checked})" if checked else ""
        return (
            f"{self.citation}: not yet in the eCFR{seen}, {lag} business "
            f"day{'' if lag == 1 else 's'} after it took effect{self.operations_said}"
        )

    def differs(self) -> str:
        return f"{self.citation}: the eCFR differs from what the rule said{self.operations_said}"

    @property
    def operations_said(self) -> str:
        """ " (3 operations: 1 matched, ...)", or "" when there is nothing to count."""
        counted = self.counted()
        return f" ({counted})" if counted else ""

    def counted(self) -> str:
        """ "4 operations: 3 matched, 1 not yet in the eCFR"."""
        if self.flagged:
            return "its instructions were flagged, not applied: no text to compare"
        if not self.operations:
            return ""
        counts = {s: sum(o.status == s for o in self.operations) for s in Status}
        said = ", ".join(f"{n} {status}" for status, n in counts.items() if n)
        total = len(self.operations)
        return f"{total} operation{'' if total == 1 else 's'}: {said}"


@dataclass(frozen=True)
class Timeline:
    number: str
    title: str
    kind: str  # "Rule", "Proposed Rule" ...
    citation: str | None
    url: str
    dates: tuple[RuleDate, ...]  # by day, undated last
    units: tuple[UnitState, ...]
    checked: str | None  # the last day the store has checked the eCFR

    def of(self, kind: DateKind) -> list[RuleDate]:
        return [d for d in self.dates if d.kind == kind]

    @property
    def effective(self) -> str | None:
        """The day it takes effect now: the latest move of its effective date, else the
        first effective date it gives (None: none given, or not set)."""
        # the moves later documents made; a DELAYED date of the rule's own DATES paragraph
        # is another rule's (this document delays it)
        moved = [d.day for d in self.of(DateKind.DELAYED) if d.day and d.source != DATES]
        if moved:
            return moved[-1]
        given = [d.day for d in self.of(DateKind.EFFECTIVE) if d.day]
        return given[0] if given else None

    @property
    def known_in_effect(self) -> bool:
        """The store checked the eCFR on or after the rule took effect: what the eCFR lacks
        of it is known, not guessed."""
        effective = self.effective
        return effective is not None and self.checked is not None and self.checked >= effective

    def lag(self, today: date) -> int | None:
        """Business days since it took effect while a unit it amends is not in the eCFR
        (None: in effect nowhere yet, or every unit shown)."""
        if self.effective is None or date.fromisoformat(self.effective) > today:
            return None
        if not self.known_in_effect:
            return None
        if not any(u.pending for u in self.units):
            return None
        return business_days(date.fromisoformat(self.effective), today)

    def status(self, today: date) -> list[str]:
        """What a reader needs to know today, one line each: "takes effect today",
        "comments due in 5 days", "in the eCFR since 2026-10-09", "not yet in the eCFR"."""
        out: list[str] = []
        for due in self.of(DateKind.COMMENTS_DUE):
            if due.day and date.fromisoformat(due.day) >= today:
                out.append(f"comments due {when_said(date.fromisoformat(due.day), today)}")
        effective = self.effective
        if effective:
            day = date.fromisoformat(effective)
            if day >= today:
                out.append(f"takes effect {when_said(day, today)}")
            else:
                out.append(f"in effect since {effective}")
        for unit in self.units if effective else ():  # a proposed rule amends nothing yet
            if unit.since:
                out.append(f"{unit.citation}: in the eCFR since {unit.since}{unit.operations_said}")
            elif not unit.looked:
                out.append(
                    f"{unit.citation}: not known whether the eCFR shows it (regwatch holds "
                    "no eCFR text of it: its part is not watched, or not fetched yet)"
                )
            elif not unit.pending:
                out.append(unit.differs())
            elif self.checked is not None and not self.known_in_effect:
                out.append(
                    f"{unit.citation}: not known whether the eCFR shows it (checked only "
                    f"through {self.checked}, before it took effect)"
                )
            elif effective and date.fromisoformat(effective) <= today:
                lag = business_days(date.fromisoformat(effective), today)
                out.append(unit.not_yet(lag, self.checked))
        return out

    def to_json(self, today: date) -> dict[str, Any]:
        return {
            "document_number": self.number,
            "title": self.title,
            "type": self.kind,
            "citation": self.citation,
            "url": self.url,
            "effective": self.effective,
            "dates": [
                {"kind": str(d.kind), "date": d.day, "note": d.note, "source": d.source}
                for d in self.dates
            ],
            "units": [
                {
                    "citation": u.citation,
                    "in_ecfr_since": u.since,
                    "operations": [
                        {
                            "citation": o.citation,
                            "op": str(o.op),
                            "status": o.status.name.lower(),
                            "difference": [c.citation for c in o.difference],
                        }
                        for o in u.operations
                    ],
                }
                for u in self.units
            ],
            "ecfr_checked_through": self.checked,
            "status": self.status(today),
        }


def when_said(day: date, today: date) -> str:
    """ "today", "tomorrow", "in 5 days (2026-12-07)"."""
    days = (day - today).days
    if days == 0:
        return "today"
    if days == 1:
        return "tomorrow"
    return f"in {days} days ({day.isoformat()})"


def timelines(
    store: Store,
    config: Config,
    now: datetime,
    units: bool = True,
    redlined: dict[str, list[str]] | None = None,
) -> Callable[[str], Timeline]:
    """A maker of timelines over ``store`` (never fetching), as of ``now``; ``units``
    False: the dates only, not what the eCFR shows (no unit is read, and the filing is the
    Public Inspection list's only: no XML is parsed for its FRDOC line). ``redlined``
    (reconcile.redlined_units) when the caller has read it already."""
    lookup = Lookup(store, config, now, fetch=False)
    cover = checked(store, "ecfr")
    last = min(cover.last, now.date().isoformat()) if cover else None
    amends = (redlined if redlined is not None else redlined_units(store)) if units else None
    return lambda number: timeline(store, number, lookup, last, amends)


def timeline(
    store: Store,
    number: str,
    lookup: Lookup,
    checked: str | None,
    redlined: dict[str, list[str]] | None,
) -> Timeline:
    """FR Doc. ``number``'s timeline; ``checked``: the last day the store has checked the
    eCFR; ``redlined``: the units each rule amends, None for the dates only."""
    units = redlined is not None
    row = store.document(fr_key(number))
    version = store.latest_version(fr_key(number))
    if row is None or version is None:
        raise UsageError(f"FR Doc. {number} is not in the store")
    published = date.fromisoformat(row.published) if row.published else None
    tree = json.loads(store.blob(version.tree_blob))
    dates: list[RuleDate | None] = [_filed(store, number, version.raw_blobs, units)]
    if row.published:
        dates.append(RuleDate(DateKind.PUBLISHED, row.published, "", "Federal Register"))
    dates += list(preamble_dates((tree.get("xml") or {}).get("dates") or "", published))
    for kind, field in (
        (DateKind.EFFECTIVE, "effective_on"),
        (DateKind.COMMENTS_DUE, "comments_close_on"),
    ):
        value = row.meta.get(field)
        if value and not any(d and d.kind == kind and d.day == value for d in dates):
            dates.append(RuleDate(kind, value, "", "FR API"))
    as_of = lookup.now.date().isoformat()  # nothing published after the day asked about
    dates += list(_moved(store, row, as_of))
    dates += [d for d in _corrected(store, number) if (d.day or "") <= as_of]
    amended = redlined.get(number, []) if redlined is not None else []
    shown = tuple(_units(store, number, row, lookup, amended))
    dates += [
        RuleDate(DateKind.IN_ECFR, u.since, f"{u.citation}: {u.how}", f"eCFR {u.citation}")
        for u in shown
        if u.since
    ]
    found = [d for d in dates if d is not None]
    found.sort(key=lambda d: (d.day is None, (d.day or "")[:10], _ORDER[d.kind]))
    return Timeline(
        number=number,
        title=row.title,
        kind=row.kind,
        citation=row.meta.get("citation"),
        url=row.url,
        dates=tuple(dict.fromkeys(found)),
        units=shown,
        checked=checked,
    )


def _filed(store: Store, number: str, raw: dict[str, str], read_xml: bool) -> RuleDate | None:
    """When it was filed: the Public Inspection list's time, else its FRDOC line's (when
    ``read_xml``: the document's XML is parsed for it)."""
    listed = store.document(pi_key(number))
    at = listed.meta.get("filed_at") if listed else None
    if listed and at:
        when = datetime.fromisoformat(at)
        local = when.astimezone(EASTERN) if when.tzinfo else when
        kind = "special filing" if listed.meta.get("special_filing") else "regular filing"
        return RuleDate(DateKind.FILED, local.strftime("%Y-%m-%dT%H:%M"), kind, "Public Inspection")
    if read_xml and "xml" in raw:
        return filings(store.blob(raw["xml"]), f"FR Doc. {number}").get(number)
    return None


def _moved(store: Store, row: DocumentRow, as_of: str) -> Iterator[RuleDate]:
    """Later documents, published by ``as_of``, that move its effective date ("is delayed
    from ... to ...")."""
    citation = row.meta.get("citation")
    if not citation:
        return
    for key in store.linking_to(citation, DELAYS):
        other = store.document(key)
        if other is None or (other.published or "") > as_of:
            continue
        for delay in other.meta.get("delays", ()):
            if delay.get("rule") == citation and delay.get("to"):
                before = f"from {delay['from']}" if delay.get("from") else ""
                yield RuleDate(DateKind.DELAYED, delay["to"], before, f"FR Doc. {fr_number(key)}")


def _corrected(store: Store, number: str) -> Iterator[RuleDate]:
    for key in store.linking_to(fr_key(number), "corrects"):
        other = store.document(key)
        if other is not None and other.published:
            yield RuleDate(
                DateKind.CORRECTED, other.published, other.title, f"FR Doc. {fr_number(key)}"
            )


def _units(
    store: Store, number: str, row: DocumentRow, lookup: Lookup, amended: list[str]
) -> Iterator[UnitState]:
    """Each unit its publication-day redlines amend; the first eCFR version from its
    publication on that shows it (its source note names the rule, or every operation of the
    rule on the unit is matched); and its operations against the latest eCFR text. As of
    the lookup's day: only versions regwatch had stored by then (the eCFR dates a version
    by its amendment date, which is often days before it appears)."""
    citation = row.meta.get("citation")
    corrections = [fr_number(k) for k in store.linking_to(fr_key(number), "corrects")]
    until = lookup.now.date().isoformat()
    seen = _run_days(store)
    for unit in amended:
        found = redline(store, unit, number)
        fixes = [r for r in (redline(store, unit, c) for c in corrections) if r is not None]
        others = _redlines_by_day(store, unit, number, corrections)
        try:
            history = lookup.history(unit)
        except NotCovered:  # never checked: not known, never "not yet"
            yield UnitState(unit, readable(unit), None, flagged=found is None, looked=False)
            continue
        lines = [ln for ln in history.lines if ln.version and seen(ln.version.run) <= until]
        if not lines:
            yield UnitState(unit, readable(unit), None, flagged=found is None, looked=False)
            continue
        since, how, first_seen = None, "", None
        for line in lines:
            if row.published and line.day < row.published:
                continue
            assert line.version is not None
            if any(c.number == number or c.citation == citation for c in line.sources):
                since, how = line.day, "its source note names the rule"
            elif found:
                after = [r for day, r in others if (row.published or "") < day <= line.day]
                statuses = reconcile(lookup, found, line.day, fixes, after)
                if statuses and all(s.status == Status.MATCHED for s in statuses):
                    since, how = line.day, "its text is what the rule said"
            if since:
                first_seen = seen(line.version.run)
                break
        latest = lines[-1].version
        assert latest is not None
        now: tuple[Operation, ...] = ()
        if found:
            after = [r for day, r in others if (row.published or "") < day <= latest.valid_from]
            now = tuple(reconcile(lookup, found, latest.valid_from, fixes, after) or ())
        yield UnitState(
            unit,
            readable(unit),
            since,
            how,
            now,
            found is None,
            latest.valid_from,
            seen=first_seen,
            latest_seen=seen(latest.run),
        )


def _run_days(store: Store) -> Callable[[int], str]:
    """The day of each run (the day it ran for, else the day it started), read once."""
    days: dict[int, str] = {}

    def day(run: int) -> str:
        if run not in days:
            row = store.run(run)
            days[run] = row.day or row.started[:10]
        return days[run]

    return day


def _redlines_by_day(
    store: Store, unit: str, number: str, corrections: list[str]
) -> list[tuple[str, Redline]]:
    """The other rules' redlines of ``unit`` with their publication days, read once."""
    out = []
    for other in rules_of(store, unit):
        if other == number or other in corrections:
            continue
        row = store.document(fr_key(other))
        found = redline(store, unit, other) if row and row.published else None
        if row and row.published and found is not None:
            out.append((row.published, found))
    return out


def upcoming(
    store: Store,
    today: date,
    days: int,
    make: Callable[[str], Timeline],
) -> list[Timeline]:
    """Rules that take effect from ``today`` through ``days`` days on, soonest first."""
    until = today + timedelta(days=days)
    out = []
    for row in store.documents(prefix=FR):
        if not row.published or date.fromisoformat(row.published) < today - timedelta(days=400):
            continue  # a rule takes effect within months of its publication
        found = make(fr_number(row.key))
        if found.effective and today <= date.fromisoformat(found.effective) <= until:
            out.append(found)
    return sorted(out, key=lambda t: (t.effective or "", t.number))
