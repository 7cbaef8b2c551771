"""Federal Register API JSON -> records: search pages, one document, Public Inspection."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from crawler.errors import ParseError
from crawler.parse.expect import (
    CFR_PART,
    CFR_TITLE,
    JsonObject,
    expect_bool,
    expect_date,
    expect_int,
    expect_str,
    load_object,
    objects,
    optional_date,
    optional_str,
    shown,
    str_items,
)
from crawler.parse.fr_xml import rin_numbers
from crawler.parse.text import squash
from crawler.records import (
    FrDocument,
    FrXmlDocument,
    InspectionList,
    PublicInspectionDocument,
)

_DOC_IN_URL = re.compile(r"/documents/([A-Za-z0-9-]+)\.json")
_NUMBER = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,39}", re.ASCII)


@dataclass(frozen=True)
class SearchHit:
    number: str
    publication_date: date
    json_url: str | None
    xml_url: str | None


@dataclass(frozen=True)
class SearchPage:
    count: int
    total_pages: int
    hits: tuple[SearchHit, ...]


def expect_number(obj: JsonObject, key: str, what: str) -> str:
    """A document number ('2024-12345', 'C1-2024-12345'): safe in a key and a URL path."""
    number = expect_str(obj, key, what)
    if not _NUMBER.fullmatch(number):
        raise ParseError(f"{what}: field {key!r} is not a document number: {shown(number)}")
    return number


def parse_search_page(data: bytes, what: str) -> SearchPage:
    """One page of ``documents.json``; ``results`` is absent when count is 0."""
    obj = load_object(data, what, "results")
    count = expect_int(obj, "count", what)
    rows = objects(obj, "results", what, required=count > 0)
    hits = tuple(_hit(row, f"{what} result {i}") for i, row in enumerate(rows, start=1))
    return SearchPage(count, expect_int(obj, "total_pages", what, required=False), hits)


def _hit(row: JsonObject, what: str) -> SearchHit:
    return SearchHit(
        number=expect_number(row, "document_number", what),
        publication_date=expect_date(row, "publication_date", what),
        json_url=optional_str(row, "json_url", what),
        xml_url=optional_str(row, "full_text_xml_url", what),
    )


@dataclass(frozen=True)
class DocumentLinks:
    """What the spider follows from one document's JSON, before the pipeline parses it."""

    number: str
    xml_url: str | None
    correction_of: str | None


def parse_document_links(data: bytes, what: str) -> DocumentLinks:
    """The full-text XML URL and the corrected document named by a document's JSON."""
    obj = load_object(data, what, "document_number")
    return DocumentLinks(
        number=expect_number(obj, "document_number", what),
        xml_url=optional_str(obj, "full_text_xml_url", what),
        correction_of=document_number_from_url(optional_str(obj, "correction_of", what)),
    )


def document_number_from_url(url: str | None) -> str | None:
    """'.../api/v1/documents/2026-16628.json' -> '2026-16628'."""
    match = _DOC_IN_URL.search(url or "")
    return match.group(1) if match else None


def parse_document(data: bytes, xml: FrXmlDocument | None, what: str) -> FrDocument:
    """One document's JSON (the API's default field set) merged with its parsed XML."""
    obj = load_object(data, what, "document_number")
    agencies = objects(obj, "agencies", what)
    parts = [_cfr_reference(c, what) for c in objects(obj, "cfr_references", what)]
    parts = [p for p in parts if p]
    if xml is not None:
        parts += xml.cfr_parts
    return FrDocument(
        number=expect_number(obj, "document_number", what),
        publication_date=expect_date(obj, "publication_date", what),
        type=squash(expect_str(obj, "type", what)),
        title=squash(expect_str(obj, "title", what)),
        citation=optional_str(obj, "citation", what),
        html_url=expect_str(obj, "html_url", what),
        pdf_url=optional_str(obj, "pdf_url", what),
        agencies=tuple(_agency_name(a, what) for a in agencies),
        agency_slugs=tuple(s for a in agencies if (s := optional_str(a, "slug", what))),
        cfr_parts=tuple(dict.fromkeys(parts)),
        effective_on=_effective_on(optional_date(obj, "effective_on", what), xml),
        comments_close_on=optional_date(obj, "comments_close_on", what)
        or (xml.comment_deadline if xml else None),
        correction_of=document_number_from_url(optional_str(obj, "correction_of", what)),
        abstract=squash(optional_str(obj, "abstract", what) or (xml.summary if xml else "")),
        action=squash(optional_str(obj, "action", what) or (xml.action if xml else "")),
        dockets=str_items(obj, "docket_ids", what) or (xml.dockets if xml else ()),
        rins=_rins(str_items(obj, "regulation_id_numbers", what)) or (xml.rins if xml else ()),
        xml=xml,
    )


def _effective_on(given: date | None, xml: FrXmlDocument | None) -> date | None:
    """The API's effective date, else the XML's; never a date this document only moves
    another rule to (a delay notice is not itself effective on the delayed-to date)."""
    delayed_to = {d.to_date for d in xml.delays} if xml else set()
    if given is not None and given not in delayed_to:
        return given
    return xml.effective_date if xml else None


def _rins(given: tuple[str, ...]) -> tuple[str, ...]:
    """The API's RINs with a plain hyphen; one it gives in no RIN form is kept as given."""
    return tuple(dict.fromkeys(next(iter(rin_numbers(r)), squash(r)) for r in given))


def _agency_name(agency: JsonObject, what: str) -> str:
    name = optional_str(agency, "name", what) or optional_str(agency, "raw_name", what)
    return squash(name or "")


def _cfr_reference(ref: JsonObject, what: str) -> str:
    """'15:744' from {"title": 15, "part": 744}; '' when either is missing."""
    title, part = (_cfr_number(ref.get(k), k, what) for k in ("title", "part"))
    return f"{title}:{part}" if title and part else ""


def _cfr_number(value: Any, key: str, what: str) -> str:
    text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    if value is None or text == "":
        return ""
    pattern = CFR_TITLE if key == "title" else CFR_PART
    if not isinstance(text, str) or not pattern.fullmatch(text):
        raise ParseError(
            f"{what}: cfr_references {key!r} should be a CFR {key} number, got {shown(value)}"
        )
    return text


def parse_public_inspection(
    data: bytes, available_on: date, what: str
) -> list[PublicInspectionDocument]:
    """The ``public-inspection-documents.json`` list for one day."""
    return list(parse_inspection_list(data, available_on, what).documents)


def parse_inspection_list(data: bytes, available_on: date, what: str) -> InspectionList:
    """The list with the count the API gives for it (``results`` is left out when 0)."""
    obj = load_object(data, what, "count")
    count = expect_int(obj, "count", what)
    rows = objects(obj, "results", what)
    docs = tuple(_inspection(r, available_on, f"{what} result {i}") for i, r in enumerate(rows, 1))
    return InspectionList(available_on, count, docs)


def _inspection(row: JsonObject, available_on: date, what: str) -> PublicInspectionDocument:
    return PublicInspectionDocument(
        number=expect_number(row, "document_number", what),
        available_on=available_on,
        publication_date=optional_date(row, "publication_date", what),
        type=squash(optional_str(row, "type", what) or ""),
        title=squash(optional_str(row, "title", what) or ""),
        agencies=tuple(_agency_name(a, what) for a in objects(row, "agencies", what)),
        html_url=expect_str(row, "html_url", what),
        pdf_url=optional_str(row, "pdf_url", what),
        filed_at=optional_str(row, "filed_at", what),
        special_filing=expect_bool(row, "special_filing", what),
    )
