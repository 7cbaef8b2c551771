"""The intraday Public Inspection poll (issue 15, part 3): `regwatch inspect` against the
replay server over a simulated day, and the times `regwatch schedule` fires it over simulated
weeks with a daylight-saving change and a federal holiday (08:45-17:15 Eastern on business
days is not one cron line)."""

from __future__ import annotations

import copy
import dataclasses
import itertools
import json
import re
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from email import message_from_bytes, policy

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from conftest import mailing, on_store, point_at, run_day
from test_email import Inbox, serve

from crawler import config as config_module
from crawler.demo.replay import Corpus, Fault, ReplayServer
from crawler.jobs import daily as job
from crawler.jobs import schedule as scheduling
from crawler.jobs.hours import OfficeHours
from crawler.workdays import EASTERN, Hours, is_business_day
from storage import AlertKind, Store

DAY = date(2026, 10, 6)  # a Tuesday (EDT: UTC-4)
NEXT = DAY + timedelta(days=1)
HOURS = Hours(time(8, 45), time(17, 15))


def eastern(day: date, hh: int, mm: int) -> datetime:
    return datetime(day.year, day.month, day.day, hh, mm, tzinfo=EASTERN).astimezone(UTC)


def filing(number: str, title: str, published: date, filed: str, special: bool) -> dict:
    """A row of the list as the FR API gives it, made from the demo's recorded row."""
    row = copy.deepcopy(Corpus.demo().public_inspection["2026-10-05"]["results"][0])
    slug = re.sub(r"[^a-z]+", "-", title.lower()).strip("-")
    row.update(
        document_number=number,
        title=title,
        publication_date=published.isoformat(),
        filed_at=filed,
        filing_type="special" if special else "regular",
        special_filing=special,
        html_url=f"https://www.federalregister.gov/public-inspection/{published:%Y/%m/%d}/{number}/{slug}",
        pdf_url=f"https://public-inspection.federalregister.gov/{number}.pdf",
    )
    return row


REGULAR = filing(
    "2026-22001",
    "Export Administration Regulations: Revisions to License Exception ENC",
    NEXT,
    "2026-10-06T08:45:00.000-04:00",
    False,
)
LATER = filing(
    "2026-22002",
    "Additions to the Entity List; Revisions of Entries",
    date(2026, 10, 8),
    "2026-10-06T08:45:00.000-04:00",
    False,
)
UNVERIFIED = filing(
    "2026-22004",
    "Revisions to the Unverified List",
    date(2026, 10, 8),
    "2026-10-06T08:45:00.000-04:00",
    False,
)
SPECIAL = filing(
    "2026-22003",
    "Temporary Denial Order: Special Filing",
    NEXT,
    "2026-10-06T11:10:00.000-04:00",
    True,
)


def told(raw: bytes) -> str:
    """What a mailed alert says: its text's second paragraph, unwrapped; the subject must
    start with it."""
    message = message_from_bytes(raw, policy=policy.default)
    text = message.get_body(("plain",)).get_content().replace("\r\n", "\n")
    line = " ".join(text.split("\n\n")[1].split())
    subject = str(message["Subject"]).removeprefix("regwatch alert: ").rstrip("\u2026")
    assert line.startswith(subject), (subject, line)
    return line


def listed(*rows: dict) -> dict:
    return {"count": len(rows), "results": list(rows)}


@pytest.fixture
def server():
    corpus = Corpus.demo()
    with ReplayServer(corpus) as replay:
        yield replay


def test_a_day_of_polls_alerts_each_filing_and_withdrawal_once(server, tmp_path, store_at):
    """The daily job at 07:30, then the day's polls, then the next day's: each alert is
    mailed once, by the poll that first can say it, and is in the feeds and the digest."""
    config = on_store(
        mailing(point_at(config_module.load(None, env={}), server, tmp_path)), store_at
    )
    lists = server.corpus.public_inspection
    inbox = Inbox()
    controller = serve(config, inbox)
    said: dict[str, list[str]] = {}  # when (Eastern) -> what the alerts it mailed say

    def poll(day: date, hh: int, mm: int) -> job.RunReport:
        now = eastern(day, hh, mm)
        before = len(inbox.messages)
        report = job.inspect(config, now, lambda: now, env={})
        said[f"{day} {hh:02}:{mm:02}"] = [told(raw) for _, raw in inbox.messages[before:]]
        return report

    try:
        lists[DAY.isoformat()] = listed()  # nothing filed yet at 07:30
        assert run_day(config, DAY).ok  # the day's report exists before the polls
        lists[DAY.isoformat()] = listed(REGULAR, LATER, UNVERIFIED)
        first = poll(DAY, 10, 50)
        again = poll(DAY, 11, 0)
        lists[DAY.isoformat()] = listed(REGULAR, LATER, UNVERIFIED, SPECIAL)  # filed 11:10
        special = poll(DAY, 11, 10)
        restarted = poll(DAY, 11, 20)  # a scheduler restarted: the same list again
        lists[DAY.isoformat()] = listed(REGULAR, SPECIAL)  # two withdrawn ...
        server.faults.append(Fault(r"public-inspection-documents", status=503))
        failed = poll(DAY, 12, 0)  # ... but this poll cannot see the list
        body = json.dumps({"count": 3, "results": [REGULAR, SPECIAL]}).encode()
        server.faults[:] = [Fault(r"public-inspection-documents", body=body)]
        short = poll(DAY, 12, 10)  # ... nor this one, which gets 2 of the 3 it counts
        server.faults.clear()
        once = poll(DAY, 14, 0)  # one complete list lacks them: maybe a stale copy
        withdrawal = poll(DAY, 14, 10)  # two do
        after = poll(DAY, 14, 20)
        lists[DAY.isoformat()] = listed(REGULAR, LATER, SPECIAL)  # one is back
        back = poll(DAY, 15, 0)
        # the next day: its lists no longer hold REGULAR, published that day
        lists[NEXT.isoformat()] = listed(REGULAR, SPECIAL)
        nextday = run_day(config, NEXT)
        poll(NEXT, 8, 30)
        lists[NEXT.isoformat()] = listed(SPECIAL)
        poll(NEXT, 8, 45)
        published = poll(NEXT, 9, 0)
        sent = job.send(config, eastern(NEXT, 9, 5), {})  # nothing is left to send
    finally:
        controller.stop()

    assert first.ok and again.ok and special.ok and restarted.ok, first.errors
    assert sorted(said["2026-10-06 10:50"]) == [
        "on public inspection: Additions to the Entity List; Revisions of "
        "Entries (Proposed Rule, FR Doc. 2026-22002, filed 2026-10-06 08:45 Eastern, to be "
        "published 2026-10-08)",
        "on public inspection: Export Administration Regulations: Revisions "
        "to License Exception ENC (Proposed Rule, FR Doc. 2026-22001, filed 2026-10-06 08:45 "
        "Eastern, to be published 2026-10-07)",
        "on public inspection: Revisions to the Unverified List (Proposed Rule, FR Doc. "
        "2026-22004, filed 2026-10-06 08:45 Eastern, to be published 2026-10-08)",
    ]
    assert said["2026-10-06 11:00"] == []
    # the special filing of 11:10 is mailed by the 11:10 poll, before 11:30
    assert said["2026-10-06 11:10"] == [
        "on public inspection: Temporary Denial Order: Special Filing "
        "(Proposed Rule, FR Doc. 2026-22003, special filing 2026-10-06 11:10 Eastern, to be "
        "published 2026-10-07)"
    ]
    assert said["2026-10-06 11:20"] == []
    # a failed fetch and a list shorter than its count are errors, never a withdrawal; the
    # first poll of the day that cannot look is an alert itself (once a day)
    assert not failed.ok and [e.target for e in failed.errors] == ["public inspection 2026-10-06"]
    [poll_failed] = said["2026-10-06 12:00"]
    assert re.fullmatch(
        r"Public Inspection poll failed at 12:00 Eastern \(public inspection 2026-10-06: HTTP "
        r"503 from 127\.0\.0\.1:\d+/api/v1/public-inspection-documents\.json after 3 tries\): "
        r"filings made meanwhile are alerted when a poll next sees the whole list",
        poll_failed,
    ), poll_failed
    assert not short.ok and said["2026-10-06 12:10"] == []
    assert any("counts 3 documents but listed 2" in e.message for e in short.errors)
    assert once.ok and said["2026-10-06 14:00"] == []
    assert sorted(said["2026-10-06 14:10"]) == [
        "withdrawn from public inspection: Additions to the Entity List; Revisions of Entries "
        "(FR Doc. 2026-22002, was to be published 2026-10-08; not on the lists of 2026-10-06 "
        "since it was fetched at 2026-10-06T18:10:00+00:00)",
        "withdrawn from public inspection: Revisions to the Unverified List (FR Doc. "
        "2026-22004, was to be published 2026-10-08; not on the lists of 2026-10-06 since it "
        "was fetched at 2026-10-06T18:10:00+00:00)",
    ]
    assert withdrawal.ok and {a.kind for a in withdrawal.alerts} == {AlertKind.WITHDRAWN}
    assert said["2026-10-06 14:20"] == [] and after.alerts == ()
    assert said["2026-10-06 15:00"] == [
        "back on public inspection: Additions to the Entity List; Revisions of Entries (FR "
        "Doc. 2026-22002, reported withdrawn earlier; on the list of 2026-10-06 as fetched at "
        "2026-10-06T19:00:00+00:00)"
    ]
    assert back.ok
    # a filing that leaves the list on its publication day was published, not withdrawn
    assert said["2026-10-07 08:45"] == [] and said["2026-10-07 09:00"] == []
    assert published.ok and published.alerts == ()
    assert sent.sent == 0
    alerts = [raw for _, raw in inbox.messages if b"Message-ID: <alert." in raw]
    assert len(alerts) == 8 and len(inbox.messages) == 8 + 2  # and the two days' digests
    assert {tuple(to) for to, _ in inbox.messages} == {("a@x.org",)}
    # the day's report, made before the polls, says what they found in its next revision
    digest = " ".join((config.digest_dir / f"{DAY}.txt").read_text().split())
    assert "!! withdrawn from public inspection: Revisions to the Unverified List" in digest
    assert "!! back on public inspection: Additions to the Entity List" in digest
    assert (
        "* Revisions to the Unverified List Proposed Rule, FR Doc. 2026-22004, to be published "
        "2026-10-08 -- WITHDRAWN: no longer on the list, not published" in digest
    )
    assert "2026-22002, to be published 2026-10-08 -- WITHDRAWN" not in digest  # it is back
    # the next day's digest (its job runs before that day's polls) counts the failed polls
    assert nextday.ok
    following = " ".join((config.digest_dir / f"{NEXT}.txt").read_text().split())
    assert (
        "!! Public Inspection: 2 of 10 polls since 2026-10-06 did not see the whole list (the "
        "last at 2026-10-06 12:10 EDT: public inspection 2026-10-06: the API counts 3 "
        "documents but listed 2;"
    ) in following
    # each alert is one entry in the feeds
    feed = (config.root / config.output.feeds / "all.atom").read_text()
    titles = re.findall(r"<title>Alert: ([^<]*)</title>", feed)
    assert Counter(t.split(":")[0] for t in titles) == {
        "on public inspection": 4,
        "withdrawn from public inspection": 2,
        "back on public inspection": 1,
        "Public Inspection poll failed at 12": 1,
    }
    assert len(set(titles)) == len(titles)
    store = Store.open(config.store_url)
    try:
        runs = store.runs_on(DAY.isoformat())
        kept = [
            [(x.count, len(x.numbers), x.complete) for x in store.inspection_lists(r.id)]
            for r in runs
        ]
    finally:
        store.close()
    # each run's list as fetched; the failed fetch kept none, the short one kept incomplete
    assert [r.kind for r in runs] == ["daily"] + ["inspection"] * 10
    assert kept == (
        [[(0, 0, True)]]
        + [[(3, 3, True)]] * 2
        + [[(4, 4, True)]] * 2
        + [[], [(3, 2, False)]]
        + [[(2, 2, True)]] * 3
        + [[(3, 3, True)]]
    )


def fire_times(trigger: OfficeHours, start: datetime, end: datetime) -> list[datetime]:
    """What APScheduler asks the trigger for, from ``start`` on: the first fire time at or
    after now, then each one after the previous."""
    out: list[datetime] = []
    at = trigger.get_next_fire_time(None, start)
    while at is not None and at < end:
        out.append(at)
        at = trigger.get_next_fire_time(at, at)
    return out


def by_day(times: list[datetime]) -> dict[str, tuple[str, str, int]]:
    """Eastern day -> (first and last fire time in UTC, how many)."""
    days: dict[str, list[datetime]] = {}
    for t in times:
        days.setdefault(t.astimezone(EASTERN).date().isoformat(), []).append(t)
    return {
        d: (f"{ts[0].astimezone(UTC):%H:%M}", f"{ts[-1].astimezone(UTC):%H:%M}", len(ts))
        for d, ts in days.items()
    }


def test_the_poll_fires_every_ten_minutes_0845_to_1715_eastern_across_the_spring_change():
    # daylight saving time starts on Sunday 2026-03-08: 08:45 EST is 13:45 UTC, EDT 12:45
    times = fire_times(
        OfficeHours(10, HOURS),
        datetime(2026, 3, 5, 0, 0, tzinfo=UTC),
        datetime(2026, 3, 11, 0, 0, tzinfo=UTC),
    )
    assert by_day(times) == {
        "2026-03-05": ("13:45", "22:15", 52),
        "2026-03-06": ("13:45", "22:15", 52),
        "2026-03-09": ("12:45", "21:15", 52),
        "2026-03-10": ("12:45", "21:15", 52),
    }
    local = [t.astimezone(EASTERN) for t in times]
    assert {(t.hour, t.minute) for t in local} == {
        (8 + (45 + 10 * k) // 60, (45 + 10 * k) % 60) for k in range(52)
    }
    gaps = {b - a for a, b in itertools.pairwise(times) if a.date() == b.date()}
    assert gaps == {timedelta(minutes=10)}


def test_the_poll_skips_weekends_and_federal_holidays_across_the_autumn_change():
    # standard time is back on Sunday 2026-11-01; Veterans Day (Wednesday 11-11) is a holiday
    times = fire_times(
        OfficeHours(15, HOURS),
        datetime(2026, 10, 30, 16, 0, tzinfo=UTC),  # Friday, noon EDT: the rest of that day
        datetime(2026, 11, 13, 0, 0, tzinfo=UTC),
    )
    days = by_day(times)
    assert days.pop("2026-10-30") == ("16:00", "21:15", 22)  # 12:00 .. 17:15 EDT
    assert "2026-11-11" not in days and "2026-11-07" not in days and "2026-11-08" not in days
    assert set(days.values()) == {("13:45", "22:15", 35)}  # 08:45 .. 17:15 EST every 15 min
    assert sorted(days) == [
        "2026-11-02",
        "2026-11-03",
        "2026-11-04",
        "2026-11-05",
        "2026-11-06",
        "2026-11-09",
        "2026-11-10",
        "2026-11-12",
    ]


def test_the_schedule_plans_the_poll_with_a_grace_of_one_interval(tmp_path):
    config = config_module.load(None, env={})
    [poll] = [j for j in scheduling.planned(config) if j.name == "inspect"]
    assert isinstance(poll.trigger, OfficeHours) and poll.grace == 600
    saturday = datetime(2026, 10, 10, 15, 0, tzinfo=UTC)
    when = {name: at for name, _, at in scheduling.next_runs(config, saturday)}["inspect"]
    # Monday 2026-10-12 is Columbus Day, a federal holiday: Tuesday 08:45 EDT
    assert when == datetime(2026, 10, 13, 12, 45, tzinfo=UTC)
    assert poll.store == "memory"  # never kept: turned off, it is gone at the next start
    off = dataclasses.replace(config, schedule=dataclasses.replace(config.schedule, inspect=0))
    assert "inspect" not in {j.name for j in scheduling.planned(off)}
    fr = dataclasses.replace(config.sources.federal_register, public_inspection=False)
    no_pi = dataclasses.replace(
        config, sources=dataclasses.replace(config.sources, federal_register=fr)
    )
    assert "inspect" not in {j.name for j in scheduling.planned(no_pi)}


def test_apscheduler_fires_the_poll_at_the_triggers_times():
    """The trigger as APScheduler itself uses it: a paused scheduler's job, its next run
    time after each fire (what the scheduler computes when a run is done)."""
    scheduler = BackgroundScheduler(timezone=EASTERN)
    scheduler.start(paused=True)
    try:
        job = scheduler.add_job(print, OfficeHours(10, HOURS), id="inspect")
        first = job.next_run_time
        later = job.trigger.get_next_fire_time(first, first + timedelta(minutes=95))
    finally:
        scheduler.shutdown(wait=False)
    now = datetime.now(EASTERN)
    assert first is not None and first >= now - timedelta(seconds=1)
    local = first.astimezone(EASTERN)
    assert is_business_day(local.date()) and time(8, 45) <= local.time() <= time(17, 15)
    assert (local.hour * 60 + local.minute - 525) % 10 == 0 and local.second == 0
    assert later is not None
    if local.time() < time(17, 15):
        assert later - first == timedelta(minutes=10)
    else:  # the day's last poll: the next is the next business day's first
        assert later.astimezone(EASTERN).time() == time(8, 45) and later - first > timedelta(
            hours=15
        )
