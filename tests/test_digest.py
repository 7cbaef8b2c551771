"""Digest rendering: escaping, strictness, order."""

from __future__ import annotations

import dataclasses
from datetime import date
from zoneinfo import ZoneInfo

import pytest
from jinja2 import UndefinedError

from crawler.digest.build import Day, SourcePart, build_report
from crawler.digest.context import Report
from crawler.digest.federal_register import DIGEST, Records, StoredDocument
from crawler.digest.render import render
from crawler.digest.source import Scope
from crawler.records import FrDocument
from storage import DocumentRow, RunSourceRow

TZ = ZoneInfo("America/New_York")
MON = date(2026, 10, 5)

EVIL = '<script>alert(1)</script><img src=x onerror="alert(2)">'


def document(number: str, kind: str, title: str) -> tuple[DocumentRow, FrDocument]:
    doc = FrDocument(
        number=number,
        publication_date=date(2026, 10, 5),
        type=kind,
        title=title,
        citation="91 FR 1",
        html_url="javascript:alert(3)",
        pdf_url=None,
        agencies=(EVIL,),
        agency_slugs=(),
        cfr_parts=("15:744",),
        effective_on=None,
        comments_close_on=None,
        correction_of=None,
        abstract=EVIL,
        action="Final rule.",
        dockets=(),
        rins=(),
        xml=None,
    )
    row = DocumentRow(
        f"fr:{number}", kind, "federal_register", title, doc.html_url, "2026-10-05", {}, 1
    )
    return row, doc


def build_digest(*docs: tuple[DocumentRow, FrDocument]) -> Report:
    """The report of a day whose one Federal Register run found ``docs``."""
    line = RunSourceRow(
        1,
        "federal_register",
        "ok",
        "2026-10-05T10:30:00+00:00",
        "2026-10-05T10:31:00+00:00",
        "2026-10-05",
        "2026-10-05",
        {},
    )
    scope = Scope(MON, (1,), (), (), TZ)
    records = Records(tuple(StoredDocument(row, doc) for row, doc in docs))
    part = SourcePart("federal_register", DIGEST.noun, DIGEST.build(records, scope))
    day = Day(MON, (line,), (), {"federal_register": "Federal Register"})
    return build_report(day, (part,), TZ)


def test_crawled_text_is_escaped_in_html():
    digest = build_digest(document("2026-1", "Rule", EVIL))
    html = render("digest/digest.html.j2", digest=digest)
    assert "<script>" not in html and 'onerror="alert' not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_text_digest_is_not_html_escaped():
    digest = build_digest(document("2026-1", "Rule", "Exports & Re-exports"))
    assert "Exports & Re-exports" in render("digest/digest.txt.j2", digest=digest)


def test_undefined_names_are_errors():
    digest = build_digest()
    broken = dataclasses.asdict(digest)
    del broken["sources"]
    with pytest.raises(UndefinedError):
        render("digest/digest.html.j2", digest=broken)


def test_final_rules_come_first_and_times_are_local():
    digest = build_digest(
        document("2026-2", "Notice", "A notice"),
        document("2026-3", "Proposed Rule", "A proposal"),
        document("2026-1", "Rule", "A rule"),
    )
    assert [s.heading for s in digest.sections] == ["Final rules", "Proposed rules", "Notices"]
    assert digest.sources[0].checked == "2026-10-05 06:31 EDT"
