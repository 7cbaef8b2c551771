"""Text helpers shared by the parsers: whitespace, typography and dates in prose."""

from __future__ import annotations

import re
from datetime import date

_SPACE = re.compile(r"\s+")
_TYPOGRAPHY = str.maketrans(
    {
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u2015": "-",
        "\u2212": "-",
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u201f": '"',
        "\u00a0": " ",
        "\u2009": " ",
        "\u202f": " ",
        "\u2002": " ",
        "\u2003": " ",
        "\u00ad": None,
    }
)

MONTHS = {
    m: i
    for i, m in enumerate(
        [
            "january",
            "february",
            "march",
            "april",
            "may",
            "june",
            "july",
            "august",
            "september",
            "october",
            "november",
            "december",
        ],
        start=1,
    )
}
_DATE = re.compile(
    r"\b(January|February|March|April|May|June|July|August|September|October|November|"
    r"December|Jan\.|Feb\.|Mar\.|Apr\.|Jun\.|Jul\.|Aug\.|Sept?\.|Oct\.|Nov\.|Dec\.)"
    r"\s+(\d{1,2}),\s+(\d{4})"
)


def squash(text: str) -> str:
    """Collapse runs of whitespace to one space and strip the ends."""
    return _SPACE.sub(" ", text).strip()


def fold(text: str) -> str:
    """The form used for hashing and comparing: whitespace squashed, dashes and quotes plain.

    Two texts that differ only in typography fold to the same string."""
    return squash(text.translate(_TYPOGRAPHY))


def dates_in(text: str) -> list[date]:
    """Every 'Month D, YYYY' date in ``text``, in order; impossible dates are skipped."""
    found = []
    for month, day, year in _DATE.findall(text):
        key = month.rstrip(".").lower()
        number = next((n for name, n in MONTHS.items() if name.startswith(key)), None)
        try:
            found.append(date(int(year), number, int(day)))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            continue
    return found


def _sentences(text: str) -> list[str]:
    return re.split(r"(?<=[.;])\s+(?=[A-Z])", text)


def effective_date(dates_text: str) -> date | None:
    """The effective date named in a DATES/EFFDATE block, if it names one."""
    for sentence in _sentences(dates_text):
        if "effective" in sentence.lower():
            found = dates_in(sentence)
            if found:
                return found[0]
    return None


def comment_deadline(dates_text: str) -> date | None:
    """The comment deadline named in a DATES block ('Comments must be received by ...')."""
    for sentence in _sentences(dates_text):
        lower = sentence.lower()
        if "comment" in lower and ("receiv" in lower or "submit" in lower or " by " in lower):
            found = dates_in(sentence)
            if found:
                return found[-1]
    return None
