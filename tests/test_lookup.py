"""Answers read from the store are never confidently false: what the store has not checked
is "not known", dates are bounded, Entity List changes go by legal effective date, a day
without a run and a failed source say so, and mail waiting for backoff is counted."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime

import pytest
from conftest import free_port, point_at, run_day

from crawler import config as config_module
from crawler.config import SmtpConfig, SubscriptionConfig
from crawler.deliver import outbox
from crawler.diff.model import Op
from crawler.digest.render import render
from crawler.digest.report import report_for
from crawler.errors import ConfigError, NotCovered, UsageError
from crawler.query.entities import history
from crawler.query.lookup import Lookup
from storage import Store, StoreMissing

MON, THU, FRI = date(2026, 10, 5), date(2026, 10, 8), date(2026, 10, 9)
NOW = datetime(2026, 10, 20, 12, tzinfo=UTC)
HANZHOU = ("CHINA, PEOPLE'S REPUBLIC OF", "Hanzhou Quantum Instruments Co., Ltd.")


@pytest.fixture
def config(demo_server, tmp_path):
    return point_at(config_module.load(None, env={}), demo_server, tmp_path, ecfr=True)


def offline(config: config_module.Config) -> config_module.Config:
    """The same store, with the eCFR out of reach (for on-demand fetches)."""
    ecfr = dataclasses.replace(config.sources.ecfr, api_base="http://127.0.0.1:9/api/versioner/v1")
    return dataclasses.replace(config, sources=dataclasses.replace(config.sources, ecfr=ecfr))


def test_a_reader_never_creates_a_store(tmp_path):
    with pytest.raises(StoreMissing, match=f"no store at {tmp_path}/regwatch.db"):
        Store.open(tmp_path / "regwatch.db", create=False)
    assert list(tmp_path.iterdir()) == []


def test_a_diff_past_what_the_store_checked_is_not_covered_rather_than_no_change(config):
    run_day(config, MON)  # the store has checked the eCFR through 2026-10-05 only
    store = Store.open(config.store_path)
    lookup = Lookup(store, offline(config), NOW)
    with pytest.raises(NotCovered) as caught:
        lookup.compare("cfr:15:744.11", None, FRI)
    assert str(caught.value).startswith(
        "15 CFR 744.11: the store has checked the eCFR only from 2026-10-01 to 2026-10-05; "
        "nothing is known after 2026-10-05; the eCFR cannot be asked for 2026-10-09: "
    )
    # reachable, the eCFR answers for the day and the text is kept
    found = Lookup(store, config, NOW).compare("cfr:15:744.11", None, FRI)
    assert (found.old.day, found.new.day) == ("2026-10-01", "2026-10-09")


def test_diff_dates_are_bounded_and_default_to_the_version_before_to(config):
    run_day(config, MON)
    run_day(config, FRI)
    store = Store.open(config.store_path)
    lookup = Lookup(store, offline(config), NOW)
    with pytest.raises(UsageError, match="--from 2026-10-09 is after --to 2026-10-05"):
        lookup.compare("cfr:15:744.11", FRI, MON)
    with pytest.raises(UsageError, match=r"--to 2030-01-01 is in the future \(today is 2026-10-20"):
        lookup.compare("cfr:15:744.11", None, date(2030, 1, 1))
    found = lookup.compare("cfr:15:744.11", None, FRI)  # the latest on or before --to ...
    assert (found.old.day, found.new.day) == ("2026-10-01", "2026-10-09")  # ... and the one before
    same = lookup.compare("cfr:15:744.11", date(2026, 10, 2), THU)  # checked: truly no change
    assert same.old.version.id == same.new.version.id and same.diff.changes == ()
    with pytest.raises(UsageError, match="no version before the one in effect since 2026-10-01"):
        lookup.compare("cfr:15:744.11", None, THU)


def test_history_says_what_the_store_has_checked(config, tmp_path):
    run_day(config, MON)
    store = Store.open(config.store_path)
    found = Lookup(store, config, NOW).history("cfr:15:744.11")
    assert [line.day for line in found.lines] == ["2026-10-01"]
    assert (found.checked.first, found.checked.last) == ("2026-10-01", "2026-10-05")
    empty = Store.open(tmp_path / "empty.db")
    with pytest.raises(NotCovered, match=r"15 CFR 744\.11: the store has never checked the eCFR"):
        Lookup(empty, offline(config), NOW).history("cfr:15:744.11")


def test_entities_go_by_effective_date_before_and_after_the_ecfr_shows_them(config):
    run_day(config, MON)
    run_day(config, THU)  # the rules are in; the eCFR still has its 2026-10-01 text
    store = Store.open(config.store_path)
    before = {(c.country, c.entity): c for c in history(store, "2026-10-05").changes}
    added = before[HANZHOU]
    assert (added.op, added.effective, added.published, added.in_ecfr) == (
        "added",
        "2026-10-05",
        "2026-10-05",
        "",  # in eCFR: not yet
    )
    assert added.fr_document == "2026-21001"
    assert HANZHOU not in {(c.country, c.entity) for c in history(store, "2026-10-06").changes}
    run_day(config, FRI)
    after = history(store, "2026-10-05")
    assert [(c.effective, c.op, c.entity, c.in_ecfr, c.fr_document) for c in after.changes] == [
        ("2026-10-05", "added", HANZHOU[1], "2026-10-09", "2026-21001"),
        ("2026-10-08", Op.CHANGED, "Pars Aero Parts Trading", "2026-10-09", "C1-2026-21001"),
        (
            "2026-10-09",
            "removed",
            "Shenzhen Lumen Photonics Technology Co.",
            "2026-10-09",
            "2026-21390",
        ),
    ]
    with pytest.raises(
        NotCovered, match="nothing is known after 2026-10-09; asked from 2026-10-10"
    ):
        history(store, "2026-10-10")


def test_a_day_without_a_run_says_so_and_a_failed_source_is_never_nothing_new(
    demo_server, tmp_path
):
    config = point_at(config_module.load(None, env={}), demo_server, tmp_path)
    fr = dataclasses.replace(config.sources.federal_register, api_base="http://127.0.0.1:9/api/v1")
    down = dataclasses.replace(
        config, sources=dataclasses.replace(config.sources, federal_register=fr)
    )
    run_day(down, MON)
    store = Store.open(config.store_path)
    failed = render("digest/digest.txt.j2", digest=report_for(store, MON, config))
    assert "Federal Register: failed: search 2026-10-05..2026-10-05: cannot reach" in failed
    assert failed.count("search 2026-10-05..2026-10-05") == 1  # the reason once, not below
    assert "nothing new" not in failed and "SOME SOURCES FAILED" in failed
    quiet = render("digest/digest.txt.j2", digest=report_for(store, date(2026, 10, 10), config))
    assert "No run on 2026-10-10: nothing was checked." in quiet
    assert "SOURCES FAILED" not in quiet and "nothing new" not in quiet


def test_mail_waiting_for_backoff_is_counted_and_listed_with_its_reason(demo_server, tmp_path):
    base = point_at(config_module.load(None, env={}), demo_server, tmp_path)
    config = dataclasses.replace(
        base,
        subscriptions=(SubscriptionConfig(name="All", recipients=("a@example.com",)),),
        smtp=SmtpConfig(host="127.0.0.1", port=free_port(), security="none"),
    )
    run_day(config, MON)  # nothing listens on the SMTP port: queued, to retry
    sent = outbox.send(config, datetime(2026, 10, 5, 11, 31, tzinfo=UTC), {})
    assert (sent.report.sent, sent.report.retry, sent.waiting.count) == (0, 0, 1)
    assert sent.waiting.next_attempt == "2026-10-05T11:35:00+00:00"
    store = Store.open(config.store_path)
    [line] = outbox.unsent(store)
    assert (line.recipient, line.status, line.attempts) == ("a@example.com", "retry", 1)
    assert line.next_attempt == sent.waiting.next_attempt
    assert "cannot reach SMTP server 127.0.0.1" in line.last_error


@pytest.mark.parametrize(
    ("env", "where"),
    [({"REGWATCH_TIMEZONE": "Mars/Olympus"}, "REGWATCH_TIMEZONE"), ({}, "tz.toml")],
)
def test_a_bad_timezone_is_a_config_error_naming_the_key_and_value(tmp_path, env, where):
    (tmp_path / "tz.toml").write_text('timezone = "Mars/Olympus"\n')
    with pytest.raises(ConfigError) as caught:
        config_module.load(tmp_path / "tz.toml", env=env)
    assert str(caught.value).endswith(
        "'timezone' 'Mars/Olympus' is not a time zone; "
        'use an IANA name such as "America/New_York" or "UTC"'
    )
    assert where in str(caught.value)


def test_a_citation_the_store_lacks_is_asked_of_the_ecfr_then_a_usage_error(config):
    run_day(config, MON)
    store = Store.open(config.store_path)
    lookup = Lookup(store, config, NOW)  # the eCFR reachable: its part is fetched on demand
    with pytest.raises(UsageError, match=r"no 15 CFR 744\.99 in the store \('15 CFR 744\.99'\)"):
        lookup.resolve("15 CFR 744.99")
    assert lookup.resolve("15 CFR 744.11") == "cfr:15:744.11"
