"""Text helpers shared by the parsers: control characters, whitespace, typography and dates
in prose. Every text a parser derives from a payload (titles, abstracts, agency names,
paragraphs, table cells, web page text) passes through ``squash`` (or ``fold``, which calls
it), so no control character reaches the store, the feeds or a rendered page."""

from __future__ import annotations

import re
from datetime import date

# C0 controls but tab and newline, DEL, C1 controls, lone surrogates (json.loads makes them
# from "\ud800") and the two non-characters XML 1.0 forbids (U+FFFE, U+FFFF).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
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


def clean(text: str) -> str:
    """``text`` without control characters (tab and newline kept); those that are line or
    field breaks (CR, VT, FF, FS..US, NEL) become a space, so words stay apart."""
    if _CONTROL.search(text) is None:
        return text
    return _CONTROL.sub(lambda m: " " if m.group().isspace() else "", text)


_SLUG = re.compile(r"[^a-z0-9]+")


def slug(text: str, empty: str = "") -> str:
    """ "Entity List: China" -> "entity-list-china": lower-case ASCII letters and digits,
    every run of anything else one hyphen; ``empty`` when nothing is left."""
    return _SLUG.sub("-", text.lower()).strip("-") or empty


def one_line(text: str, limit: int = 200) -> str:
    """Text fit for one line (a mail header, an error line): no CR/LF, squashed, bounded
    (a longer text is cut at a word and ends in an ellipsis)."""
    line = " ".join(text.split())
    if len(line) <= limit:
        return line
    cut = line[: limit - 1]
    word = cut.rsplit(" ", 1)[0]
    return (word if len(word) > limit // 2 else cut).rstrip(" ,;:") + "\u2026"


def squash(text: str) -> str:
    """Collapse runs of whitespace to one space and strip the ends; controls removed."""
    return " ".join(clean(text).split())  # str.split's whitespace is re's \s, and faster


def fold(text: str) -> str:
    """The form used for hashing and comparing: whitespace squashed, dashes and quotes plain.

    Two texts that differ only in typography fold to the same string."""
    return squash(text.translate(_TYPOGRAPHY))


def dates_in(text: str) -> list[date]:
    """Every 'Month D, YYYY' date in ``text``, in order; impossible dates are skipped."""
    return [day for _, _, day in date_spans(text)]


def date_spans(text: str) -> list[tuple[int, int, date]]:
    """Every 'Month D, YYYY' date in ``text`` with where it starts and ends, in order."""
    found = []
    for match in _DATE.finditer(text):
        month, day, year = match.groups()
        key = month.rstrip(".").lower()
        number = next((n for name, n in MONTHS.items() if name.startswith(key)), None)
        try:
            found.append((match.start(), match.end(), date(int(year), number, int(day))))  # type: ignore[arg-type]
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


_NUMERALS = (
    (100, "c"),
    (90, "xc"),
    (50, "l"),
    (40, "xl"),
    (10, "x"),
    (9, "ix"),
    (5, "v"),
    (4, "iv"),
    (1, "i"),
)
_ROMAN = {"i": 1, "v": 5, "x": 10, "l": 50, "c": 100}


def roman(n: int) -> str:
    """``n`` as a lower-case roman numeral, as CFR paragraph markers write it (4 -> "iv")."""
    out = ""
    for value, letters in _NUMERALS:
        while n >= value:
            out, n = out + letters, n - value
    return out


def from_roman(text: str) -> int:
    """The value of a lower-case roman numeral ("iv" -> 4); 0 for other letters."""
    values = [_ROMAN.get(ch, 0) for ch in text]
    return sum(-v if i + 1 < len(values) and v < values[i + 1] else v for i, v in enumerate(values))
