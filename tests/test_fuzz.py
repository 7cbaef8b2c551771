"""Whatever a source sends, a parser raises only ParseError (one line) and a spider callback
never raises: bad input becomes a CrawlError item. Hypothesis drives every parse entry point
and every spider callback with random bytes, recorded payloads with fields swapped for
wrong types, XML with odd attributes, truncation and deep nesting.

The CI profile (``fuzz-ci``, 50 examples each) is the default; ``bench/fuzz.py`` runs the
same targets at 2,000 examples each and counts what each raised.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import os
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import scrapy
from conftest import point_at, run_day
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree
from scrapy.http import HtmlResponse, Response, TextResponse, XmlResponse
from scrapy.utils.test import get_crawler

from crawler import config as config_module
from crawler.demo.replay import Corpus, Fault, ReplayServer
from crawler.errors import ParseError
from crawler.fetch.items import (
    CrawlError,
    FetchedCfrPart,
    FetchedDocument,
    FetchedPublicInspection,
    FetchedWebPage,
    Unchanged,
    WindowCounted,
)
from crawler.fetch.pipelines import StorePipeline
from crawler.fetch.settings import build_settings
from crawler.fetch.spiders.bis import BisSpider
from crawler.fetch.spiders.ecfr import EcfrSpider
from crawler.fetch.spiders.federal_register import SEARCH_FIELDS, FederalRegisterSpider
from crawler.parse import (
    amdpar,
    cfr_units,
    ecfr_json,
    ecfr_xml,
    entity_list,
    eregs,
    expect,
    fr_json,
    fr_xml,
    text,
    web_page,
)
from crawler.parse import xml as xml_module
from crawler.records import Node
from crawler.snapshot.versioning import store_cfr_part
from storage import ErrorKind, Store

settings.register_profile(
    "fuzz-ci",
    max_examples=50,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "fuzz-bench",
    max_examples=2000,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
FUZZ = settings(settings.get_profile(os.environ.get("REGWATCH_FUZZ_PROFILE", "fuzz-ci")))

DEMO = Path(__file__).resolve().parents[1] / "crawler" / "demo" / "replay" / "corpus" / "demo"
DATA = Path(__file__).resolve().parent / "data"
DAY = date(2026, 10, 9)
NOW = "2026-10-09T11:30:00+00:00"


# --- seeds: recorded payloads in the real formats ------------------------------------------


def _read(folder: Path, pattern: str) -> list[bytes]:
    return [p.read_bytes() for p in sorted(folder.glob(pattern))]


DOCUMENTS = _read(DEMO / "documents", "*.json")
FR_XML = _read(DEMO / "xml", "*.xml") + _read(DATA / "fr", "*.xml")
ECFR_XML = _read(DEMO / "ecfr" / "full", "*/title-15/*.xml") + _read(DATA / "ecfr", "*.xml")
PUBLIC_INSPECTION = _read(DEMO / "public-inspection", "*.json")
TITLES = _read(DEMO / "ecfr", "titles.json")
VERSIONS = _read(DEMO / "ecfr" / "versions", "*.json")
WEB = _read(DEMO / "web", "*.html") + _read(DEMO / "web" / "press-release", "*.html")
LISTING = (DEMO / "web" / "news-updates.html").read_bytes()


def _search_page(documents: list[bytes]) -> bytes:
    """A documents.json page as the API serves it for the demo documents."""
    rows = [json.loads(d) for d in documents]
    results = [{f: row.get(f) for f in SEARCH_FIELDS} for row in rows]
    page = {"count": len(results), "total_pages": 1, "results": results}
    return json.dumps({**page, "description": "Documents published"}).encode()


SEARCH = [_search_page(DOCUMENTS), json.dumps({"count": 0, "total_pages": 0}).encode()]
EREGS = [
    json.dumps(
        {
            "label": ["447"],
            "title": "PART 447",
            "node_type": "regtext",
            "children": [
                {"label": ["447", "21"], "text": "§ 447.21 The U.S. Munitions Import List."},
                {"label": ["447", "22"], "text": "(a) Forgings.", "children": []},
            ],
        }
    ).encode()
]

# --- strategies ----------------------------------------------------------------------------

ODD_TEXT = [
    "",
    " ",
    "²",
    "abc",
    "yesterday",
    "2024-02-30",
    "9999-99-99",
    "0000-01-01",
    "20240101",
    "-1",
    "1" * 400,
    "١٥",
    "(a)",
    "(²)",
    "§ 744.11",
    "Supplement No. 4 to Part 744",
    "\u202e\u200b",
    "http://[::1",
    "javascript:alert(1)",
    "../../../etc/passwd",
    "<b>x</b>",
]
odd_text = st.sampled_from(ODD_TEXT) | st.text(
    st.characters(blacklist_categories=("Cs", "Cc")), max_size=30
)
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats()
    | odd_text
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(odd_text, inner, max_size=3),
    max_leaves=8,
)
SNIPPETS = [
    b"<",
    b"]",
    b"}",
    b'"',
    b"\x00",
    b"\xff\xfe",
    b"\\ud800",
    b"[" * 3000,
    b"<DIV>" * 300,
    b"<div>" * 300,
    b'<a href="http://[x">x</a>',
    b'<time datetime="yesterday">',
    b'<meta property="article:published_time" content="9999-99-99T99">',
    b"<!DOCTYPE x [<!ENTITY e SYSTEM 'file:///etc/passwd'>]>",
    b"&e;",
    b"</html>",
    b'<meta charset="\x01utf-8">',
    b"<main></main>",
    b'<REGTEXT TITLE="\xc2\xb2" PART="abc">',
]


def _paths(value: Any, here: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield here
    if isinstance(value, dict | list):
        children = value.items() if isinstance(value, dict) else enumerate(value)
        for key, child in children:
            yield from _paths(child, (*here, key))


def _replace(value: Any, path: tuple[Any, ...], new: Any, delete: bool) -> Any:
    if not path:
        return new
    parent = value
    for key in path[:-1]:
        parent = parent[key]
    if delete:
        del parent[path[-1]]
    else:
        parent[path[-1]] = new
    return value


@st.composite
def wrong_json(draw: st.DrawFn, seeds: list[bytes]) -> bytes:
    """A recorded JSON payload with one to three values replaced by other types, removed,
    or the whole thing replaced (a list, a number, null)."""
    value = copy.deepcopy(json.loads(draw(st.sampled_from(seeds))))
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(list(_paths(value))))
        delete = bool(path) and draw(st.booleans())
        value = _replace(value, path, draw(json_values), delete)
    return json.dumps(value).encode()


XML_TAGS = [
    "DIV5",
    "DIV8",
    "DIV9",
    "HEAD",
    "P",
    "FP-2",
    "TABLE",
    "TR",
    "TD",
    "TH",
    "CITA",
    "REGTEXT",
    "AMDPAR",
    "SECTION",
    "SECTNO",
    "GPOTABLE",
    "ROW",
    "ENT",
    "BOXHD",
    "CHED",
    "STARS",
    "PREAMB",
    "RULE",
    "FEDREG",
    "I",
    "E",
    "B",
    "br",
]
XML_ATTRIBUTES = ["TITLE", "PART", "N", "TYPE", "T", "COLS", "hierarchy_metadata"]


def _mutate_element(draw: st.DrawFn, root: etree._Element) -> None:
    elements = list(root.iter(etree.Element))
    el = draw(st.sampled_from(elements))
    action = draw(st.sampled_from(["attribute", "text", "drop", "copy", "nest", "retag"]))
    parent = el.getparent()
    if action == "attribute":
        names = sorted({*el.attrib.keys(), *XML_ATTRIBUTES})
        el.set(draw(st.sampled_from(names)), draw(odd_text))
    elif action == "text":
        el.text = draw(odd_text)
    elif action == "drop" and parent is not None:
        parent.remove(el)
    elif action == "copy" and parent is not None:
        parent.insert(parent.index(el), copy.deepcopy(el))
    elif action == "nest" and parent is not None:
        outer = inner = etree.Element(el.tag)
        for _ in range(draw(st.integers(1, 250))):
            inner = etree.SubElement(inner, draw(st.sampled_from(XML_TAGS)))
        parent.replace(el, outer)
        inner.append(el)
    elif action == "retag":
        el.tag = draw(st.sampled_from(XML_TAGS))


@st.composite
def odd_xml(draw: st.DrawFn, seeds: list[bytes]) -> bytes:
    """A recorded XML document with attributes (TITLE="²", PART="abc", N=""), text,
    elements and nesting changed, then maybe cut short."""
    root = etree.fromstring(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, 4))):
        _mutate_element(draw, root)
    data = etree.tostring(root, encoding="utf-8", xml_declaration=True)
    if draw(st.integers(0, 4)) == 0:
        data = data[: draw(st.integers(0, len(data)))]
    return data


@st.composite
def spliced(draw: st.DrawFn, seeds: list[bytes]) -> bytes:
    """Recorded bytes with snippets or random bytes put in, ranges cut out, or cut short."""
    data = draw(st.sampled_from(seeds))
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(data)))
        action = draw(st.sampled_from(["insert", "random", "cut", "truncate"]))
        if action == "insert":
            data = data[:at] + draw(st.sampled_from(SNIPPETS)) + data[at:]
        elif action == "random":
            data = data[:at] + draw(st.binary(max_size=20)) + data[at:]
        elif action == "cut":
            data = data[:at] + data[at + draw(st.integers(0, 200)) :]
        else:
            data = data[:at]
    return data


def json_inputs(seeds: list[bytes]) -> st.SearchStrategy[bytes]:
    return st.one_of(
        st.binary(max_size=300),
        json_values.map(lambda v: json.dumps(v).encode()),
        wrong_json(seeds),
        spliced(seeds),
    )


def xml_inputs(seeds: list[bytes]) -> st.SearchStrategy[bytes]:
    return st.one_of(st.binary(max_size=300), odd_xml(seeds), spliced(seeds))


def html_inputs(seeds: list[bytes]) -> st.SearchStrategy[bytes]:
    return st.one_of(st.binary(max_size=300), spliced(seeds))


any_text = st.text(max_size=200) | odd_text
WATCHES = st.from_regex(r"\A ?[0-9]{1,3}:[0-9]{1,6}(-[0-9]{1,6})?(,[0-9]{1,5}(-[0-9]{1,5})?)*\Z")
rows = st.lists(st.lists(any_text, min_size=0, max_size=7), max_size=4)


def _table(cells: list[list[str]]) -> Node:
    children = tuple(
        Node(f"r{i}", "row", fields=tuple((f"col{j}", c) for j, c in enumerate(row)))
        for i, row in enumerate(cells)
    )
    return Node("table", "table", children=children)


def _parts(data: bytes) -> None:
    root = ecfr_xml.parse_ecfr_xml(data, "part")
    units = list(cfr_units.units(15, "744", root))
    stub = cfr_units.manifest(root, {path: (key, "h", None) for key, path, _ in units})
    cfr_units.unit_refs(stub)
    for _, _, node in units:
        cfr_units.fr_citations(node)


# --- every parse entry point ---------------------------------------------------------------

Parse = Callable[[Any], object]
PARSERS: dict[str, tuple[st.SearchStrategy[Any], Parse]] = {
    "expect.load_json": (json_inputs(DOCUMENTS), lambda b: expect.load_json(b, "x")),
    "fr_json.parse_search_page": (
        json_inputs(SEARCH),
        lambda b: fr_json.parse_search_page(b, "search page 1"),
    ),
    "fr_json.parse_document": (
        json_inputs(DOCUMENTS),
        lambda b: fr_json.parse_document(b, None, "fr:x JSON"),
    ),
    "fr_json.parse_document_links": (
        json_inputs(DOCUMENTS),
        lambda b: fr_json.parse_document_links(b, "fr:x JSON"),
    ),
    "fr_json.parse_public_inspection": (
        json_inputs(PUBLIC_INSPECTION),
        lambda b: fr_json.parse_public_inspection(b, DAY, "public inspection"),
    ),
    "fr_json.document_number_from_url": (any_text, fr_json.document_number_from_url),
    "xml.parse_xml": (xml_inputs(FR_XML), lambda b: xml_module.parse_xml(b, "x")),
    "fr_xml.parse_fr_xml": (xml_inputs(FR_XML), fr_xml.parse_fr_xml),
    "fr_xml.parse_document_xml": (xml_inputs(FR_XML), fr_xml.parse_document_xml),
    "ecfr_xml.parse_ecfr_xml": (xml_inputs(ECFR_XML), ecfr_xml.parse_ecfr_xml),
    "ecfr_xml.paragraph_tree": (st.lists(any_text, max_size=8), ecfr_xml.paragraph_tree),
    "ecfr_json.parse_titles": (json_inputs(TITLES), ecfr_json.parse_titles),
    "ecfr_json.parse_versions_page": (
        json_inputs(VERSIONS),
        lambda b: ecfr_json.parse_versions_page(b, "versions"),
    ),
    "cfr_units.units": (xml_inputs(ECFR_XML), _parts),
    "cfr_units.parse_watch": (any_text | WATCHES, cfr_units.parse_watch),
    "entity_list.entity_list": (rows, lambda r: entity_list.entity_list(_table(r))),
    "entity_list.split_entity": (any_text, entity_list.split_entity),
    "amdpar.parse_amendment": (any_text, amdpar.parse_amendment),
    "amdpar.parse_instructions": (
        any_text,
        lambda t: amdpar.parse_instructions([t, t[: len(t) // 2]], "15", "744"),
    ),
    "eregs.parse_eregs": (json_inputs(EREGS), eregs.parse_eregs),
    "web_page.parse_web_page": (
        html_inputs(WEB),
        lambda b: web_page.page_tree(web_page.parse_web_page(b, "/p", "http://h/p", "bis:/p")),
    ),
    "web_page.listing_links": (
        html_inputs([LISTING]),
        lambda b: web_page.listing_links(b, "http://h/l", ("/press-release/",), "bis:/l"),
    ),
    "web_page.page_kind": (any_text, web_page.page_kind),
    "text.fold": (any_text, text.fold),
    "text.dates_in": (any_text, text.dates_in),
    "text.effective_date": (any_text, text.effective_date),
    "text.comment_deadline": (any_text, text.comment_deadline),
}


def assert_one_line(message: str) -> None:
    assert message and "\n" not in message and "\r" not in message, message
    assert len(message) < 600, message


def run_parser(name: str, example: Any) -> bool:
    """The property: the entry point returns, or raises a one-line ParseError (then
    True: the input was refused)."""
    try:
        PARSERS[name][1](example)
    except ParseError as exc:
        assert_one_line(str(exc))
        return True
    return False


@pytest.mark.parametrize("name", sorted(PARSERS))
@FUZZ
@given(data=st.data())
def test_a_parser_raises_only_a_one_line_parse_error(name, data):
    run_parser(name, data.draw(PARSERS[name][0], label=name))


# --- every spider callback -----------------------------------------------------------------


@dataclasses.dataclass
class Spiders:
    federal_register: FederalRegisterSpider
    ecfr: EcfrSpider
    bis: BisSpider

    def close(self) -> None:
        for spider in (self.federal_register, self.ecfr, self.bis):
            spider.store.close()


def make_spiders(folder: Path) -> Spiders:
    """The three spiders as a crawl builds them, on a store that already holds 15 CFR 744
    (so the eCFR's daily path, from_changes, runs too); the eCFR watches 740 and 744."""
    server = ReplayServer(Corpus.demo(), port=9)  # never started: only its URLs are used
    config = point_at(config_module.load(None, env={}), server, folder, ecfr=True, bis=True)
    ecfr = dataclasses.replace(config.sources.ecfr, watches=("15:740,744",))
    config = dataclasses.replace(config, sources=dataclasses.replace(config.sources, ecfr=ecfr))
    _store_part_744(config)

    def build(cls: type, **kwargs: str) -> Any:
        crawler = get_crawler(cls, build_settings(config, run_id=1, now=NOW))
        return cls.from_crawler(crawler, **kwargs)

    return Spiders(
        federal_register=build(
            FederalRegisterSpider,
            since="2026-10-01",
            until="2026-10-09",
            public_inspection_on="2026-10-09",
        ),
        ecfr=build(EcfrSpider, until="2026-10-09"),
        bis=build(BisSpider, day="2026-10-09"),
    )


def _store_part_744(config: config_module.Config) -> None:
    store = Store.open(config.store_path)
    try:
        run = store.start_run("crawl", None, NOW, "test")
        body = ECFR_XML[0]
        part = FetchedCfrPart("ecfr", 15, "744", date(2026, 10, 1), "u", body, NOW)
        store_cfr_part(store, part, run, config.sources.ecfr)
    finally:
        store.close()


@pytest.fixture(scope="module")
def spiders(tmp_path_factory) -> Iterator[Spiders]:
    made = make_spiders(tmp_path_factory.mktemp("fuzz"))
    yield made
    made.close()


def respond(
    request: scrapy.Request,
    body: bytes,
    cls: type[Response] = TextResponse,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> list[Any]:
    """Call the request's callback with ``body`` as its response; every item it yields."""
    response = cls(request.url, status=status, body=body, headers=headers, request=request)
    return list(request.callback(response, **request.cb_kwargs))


def _fr_search(s: Spiders, body: bytes) -> list[Any]:
    spider = s.federal_register
    return respond(spider._search(spider.since, spider.until, 1, set()), body)


def _fr_document(s: Spiders, body: bytes) -> list[Any]:
    spider = s.federal_register
    spider.requested.clear()
    request = next(spider._document("2026-21001"))
    return respond(request, body)


def _fr_xml(s: Spiders, body: bytes) -> list[Any]:
    spider = s.federal_register
    spider.requested.clear()
    document = respond(next(spider._document("2026-21001")), DOCUMENTS[0])
    xml_request = next(r for r in document if isinstance(r, scrapy.Request))
    return respond(xml_request, body, XmlResponse)


def _fr_public_inspection(s: Spiders, body: bytes) -> list[Any]:
    spider = s.federal_register
    return respond(spider._public_inspection(DAY), body)


def _ecfr_titles(s: Spiders, body: bytes) -> list[Any]:
    spider = s.ecfr
    request = spider._request(f"{spider.cfg.api_base}/titles.json", spider.parse_titles, "titles")
    return respond(request, body)


def _ecfr_versions(handler: str, **kwargs: Any) -> Callable[[Spiders, bytes], list[Any]]:
    def call(s: Spiders, body: bytes) -> list[Any]:
        query = {"issue_date[lte]": DAY.isoformat()}
        return respond(s.ecfr._versions(15, query, handler, latest=DAY, **kwargs), body)

    return call


def _ecfr_part(s: Spiders, body: bytes) -> list[Any]:
    return respond(s.ecfr._part(15, "744", DAY), body, XmlResponse)


def _bis_page(is_listing: bool, status: int = 200) -> Callable[[Spiders, bytes], list[Any]]:
    def call(s: Spiders, body: bytes) -> list[Any]:
        spider = s.bis
        path = "/news-updates" if is_listing else "/press-release/x"
        request = spider._request(spider.site + path, path, None, is_listing=is_listing)
        # the body doubles as the Location header of a redirect
        location = body[:200].decode("latin-1").replace("\r", "").replace("\n", "")
        headers = {"Location": location} if status in (301, 302) else None
        return respond(request, body, HtmlResponse, status, headers)

    return call


Callback = Callable[[Spiders, bytes], list[Any]]
CALLBACKS: dict[str, tuple[st.SearchStrategy[bytes], Callback]] = {
    "federal_register.parse_search": (json_inputs(SEARCH), _fr_search),
    "federal_register.parse_document": (json_inputs(DOCUMENTS), _fr_document),
    "federal_register.parse_xml": (xml_inputs(FR_XML), _fr_xml),
    "federal_register.parse_public_inspection": (
        json_inputs(PUBLIC_INSPECTION),
        _fr_public_inspection,
    ),
    "ecfr.parse_titles": (json_inputs(TITLES), _ecfr_titles),
    "ecfr.parse_versions(from_changes)": (
        json_inputs(VERSIONS),
        _ecfr_versions("from_changes", known={"744": "2026-10-01"}),
    ),
    "ecfr.parse_versions(from_first)": (
        json_inputs(VERSIONS),
        _ecfr_versions("from_first", part="744"),
    ),
    "ecfr.parse_part": (xml_inputs(ECFR_XML), _ecfr_part),
    "bis.parse_page(listing)": (html_inputs([LISTING]), _bis_page(is_listing=True)),
    "bis.parse_page(page)": (html_inputs(WEB), _bis_page(is_listing=False)),
    "bis.parse_page(redirect)": (
        st.binary(max_size=60) | odd_text.map(str.encode),
        _bis_page(False, 301),
    ),
}
ITEMS = (
    CrawlError,
    FetchedDocument,
    FetchedPublicInspection,
    FetchedCfrPart,
    FetchedWebPage,
    Unchanged,
    WindowCounted,
    scrapy.Request,
)


def run_callback(name: str, spiders: Spiders, body: bytes) -> list[Any]:
    """The property: the callback returns; it yields only items and requests, and each
    error is one line naming what failed."""
    items = CALLBACKS[name][1](spiders, body)
    for item in items:
        assert isinstance(item, ITEMS), item
        if isinstance(item, CrawlError):
            assert_one_line(item.message)
            assert item.target
    return items


@pytest.mark.parametrize("name", sorted(CALLBACKS))
@FUZZ
@given(data=st.data())
def test_a_spider_callback_never_raises(spiders, name, data):
    run_callback(name, spiders, data.draw(CALLBACKS[name][0], label=name))


# --- what the callbacks yield, through the pipeline into the store ------------------------


def make_pipeline(spiders: Spiders) -> StorePipeline:
    """The crawl's one writer, on the spiders' store and run."""
    pipeline = StorePipeline(spiders.federal_register.crawler)
    pipeline.open_spider()
    return pipeline


def _document(pair: tuple[bytes, bytes | None]) -> FetchedDocument:
    body, xml = pair
    url = "http://h/documents/full_text/xml/2026/10/09/2026-21001.xml"
    return FetchedDocument("federal_register", "2026-21001", "u", body, url, xml, NOW)


STORED: dict[str, st.SearchStrategy[Any]] = {
    "FetchedDocument": st.tuples(json_inputs(DOCUMENTS), st.none() | xml_inputs(FR_XML)).map(
        _document
    ),
    "FetchedPublicInspection": json_inputs(PUBLIC_INSPECTION).map(
        lambda b: FetchedPublicInspection("federal_register", DAY, "u", b, NOW)
    ),
    "FetchedCfrPart": xml_inputs(ECFR_XML).map(
        lambda b: FetchedCfrPart("ecfr", 15, "744", DAY, "u", b, NOW)
    ),
    "FetchedWebPage": html_inputs(WEB).map(
        lambda b: FetchedWebPage("bis", "/press-release/x", "http://h/press-release/x", b, DAY, NOW)
    ),
}


def run_pipeline(pipeline: StorePipeline, item: Any) -> bool:
    """The property: storing a fetched payload raises nothing and records no error row of
    regwatch's own (``bug``); bad input is an ``input`` error row. True: it was refused."""
    assert pipeline.store is not None
    before = len(pipeline.store.errors([pipeline.run]))
    pipeline.process_item(item)
    new = pipeline.store.errors([pipeline.run])[before:]
    for row in new:
        assert row.kind != ErrorKind.BUG, row.message
        assert_one_line(row.message)
    return bool(new)


@pytest.fixture(scope="module")
def pipeline(spiders) -> Iterator[StorePipeline]:
    made = make_pipeline(spiders)
    yield made
    assert made.store is not None
    made.store.close()


@pytest.mark.parametrize("name", sorted(STORED))
@FUZZ
@given(data=st.data())
def test_a_fetched_payload_is_stored_or_refused_never_a_bug(pipeline, name, data):
    run_pipeline(pipeline, data.draw(STORED[name], label=name))


# --- the named cases, with their exact messages --------------------------------------------

CASES = json.loads((DATA / "bad_input_cases.json").read_text(encoding="utf-8"))


def case_input(case: dict[str, Any]) -> Any:
    """The case's input: text, or bytes built from a seed with fields set, or a body with
    ``nest`` = [open, close, times] repeated inside it and ``tail`` after."""
    if "text" in case:
        return case["text"]
    if "seed" in case:
        seed = json.loads((DEMO / case["seed"]).read_bytes())
        return json.dumps({**seed, **case["set"]}).encode()
    opening, closing, times = case.get("nest", ["", "", 0])
    body = case["body"] + opening * times + closing * times + case.get("tail", "")
    return body.encode()


@pytest.mark.parametrize("case", CASES, ids=[c["case"] for c in CASES])
def test_named_bad_input_is_one_exact_line(spiders, case):
    if case["target"] in PARSERS:
        with pytest.raises(ParseError) as raised:
            PARSERS[case["target"]][1](case_input(case))
        assert str(raised.value) == case["message"]
        return
    items = run_callback(case["target"], spiders, case_input(case))
    assert items == [
        CrawlError(
            case["target"].split(".")[0],  # the source
            items[0].target,
            case["message"],
            fatal=case["fatal"],
            kind=ErrorKind.INPUT,
        )
    ]


# --- a search page or titles.json that cannot be read stops the source for the day ---------

SEARCH_BREAKS = {
    ("count",): [None, "7", 2.5, -1, True, [], {}],
    ("results",): [None, "x", 3, {}],
    ("results", 0): [None, "x", 3, []],
    ("results", 2, "document_number"): [None, 3, "", "../x", [], "a b"],
    ("results", 6, "publication_date"): [None, "yesterday", 20261009, "2026-02-30", ""],
}


@st.composite
def broken_search_page(draw: st.DrawFn) -> bytes:
    page = json.loads(SEARCH[0])
    path = draw(st.sampled_from(sorted(SEARCH_BREAKS)))
    return json.dumps(_replace(page, path, draw(st.sampled_from(SEARCH_BREAKS[path])), False))


@FUZZ
@given(body=broken_search_page())
def test_a_search_page_that_cannot_be_read_fails_the_window_and_fetches_nothing(spiders, body):
    items = run_callback("federal_register.parse_search", spiders, body.encode())
    assert len(items) == 1 and items[0].fatal and items[0].kind == ErrorKind.INPUT, items


@FUZZ
@given(up_to_date_as_of=json_values.filter(lambda v: not _is_date(v)))
def test_an_up_to_date_as_of_that_is_not_a_date_fails_the_ecfr(spiders, up_to_date_as_of):
    titles = json.loads(TITLES[0])
    titles["titles"][1]["up_to_date_as_of"] = up_to_date_as_of  # title 15, the watched one
    items = run_callback("ecfr.parse_titles", spiders, json.dumps(titles).encode())
    assert len(items) == 1 and items[0].fatal and items[0].kind == ErrorKind.INPUT, items


def _is_date(value: Any) -> bool:
    if value is None or value == "":
        return True  # a reserved title: "not in titles.json", also fatal, tested above
    try:
        return isinstance(value, str) and len(value) == 10 and bool(date.fromisoformat(value))
    except ValueError:
        return False


def test_a_bad_search_page_keeps_the_window_until_a_run_reads_it(demo_server, tmp_path):
    """The day with `[]` for a search page fails; the next day's window starts where the
    last good one ended, so the documents of the failed day are fetched then."""
    config = point_at(config_module.load(None, env={}), demo_server, tmp_path, ecfr=True)
    run_day(config, date(2026, 10, 5))
    demo_server.faults = [
        Fault(r"^/api/v1/documents\.json", body=b"[]"),
        Fault(
            r"titles\.json", body=b'{"titles": [{"number": 15, "up_to_date_as_of": "yesterday"}]}'
        ),
    ]
    failed = run_day(config, date(2026, 10, 6))
    states = {row.source: row.status for row in failed.sources}
    assert states["federal_register"] == states["ecfr"] == "failed"
    messages = {(e.source, e.kind, e.message) for e in failed.errors}
    assert (
        "federal_register",
        "input",
        "search 2026-10-05..2026-10-06 page 1: expected a JSON object with 'results', got a list",
    ) in messages
    assert (
        "ecfr",
        "input",
        "titles.json title 15: field 'up_to_date_as_of' is not a date (YYYY-MM-DD): 'yesterday'",
    ) in messages
    store = Store.open(config.store_path)
    try:
        assert store.last_good_until("federal_register") == "2026-10-05"
    finally:
        store.close()
    demo_server.faults = []
    run_day(config, date(2026, 10, 8))
    store = Store.open(config.store_path)
    try:
        assert {"fr:2026-21110", "fr:2026-21111"} <= store.known_keys("fr:")  # of 10-06
        assert store.last_good_until("federal_register") == "2026-10-08"
    finally:
        store.close()
