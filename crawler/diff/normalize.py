"""What counts as noise: whitespace, dash and quote typography, page-break markers."""

from __future__ import annotations

import re

from crawler.parse.text import fold

_PAGE_MARKERS = re.compile(r"\[\[Page \d+\]\]|\[\*\*\*PAGE \d+\*\*\*\]")
_DASH_SPACING = re.compile(r" ?- ?")


def quiet(text: str) -> str:
    """The form in which two texts that differ only by noise are equal: page markers gone,
    whitespace squashed, dashes and quotes plain, no spaces around dashes ("PART 107 - X"
    and "PART 107—X" are one heading). Superscript and subscript marks ("^1", "10^-4",
    "H_{2}O") are never folded: an Entity List footnote mark changes an entry's legal scope."""
    if "[[Page" in text or "PAGE" in text:
        text = _PAGE_MARKERS.sub(" ", text)
    text = fold(text)
    return _DASH_SPACING.sub("-", text) if "-" in text else text


def substantive(old: str, new: str, ops: tuple) -> bool:
    """Whether ``old`` -> ``new`` is more than noise. When the letters and digits deleted
    differ from those inserted, it is (typography never changes them) unless a page marker
    is involved; otherwise the quiet forms decide."""
    deleted = "".join(op.text for op in ops if op.op == "delete")
    inserted = "".join(op.text for op in ops if op.op == "insert")
    if "Page" in deleted + inserted or "PAGE" in deleted + inserted:
        return quiet(old) != quiet(new)
    if [c for c in deleted if c.isalnum()] != [c for c in inserted if c.isalnum()]:
        return True
    return quiet(old) != quiet(new)
