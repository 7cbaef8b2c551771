"""Safe XML parsing shared by every parser: no entities, no network, no recovery."""

from __future__ import annotations

from lxml import etree

from crawler.errors import ParseError

_PARSER = etree.XMLParser(
    resolve_entities=False,
    no_network=True,
    load_dtd=False,
    recover=False,
    huge_tree=True,
    remove_comments=True,
    remove_pis=True,
)


def parse_xml(data: bytes, what: str) -> etree._Element:
    """Parse ``data`` strictly; a truncated, malformed or HTML payload is a ParseError."""
    head = data[:512].lstrip().lower()
    if not head:
        raise ParseError(f"{what}: empty response where XML was expected")
    if head.startswith(b"<!doctype html") or head.startswith(b"<html"):
        raise ParseError(f"{what}: got an HTML page where XML was expected")
    try:
        return etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise ParseError(f"{what}: malformed or truncated XML ({exc.msg})") from None
