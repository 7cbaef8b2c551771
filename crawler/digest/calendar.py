"""The rules' dates that matter on the report's day (crawler.query.timeline): what takes effect
today and in the next 7 days, whose comments are due within 7 days, which rule the eCFR shows
from today (with how its operations reconcile), and the eCFR's lag: the business days since
the oldest rule in effect whose text the eCFR does not show yet."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from crawler.config import Config
from crawler.digest.context import CalendarEntry
from crawler.digest.select import Facets, document_facets
from crawler.digest.topics import all_topics
from crawler.keys import FR, fr_key, fr_number
from crawler.query.reconcile import redlined_units
from crawler.query.timeline import Timeline, timelines, when_said
from crawler.records import DateKind, FrDocument, from_json
from crawler.workdays import business_days
from storage import DocumentRow, Store

SOON = 7  # days ahead a date is told
RECENT = 90  # days back a rule's effective date may be for its eCFR state to be told
SCANNED = 400  # days back a rule may have been published to be looked at


def calendar_for(store: Store, day: date, config: Config) -> tuple[CalendarEntry, ...]:
    now = datetime.combine(day, time(23, 59), ZoneInfo(config.timezone))
    topics = all_topics(config)

    def entry(found: Timeline, line: str, kind: str) -> CalendarEntry:
        """A line of ``found``'s, with the rule's facets (what a subscription filters by)."""
        version = store.latest_version(fr_key(found.number))
        facets = Facets()
        if version is not None:
            doc = from_json(FrDocument, store.blob(version.tree_blob))
            facets = document_facets(doc, topics)
        return CalendarEntry(
            found.number, found.title, found.citation, found.url, line, kind, facets
        )

    rows = [r for r in store.documents(prefix=FR) if r.published and r.published <= day.isoformat()]
    moved = _moved(rows)
    wanted = [r for r in rows if _may_matter(r, moved, day)]  # the others' timelines unread
    if not wanted:
        return ()
    dated = timelines(store, config, now, units=False)
    redlined = redlined_units(store)
    shown = timelines(store, config, now, redlined=redlined)
    today, soon, due, ecfr = [], [], [], []
    lagging: list[tuple[int, str, CalendarEntry]] = []
    for row in wanted:
        number = fr_number(row.key)
        found = dated(number)
        effective = date.fromisoformat(found.effective) if found.effective else None
        if effective == day:
            today.append(entry(found, "takes effect today", "effective"))
        elif effective and day < effective <= day + timedelta(days=SOON):
            soon.append(entry(found, f"takes effect {when_said(effective, day)}", "soon"))
        for each in found.of(DateKind.COMMENTS_DUE):
            when = date.fromisoformat(each.day) if each.day else None
            if when and day <= when <= day + timedelta(days=SOON):
                due.append(entry(found, f"comments due {when_said(when, day)}", "comments"))
        recent = effective and day - timedelta(days=RECENT) <= effective <= day
        if not recent or number not in redlined:
            continue
        full = shown(number)
        for unit in full.units:
            if unit.seen == day.isoformat():  # regwatch saw it today (whatever its eCFR date)
                late = f" (its eCFR date {unit.since})" if unit.since != day.isoformat() else ""
                line = f"{unit.citation}: in the eCFR from today{late}{unit.operations_said}"
                ecfr.append(entry(found, line, "in_ecfr"))
            elif unit.looked and not unit.pending and unit.latest_seen == day.isoformat():
                ecfr.append(entry(found, unit.differs(), "differs"))
            elif unit.pending and effective and day > effective and full.known_in_effect:
                lag = business_days(effective, day)
                lagging.append((lag, number, entry(found, unit.not_yet(lag), "lag")))
    oldest = [max(lagging, key=lambda x: (x[0], x[1]))[2]] if lagging else []
    return tuple(today + ecfr + due + soon + oldest)


def _moved(rows: list[DocumentRow]) -> dict[str, str]:
    """Each delayed rule's effective date as the latest notice moving it says (FR citation
    -> ISO day), from the notices' listing metadata."""
    out: dict[str, tuple[str, str]] = {}
    for row in rows:
        for delay in row.meta.get("delays", ()):
            rule, to = delay.get("rule"), delay.get("to")
            if rule and to and (row.published or "") >= out.get(rule, ("", ""))[0]:
                out[rule] = (row.published or "", to)
    return {rule: to for rule, (_, to) in out.items()}


def _may_matter(row: DocumentRow, moved: dict[str, str], day: date) -> bool:
    """Whether ``row`` can have a line on ``day``, from its listing alone (its effective
    date and comment deadline: the FR API's, else its DATES paragraph's): published in the
    last SCANNED days, and taking effect in the window the lines look at or with comments
    due within SOON days. Cheap: the report's cost must follow the day, not the history."""
    published = date.fromisoformat(row.published or "0001-01-01")
    if not day - timedelta(days=SCANNED) <= published <= day:
        return False
    effective = moved.get(row.meta.get("citation") or "") or row.meta.get("effective_on")
    due = row.meta.get("comments_close_on")
    soon = (day + timedelta(days=SOON)).isoformat()
    if effective and (day - timedelta(days=RECENT)).isoformat() <= effective <= soon:
        return True
    return bool(due and day.isoformat() <= due <= soon)
