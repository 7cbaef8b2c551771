"""AMDPAR prose as a sequence of tokens: verbs, units, paragraph groups, portions, phrases.

Quoted text is lifted out first and stands in the token stream as a phrase, so nothing inside
quotes (a citation being replaced, a defined term) is ever read as a target.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from crawler.parse.text import fold

_QUOTE = re.compile(r'"([^"]*)"')
_SPACED_LABEL = re.compile(r"\(\s*([A-Za-z0-9]{1,5})\s*\)")
_NUMBERING = re.compile(r"^\s*(?:(\d+)\.|([a-z]{1,4})\.|\((\d+|[a-z]{1,4})\))\s+")

SEC = r"\d+\.(?:[A-Z]+)?\d+(?:[A-Za-z]\d*)*(?:-[A-Za-z0-9]+)?"
GROUP = r"(?:\(\w{1,5}\))+"
_JOIN = r"\s*(?:,\s*and|,|and|or|through|;\s*and)\s*"
_Q = r"\x01\d+\x02"
_ORD = r"first|second|third|fourth|fifth|sixth|seventh|eighth|last|final"

_TOKEN = re.compile(
    rf"""
    (?P<noop>newly\s+(?:re)?designated|as\s+follows|as\s+set\s+forth|respectively
        |(?:and\s+)?transfer(?:red)?\s+to\s+subpart\s+[A-Z]+|to\s+subpart\s+[A-Z]+\b
        |before\s+the\s+entry\s+for\s+{_Q}|between\s+the\s+words\s+\w+\s+and\s+\w+)
  | (?P<footnote>(?:the\s+)?footnote\s+(?P<footnote_no>\d+))
  | (?P<unreadable>\bfootnote\b|sentences\s+that\s+follow
        |\b(?:the\s+)?(?:semicolons?|periods|commas)\b(?!\s+in\s+their)|\bentries\b)
  | (?P<auth>authority\s+citation(?:\s+(?:for|of)\s+(?:\d+\s+CFR\s+)?part\s+(?P<auth_part>\d+)
        (?:,\s*subpart\s+[A-Z]+)?|\s+(?:immediately\s+)?(?P<auth_rel>preceding|following|before|after)
        \s+paragraph\s+(?P<auth_para>{GROUP})|\s+at\s+the\s+end\s+of\s+the\s+section)?)
  | (?P<appendix>appendix\s+(?P<app_id>[A-Z0-9]+)\s+to\s+
        (?:subpart\s+[A-Z]+\s+of\s+)?part\s+(?P<app_part>\d+))
  | (?P<supplement>supplement\s+no\.?\s*(?P<supp_id>\d+)\s+to\s+part\s+(?P<supp_part>\d+))
  | (?P<sections>(?:§§?|\bsections?\b)\s*(?P<sect_list>{SEC}(?:{_JOIN}{SEC})*))
  | (?P<subpart>\bsubpart\s+(?P<subpart_id>[A-Z]{{1,3}})\b)
  | (?P<chapter>\bchapter\s+(?P<chapter_id>[IVXLC]+)\b)
  | (?P<part>\bparts?\s+(?P<part_no>\d+)\b)
  | (?P<category>\bin\s+(?P<cat>category\s+[IVXLC]+[A-Z]?)\b)
  | (?P<under>\bunder\s+(?:the\s+heading\s+)?(?P<under_q>{_Q}))
  | (?P<under_caps>\bunder\s+
        (?P<under_name>(?-i:[A-Z][A-Z.,'&-]*(?:\s+[A-Z][A-Z.,'&-]*)*[A-Z.]))(?=[\s,]))
  | (?P<definitions>definitions?(?:,?\s+in\s+alphabetic(?:al)?\s+order,?)?\s+(?:of|for)\s+
        (?P<defs>{_Q}(?:\s*(?:,\s*and|,|and)\s*{_Q})*))
  | (?P<entry>(?:an?\s+|the\s+)?(?:new\s+|\w+\s+)?entry\s+for\s+(?P<entry_q>{_Q}))
  | (?P<rate_set>rate\s+set\s+(?P<rate_no>\d+))
  | (?P<note>(?:(?:a|the)\s+)?(?:(?P<note_ord>{_ORD})\s+)?\x03)
  | (?P<after>after\s+(?:the\s+)?(?:newly\s+inserted\s+|newly\s+redesignated\s+)?
        paragraph\s+(?P<after_para>{GROUP}))
  | (?P<intro>introductory\s+text(?P<intro_of>\s+(?:of|to|in|for)\b)?)
  | (?P<sect_heading>(?:the\s+)?section\s+heading)
  | (?P<heading>(?:the\s+|a\s+)?(?:subject\s+)?heading(?P<heading_of>\s+(?:of|for|to)\b)?)
  | (?P<sentence>(?:the\s+|a\s+)?(?:new\s+)?
        (?P<sent>(?:{_ORD})(?:\s+and\s+(?:{_ORD}))?)\s+sentences?
        (?P<sent_of>\s+(?:of|to|in)\s+(?=(?:the\s+)?(?:newly\s+\w+\s+)?paragraph))?)
  | (?P<airworthiness>(?:new\s+)?airworthiness\s+directive)
  | (?P<verb>(?P<passive>\b(?:is|are|be)\s+)?
        (?P<word>remov(?:e|es|ed|ing)\s+and\s+reserv(?:e|es|ed|ing)
        |add(?:s|ed|ing)?\s+in\s+(?:its|their)\s+places?|add(?:s|ed|ing)?(?:\s+in\s+its\s+place)?
        |revis\w*|remov\w*|reserv\w*|redesignat\w*|designat\w*|amend\w*|continues?)\b
        (?:\s+(?:(?:the|a|new|words?|phrases?|citations?|abbreviations?|references?|terms?|text)\s+)*
        \x01(?P<verb_q>\d+)\x02)?)
  | (?P<as>\bas\b)
  | (?P<paragraphs>(?:paragraphs?\s+)?(?P<groups>{GROUP}(?:{_JOIN}{GROUP})*))
    """,
    re.IGNORECASE | re.VERBOSE,
)


@dataclass(frozen=True)
class Token:
    """One piece of an instruction: its kind (the regex alternative), the matched groups."""

    kind: str
    start: int
    end: int
    groups: dict[str, str | None]


@dataclass(frozen=True)
class Prose:
    """An instruction's text normalised for reading: quotes lifted out, numbering split off."""

    text: str  # folded, with quotes as \x01N\x02 and the word "Note" in quotes as \x03
    number: str | None
    quotes: tuple[str, ...]


def prepare(raw: str) -> Prose:
    """Fold typography, close up spaced labels "( 3 )", split off the numbering, lift quotes."""
    text = _SPACED_LABEL.sub(r"(\1)", fold(raw).replace("\u2019", "'"))
    numbering = _NUMBERING.match(text)
    number = None
    if numbering:
        number = next(g for g in numbering.groups() if g)
        number = f"({number})" if numbering.group(3) else number
        text = text[numbering.end() :]
    quotes: list[str] = []

    def lift(match: re.Match[str]) -> str:
        if match.group(1).strip().lower() == "note":
            return "\x03"
        quotes.append(match.group(1))
        return f"\x01{len(quotes) - 1}\x02"

    return Prose(text=_QUOTE.sub(lift, text), number=number, quotes=tuple(quotes))


def tokens(prose: Prose) -> list[Token]:
    """The instruction's tokens in reading order ("paragraph (c) of § 4.9": the section first)."""
    found = [
        Token(str(m.lastgroup), m.start(), m.end(), m.groupdict())
        for m in _TOKEN.finditer(prose.text)
    ]
    found = [_kind_of(t) for t in found]
    for i in range(len(found) - 1):
        first, second = found[i], found[i + 1]
        gap = prose.text[first.end : second.start].strip().lower()
        if first.kind == "paragraphs" and second.kind in _UNITS and gap == "of":
            found[i], found[i + 1] = second, first
    return found


_UNITS = ("sections", "appendix", "supplement", "subpart", "chapter")
_TOP = (
    "noop",
    "footnote",
    "unreadable",
    "auth",
    "appendix",
    "supplement",
    "sections",
    "subpart",
    "chapter",
    "part",
    "category",
    "under",
    "under_caps",
    "definitions",
    "entry",
    "rate_set",
    "note",
    "after",
    "intro",
    "sect_heading",
    "heading",
    "sentence",
    "airworthiness",
    "verb",
    "as",
    "paragraphs",
)


def _kind_of(token: Token) -> Token:
    """``lastgroup`` names the innermost group that closed last; use the top alternative."""
    kind = next(k for k in _TOP if token.groups.get(k) is not None)
    return Token(kind, token.start, token.end, token.groups)
