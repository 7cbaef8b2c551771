"""Citations in the forms people type -> document keys (DESIGN.md "Identity").

"15 CFR 744.11", "§ 744.11", "744.11", "cfr:15:744.11", "Supp. No. 4 to Part 744",
"15 CFR 744 Supp. No. 4", "Appendix A to Part 107", a whole part "15 CFR 744" or "part 744".
A citation without a title takes it from the store (or the configured watches)."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

from crawler.errors import UsageError
from crawler.keys import CFR_KEY, cfr_key, cfr_unit, readable

_TITLE = re.compile(r"^\s*(\d+)\s*C\.?\s*F\.?\s*R\.?\s*(?:§+|part)?\s*", re.I)
_SUPP = re.compile(
    r"^(?:supp(?:lement)?\.?\s*(?:no\.?)?\s*(\d+)\s*(?:to\s*)?part\s*(\d+)"
    r"|part\s*(\d+)\s*,?\s*supp(?:lement)?\.?\s*(?:no\.?)?\s*(\d+)"
    r"|(\d+)\s*,?\s*supp(?:lement)?\.?\s*(?:no\.?)?\s*(\d+))$",
    re.I,
)
_APPENDIX = re.compile(
    r"^(?:app(?:endix)?\.?\s*([A-Z0-9-]+)\s*(?:to\s*)?part\s*(\d+)"
    r"|(\d+)\s*,?\s*app(?:endix)?\.?\s*([A-Z0-9-]+))$",
    re.I,
)
_SECTION = re.compile(r"^(?:§+\s*|section\s+)?(\d+)\.(\d+[a-z]?)$", re.I)
_PART = re.compile(r"^(?:part\s*)?(\d+)$", re.I)


def parse_citation(text: str, known: Iterable[str], watched_titles: Iterable[int] = ()) -> str:
    """The document key ``text`` names; UsageError (with close matches) if it names none."""
    raw = " ".join(text.split())
    if CFR_KEY.match(raw):
        return _known(raw, raw, known)
    title = None
    head = _TITLE.match(raw)
    rest = raw
    if head:
        title, rest = int(head.group(1)), raw[head.end() :].strip()
    rest = rest.strip().rstrip(".")
    unit = _unit(rest)
    if unit is None:
        raise UsageError(
            f"{text!r} is not a CFR citation; try '15 CFR 744.11', '744.11', "
            "'Supp. No. 4 to Part 744' or '15 CFR 744'"
        )
    known = list(known)
    if title is None:
        candidates = sorted({k for k in known if cfr_unit(k) == unit})
        if len(candidates) == 1:
            return candidates[0]
        titles = list(watched_titles)
        title = titles[0] if len(titles) == 1 else 15
    return _known(cfr_key(title, unit), text, known)


def _unit(rest: str) -> str | None:
    if m := _SUPP.match(rest):
        number, part = (
            (m.group(1), m.group(2))
            if m.group(1)
            else (m.group(4), m.group(3))
            if m.group(3)
            else (m.group(6), m.group(5))
        )
        return f"{part}:supp-{number}"
    if m := _APPENDIX.match(rest):
        letter, part = (m.group(1), m.group(2)) if m.group(1) else (m.group(4), m.group(3))
        return f"{part}:app-{letter.upper()}"
    if m := _SECTION.match(rest):
        return f"{m.group(1)}.{m.group(2)}"
    if m := _PART.match(rest):
        return m.group(1)
    return None


def _known(key: str, typed: str, known: Iterable[str]) -> str:
    known = list(known)
    if key in known or not known:
        return key
    close = difflib.get_close_matches(key, known, n=3, cutoff=0.6)
    hint = f"; close matches: {', '.join(readable(k) for k in close)}" if close else ""
    raise UsageError(f"no {readable(key)} in the store ({typed!r}){hint}")
