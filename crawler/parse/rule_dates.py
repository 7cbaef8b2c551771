"""Every date a rule's preamble gives: its DATES paragraph ("This rule is effective March 13,
2024, except for ... which are delayed indefinitely"; "Comments must be received on or before
[insert date 60 days after date of publication ...]") and its filing line ("[FR Doc.
2024-02930 Filed 2-8-24; 2:00 pm]"). Pure functions over text.

A date's kind is the nearest word before it in its sentence that says what a date is
("effective", "comments", "objections", "applicable", "incorporation by reference"); a date
after "until", "through" or "to" ends what the sentence's previous date began (a temporary
rule's last day); a date after "published" names another document, not this one's life; a
sentence that moves another rule's effective date is a delay of that rule."""

from __future__ import annotations

import re
from datetime import date, timedelta

from crawler.parse.fr_xml import DOCUMENT_ELEMENTS, delays_in, text_of
from crawler.parse.text import date_spans, fold
from crawler.parse.xml import parse_xml
from crawler.records import DateKind, RuleDate

DATES = "DATES"  # the source of what the preamble's DATES paragraph says
FRDOC = "FRDOC line"
REGULAR_FILING = "08:45"  # the Office of the Federal Register's regular filing time

_SENTENCE_END = re.compile(r"(?<=[.;])\s+(?=[A-Z\[])")
# what a date is, by the word before it; the nearest one wins
_KINDS: tuple[tuple[re.Pattern[str], DateKind | None], ...] = (
    (re.compile(r"\b(?:published|issued|dated)\b", re.I), None),  # another document's date
    (re.compile(r"\b(?:delayed|postponed) from\b", re.I), None),  # the date it had before
    (re.compile(r"\bincorporation by reference\b", re.I), DateKind.IBR_APPROVED),
    (re.compile(r"\bobjections?\b|\bhearings?\b", re.I), DateKind.OBJECTIONS_DUE),
    (re.compile(r"\bcomments?\b", re.I), DateKind.COMMENTS_DUE),
    (re.compile(r"\bapplicab(?:le|ility)\b", re.I), DateKind.APPLICABLE),
    (re.compile(r"\bcompl(?:y|iance)\b", re.I), DateKind.COMPLIANCE),
    (re.compile(r"\beffective\b", re.I), DateKind.EFFECTIVE),
)
# "until 3 p.m. on", "through", "to 5 a.m. on": right before the date, the end of a span
_UNTIL = re.compile(
    r"\b(?:until|through|thru|to)\s+(?:\d{1,2}(?::\d{2})?\s*[ap]\.?\s?m\.?\s*(?:on\s+)?)?$", re.I
)
_AFTER_PUBLICATION = re.compile(
    r"\[\s*insert date\s+(\w+(?:-\w+)?)\s+days\s+after\s+(?:the\s+)?date\s+of\s+"
    r"publication[^\]]*\]",
    re.I,
)
_NUMBER_WORDS = {
    "fifteen": 15,
    "twenty": 20,
    "thirty": 30,
    "forty-five": 45,
    "sixty": 60,
    "seventy-five": 75,
    "ninety": 90,
    "one-hundred-twenty": 120,
}
_NUMBER = re.compile(r"FR\s+Doc\.?\s+(?:No\.?\s*)?([A-Z0-9]+-\d+)")
_INDEFINITELY = re.compile(r"\b(?:delayed|postponed|stayed)\s+indefinitely\b", re.I)
_CFR_CITES = re.compile(r"\b\d+\s+CFR\s+(?:part\s+)?[\d.]+(?:(?:,|,? and)\s+[\d.]+)*", re.I)
_FILED = re.compile(
    r"\bFiled\s+(\d{1,2})-(\d{1,2})-(\d{2,4});?\s*(\d{1,2}):(\d{2})\s*([ap])\.?\s?m\b", re.I
)


def filed(frdoc_line: str) -> RuleDate | None:
    """ "[FR Doc. 2024-02930 Filed 2-8-24; 2:00 pm]" -> filed 2024-02-08T14:00, a special
    filing (any time but the regular 8:45 am); None when the line gives no filing."""
    found = _FILED.search(fold(frdoc_line))
    if found is None:
        return None
    month, day, year, hour, minute, half = found.groups()
    hour_24 = int(hour) % 12 + (12 if half.lower() == "p" else 0)
    full_year = int(year) + (2000 if len(year) == 2 else 0)
    try:
        when = date(full_year, int(month), int(day))
    except ValueError:
        return None
    at = f"{hour_24:02d}:{minute}"
    kind = "regular filing" if at == REGULAR_FILING else "special filing"
    return RuleDate(DateKind.FILED, f"{when.isoformat()}T{at}", kind, FRDOC)


def filings(data: bytes, what: str = "FR XML") -> dict[str, RuleDate]:
    """Each document's filing in an FR XML payload (a daily issue or one document), by its
    FR document number ("2024-02930")."""
    root = parse_xml(data, what)
    out: dict[str, RuleDate] = {}
    documents = [root] if root.tag in DOCUMENT_ELEMENTS else root.iter(*DOCUMENT_ELEMENTS)
    for document in documents:
        line = fold(text_of(document.find(".//FRDOC")))
        number = _NUMBER.search(line)
        when = filed(line)
        if number and when:
            out[number.group(1)] = when
    return out


def preamble_dates(dates: str, published: date | None) -> tuple[RuleDate, ...]:
    """The dates a DATES paragraph gives, in order; ``published`` (the issue date) resolves
    "[insert date 60 days after date of publication ...]"."""
    out: list[RuleDate] = []
    reopened = "reopen" in dates.lower()
    for sentence in _SENTENCE_END.split(fold(dates)):
        delays = delays_in(sentence)
        if delays:
            for delay in delays:
                before = f", from {delay.from_date.isoformat()}" if delay.from_date else ""
                note = f"{delay.citation}{before}"
                out.append(RuleDate(DateKind.DELAYED, delay.to_date.isoformat(), note, DATES))
            continue
        out += _sentence_dates(sentence, published, reopened)
    return tuple(dict.fromkeys(out))


def _sentence_dates(sentence: str, published: date | None, reopened: bool) -> list[RuleDate]:
    out: list[RuleDate] = []
    start, previous = 0, None
    for begin, end, day, computed in _dates(sentence, published):
        window = sentence[start:begin]
        start = end
        kind = _kind(window, previous)
        if kind is None:
            previous = None
            continue
        if kind == DateKind.EFFECTIVE_UNTIL and previous is None:  # "effective from 7:30
            out.append(RuleDate(DateKind.EFFECTIVE, day.isoformat(), "", DATES))  # until 3 on"
        note = computed or _note(kind, sentence, reopened)
        out.append(RuleDate(kind, day.isoformat(), note, DATES))
        previous = kind
    found = _INDEFINITELY.search(sentence)
    if found and "effective" in sentence.lower() and re.search(r"\bexcept\b", sentence, re.I):
        # "effective March 13, 2024, except for ... which are delayed indefinitely": this
        # document's own amendments (another rule's indefinite delay names no date here)
        cited = _CFR_CITES.findall(sentence[: found.start()])
        what = " and ".join(cited) or "some of its amendments"
        out.append(RuleDate(DateKind.EFFECTIVE, None, f"{what}: delayed indefinitely", DATES))
    return out


def _kind(window: str, previous: DateKind | None) -> DateKind | None:
    """What the date after ``window`` is: the nearest telling word before it."""
    if _UNTIL.search(window):
        if previous == DateKind.EFFECTIVE:  # "effective February 9, through December 31"
            return DateKind.EFFECTIVE_UNTIL
        if previous is None and re.search(r"\beffective\s+from\b", window, re.I):
            return DateKind.EFFECTIVE_UNTIL  # "effective from 7:30 a.m. until 3 p.m. on"
        if previous is not None:
            return previous  # "comments by May 1, and reply comments until May 15"
    best: tuple[int, DateKind | None] | None = None
    for pattern, kind in _KINDS:
        for found in pattern.finditer(window):
            if best is None or found.start() > best[0]:
                best = (found.start(), kind)
    if best is None:
        return previous  # "effective April 1, and May 1": the sentence's kind goes on
    return best[1]


def _note(kind: DateKind, sentence: str, reopened: bool) -> str:
    if kind != DateKind.COMMENTS_DUE:
        return ""
    if re.search(r"\bOMB\b|Office of Management and Budget", sentence):
        return "to OMB, on the information collection"
    return "reopened" if reopened else ""


def _dates(sentence: str, published: date | None) -> list[tuple[int, int, date, str]]:
    """The dates of ``sentence`` with where they stand, placeholders resolved (and said)."""
    found = [(begin, end, day, "") for begin, end, day in date_spans(sentence)]
    if published is not None:
        for match in _AFTER_PUBLICATION.finditer(sentence):
            word = match.group(1).lower()
            days = int(word) if word.isdigit() else _NUMBER_WORDS.get(word)
            if days is not None:
                day = published + timedelta(days=days)
                found.append((match.start(), match.end(), day, f"{days} days after publication"))
    return sorted(found)
