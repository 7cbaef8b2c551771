"""Amendatory instructions (AMDPAR) read from their prose.

AMDPAR is not machine-readable (SOURCES.md 2). Two readings:

- ``parse_instructions`` (issue 12): a REGTEXT's instructions, in order and in context, as
  typed operations (``amdpar_ops``) on fully qualified targets - title, part, section /
  appendix / supplement / subpart, heading, paragraph path, portion - or, when an instruction
  can't be read completely, flagged with the reason and kept as text;
- ``parse_amendment``: one instruction alone, as the verbs and the targets it names
  (``744.11``, ``744.11(a)(1)``, ``744:supp-4``, ``744``): what a document says it touches
  (its listing) and which Entity List supplement a rule amends.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from crawler.parse.amdpar_context import Context, ContextStack
from crawler.parse.amdpar_ops import Instruction
from crawler.parse.amdpar_reader import read_instruction
from crawler.parse.amdpar_tokens import prepare
from crawler.parse.text import fold
from crawler.records import Amendment

_NUMBER = re.compile(r"^\s*(\d+[a-z]?)\.\s")
_VERBS = {
    "revise": "revise",
    "revising": "revise",
    "revised": "revise",
    "add": "add",
    "adding": "add",
    "added": "add",
    "remove": "remove",
    "removing": "remove",
    "removed": "remove",
    "reserve": "reserve",
    "reserving": "reserve",
    "reserved": "reserve",
    "redesignate": "redesignate",
    "redesignating": "redesignate",
    "redesignated": "redesignate",
    "amend": "amend",
    "amending": "amend",
    "amended": "amend",
    "continues": "continue",
    "continue": "continue",
    "revises": "revise",
    "adds": "add",
    "removes": "remove",
    "amends": "amend",
}
_TOKENS = re.compile(
    r"""
    (?P<supp>supplement\s+no\.?\s*(?P<supp_no>\d+)\s+to\s+part\s+(?P<supp_part>\d+))
  | (?P<sect>(?:§+|\bsections?)\s*
        (?P<sect_list>\d+\.\d+[a-z]?(?:\s*(?:,|and|through|or)\s*\d+\.\d+[a-z]?)*))
  | (?P<partref>\bparts?\s+(?P<part_no>\d+)\b)
  | (?P<para>\bparagraphs?\s+(?P<labels>\([a-zA-Z0-9]+\)(?:\([a-zA-Z0-9]+\))*
        (?:\s*(?:,|and|or|through|,\s*and)\s*\([a-zA-Z0-9]+\)(?:\([a-zA-Z0-9]+\))*)*))
    """,
    re.IGNORECASE | re.VERBOSE,
)
_LABEL_GROUP = re.compile(r"(?:\([a-zA-Z0-9]+\))+")
_SECTION_NO = re.compile(r"\d+\.\d+[a-z]?")


def parse_amendment(text: str) -> Amendment:
    """One AMDPAR's text -> Amendment with its number, verbs and targets (in order, unique)."""
    plain = fold(text)
    number = _NUMBER.match(plain)
    words = re.findall(r"[a-z]+", plain.lower())
    verbs = tuple(dict.fromkeys(_VERBS[w] for w in words if w in _VERBS))
    return Amendment(
        text=plain,
        number=number.group(1) if number else None,
        verbs=verbs,
        targets=tuple(dict.fromkeys(_targets(plain))),
    )


def _targets(text: str) -> list[str]:
    found: list[str] = []
    section: str | None = None
    for match in _TOKENS.finditer(text):
        if match.group("supp"):
            section = f"{match.group('supp_part')}:supp-{match.group('supp_no')}"
            found.append(section)
        elif match.group("sect"):
            numbers = _SECTION_NO.findall(match.group("sect_list"))
            found.extend(numbers)
            section = numbers[-1]
        elif match.group("partref"):
            if section is None:
                found.append(match.group("part_no"))
        elif match.group("para") and section is not None:
            for labels in _LABEL_GROUP.findall(match.group("labels")):
                found.append(f"{section}{labels}")
    return found


# --- Amendatory instructions as operations -------------------------------------------------
#
# parse_instructions reads a REGTEXT's AMDPARs in order into Instructions: typed operations on
# fully qualified targets (amdpar_ops). Context carries from an instruction to the lettered or
# numbered sub-instructions under it ("2. Amend § 447.21:", "d. In Category VI:", "(1) Revise
# paragraph (a);"). The token reading is in amdpar_reader.


def parse_instructions(
    texts: Iterable[str], title: str | None, part: str | None
) -> tuple[Instruction, ...]:
    """Every AMDPAR of one REGTEXT (or one document), in order, read into operations; an
    instruction that can't be read completely comes back flagged with the reason, never dropped."""
    stack = ContextStack(base=Context(title=title, part=part))
    found = []
    for text in texts:
        prose = prepare(text)
        depth = stack.depth_of(prose.number)
        instruction, own = read_instruction(text, prose, stack.inherited(depth))
        stack.push(depth, own, prose.number)
        found.append(instruction)
    return tuple(found)
