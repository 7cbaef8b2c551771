"""eCFR versioner API JSON -> records: ``titles.json`` and pages of ``versions/title-N.json``
(SOURCES.md 3.1). Every field the spider relies on is checked here, so a wrong shape or a
date that is not a date is a one-line ParseError, never a traceback in the spider."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from crawler.errors import ParseError
from crawler.parse.expect import (
    CFR_PART,
    JsonObject,
    expect_date,
    expect_int,
    kind_of,
    objects,
    optional_date,
    optional_str,
    shown,
)
from crawler.parse.fr_json import load_object

FIRST_DAY = date(2017, 1, 1)  # the eCFR versioner's history (point-in-time text) starts here


@dataclass(frozen=True)
class TitleStatus:
    """One title of ``titles.json``: how current the eCFR's text of it is (None: reserved)."""

    number: int
    up_to_date_as_of: date | None


@dataclass(frozen=True)
class ContentVersion:
    """One row of ``versions``: a section or appendix of ``part`` amended on ``amendment_date``."""

    part: str
    amendment_date: date
    identifier: str = ""  # "744.12", "Supplement No. 4 to Part 744"
    type: str = ""  # section, appendix
    removed: bool = False  # the unit was removed on ``amendment_date``


@dataclass(frozen=True)
class VersionsPage:
    rows: tuple[ContentVersion, ...]
    total_pages: int


def parse_titles(data: bytes, what: str = "titles.json") -> dict[int, TitleStatus]:
    """Every title in ``titles.json``, by number."""
    obj = load_object(data, what, "titles")
    titles = [_title(t, what) for t in objects(obj, "titles", what, required=True)]
    return {t.number: t for t in titles}


def _title(obj: JsonObject, what: str) -> TitleStatus:
    number = expect_int(obj, "number", what)
    return TitleStatus(number, optional_date(obj, "up_to_date_as_of", f"{what} title {number}"))


def parse_versions_page(data: bytes, what: str) -> VersionsPage:
    """One page of ``versions/title-N.json``: its rows and how many pages there are."""
    obj = load_object(data, what, "content_versions")
    rows = objects(obj, "content_versions", what, required=True)
    meta = obj.get("meta")
    if meta is not None and not isinstance(meta, dict):
        raise ParseError(f"{what}: field 'meta' should be an object, got {kind_of(meta)}")
    pages = expect_int(meta, "total_pages", what, required=False) if meta else 0
    return VersionsPage(tuple(_version(r, f"{what} row {i}") for i, r in enumerate(rows, 1)), pages)


def _version(row: JsonObject, what: str) -> ContentVersion:
    part = optional_str(row, "part", what) or ""  # none: a row no watched part matches
    if part and not CFR_PART.fullmatch(part):
        raise ParseError(f"{what}: field 'part' is not a CFR part number: {shown(part)}")
    return ContentVersion(
        part,
        expect_date(row, "amendment_date", what),
        optional_str(row, "identifier", what) or "",
        optional_str(row, "type", what) or "",
        row.get("removed") is True,
    )
