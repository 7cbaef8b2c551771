"""The JSON API under /api/ (its OpenAPI document at /api/openapi.json): the same readers as
the pages. Every list is paged (``offset``, ``limit``, ``total``, ``next``); every error is
``{"error": "<one line>"}``; keys are the store's (``cfr:15:744.11``, ``fr:2026-21001``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from crawler.deliver.web.reader import DATE, PAGE, Page, Reader, Variant, paged
from crawler.deliver.web.views import comparison
from crawler.keys import fr_number, readable
from crawler.query import entities
from crawler.records import to_jsonable

router = APIRouter(prefix="/api", tags=["regwatch"])


def _reader(request: Request) -> Reader:
    reader: Reader = request.app.state.reader
    return reader


def _page(listed: Page[Any], items: list[Any]) -> dict[str, Any]:
    return {
        "items": items,
        "offset": listed.offset,
        "limit": listed.limit,
        "total": listed.total,
        "next": listed.next_offset,
    }


@router.get("/days", summary="Days with a report, newest first")
def days(request: Request, offset: int = 0, limit: int = PAGE) -> dict[str, Any]:
    listed = paged(_reader(request).days(), offset, limit)
    return _page(listed, list(listed.items))


@router.get("/days/{day}", summary="A day's report (the latest revision), as the digest says it")
def day(request: Request, day: str) -> dict[str, Any]:
    report = _reader(request).report(day)
    if report is None:
        raise LookupError(f"no report for {day}")
    found: dict[str, Any] = to_jsonable(report)
    return found


@router.get("/documents", summary="Stored Federal Register documents, newest first")
def documents(request: Request, offset: int = 0, limit: int = PAGE) -> dict[str, Any]:
    listed = paged(_reader(request).documents(), offset, limit)
    items = [
        {
            "key": r.key,
            "number": fr_number(r.key),
            "kind": r.kind,
            "title": r.title,
            "published": r.published,
            "url": r.url,
        }
        for r in listed.items
    ]
    return _page(listed, items)


@router.get("/documents/{number}", summary="One FR document with its publication-day redlines")
def document(request: Request, number: str) -> dict[str, Any]:
    found: dict[str, Any] = to_jsonable(_reader(request).rule(number))
    return found


@router.get("/cfr", summary="Stored CFR units (sections, appendices, supplements, parts)")
def units(request: Request, offset: int = 0, limit: int = PAGE) -> dict[str, Any]:
    listed = paged(_reader(request).units(), offset, limit)
    items = [{"key": r.key, "citation": readable(r.key), "title": r.title} for r in listed.items]
    return _page(listed, items)


@router.get("/cfr/{title}/{unit}/versions", summary="A unit's stored versions, oldest first")
def versions(
    request: Request, title: str, unit: str, offset: int = 0, limit: int = PAGE
) -> dict[str, Any]:
    reader = _reader(request)
    history = reader.history(reader.unit_key(title, unit))
    listed = paged(history.lines, offset, limit)
    items = [
        {
            "valid_from": line.day,
            "seq": line.seq,
            "change": line.change,
            "fetched_at": line.version.fetched_at if line.version else None,
            "sources": [to_jsonable(c) for c in line.sources],
        }
        for line in listed.items
    ]
    return _page(listed, items)


@router.get("/cfr/{title}/{unit}/changes", summary="A unit's stored changes, oldest first")
def changes(
    request: Request, title: str, unit: str, offset: int = 0, limit: int = PAGE
) -> dict[str, Any]:
    reader = _reader(request)
    key = reader.unit_key(title, unit)
    dated = {v.id: v.valid_from for v in reader.store.history(key)}
    listed = paged(reader.store.changes_of(key), offset, limit)
    items = [
        {
            "id": c.id,
            "from": dated.get(c.from_version) if c.from_version else None,
            "to": dated.get(c.to_version),
            "substantive": c.substantive,
            "stats": c.stats,
        }
        for c in listed.items
    ]
    return _page(listed, items)


@router.get(
    "/cfr/{title}/{unit}/diff",
    summary="The diff of two dates of a unit (the same model as `regwatch diff --format json`)",
)
def diff(
    request: Request,
    title: str,
    unit: str,
    from_: str | None = Query(None, alias="from", pattern=DATE),
    to: str | None = Query(None, pattern=DATE),
) -> Response:
    reader = _reader(request)
    key = reader.unit_key(title, unit)
    body = comparison(reader, key, *reader.pair(key, from_, to), Variant("json"))
    return Response(body, media_type="application/json")


@router.get("/entities", summary="Entity List entries added, removed or revised since a date")
def entity_list(
    request: Request,
    since: str = Query(pattern=DATE),
    country: str | None = Query(None, max_length=80),
    offset: int = 0,
    limit: int = PAGE,
) -> dict[str, Any]:
    found = entities.history(_reader(request).store, since, country)
    listed = paged(found.changes, offset, limit)
    return _page(listed, [to_jsonable(c) for c in listed.items])


@router.get("/eccns/{eccn}", summary="The history of one ECCN in the Commerce Control List")
def eccn(request: Request, eccn: str) -> dict[str, Any]:
    found: dict[str, Any] = to_jsonable(entities.eccn_report(_reader(request).store, eccn))
    return found


@router.get("/search", summary="Full text over every stored version, by document, with when")
def search(
    request: Request,
    q: str = Query(min_length=1, max_length=200),
    kind: str = Query("", max_length=60),
    part: str = Query("", max_length=20),
    agency: str = Query("", max_length=120),
    since: str = Query("", pattern=f"^({DATE[1:-1]})?$"),
    until: str = Query("", pattern=f"^({DATE[1:-1]})?$"),
    offset: int = 0,
    limit: int = PAGE,
) -> dict[str, Any]:
    found = _reader(request).search(q, kind, part, agency, since, until)
    listed = paged(found.hits, offset, limit)
    items = [
        {
            "key": h.row.key,
            "title": h.row.title,
            "kind": h.row.kind,
            "spans": [to_jsonable(s) for s in h.spans],
        }
        for h in listed.items
    ]
    return _page(listed, items) | {"indexed": found.indexed, "complete": found.complete}


@router.get("/runs", summary="Runs, newest first, with each source's status and errors")
def runs(request: Request, offset: int = 0, limit: int = PAGE) -> dict[str, Any]:
    reader = _reader(request)
    limit = max(1, min(limit, 200))
    views = reader.runs(limit + 1, max(offset, 0))
    shown = views[:limit]
    return {
        "items": [to_jsonable(v) for v in shown],
        "offset": max(offset, 0),
        "limit": limit,
        "total": None,  # not counted: runs only grow
        "next": max(offset, 0) + limit if len(views) > limit else None,
    }
