"""What counts as noise: whitespace, dash and quote typography, page-break markers."""

from __future__ import annotations

import re

from crawler.parse.text import fold

_PAGE_MARKERS = re.compile(r"\[\[Page \d+\]\]|\[\*\*\*PAGE \d+\*\*\*\]")
_DASH_SPACING = re.compile(r" ?- ?")


def quiet(text: str) -> str:
    """The form in which two texts that differ only by noise are equal: page markers gone,
    whitespace squashed, dashes and quotes plain, no spaces around dashes ("PART 107 - X"
    and "PART 107—X" are one heading)."""
    return _DASH_SPACING.sub("-", fold(_PAGE_MARKERS.sub(" ", text)))


def is_noise(old: str, new: str) -> bool:
    return old != new and quiet(old) == quiet(new)
