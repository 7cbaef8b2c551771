"""Safe XML parsing shared by every parser: no entities, no network, no recovery."""

from __future__ import annotations

import re

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


MAX_DEPTH = 200  # real FR and eCFR XML nest about 15 deep; the parsers walk recursively
_TOO_DEEP = etree.XPath("boolean(" + "/".join(["*"] * MAX_DEPTH) + ")")

# What XML 1.0 forbids (C0 controls but tab/LF/CR, U+FFFE, U+FFFF, surrogates), as raw UTF-8
# or as a character reference, is dropped before parsing: a stray control character costs
# that character, never the document. The raw payload is stored as fetched.
_C0 = bytes(range(0x09)) + b"\x0b\x0c" + bytes(range(0x0E, 0x20))
_NONCHARS = (b"\xef\xbf\xbe", b"\xef\xbf\xbf")  # U+FFFE, U+FFFF in UTF-8
# references that may name a forbidden character (0-31, D800-DFFF, FFFE-F, huge); _allowed
# decides. Common ones (&#xA7; &#x2014;) don't match, so big payloads stay fast.
_CHAR_REF = re.compile(
    rb"&#(?:[xX]0*(1?[0-9a-fA-F]|[dD][89a-fA-F][0-9a-fA-F]{2}|[fF]{3}[eEfF]|[0-9a-fA-F]{6,})"
    rb"|0*([12]?[0-9]|3[01]|5[5-7][0-9]{3}|6553[45]|[0-9]{7,}));"
)
_UTF16 = (b"\xff\xfe", b"\xfe\xff")


def _allowed(code: int) -> bool:
    return (
        code in (9, 10, 13)
        or 0x20 <= code <= 0xD7FF
        or 0xE000 <= code <= 0xFFFD
        or (0x10000 <= code <= 0x10FFFF)
    )


def _drop_forbidden(ref: re.Match[bytes]) -> bytes:
    code = int(ref[1], 16) if ref[1] else int(ref[2])
    return ref[0] if _allowed(code) else b""


def xml_chars_only(data: bytes) -> bytes:
    """``data`` (UTF-8 or another ASCII-compatible encoding) without the characters XML 1.0
    forbids, raw or as character references."""
    if data.startswith(_UTF16):
        return data
    data = data.translate(None, _C0)
    for nonchar in _NONCHARS:
        if nonchar in data:
            data = data.replace(nonchar, b"")
    return _CHAR_REF.sub(_drop_forbidden, data) if b"&#" in data else data


def parse_xml(data: bytes, what: str) -> etree._Element:
    """Parse ``data`` strictly; a truncated, malformed, HTML or absurdly nested payload is a
    ParseError."""
    root = _parse(data, what)
    if _TOO_DEEP(root):
        raise ParseError(f"{what}: XML nested more than {MAX_DEPTH} elements deep")
    return root


def _parse(data: bytes, what: str) -> etree._Element:
    head = data[:512].lstrip().lower()
    if not head:
        raise ParseError(f"{what}: empty response where XML was expected")
    if head.startswith(b"<!doctype html") or head.startswith(b"<html"):
        raise ParseError(f"{what}: got an HTML page where XML was expected")
    try:
        return etree.fromstring(xml_chars_only(data), _PARSER)
    except etree.XMLSyntaxError as exc:
        raise ParseError(f"{what}: malformed or truncated XML ({exc.msg})") from None
