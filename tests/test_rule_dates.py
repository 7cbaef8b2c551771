"""Every date a rule's preamble gives (crawler.parse.rule_dates), against dates written by
hand from reading the real daily issues in ../shared/data/fr_xml
(tests/expected/fr_xml_rule_dates.json, committed before the code), and on the phrasings
those issues do not have."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from crawler.parse.fr_xml import parse_fr_xml
from crawler.parse.rule_dates import filed, filings, preamble_dates
from crawler.records import DateKind

EXPECTED = Path(__file__).parent / "expected" / "fr_xml_rule_dates.json"
ISSUES = {
    "FR-2016-04-15_full_issue.xml": date(2016, 4, 15),
    "FR-2024-02-12_full_issue.xml": date(2024, 2, 12),
}


@pytest.mark.parametrize("issue", sorted(ISSUES))
def test_every_rule_of_a_real_issue_has_every_date_its_preamble_gives(shared_data, issue):
    expected = json.loads(EXPECTED.read_text(encoding="utf-8"))[issue]
    data = (shared_data / "fr_xml" / issue).read_bytes()
    filed_at = filings(data)
    published = ISSUES[issue]
    found: dict[str, list[tuple[str, str | None]]] = {}
    notes: dict[str, list[str]] = {}
    for doc in parse_fr_xml(data):
        if doc.element not in ("RULE", "PRORULE"):
            continue
        dates = [filed_at[doc.frdoc], *preamble_dates(doc.dates, published)]
        found[doc.frdoc] = [
            (DateKind.FILED, dates[0].day),
            (DateKind.PUBLISHED, published.isoformat()),
        ]
        found[doc.frdoc] += [(d.kind, d.day) for d in dates[1:]]
        notes[doc.frdoc] = [d.note for d in dates]
    assert sorted(found) == sorted(expected)
    for number, events in expected.items():
        wanted = [(kind, day) for kind, day, _ in events]
        assert sorted(found[number], key=str) == sorted(wanted, key=str), number
        filing = next(note for kind, _, note in events if kind == "filed")
        assert notes[number][0] == f"{filing} filing", number
    for number, events in expected.items():  # what the notes must say
        for kind, _, note in events:
            if kind in ("delayed", "effective", "comments_due") and note:
                assert note in notes[number], (number, note, notes[number])


@pytest.mark.parametrize(
    ("text", "wanted"),
    [
        (
            "Compliance date: Persons must comply with this rule by June 1, 2025. The rule is "
            "effective May 2, 2025.",
            [("compliance", "2025-06-01"), ("effective", "2025-05-02")],
        ),
        (
            "Effective date: This rule is effective September 16, 2024. Comments must be "
            "received by October 16, 2024. Applicability date: the amendments apply to exports "
            "on or after October 1, 2024.",
            [
                ("effective", "2024-09-16"),
                ("comments_due", "2024-10-16"),
                ("applicable", "2024-10-01"),
            ],
        ),
        (
            "This interim final rule is effective June 20, 2025, through December 31, 2025. "
            "Comments must be received on or before [insert date 30 days after date of "
            "publication in the Federal Register].",
            [
                ("effective", "2025-06-20"),
                ("effective_until", "2025-12-31"),
                ("comments_due", "2025-07-20"),
            ],
        ),
        (
            "The effective date of the final rule published January 16, 2025 (90 FR 4544) is "
            "delayed until May 15, 2025.",
            [("delayed", "2025-05-15")],
        ),
        ("Comments on this notice may be submitted at any time.", []),
    ],
)
def test_phrasings_the_real_issues_do_not_have(text, wanted):
    found = [(d.kind, d.day) for d in preamble_dates(text, date(2025, 6, 20))]
    assert found == wanted


def test_a_filing_at_any_time_but_8_45_is_a_special_filing():
    assert filed("[FR Doc. 2024–02930 Filed 2–8–24; 2:00 pm]").note == "special filing"
    regular = filed("[FR Doc. 2016-08717 Filed 4-14-16; 8:45 am]")
    assert regular is not None and (regular.day, regular.note) == (
        "2016-04-14T08:45",
        "regular filing",
    )
    assert filed("[FR Doc. 2024-02930]") is None


@pytest.mark.parametrize(
    ("text", "wanted"),
    [
        ("The comment period is extended to May 1, 2024.", [("comments_due", "2024-05-01")]),
        ("The effective date is changed to June 1, 2024.", [("effective", "2024-06-01")]),
        # another rule's indefinite delay: no date of this document's
        ("The effective date of the final rule (90 FR 4544) is delayed indefinitely.", []),
    ],
)
def test_a_date_after_to_or_until_is_an_end_only_after_a_start(text, wanted):
    assert [(d.kind, d.day) for d in preamble_dates(text, date(2024, 4, 1))] == wanted
