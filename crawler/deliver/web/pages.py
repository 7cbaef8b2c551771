"""The web app's pages: HTML rendered from templates/web/ (autoescaped, like every output),
from the same stored report and the same query code as the digest and the CLI."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from crawler.deliver.web.layout import ALL_FEED, Frame, Links, render_page
from crawler.deliver.web.reader import DATE, PAGE, Reader, Variant, paged
from crawler.deliver.web.views import (
    comparison,
    day_page,
    neighbours,
    rendered,
    rule_page,
    unit_page,
)
from crawler.errors import NotCovered, UsageError
from crawler.keys import ENTITY_LIST
from crawler.query import entities
from crawler.query.citations import parse_citation

router = APIRouter(include_in_schema=False)


def page(request: Request, name: str, frame: Frame, **context: Any) -> HTMLResponse:
    return HTMLResponse(html_of(request, name, frame, **context))


def html_of(request: Request, name: str, frame: Frame, **context: Any) -> str:
    return render_page(
        name, frame, links_of(request), tokened=request.app.state.token is not None, **context
    )


def links_of(request: Request) -> Links:
    return Links(_reader(request).unit_keys)


def _reader(request: Request) -> Reader:
    reader: Reader = request.app.state.reader
    return reader


@router.get("/")
def today(request: Request) -> Response:
    reader = _reader(request)
    days = reader.days()
    if not days:
        frame = Frame("Today", "/", (ALL_FEED,))
        return page(request, "web/days.html.j2", frame, listed=paged([], 0, PAGE), base="/days")
    return _day_page(request, days[0], days, "/")


@router.get("/days")
def days(request: Request, offset: int = 0, limit: int = PAGE) -> Response:
    listed = paged(_reader(request).days(), offset, limit)
    return page(request, "web/days.html.j2", Frame("Days", "/days"), listed=listed, base="/days")


@router.get("/days/{day}")
def day(request: Request, day: str) -> Response:
    return _day_page(request, day, _reader(request).days(), "/days")


def _day_page(request: Request, day: str, every: list[str], section: str) -> Response:
    report = _reader(request).report(day)
    if report is None:
        raise UsageError(f"no report for {day}")
    newer, older = neighbours(every, day)
    return HTMLResponse(day_page(report, links_of(request), newer, older, section))


@router.get("/cfr")
def units(request: Request, offset: int = 0, limit: int = PAGE) -> Response:
    listed = paged(_reader(request).units(), offset, limit)
    frame = Frame("CFR text", "/cfr")
    return page(request, "web/units.html.j2", frame, listed=listed, base="/cfr")


@router.get("/cfr/find")
def find(request: Request, citation: str = Query(max_length=200)) -> Response:
    """A citation as people type it ("15 CFR 744.11", "Supp. No. 4 to Part 744"), to its page."""
    reader = _reader(request)
    key = parse_citation(citation, reader.unit_keys())
    return RedirectResponse(links_of(request).unit(key) or "/cfr", status_code=303)


@router.get("/cfr/{title}/{unit}")
def unit(request: Request, title: str, unit: str) -> Response:
    reader = _reader(request)
    return HTMLResponse(unit_page(reader, reader.unit_key(title, unit), links_of(request)))


@router.get("/cfr/{title}/{unit}/compare")
def compare(
    request: Request,
    title: str,
    unit: str,
    from_: str | None = Query(None, alias="from", max_length=10),
    to: str | None = Query(None, max_length=10),
    view: str = Query("inline", pattern="^(inline|side)$"),
    only: bool = False,
    full: bool = False,
    rule: str = Query("", pattern=r"^[A-Za-z0-9-]{0,24}$"),  # an FR document number
    format: str = Query("html", pattern="^(html|json)$"),
) -> Response:
    reader = _reader(request)
    key = reader.unit_key(title, unit)
    asked = Variant(format, view, only, full)
    if rule:
        found = reader.compare_rule(key, rule)
        trees = (found.old.tree_blob, found.new.tree_blob)
        body = reader.pages.get(
            ("rule", key, rule, found.old.id, found.new.id, *trees, asked),
            lambda: rendered(reader, found, asked),
        )
    else:
        body = comparison(reader, key, *reader.pair(key, from_ or None, to or None), asked)
    kind = "application/json" if format == "json" else "text/html; charset=utf-8"
    return Response(body, media_type=kind)


@router.get("/rules")
def rules(request: Request, offset: int = 0, limit: int = PAGE) -> Response:
    listed = paged(_reader(request).documents(), offset, limit)
    frame = Frame("FR documents", "/rules")
    return page(request, "web/rules.html.j2", frame, listed=listed, base="/rules")


@router.get("/rules/{number}")
def rule(request: Request, number: str) -> Response:
    reader = _reader(request)
    entry = reader.rule(number)
    today = reader.now().astimezone(ZoneInfo(reader.config.timezone)).date()
    timeline = reader.timeline(entry.number)
    html = rule_page(entry, reader.corrections(number), links_of(request), timeline, today)
    return HTMLResponse(html)


@router.get("/entities")
def entity_list(
    request: Request,
    since: str = Query("2017-01-01", pattern=DATE),
    until: str | None = Query(None, pattern=f"^({DATE[1:-1]})?$"),
    country: str = Query("", max_length=80),
    entity: str = Query("", max_length=120),
    op: str = Query("", pattern="^(|added|removed|changed)$"),
) -> Response:
    """Entity List entries added, removed and revised, filtered, each with its rule."""
    reader = _reader(request)
    found = entities.history(reader.store, since, country or None)
    rows = [
        c
        for c in found.changes
        if (not until or c.effective <= until)
        and (not entity or entity.casefold() in c.entity.casefold())
        and (not op or c.op == op)
    ]
    countries = sorted({c.country for c in found.changes})
    frame = Frame("Entity List", "/entities", (ALL_FEED,))
    return page(
        request,
        "web/entities.html.j2",
        frame,
        rows=rows,
        found=found,
        countries=countries,
        asked={
            "since": since,
            "until": until or "",
            "country": country,
            "entity": entity,
            "op": op,
        },
        list_key=ENTITY_LIST,
    )


@router.get("/eccns")
def eccn(request: Request, eccn: str = Query("", max_length=20)) -> Response:
    """The Commerce Control List: one ECCN's history."""
    reader = _reader(request)
    found, problem = None, ""
    if eccn.strip():
        try:
            found = entities.eccn_report(reader.store, eccn.strip().upper())
        except NotCovered as exc:  # not known, said on the page beside the form
            problem = str(exc)
    frame = Frame("Commerce Control List", "/eccns")
    return page(
        request,
        "web/eccns.html.j2",
        frame,
        eccn=eccn,
        found=found,
        problem=problem,
        ccl=entities.CCL,
    )


@router.get("/search")
def search(
    request: Request,
    q: str = Query("", max_length=200),
    kind: str = Query("", max_length=60),
    part: str = Query("", max_length=20),
    agency: str = Query("", max_length=120),
    since: str = Query("", pattern=f"^({DATE[1:-1]})?$"),
    until: str = Query("", pattern=f"^({DATE[1:-1]})?$"),
) -> Response:
    """Full text over every stored version, grouped by document, with when it stood."""
    reader = _reader(request)
    found = reader.search(q, kind, part, agency, since, until) if q.strip() else None
    asked = {"q": q, "kind": kind, "part": part, "agency": agency, "since": since, "until": until}
    kinds = sorted({r.kind for r in reader.documents()} | {"section", "appendix"})
    frame = Frame("Search", "/search")
    return page(request, "web/search.html.j2", frame, asked=asked, found=found, kinds=kinds)


@router.get("/sources")
def sources(request: Request) -> Response:
    views = _reader(request).runs(20)
    return page(request, "web/sources.html.j2", Frame("Sources", "/sources"), views=views)
