"""Web pages (bis.gov) -> their main content as blocks of text, and a listing's item links.

The main content is the page's ``<main>`` (or ``[role=main]``, ``#main-content``,
``<article>``, else ``<body>``) without navigation, header, footer, scripts, forms and the
like, so that a new menu entry or a rotated banner is never reported as a change. Text is
whitespace-squashed; typography is left alone (the diff engine folds it when judging
whether a change is substantive).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from urllib.parse import urljoin, urlsplit

from bs4 import BeautifulSoup, NavigableString, Tag

from crawler.errors import ParseError
from crawler.parse.text import dates_in, squash
from crawler.records import Node, WebBlock, WebPage

_MAIN = ("main", "[role=main]", "#main-content", "article", "body")
_DROP = (
    "script, style, noscript, template, iframe, svg, form, button, nav, header, footer, "
    "aside, [role=navigation], [role=banner], [role=contentinfo], [role=search], "
    "[aria-hidden=true], .breadcrumb, .visually-hidden, .sr-only, .skip-link"
)
_BLOCKS = {
    "h1": "heading",
    "h2": "heading",
    "h3": "heading",
    "h4": "heading",
    "h5": "heading",
    "h6": "heading",
    "p": "paragraph",
    "li": "item",
    "tr": "row",
    "dt": "item",
    "dd": "paragraph",
    "blockquote": "paragraph",
    "pre": "paragraph",
    "figcaption": "paragraph",
    "div": "paragraph",
    "section": "paragraph",
}
_CELLS = ("td", "th")
_SITE_SUFFIX = re.compile(r"\s*[|\u2013\u2014-]\s*Bureau of Industry and Security\s*$", re.I)
MAX_DEPTH = 200
KINDS = (("/press-release/", "Press Release"), ("/news-updates/", "News"))
# what a page says when the site is down for maintenance; such a notice is short, so a real
# page that mentions maintenance (a SNAP-R outage notice) is longer than NOTICE_CHARS
_MAINTENANCE = re.compile(
    r"\b(?:(?:site|website|page|service)\s+(?:is\s+)?(?:currently\s+)?"
    r"(?:under(?:going)?\s+(?:scheduled\s+)?maintenance|down|offline|"
    r"(?:temporarily\s+)?unavailable)"
    r"|(?:site|website|system)\s+maintenance|down\s+for\s+maintenance|maintenance\s+mode"
    r"|(?:we(?:'|\u2019)ll|we\s+will)\s+be\s+back|be\s+back\s+(?:shortly|soon))\b",
    re.I,
)
NOTICE_CHARS = 400


def page_kind(path: str) -> str:
    return next((kind for prefix, kind in KINDS if path.startswith(prefix)), "Web Page")


def _soup(body: bytes, what: str) -> BeautifulSoup:
    head = body[:512].lstrip().lower()
    if not head or head.startswith((b"{", b"[")):
        raise ParseError(f"{what}: not an HTML page (got {'nothing' if not head else 'JSON'})")
    if b"</html" not in body[-2048:].lower():
        raise ParseError(f"{what}: the page is cut short (no closing </html>)")
    try:
        return BeautifulSoup(body, "lxml")
    except ValueError as exc:  # lxml refuses a declared charset with control characters in it
        raise ParseError(f"{what}: not an HTML page lxml can read ({exc})") from None


def _content(body: bytes, what: str) -> tuple[BeautifulSoup, Tag]:
    """The parsed page and its main content, with the page furniture (_DROP) taken out."""
    soup = _soup(body, what)
    main = next((m for s in _MAIN if (m := soup.select_one(s)) is not None), None)
    if main is None:
        raise ParseError(f"{what}: the page has no <body>")
    if _deeper_than(main, MAX_DEPTH):
        raise ParseError(f"{what}: the page nests more than {MAX_DEPTH} elements deep")
    for tag in main.select(_DROP):
        tag.decompose()
    return soup, main


def _deeper_than(top: Tag, limit: int) -> bool:
    """Whether any element lies more than ``limit`` levels below ``top`` (the walks below
    recurse, and a real page nests some 30 deep)."""
    stack = [(top, 0)]
    while stack:
        tag, depth = stack.pop()
        if depth > limit:
            return True
        stack += [(child, depth + 1) for child in tag.children if isinstance(child, Tag)]
    return False


def parse_web_page(body: bytes, path: str, url: str, what: str) -> WebPage:
    """The page's main content. Raises ParseError for what is not a whole HTML page."""
    soup, main = _content(body, what)
    published = _published(soup)
    blocks = tuple(_blocks(main))
    _check_main_content(blocks, soup, what)
    h1 = main.find("h1")
    title = squash(h1.get_text(" ")) if h1 else ""
    if not title and soup.title:
        title = _SITE_SUFFIX.sub("", squash(soup.title.get_text(" ")))
    if published is None:  # a block that is nothing but a date ("October 5, 2026")
        published = next(
            (d[0] for b in blocks[:6] if (d := dates_in(b.text)) and len(b.text) < 40), None
        )
    return WebPage(path, url, page_kind(path), title or path, published, blocks)


def _check_main_content(blocks: tuple[WebBlock, ...], soup: BeautifulSoup, what: str) -> None:
    """A page without its main content is an error, never a version: nothing there, a
    heading alone, or a short notice that the site is down for maintenance (served with
    HTTP 200 in place of the page)."""
    if not blocks:
        raise ParseError(f"{what}: the page has no main content")
    if all(b.kind == "heading" for b in blocks):
        raise ParseError(f"{what}: the page's main content is only a heading ({blocks[0].text!r})")
    text = " ".join(b.text for b in blocks)
    page_title = squash(soup.title.get_text(" ")) if soup.title else ""
    notice = _MAINTENANCE.search(f"{page_title} {text}")
    if notice and len(text) <= NOTICE_CHARS:
        raise ParseError(
            f"{what}: the page is a maintenance notice ({notice.group(0)!r}), "
            "not the page's content"
        )


def _published(soup: BeautifulSoup) -> date | None:
    meta = soup.find("meta", attrs={"property": "article:published_time"})
    stamp = meta.get("content") if meta else None
    if not stamp:
        when = soup.find("time", datetime=True)
        stamp = when.get("datetime") if when else None
    if not stamp:
        return None
    try:
        return datetime.fromisoformat(str(stamp).strip().replace("Z", "+00:00")).date()
    except ValueError:
        found = dates_in(str(stamp))
        return found[0] if found else None


def _blocks(main: Tag) -> list[WebBlock]:
    """Block elements in document order, each with its own text (not its sub-blocks')."""
    out: list[WebBlock] = []

    def own_text(tag: Tag) -> str:
        parts: list[str] = []
        for child in tag.children:
            if isinstance(child, NavigableString):
                if type(child) is NavigableString:  # not comments, CDATA, doctypes
                    parts.append(str(child))
            elif isinstance(child, Tag) and child.name not in _BLOCKS:
                if child.name in _CELLS:
                    parts.append(" | " if parts else "")
                if child.name == "br":
                    parts.append(" ")
                parts.append(own_text(child))
        return squash("".join(parts)).strip(" |")

    def walk(tag: Tag) -> None:
        kind = _BLOCKS.get(tag.name)
        if kind is not None:
            text = own_text(tag)
            if text:
                out.append(WebBlock(kind, text))
        for child in tag.children:
            if isinstance(child, Tag):
                walk(child)

    text = own_text(main)
    if text:
        out.append(WebBlock(_BLOCKS.get(main.name, "paragraph"), text))
    for child in main.children:
        if isinstance(child, Tag):
            walk(child)
    return out


def listing_links(body: bytes, url: str, item_paths: tuple[str, ...], what: str) -> list[str]:
    """Paths of the items a listing page links to (same host, under one of ``item_paths``),
    in page order, each once."""
    _, main = _content(body, what)
    host = urlsplit(url).netloc
    out: dict[str, None] = {}
    for anchor in main.find_all("a", href=True):
        try:
            target = urlsplit(urljoin(url, str(anchor["href"])))
        except ValueError:  # an href that is not a URL ("http://[") links nowhere
            continue
        path = target.path.rstrip("/") or "/"
        if target.netloc != host:
            continue
        if any(path.startswith(p) and len(path) > len(p) for p in item_paths):
            out[path] = None
    return list(out)


def page_tree(page: WebPage) -> Node:
    """The page as a tree for the diff engine: one child per block, labelled by position
    (p1, p2, ...), so an inserted paragraph shows as one addition, not a rewrite."""
    fields = (("published", page.published.isoformat()),) if page.published else ()
    children = tuple(Node(f"p{i}", b.kind, text=b.text) for i, b in enumerate(page.blocks, start=1))
    return Node(page.path, "page", page.title, children=children, fields=fields)
