"""A rule's life (crawler.query.timeline) on the demo's store: filed (from the Public
Inspection list, or the FRDOC line when the list never showed it), published, effective,
corrected, comments due, and the day the eCFR showed it in each unit it amends (its source
note names the rule, or its text is what the rule said where the rule changed it); a rule in
effect that the eCFR lacks, with the lag in business days; what takes effect soon."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import feedparser
import pytest
from click.testing import CliRunner
from conftest import DemoTour

from crawler import config as config_module
from crawler.cli import main
from crawler.parse.fr_xml import parse_fr_xml
from crawler.parse.rule_dates import preamble_dates
from crawler.query.reconcile import Status
from crawler.query.timeline import Timeline, UnitState, timelines, upcoming
from crawler.workdays import business_days
from storage import Store

NOW = datetime(2026, 10, 14, 15, tzinfo=UTC)


@pytest.fixture(scope="module")
def tour_store(demo_tour: DemoTour, tmp_path_factory: pytest.TempPathFactory):
    tour = demo_tour.copy(tmp_path_factory.mktemp("timeline") / "tour")  # opening it writes
    config = config_module.load(tour / "demo.toml")
    store = Store.open(config.store_url, create=False, readonly=True)
    yield store, config
    store.close()


@pytest.fixture(scope="module")
def rules(tour_store):
    store, config = tour_store
    make = timelines(store, config, NOW)
    found = {n: make(n) for n in ("2026-21001", "2026-21390", "2026-21250", "2026-21110")}
    return found, upcoming(store, date(2026, 10, 5), 7, make)


def _dates(found: Timeline) -> list[tuple[str, str | None, str]]:
    return [(str(d.kind), d.day, d.source) for d in found.dates]


def test_a_rule_filed_published_corrected_then_shown_by_the_ecfr(rules):
    found, _ = rules
    assert _dates(found["2026-21001"]) == [
        ("filed", "2026-10-02T08:45", "FRDOC line"),  # the demo's filing list never had it
        ("published", "2026-10-05", "Federal Register"),
        ("effective", "2026-10-05", "DATES"),
        ("corrected", "2026-10-08", "FR Doc. C1-2026-21001"),
        ("in_ecfr", "2026-10-09", "eCFR 15 CFR 744 Supp. No. 4"),
    ]
    [unit] = found["2026-21001"].units
    assert (unit.since, unit.how) == ("2026-10-09", "its source note names the rule")
    assert found["2026-21001"].status(date(2026, 10, 14))[-1] == (
        "15 CFR 744 Supp. No. 4: in the eCFR since 2026-10-09 (3 operations: 1 matched, 1 "
        "different from what the rule said, 1 changed again by a later rule)"
    )
    assert found["2026-21001"].lag(date(2026, 10, 14)) is None


def test_the_ecfr_shows_a_rule_when_its_text_is_what_the_rule_said_where_it_changed(rules):
    found, _ = rules
    rule = found["2026-21390"]  # the eCFR's source note does not name it; its text agrees
    assert _dates(rule)[0] == ("filed", "2026-10-08T08:45", "Public Inspection")
    [unit] = rule.units
    assert (unit.since, unit.how) == ("2026-10-09", "its text is what the rule said")
    # the same day's eCFR text also added and revised other entries (another rule's):
    # compared only where this rule changed the unit


def test_a_rule_in_effect_that_the_ecfr_lacks_counts_business_days(rules, tour_store):
    store, config = tour_store
    # as of Thursday 2026-10-08 the eCFR (checked through that day) still had the text of
    # 2026-10-01 where 2026-21001 changed the Entity List: in effect, not in the eCFR
    rule = timelines(store, config, datetime(2026, 10, 8, 23, tzinfo=UTC))("2026-21001")
    [unit] = rule.units
    assert unit.pending and {o.status for o in unit.operations} == {Status.NOT_YET}
    assert rule.lag(date(2026, 10, 8)) == 3
    assert (
        "15 CFR 744 Supp. No. 4: not yet in the eCFR (checked through 2026-10-08), 3 business "
        "days after it took effect (3 operations: 3 not yet in the eCFR)"
    ) in rule.status(date(2026, 10, 8))
    assert rule.lag(date(2026, 10, 4)) is None  # not in effect yet
    # the units of 2026-21250 are in parts the demo does not watch: not known, never "not yet"
    found, _ = rules
    quantum = found["2026-21250"]
    assert {u.looked for u in quantum.units} == {False} and quantum.lag(date(2026, 10, 14)) is None
    assert (
        "15 CFR 734.9: not known whether the eCFR shows it (regwatch holds no eCFR text of it: "
        "its part is not watched, or not fetched yet)"
    ) in quantum.status(date(2026, 10, 14))


def test_a_proposed_rule_says_when_comments_are_due(rules):
    found, _ = rules
    rule = found["2026-21110"]
    assert ("comments_due", "2026-12-07", "DATES") in _dates(rule)
    assert rule.status(date(2026, 12, 2)) == ["comments due in 5 days (2026-12-07)"]
    assert rule.status(date(2026, 12, 7)) == ["comments due today"]


def test_what_takes_effect_in_the_next_seven_days(rules):
    _, soon = rules
    assert [(t.effective, t.number) for t in soon] == [
        ("2026-10-05", "2026-21001"),
        ("2026-10-08", "2026-21250"),
        ("2026-10-08", "C1-2026-21001"),
        ("2026-10-09", "2026-21390"),
    ]


@pytest.mark.parametrize(
    ("start", "end", "days"),
    [
        ("2026-11-25", "2026-11-30", 2),  # Thanksgiving (Thursday, November 26)
        ("2024-12-24", "2024-12-26", 1),  # Christmas
        ("2021-12-30", "2022-01-03", 1),  # New Year's Day 2022, a Saturday: observed Friday 12-31
        ("2026-10-09", "2026-10-09", 0),
    ],
)
def test_business_days_leave_out_weekends_and_federal_holidays(start, end, days):
    assert business_days(date.fromisoformat(start), date.fromisoformat(end)) == days


def test_regwatch_rule_and_upcoming(demo_tour: DemoTour, tmp_path):
    tour = demo_tour.copy(tmp_path / "tour")
    config = ["--config", str(tour / "demo.toml")]
    runner = CliRunner()
    said = runner.invoke(main, [*config, "rule", "2026-21250", "--date", "2026-10-14"], env={})
    assert said.exit_code == 0, said.output
    assert "2026-10-07 08:45  filed for public inspection (regular filing)" in said.output
    assert "15 CFR 774 Supp. No. 1: not known whether the eCFR shows it" in said.output
    answer = runner.invoke(
        main, [*config, "rule", "2026-21250", "--date", "2026-10-14", "--format", "json"], env={}
    )
    model = json.loads(answer.output)
    assert model["effective"] == "2026-10-08" and model["ecfr_checked_through"] == "2026-10-09"
    assert {"kind": "comments_due", "date": "2026-11-23", "note": "", "source": "DATES"} in model[
        "dates"
    ]
    soon = runner.invoke(main, [*config, "upcoming", "--date", "2026-10-06", "--days", "7"], env={})
    assert soon.exit_code == 0, soon.output
    assert "2026-10-09  FR Doc. 2026-21390 (91 FR 71012)" in soon.output
    assert "2026-10-05" not in soon.output.split("\n", 1)[1]  # before the day asked about
    missing = runner.invoke(main, [*config, "rule", "2099-99999"], env={})
    assert missing.exit_code != 0 and "FR Doc. 2099-99999 is not in the store" in missing.output


def test_the_digest_tells_the_dates_that_matter_on_its_day(demo_tour: DemoTour):
    """Each day's digest: what takes effect, what the eCFR shows from the day (with how its
    operations reconcile), and the oldest rule in effect the eCFR does not show yet."""
    digests = demo_tour.folder / "digests"
    monday = (digests / "2026-10-05.txt").read_text(encoding="utf-8")
    assert "- takes effect today: Additions to the Entity List (FR Doc. 2026-21001" in monday
    friday = (digests / "2026-10-09.txt").read_text(encoding="utf-8")
    said = friday.split("== Rules' dates ==\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert said == [
        "- takes effect today: Removal of Certain Entities From the Entity List (FR Doc. "
        "2026-21390, 91 FR 71012)",
        "- 15 CFR 744 Supp. No. 4: in the eCFR from today (3 operations: 1 matched, 1 different "
        "from what the rule said, 1 changed again by a later rule): Additions to the Entity "
        "List (FR Doc. 2026-21001, 91 FR 70101)",
        "- 15 CFR 744 Supp. No. 4: the eCFR differs from what the rule said (1 operation: 1 "
        "different from what the rule said): Additions to the Entity List; Correction (FR "
        "Doc. C1-2026-21001, 91 FR 70890)",
        "- 15 CFR 744 Supp. No. 4: in the eCFR from today (1 operation: 1 matched): Removal of "
        "Certain Entities From the Entity List (FR Doc. 2026-21390, 91 FR 71012)",
    ]
    page = (demo_tour.folder / "site" / "days" / "2026-10-09.html").read_text(encoding="utf-8")
    assert "<h2>Rules&#39; dates</h2>" in page or "<h2>Rules' dates</h2>" in page


def test_a_notice_that_delays_another_rule_does_not_take_its_date(shared_data):
    """FR Doc. 2016-08776 moves 81 FR 10477's effective date to 2016-05-16: a date of that
    rule, not of the notice (which takes effect on no day of its own)."""
    data = (shared_data / "fr_xml" / "FR-2016-04-15_full_issue.xml").read_bytes()
    [notice] = [d for d in parse_fr_xml(data) if d.frdoc == "2016-08776"]
    dates = preamble_dates(notice.dates, date(2016, 4, 15))
    found = Timeline("2016-08776", "Title Evidence", "Rule", None, "", dates, (), None)
    assert [str(d.kind) for d in found.dates] == ["delayed"] and found.effective is None


def test_a_unit_nothing_was_compared_in_is_not_known_never_not_yet():
    assert not UnitState("cfr:15:744.11", "15 CFR 744.11", None).pending  # no operation
    assert not UnitState("cfr:15:744.11", "15 CFR 744.11", None, looked=False).pending
    assert UnitState("cfr:15:734.9", "15 CFR 734.9", None, flagged=True).pending


def test_the_feeds_carry_the_dates_but_not_the_daily_lag(demo_tour: DemoTour):
    feed = feedparser.parse(str(demo_tour.folder / "feeds" / "all.atom"))
    assert feed.bozo == 0
    dates = [e for e in feed.entries if any(t.term == "Dates" for t in e.get("tags", ()))]
    titles = {e.title for e in dates}
    assert "takes effect today: Removal of Certain Entities From the Entity List" in titles
    assert "takes effect today: Additions to the Entity List" in titles
    assert not any("not yet in the eCFR" in t for t in titles)  # it would be a new entry daily
    assert len({e.id for e in dates}) == len(dates)
