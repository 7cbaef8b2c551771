"""Paragraph paths in amendatory instructions: partial labels completed, ranges expanded.

The CFR nests paragraphs as (a) -> (1) -> (i) -> (A) -> (1) -> (i). An instruction names
"(d)(1) and (2)" or "(k)(1) through (3)": the later groups are completed from the group before
them at the level their first label belongs to ("(2)" is a sibling of "(1)", never a new top).
"""

from __future__ import annotations

import re
import string

from crawler.parse.text import from_roman, roman

Path = tuple[str, ...]

_ROMAN = re.compile(r"^(?=[ivxl])(x{0,3})(ix|iv|v?i{0,3})$")


def is_roman(label: str) -> bool:
    return bool(_ROMAN.match(label))


def level_fits(label: str, level: int) -> bool:
    """Whether ``label`` can sit at nesting ``level`` (0 = (a), 1 = (1), 2 = (i), 3 = (A) ...)."""
    kind = level % 6
    if kind in (1, 4):
        return label.isdigit()
    if kind in (2, 5):
        return is_roman(label)
    if kind == 3:
        return label.isalpha() and label.isupper()
    return label.isalpha() and label.islower() and len(label) <= 2


def complete(group: Path, previous: Path) -> Path:
    """The full path of ``group`` read after ``previous`` in the same instruction."""
    if not previous or (len(group) > 1 and _fits_from(group, 0)):
        return group
    for level in range(len(previous) - 1, -1, -1):
        if level_fits(group[0], level) and _fits_from(group, level):
            return previous[:level] + group
    return group


def _fits_from(group: Path, start: int) -> bool:
    return all(level_fits(label, start + i) for i, label in enumerate(group))


def expand(first: Path, last: Path) -> list[Path] | None:
    """Every path from ``first`` through ``last`` (siblings at the last level), or None when the
    two are not siblings or the range cannot be counted."""
    if len(first) != len(last) or first[:-1] != last[:-1]:
        return None
    level = len(first) - 1
    start, stop = _ordinal(first[-1], level), _ordinal(last[-1], level)
    if start is None or stop is None or stop < start or stop - start > 200:
        return None
    return [(*first[:-1], _label(n, first[-1], level)) for n in range(start, stop + 1)]


def _ordinal(label: str, level: int) -> int | None:
    if label.isdigit():
        return int(label)
    if level % 6 in (2, 5) and is_roman(label):
        return from_roman(label)
    if len(label) == 1 and label.isalpha():
        return string.ascii_lowercase.index(label.lower()) + 1
    if len(label) == 2 and label[0] == label[1] and label.isalpha():
        return 26 + string.ascii_lowercase.index(label[0].lower()) + 1
    return None


def _label(n: int, like: str, level: int) -> str:
    if like.isdigit():
        return str(n)
    if level % 6 in (2, 5) and is_roman(like):
        return roman(n)
    letter = string.ascii_lowercase[(n - 1) % 26] * (1 + (n - 1) // 26)
    return letter.upper() if like.isupper() else letter
