"""JSON payloads decoded, and typed checks on them: each check returns the value in the
type the caller needs, or raises a one-line ParseError naming the payload, the field and
what was expected.

Payloads are untrusted: a field may hold a list where a string is due, null, a number
bigger than any date. These helpers are how a parser says what it expects; a parser never
wraps its own code in a catch-all (a bug must stay a bug, not turn into "bad input").
"""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any

from crawler.errors import ParseError
from crawler.parse.text import squash

JsonObject = dict[str, Any]
CFR_TITLE = re.compile(r"[0-9]{1,2}", re.ASCII)  # the CFR has 50 titles
CFR_PART = re.compile(r"[0-9]{1,5}[A-Za-z]?", re.ASCII)  # '744', '1006', '52a'
ECCN = re.compile(r"\b[0-9][A-E][0-9]{3}\b")  # an Export Control Classification Number, '3A090'
FR_CITATION = re.compile(r"\b(\d{1,3}) FR (\d{1,6})\b")  # '91 FR 70101': volume, page


def load_json(data: bytes, what: str) -> Any:
    """Decode a JSON payload; an HTML page or garbage is a one-line ParseError."""
    head = data[:256].lstrip().lower()
    if head.startswith((b"<!doctype", b"<html", b"<?xml", b"<")):
        title = re.search(rb"<title>(.*?)</title>", data[:4096], re.I | re.S)
        said = f" ({squash(title.group(1).decode('utf-8', 'replace'))!r})" if title else ""
        raise ParseError(f"{what}: got an HTML/XML page where JSON was expected{said}")
    try:
        text = data.decode("utf-8-sig")  # JSON is UTF-8 (RFC 8259 8.1)
        return json.loads(_LONE_SURROGATE.sub(_keep_pairs, text))
    except UnicodeDecodeError:
        raise ParseError(f"{what}: malformed JSON (not UTF-8 text)") from None
    except json.JSONDecodeError as exc:
        raise ParseError(f"{what}: malformed JSON ({exc})") from None
    except ValueError:  # what Python refuses to read: an integer of over 4,300 digits
        raise ParseError(f"{what}: malformed JSON (a number too long to read)") from None
    except RecursionError:
        raise ParseError(f"{what}: malformed JSON (nested too deeply)") from None


_LONE_SURROGATE = re.compile(
    r"(\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2})|\\u[dD][89a-fA-F][0-9a-fA-F]{2}"
)


def _keep_pairs(match: re.Match[str]) -> str:
    """A surrogate pair escape stays; a lone one (no text can hold it) becomes U+FFFD."""
    return match.group(1) or r"\ufffd"


def load_object(data: bytes, what: str, holding: str) -> JsonObject:
    """A payload that must be one JSON object (``holding``: the key it is read for)."""
    return expect_object(load_json(data, what), what, holding)


def kind_of(value: Any) -> str:
    """How a JSON value is named in messages: 'a list', 'a number', 'null' ..."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def shown(value: Any) -> str:
    """A value for a one-line message: repr'd, cut to 60 characters."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def expect_object(obj: Any, what: str, holding: str = "") -> JsonObject:
    """``obj`` itself must be a JSON object (``holding``: the key it is read for)."""
    if not isinstance(obj, dict):
        with_key = f" with {holding!r}" if holding else ""
        raise ParseError(f"{what}: expected a JSON object{with_key}, got {kind_of(obj)}")
    return obj


def _field(obj: JsonObject, key: str, required: bool, what: str) -> Any:
    value = obj.get(key)
    if value is None and required:
        said = "missing" if key not in obj else "null"
        raise ParseError(f"{what}: field {key!r} is {said}")
    return value


def _wrong(key: str, expected: str, value: Any, what: str) -> ParseError:
    return ParseError(f"{what}: field {key!r} should be {expected}, got {kind_of(value)}")


def expect_str(obj: JsonObject, key: str, what: str, required: bool = True) -> str:
    """A string field; an absent optional one (or null) is ''."""
    value = _field(obj, key, required, what)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _wrong(key, "a string", value, what)
    if required and not value.strip():
        raise ParseError(f"{what}: field {key!r} is empty")
    return value


def optional_str(obj: JsonObject, key: str, what: str) -> str | None:
    """A string field that may be absent, null or empty (then None)."""
    return expect_str(obj, key, what, required=False) or None


MAX_COUNT = 10**9  # far above any count an API gives; bounds arithmetic on it


def expect_int(obj: JsonObject, key: str, what: str, required: bool = True) -> int:
    """A whole number from 0 to MAX_COUNT (true/false and 2.5 are not); absent optional: 0."""
    value = _field(obj, key, required, what)
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_COUNT:
        shown_as = shown(value) if isinstance(value, int | float) else kind_of(value)
        raise ParseError(
            f"{what}: field {key!r} should be a whole number from 0 to {MAX_COUNT:,}, "
            f"got {shown_as}"
        )
    return value


def expect_bool(obj: JsonObject, key: str, what: str) -> bool:
    """true/false; absent or null is false."""
    value = obj.get(key)
    if value is not None and not isinstance(value, bool):
        raise _wrong(key, "true or false", value, what)
    return bool(value)


def expect_list(obj: JsonObject, key: str, what: str, required: bool = True) -> list[Any]:
    """A list field; an absent optional one (or null) is []."""
    value = _field(obj, key, required, what)
    if value is None:
        return []
    if not isinstance(value, list):
        raise _wrong(key, "a list", value, what)
    return value


def expect_date(obj: JsonObject, key: str, what: str) -> date:
    """A required 'YYYY-MM-DD' field."""
    return as_date(_field(obj, key, True, what), key, what)


def optional_date(obj: JsonObject, key: str, what: str) -> date | None:
    """A 'YYYY-MM-DD' field that may be absent, null or '' (then None)."""
    value = obj.get(key)
    return None if value in (None, "") else as_date(value, key, what)


def as_date(value: Any, key: str, what: str) -> date:
    """``value`` as a date, if it is a 'YYYY-MM-DD' string."""
    if not isinstance(value, str):
        raise _wrong(key, "a date (YYYY-MM-DD)", value, what)
    try:
        if len(value) == 10:
            return date.fromisoformat(value)
    except ValueError:
        pass
    raise ParseError(f"{what}: field {key!r} is not a date (YYYY-MM-DD): {shown(value)}")


def str_items(obj: JsonObject, key: str, what: str) -> tuple[str, ...]:
    """A list of strings (an absent or null list is empty)."""
    items = expect_list(obj, key, what, required=False)
    for item in items:
        if not isinstance(item, str):
            raise ParseError(f"{what}: {key!r} should list strings, got {kind_of(item)} in it")
    return tuple(items)


def objects(obj: JsonObject, key: str, what: str, required: bool = False) -> list[JsonObject]:
    """A list of JSON objects (an absent optional list is empty)."""
    items = expect_list(obj, key, what, required)
    for item in items:
        if not isinstance(item, dict):
            raise ParseError(f"{what}: {key!r} should list objects, got {kind_of(item)} in it")
    return items
