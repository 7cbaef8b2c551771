"""Federal Register API JSON -> records: search pages, one document, Public Inspection."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from crawler.errors import ParseError
from crawler.parse.text import squash
from crawler.records import FrDocument, FrXmlDocument, PublicInspectionDocument

_DOC_IN_URL = re.compile(r"/documents/([A-Za-z0-9-]+)\.json")


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


def load_json(data: bytes, what: str) -> Any:
    """Decode a JSON payload; an HTML page or garbage is a one-line ParseError."""
    head = data[:256].lstrip().lower()
    if head.startswith((b"<!doctype", b"<html", b"<?xml", b"<")):
        title = re.search(rb"<title>(.*?)</title>", data[:4096], re.I | re.S)
        said = f" ({squash(title.group(1).decode('utf-8', 'replace'))!r})" if title else ""
        raise ParseError(f"{what}: got an HTML/XML page where JSON was expected{said}")
    try:
        return json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ParseError(f"{what}: malformed JSON ({exc})") from None


def _date(value: Any, field: str, what: str) -> date | None:
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ParseError(f"{what}: field {field!r} is not a date: {value!r}") from None


def _require(obj: Any, field: str, what: str) -> Any:
    if not isinstance(obj, dict) or obj.get(field) in (None, ""):
        raise ParseError(f"{what}: missing field {field!r}")
    return obj[field]


def parse_search_page(data: bytes, what: str) -> SearchPage:
    """One page of ``documents.json``; ``results`` is absent when count is 0."""
    obj = load_json(data, what)
    count = _require(obj, "count", what) if obj.get("count") != 0 else 0
    if not isinstance(count, int):
        raise ParseError(f"{what}: 'count' is not a number")
    hits = tuple(
        SearchHit(
            number=_require(r, "document_number", what),
            publication_date=_date(_require(r, "publication_date", what), "publication_date", what),  # type: ignore[arg-type]
            json_url=r.get("json_url"),
            xml_url=r.get("full_text_xml_url"),
        )
        for r in obj.get("results") or ()
    )
    return SearchPage(count=count, total_pages=int(obj.get("total_pages") or 0), hits=hits)


def document_number_from_url(url: str | None) -> str | None:
    """'.../api/v1/documents/2026-16628.json' -> '2026-16628'."""
    match = _DOC_IN_URL.search(url or "")
    return match.group(1) if match else None


def parse_document(data: bytes, xml: FrXmlDocument | None, what: str) -> FrDocument:
    """One document's JSON (the API's default field set) merged with its parsed XML."""
    obj = load_json(data, what)
    number = _require(obj, "document_number", what)
    agencies = [a for a in obj.get("agencies") or () if isinstance(a, dict)]
    parts = [
        f"{c['title']}:{c['part']}"
        for c in obj.get("cfr_references") or ()
        if isinstance(c, dict) and c.get("title") and c.get("part")
    ]
    if xml is not None:
        parts += xml.cfr_parts
    return FrDocument(
        number=number,
        publication_date=_date(_require(obj, "publication_date", what), "publication_date", what),  # type: ignore[arg-type]
        type=_require(obj, "type", what),
        title=squash(_require(obj, "title", what)),
        citation=obj.get("citation"),
        html_url=_require(obj, "html_url", what),
        pdf_url=obj.get("pdf_url"),
        agencies=tuple(a.get("name") or a.get("raw_name") or "" for a in agencies),
        agency_slugs=tuple(a["slug"] for a in agencies if a.get("slug")),
        cfr_parts=tuple(dict.fromkeys(parts)),
        effective_on=_date(obj.get("effective_on"), "effective_on", what)
        or (xml.effective_date if xml else None),
        comments_close_on=_date(obj.get("comments_close_on"), "comments_close_on", what)
        or (xml.comment_deadline if xml else None),
        correction_of=document_number_from_url(obj.get("correction_of")),
        abstract=squash(obj.get("abstract") or (xml.summary if xml else "")),
        action=squash(obj.get("action") or (xml.action if xml else "")),
        dockets=tuple(obj.get("docket_ids") or (xml.dockets if xml else ())),
        rins=tuple(obj.get("regulation_id_numbers") or (xml.rins if xml else ())),
        xml=xml,
    )


def parse_public_inspection(
    data: bytes, available_on: date, what: str
) -> list[PublicInspectionDocument]:
    """The ``public-inspection-documents.json`` list for one day."""
    obj = load_json(data, what)
    if not isinstance(obj, dict) or "count" not in obj:
        raise ParseError(f"{what}: missing field 'count'")
    docs = []
    for r in obj.get("results") or ():
        docs.append(
            PublicInspectionDocument(
                number=_require(r, "document_number", what),
                available_on=available_on,
                publication_date=_date(r.get("publication_date"), "publication_date", what),
                type=r.get("type") or "",
                title=squash(r.get("title") or ""),
                agencies=tuple(
                    a.get("name") or a.get("raw_name") or ""
                    for a in r.get("agencies") or ()
                    if isinstance(a, dict)
                ),
                html_url=_require(r, "html_url", what),
                pdf_url=r.get("pdf_url"),
                filed_at=r.get("filed_at"),
                special_filing=bool(r.get("special_filing")),
            )
        )
    return docs
