"""The context an amendatory instruction hands to the sub-instructions under it.

"2. Amend § 447.21:" names the section for "a.", "b." ...; "d. In Category VI:" names the
heading for "(1)", "(2)" ...; a new "e." drops what "d." named. A one-letter "i." is the letter
after "h." or else the first roman sub-instruction under a letter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from crawler.parse.amdpar_ops import Target

_ROMANS = {"i": "h", "v": "u", "x": "w"}  # a one-letter roman numeral and the letter before it
_DEPTH_ROMAN = re.compile(r"^(?:ii|iii|iv|vi|vii|viii|ix|xi|xii)$")


@dataclass(frozen=True)
class Context:
    """What an instruction hands to the sub-instructions under it."""

    title: str | None
    part: str | None
    units: tuple[Target, ...] = ()
    heading: str | None = None
    paragraphs: tuple[Target, ...] = ()


@dataclass
class ContextStack:
    """Contexts by numbering depth: 0 "2.", 1 "a.", 2 "(1)", 3 "i."."""

    base: Context
    levels: dict[int, Context] = field(default_factory=dict)
    last_letter: str = ""

    def depth_of(self, number: str | None) -> int:
        if number is None or number.isdigit():
            return 0
        if number.startswith("("):
            return 2
        if _DEPTH_ROMAN.match(number) or (
            number in _ROMANS and self.last_letter != _ROMANS[number]
        ):
            return 3
        return 1

    def inherited(self, depth: int) -> Context:
        shallower = [d for d in self.levels if d < depth]
        return self.levels[max(shallower)] if shallower else self.base

    def push(self, depth: int, own: Context, number: str | None) -> None:
        self.levels = {d: c for d, c in self.levels.items() if d < depth}
        self.levels[depth] = own
        if depth == 1 and number:
            self.last_letter = number
