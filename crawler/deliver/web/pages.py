"""The web app's pages: HTML rendered from templates/web/ (autoescaped, like every output),
from the same stored report and the same query code as the digest and the CLI."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from crawler.deliver.web.reader import DATE, PAGE, CompareView, Reader, paged
from crawler.diff.cite import fr_sources, official_links
from crawler.diff.in_context import blocks, runs
from crawler.diff.model import DocumentDiff
from crawler.digest.render import render
from crawler.errors import NotCovered, UsageError
from crawler.keys import CFR, ENTITY_LIST, fr_number, readable
from crawler.query import entities
from crawler.query.citations import parse_citation

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class Alternate:
    href: str
    title: str
    type: str = "application/atom+xml"


@dataclass(frozen=True)
class Frame:
    title: str
    section: str  # the navigation entry it belongs to ("/", "/cfr" ...)
    alternates: tuple[Alternate, ...] = ()


ALL_FEED = Alternate("/feeds/all.atom", "regwatch: every change")


def unit_href(key: str) -> str:
    """cfr:15:744.11 -> /cfr/15/744.11; cfr:15:744:supp-4 -> /cfr/15/744:supp-4."""
    title, rest = key.removeprefix(CFR).split(":", 1)
    return f"/cfr/{title}/{quote(rest, safe=':.-')}"


def rule_href(number: str) -> str:
    return f"/rules/{quote(number, safe='-')}"


def page(request: Request, name: str, frame: Frame, **context: Any) -> HTMLResponse:
    return HTMLResponse(html_of(request, name, frame, **context))


def html_of(request: Request, name: str, frame: Frame, **context: Any) -> str:
    reader = _reader(request)
    known: list[str] = []

    def cited_href(citation: str) -> str | None:
        """The page of the stored unit ``citation`` names ("15 CFR 744 Supp. No. 4"), or
        None when the store lacks it (no link to nowhere)."""
        known[:] = known or reader.unit_keys()
        try:
            key = parse_citation(citation, known)
        except UsageError:
            return None
        return unit_href(key) if key in known else None

    return render(
        name,
        frame=frame,
        readable=readable,
        unit_href=unit_href,
        rule_href=rule_href,
        cited_href=cited_href,
        number=fr_number,
        tokened=request.app.state.token is not None,
        **context,
    )


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
    at = every.index(day) if day in every else -1
    newer = every[at - 1] if at > 0 else None
    older = every[at + 1] if 0 <= at < len(every) - 1 else None
    frame = Frame(report.day_long, section, (ALL_FEED,))
    return page(request, "web/day.html.j2", frame, digest=report, newer=newer, older=older)


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
    return RedirectResponse(unit_href(key), status_code=303)


@router.get("/cfr/{title}/{unit}")
def unit(request: Request, title: str, unit: str) -> Response:
    reader = _reader(request)
    key = reader.unit_key(title, unit)
    history = reader.history(key)
    current = reader.current(key)
    row = reader.store.document(key)
    found = blocks(key, current, current, DocumentDiff(()))
    official = official_links(key, fr_sources(current, current))
    frame = Frame(readable(key), "/cfr", (ALL_FEED,))
    return page(
        request,
        "web/unit.html.j2",
        frame,
        key=key,
        title=row.title if row else "",
        history=history,
        blocks=found,
        official=official,
    )


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
    if rule:
        view_of = reader.compare_rule(key, rule)
    else:
        view_of = reader.compare(key, from_ or None, to or None)
    if format == "json":
        return reader.model(view_of)
    html = reader.pages.get(
        ("page", key, rule, view_of.old.tree_blob, view_of.new.tree_blob, view, only, full),
        lambda: _compare_page(request, view_of, view, only, full).encode(),
    )
    return HTMLResponse(html)


def _compare_page(request: Request, found: CompareView, view: str, only: bool, full: bool) -> str:
    old, new = found.old.valid_from, found.new.valid_from
    asked = {"rule": found.rule} if found.rule else {"from": old, "to": new}
    permalink = unit_href(found.key) + "/compare?" + urlencode({**asked, "view": view})
    frame = Frame(f"{readable(found.key)}: {old} to {new}", "/cfr")
    return html_of(
        request,
        "web/compare.html.j2",
        frame,
        key=found.key,
        found=found,
        runs=runs(list(found.blocks)),
        view=view,
        only=only,
        full=full,
        permalink=permalink,
    )


@router.get("/rules")
def rules(request: Request, offset: int = 0, limit: int = PAGE) -> Response:
    listed = paged(_reader(request).documents(), offset, limit)
    frame = Frame("FR documents", "/rules")
    return page(request, "web/rules.html.j2", frame, listed=listed, base="/rules")


@router.get("/rules/{number}")
def rule(request: Request, number: str) -> Response:
    reader = _reader(request)
    entry = reader.rule(number)
    frame = Frame(f"FR Doc. {entry.number}", "/rules", (ALL_FEED,))
    return page(
        request, "web/rule.html.j2", frame, entry=entry, corrections=reader.corrections(number)
    )


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
        list_href=unit_href(ENTITY_LIST),
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
