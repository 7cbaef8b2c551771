"""The paragraphs of one CFR unit, in document order -> its paragraph tree as the CFR prints it.

Shared by every format that carries regulatory text (eCFR API XML, GPO bulk eCFR, the annual
CFR, a rule's REGTEXT). The format's parser turns its elements into ``Block``s; this module
decides the structure:

- **Inline markers.** "(a) *Scope*—(1) *Commodities.* ..." is (a) with a child (1); "(5)(i)
  The item" is (5) with (i). A marker is split off only where the CFR prints a paragraph's
  first child inline: right after its parent's marker, or after its parent's heading (the
  emphasised run, or a short phrase ending in a dash or a period, where the format has no
  emphasis). Enumerations inside a sentence ("as follows: (1) ...; (2) ...") are left alone.
- **Depth from the marker sequence.** Markers run a, 1, i, A, *1*, *i* by depth; "(i)" may
  be the letter after (h) or the first roman numeral under (8), and "(v)", "(x)" likewise.
  Every reading of the sequence is kept while it stays possible, and the cheapest complete
  one wins (``_Reading``), so what follows decides: "(ii)" next makes "(i)" roman, "(j)" or
  a "(1)" makes it a letter. (The same idea as eRegs' depth derivation: constraints over the
  whole sequence, not a guess per line; this is our own small version of it.)
- **Headings own paragraphs.** An unlabelled heading (HD, or a paragraph that is only bold
  or italic, such as "Category VI—Vessels of War") holds what follows it up to the next
  heading of its level, and starts a fresh marker sequence, so the second "(a)" of a section
  is "Category VI/a", never a position.
- **Notes, footnotes and flush text** belong to the paragraph they follow, or to the one a
  note names ("Note to paragraph (a)(3):"). A list that restarts at (a) after a note or a
  lead-in ("The term includes the following:") is that note's list.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

from crawler.parse.text import fold, from_roman
from crawler.records import Node

OPEN, CLOSE = "\ue000", "\ue001"  # around emphasised text, where the format marks it
STARS = "* * *"  # the label of a rule's elision, kept with ``elisions``


@dataclass(frozen=True, slots=True)
class Block:
    """One block of a unit's text, as its format's parser read it.

    ``kind``: ``paragraph`` (P, FP ...: may start with markers), ``heading`` (``level`` 1-3
    for HD1-HD3, 9 for a paragraph that is only emphasis), ``note`` (``title`` is its
    heading, e.g. "Note to paragraph (a):"), ``footnote``, ``node`` (a table or anything
    already a Node, kept where it stands) or ``top`` (a citation, authority, a DIV: at the
    unit's top level, ending the paragraphs before it)."""

    kind: str
    text: str = ""
    level: int = 0
    title: str = ""
    node: Node | None = None


def plain(text: str) -> str:
    """``text`` without the emphasis marks."""
    if OPEN not in text:
        return text
    return text.replace(OPEN, "").replace(CLOSE, "")


# --- inline markers -------------------------------------------------------------------------

_M = r"[a-z]{1,7}|\d{1,3}|[A-Z]{1,2}"
_LEAD = re.compile(
    rf"{OPEN}?\(\s*({OPEN}?)\s*({_M})\s*{CLOSE}?\s*\){CLOSE}?"
    rf"(?:\s*(?:[-\u2013\u2014]|through|to)\s*\(\s*{OPEN}?\s*({_M})\s*{CLOSE}?\s*\))?"
)
_FIRST = rf"\(\s*{OPEN}?\s*(?:a|1|i|A)\s*{CLOSE}?\s*\)(?=[\s{OPEN}(]|$)"
_ADJACENT = re.compile(rf"(?=\s*{_FIRST})")
_EMPHASISED_HEADING = re.compile(
    rf"\s*{OPEN}[^{OPEN}{CLOSE}]{{1,400}}{CLOSE}\s*(?:[-\u2013\u2014.:,;]\s*)?(?={_FIRST})"
)
_TEXT_HEADING = re.compile(
    rf"\s*[A-Z][^(){OPEN}{CLOSE}]{{0,160}}?(?:[\u2013\u2014]|--|\.)\s*(?={_FIRST})"
)
_HEADING_WORDS = 15
_STARS_ONLY = re.compile(r"^\(\s*\w{1,7}\s*\)(?:\s*\(\s*\w{1,7}\s*\))*\s*(?:\*\s*){3,}$")


@dataclass(frozen=True, slots=True)
class Piece:
    """One paragraph's own text; ``marker`` None for unlabelled text."""

    marker: str | None
    italic: bool = False
    last: str = ""  # the range's end: "(d)-(e) [Reserved]" is (d), and (f) comes next
    text: str = ""
    inline: bool = False  # printed inside its parent's line

    @property
    def elided(self) -> bool:
        """ "(i) * * *": a rule restating where it is, its text left out."""
        return "*" in self.text and _STARS_ONLY.match(self.text) is not None


def pieces(text: str, emphasis: bool) -> list[Piece]:
    """A paragraph's text split at its markers: the leading one(s) and inline first children.
    ``emphasis``: whether the text marks emphasis (then only an emphasised run counts as a
    paragraph heading before an inline marker)."""
    out: list[Piece] = []
    rest = text.lstrip()
    lead = _LEAD.match(rest)
    if lead is None:
        return [Piece(None, text=plain(text).strip())]
    while lead is not None:
        cut = _inline_at(rest, lead.end(), emphasis)
        own = rest if cut is None else rest[:cut]
        marker = lead.group(2)
        italic = bool(lead.group(1)) or rest.startswith(OPEN)
        if not _types(marker, False):  # "(see)", "(US)": not a paragraph marker
            return out if out else [Piece(None, text=plain(text).strip())]
        out.append(Piece(marker, italic, lead.group(3) or marker, plain(own).strip(), bool(out)))
        if cut is None:
            break
        rest = rest[cut:].lstrip()
        lead = _LEAD.match(rest)
    return out


def _inline_at(text: str, start: int, emphasis: bool) -> int | None:
    """Where an inline first child starts after a marker ending at ``start``, if one does."""
    if _ADJACENT.match(text, start):
        after = _LEAD.match(text[start:].lstrip())
        same = after is not None and after.group(2) == _LEAD.match(text).group(2)  # type: ignore[union-attr]
        return None if same else start  # "(1) (1) Limited exclusion": one (1), printed twice
    if emphasis:
        found = _EMPHASISED_HEADING.match(text, start)
    else:
        found = _TEXT_HEADING.match(text, start)
        if found is not None and len(found.group().split()) > _HEADING_WORDS:
            found = None
    return found.end() if found is not None else None


# --- marker types and the sequence ------------------------------------------------------------

LETTER, DIGIT, ROMAN, UPPER, ITALIC_DIGIT, ITALIC_ROMAN = 1, 2, 3, 4, 5, 6
_FIRSTS = {LETTER: "a", DIGIT: "1", ROMAN: "i", UPPER: "A", ITALIC_DIGIT: "1", ITALIC_ROMAN: "i"}
_ROMAN = re.compile(r"m{0,3}(cm|cd|d?c{0,3})(xc|xl|l?x{0,3})(ix|iv|v?i{0,3})")
BARRIER = 0  # a note's own list below the paragraph the note belongs to


@functools.lru_cache(maxsize=4096)
def _types(marker: str, italic: bool) -> tuple[int, ...]:
    if marker.isdigit():
        return (ITALIC_DIGIT,) if italic else (DIGIT, ITALIC_DIGIT)
    if marker.isupper():
        return (UPPER,) if len(set(marker)) == 1 else ()
    is_roman = bool(_ROMAN.fullmatch(marker))
    is_letter = len(set(marker)) == 1 and (len(marker) == 1 or not is_roman)
    if italic:
        return (ITALIC_ROMAN,) if is_roman else (LETTER,)
    return ((LETTER,) if is_letter else ()) + ((ROMAN, ITALIC_ROMAN) if is_roman else ())


@functools.lru_cache(maxsize=4096)
def _ordinal(marker: str, kind: int) -> int:
    if kind in (DIGIT, ITALIC_DIGIT):
        return int(marker)
    if kind in (ROMAN, ITALIC_ROMAN):
        return from_roman(marker)
    return (len(marker) - 1) * 26 + ord(marker[0].lower()) - ord("a") + 1  # a..z, aa..zz


_Stack = tuple[tuple[int, str], ...]

_GAP, _BACKWARDS, _RESTART, _FORCED, _LEAVE_NOTE = 3.0, 8.0, 2.0, 10.0, 0.5
_SKIPPED = 0.3  # markers a rule leaves out after "* * *"
_KEEP = 12  # readings kept at once: ambiguity is rare and short-lived in real text
_MARGIN = 4.0  # a reading costlier than the best by more than a gap is dropped


def _moves(
    stack: _Stack, piece: Piece, after_unlabelled: bool, lead_in: bool, elision: bool = False
) -> list[tuple[_Stack, float]]:
    """Every stack ``piece`` can leave, with the cost of that reading: the next marker of an
    open level (closing what is below it), a gap in a level (cost), the first marker of a
    deeper level, or, right after a note, the first of the note's own list. After text a
    rule leaves out (``elision``: "* * *"), a marker may restate an open paragraph ("(i) * *
    *" again), skip the ones left out, or start a level past its first marker."""
    assert piece.marker is not None
    marker, end = piece.marker, piece.last or piece.marker
    out: list[tuple[_Stack, float]] = []
    top = stack[-1][0] if stack else BARRIER
    kinds = _plausible(_types(marker, piece.italic), piece.italic, stack)
    since_barrier = {k for k, _ in stack[_last_barrier(stack) + 1 :]}
    for kind in kinds:
        if not piece.inline:
            nearest = True
            for k in range(len(stack) - 1, -1, -1):
                if stack[k][0] != kind:
                    continue
                new, old = _ordinal(marker, kind), _ordinal(stack[k][1], kind)
                if new == old + 1:  # leaving a note's list costs: the nearer level wins
                    cost = (0.01 if lead_in else 0.0) + (0.0 if nearest else _LEAVE_NOTE)
                    out.append(((*stack[:k], (kind, end)), cost))
                elif elision and new == old and piece.elided:
                    out.append((stack, 0.0))  # restated: the same paragraph, nothing closed
                elif elision and new > old:
                    out.append(((*stack[:k], (kind, end)), _SKIPPED))
                elif nearest:
                    cost = _GAP + 0.01 * (new - old) if new > old else _BACKWARDS
                    out.append(((*stack[:k], (kind, end)), cost))
                nearest = False
        if marker != _FIRSTS[kind]:
            if elision and kind not in since_barrier and kind > top:
                out.append(((*stack, (kind, end)), _SKIPPED + float(kind - top - 1)))
            continue
        if kind not in since_barrier and kind > top:
            cost = float(kind - top - 1) if top != BARRIER or not stack else 0.0
            if kind in (ROMAN, ITALIC_ROMAN) and not lead_in:
                cost += 0.01  # "(i)" after "(h)": the letter, unless "(h)" leads in
            out.append(((*stack, (kind, end)), cost))
        if after_unlabelled and stack and not piece.inline:
            out.append(((*stack, (BARRIER, ""), (kind, end)), _RESTART))
    if not out:
        out.append(((*stack, ((kinds or (LETTER,))[0], end)), _FORCED))
    return out


def _plausible(kinds: tuple[int, ...], italic: bool, stack: _Stack) -> tuple[int, ...]:
    """``kinds`` without the italic levels a plain marker can only be read as below the level
    before them: a plain "(1)" is an italic-level number only under an (A) (text that lost
    its italics), a plain "(i)" an italic-level numeral only under such a number."""
    if italic or len(kinds) < 2:
        return kinds
    open_kinds = {kind for kind, _ in stack}
    out = tuple(
        kind
        for kind in kinds
        if (kind != ITALIC_DIGIT or UPPER in open_kinds or ITALIC_DIGIT in open_kinds)
        and (kind != ITALIC_ROMAN or ITALIC_DIGIT in open_kinds or ITALIC_ROMAN in open_kinds)
    )
    return out or kinds


def _last_barrier(stack: _Stack) -> int:
    for k in range(len(stack) - 1, -1, -1):
        if stack[k][0] == BARRIER:
            return k
    return -1


_Trail = tuple[_Stack, "_Trail"] | None  # the stacks so far, newest first, shared


def _readings(events: list[Piece | Block]) -> list[_Stack]:
    """The stack after each marked piece in ``events``, by the cheapest reading of all."""
    states: dict[_Stack, tuple[float, _Trail]] = {(): (0.0, None)}
    after_unlabelled = lead_in = elision = False
    for event in events:
        if isinstance(event, Block) and event.kind == "stars":
            elision = True
            continue
        if isinstance(event, Block) or event.marker is None:
            after_unlabelled = True
            lead_in = plain(event.text).rstrip().endswith((":", "\u2014"))
            continue
        nxt: dict[_Stack, tuple[float, _Trail]] = {}
        for stack, (cost, trail) in states.items():
            for new, step in _moves(stack, event, after_unlabelled, lead_in, elision):
                total = cost + step
                if new not in nxt or total < nxt[new][0]:
                    nxt[new] = (total, (new, trail))
        if len(nxt) > 1:  # rare: a marker with more than one reading
            best = min(cost for cost, _ in nxt.values())
            nxt = {k: v for k, v in nxt.items() if v[0] <= best + _MARGIN}
        if len(nxt) > _KEEP:
            nxt = dict(sorted(nxt.items(), key=lambda kv: kv[1][0])[:_KEEP])
        states = nxt
        after_unlabelled, elision = False, event.elided
        lead_in = event.text.rstrip().endswith((":", "\u2014", "-"))
    trail = min(states.values(), key=lambda v: v[0])[1]
    out: list[_Stack] = []
    while trail is not None:
        out.append(trail[0])
        trail = trail[1]
    return out[::-1]


# --- the tree ---------------------------------------------------------------------------------


@dataclass(slots=True)
class _Open:
    label: str
    kind: str
    title: str = ""
    text: str = ""
    children: list[_Open | Node] = field(default_factory=list)
    unlabelled: int = 0
    taken: set[str] = field(default_factory=set)

    def add(self, child: _Open | Node) -> None:
        """Add ``child``; a label its siblings already use gets "~2", "~3" by occurrence."""
        taken = self.taken
        label, n = child.label, 2
        while label in taken:
            label, n = f"{child.label}~{n}", n + 1
        if isinstance(child, _Open):
            child.label = label
        elif label != child.label:
            child = Node(label, child.kind, child.title, child.text, child.children, child.fields)
        taken.add(label)
        self.children.append(child)

    def add_text(self, text: str) -> _Open:
        """Unlabelled text: "p1", "p2" ... among this node's unlabelled children."""
        self.unlabelled += 1
        paragraph = _Open(f"p{self.unlabelled}", "paragraph", "", text)
        self.add(paragraph)
        return paragraph

    def node(self) -> Node:
        kids = tuple(c.node() if isinstance(c, _Open) else c for c in self.children)
        return Node(self.label, self.kind, self.title, self.text, kids)


_NOTE_NAMES = re.compile(r"\bparagraph\s+((?:\([^()\s]{1,4}\))+)", re.I)
_PATH = re.compile(r"\(([^()\s]{1,4})\)")
_NUMBER = r"(?:\d{1,4}[A-Za-z]?|[IVXLCivxlc]{1,7}|[A-Za-z])"
_DESIGNATION = re.compile(
    r"^(?P<word>categor(?:y|ies)|part|subpart|group|division|article|schedule|chapter)\s+"
    rf"(?P<n>{_NUMBER}(?:\s*(?:[-\u2013\u2014]|through|and)\s*{_NUMBER}(?![A-Za-z]))?)"
    r"(?=\s*(?:[-\u2013\u2014:.]|\[|$))",
    re.I,
)


def heading_label(text: str) -> str:
    """A heading's label: its designation when it has one ("Category VI" for "CATEGORY
    VI—VESSELS OF WAR", "Categories IX-XIII"), else its folded text."""
    folded = fold(plain(text))
    found = _DESIGNATION.match(folded)
    if found is None:
        return folded.rstrip(" .:") or "heading"
    word = found.group("word").capitalize()
    number = re.sub(r"\s*(?:[-\u2013\u2014]|through)\s*", "-", found.group("n"))
    if word.startswith("Categor") and re.fullmatch(r"[ivxlc-]+", number, re.I):
        number = number.upper()
    return f"{word} {number}"


def is_designation(label: str) -> bool:
    """Whether a heading's label is a designation ("Category VI", "Subpart A"), which a
    citation runs on with ("§ 447.21 Category VI(a)")."""
    return _DESIGNATION.match(label) is not None and heading_label(label) == label


def note_label(title: str) -> str:
    return fold(plain(title)).rstrip(" :.") or "Note"


class Paragraphs:
    """Collects one unit's blocks; ``finish`` builds its children."""

    def __init__(self) -> None:
        self.blocks: list[Block] = []

    def add(self, block: Block) -> None:
        self.blocks.append(block)

    def add_node(self, node: Node) -> None:
        self.add(Block("top", node=node))

    def finish(
        self, emphasis: bool = True, definitions: bool = False, elisions: bool = False
    ) -> tuple[Node, ...]:
        """The unit's children. ``definitions``: the unit defines terms ("Definitions",
        "Meaning of terms"), so an unlabelled paragraph that starts with a term is that
        term's definition, holding the paragraphs that follow it up to the next term.
        ``elisions``: a rule's "* * *" blocks are kept as ``stars`` nodes."""
        root = _Open("", "unit")
        headings: list[tuple[int, _Open]] = []
        group: list[Block] = []

        def flush() -> None:
            if group:
                _build(group, headings[-1][1] if headings else root, emphasis, elisions)
                group.clear()

        for block in _headings_checked(self.blocks):
            term = _term(block) if definitions else None
            if term is not None:
                flush()
                while headings and headings[-1][0] >= _DEFINITION:
                    headings.pop()
                own, rest = _definition_split(block.text)
                owner = _Open(term, "definition", "", plain(own).strip())
                (headings[-1][1] if headings else root).add(owner)
                headings.append((_DEFINITION, owner))
                if rest:  # "Defense services. (a) The furnishing ...": (a) is the term's
                    group.append(Block("paragraph", rest))
            elif block.kind == "heading":
                flush()
                while headings and headings[-1][0] >= block.level:
                    headings.pop()
                text = plain(block.text).strip()
                owner = _Open(heading_label(block.text), "heading", text)
                (headings[-1][1] if headings else root).add(owner)
                headings.append((block.level, owner))
            elif block.node is not None and block.node.kind == "table" and block.node.title:
                flush()  # a captioned table ("Country Group D") is a heading's peer
                headings.clear()
                root.add(block.node)
            elif block.kind == "top":
                flush()
                headings.clear()
                assert block.node is not None
                root.add(block.node)
            else:
                group.append(block)
        flush()
        return root.node().children


EMPHASIS_HEADING = 9  # the level of a paragraph that is only bold or italic
_NOT_A_HEADING = re.compile(r"^(?:notes?|examples?)\b", re.I)
_FIRST_MARKERS = frozenset(_FIRSTS.values())


def _headings_checked(blocks: list[Block]) -> list[Block]:
    """``blocks`` with a bold or italic paragraph that only looks like a heading made a
    paragraph again: one that starts "Note" or "Example", or that stands inside a list (the
    marker after it carries on the list instead of starting one: "(1) ...", *This paragraph
    does not apply to Cuba.*, "(2) ..."). A heading starts a list afresh or holds text."""
    if not any(b.kind == "heading" and b.level == EMPHASIS_HEADING for b in blocks):
        return blocks
    out: list[Block] = []
    in_list = False
    for i, block in enumerate(blocks):
        if block.kind == "heading" and block.level == EMPHASIS_HEADING:
            after = next((b for b in blocks[i + 1 :] if b.kind == "paragraph"), None)
            lead = _LEAD.match(plain(after.text).lstrip()) if after is not None else None
            carries_on = in_list and lead is not None and lead.group(2) not in _FIRST_MARKERS
            if carries_on or _NOT_A_HEADING.match(plain(block.text).strip()):
                block = Block("paragraph", block.text)
        if block.kind == "heading" or block.kind == "top":
            in_list = False
        elif block.kind == "paragraph" and _LEAD.match(plain(block.text).lstrip()):
            in_list = True
        out.append(block)
    return out


_DEFINITION = 10  # a defined term holds what follows it, below every heading
_TERM = re.compile(
    r"^[\u201c\"]?(?P<term>[A-Za-z][^.\u201c\u201d\":;]{0,80}?)[\u201d\"]?"
    r"(?:\.\s|\.$|,?\s+(?:means|has the meaning|includes)\b)"
)


_NOT_A_TERM = re.compile(  # a lead-in sentence, not a term: "The following definitions apply"
    r"^(?:the following|as used|for (?:the )?purposes|when used|unless|in this|except)\b"
    r"|\b(?:apply|applies|used in)\b",
    re.I,
)
_EMPHASISED_TERM = re.compile(rf"^[\u201c\"]?{OPEN}([^{OPEN}{CLOSE}]{{1,120}}){CLOSE}")


_INLINE_FIRST = re.compile(rf"(?<=[.:\u2014{CLOSE}])\s*(?={_FIRST})")


def _definition_split(text: str) -> tuple[str, str]:
    """A definition's own text and what follows an inline first marker right after its
    lead ("Defense services." and "(a) The furnishing ...")."""
    found = _INLINE_FIRST.search(text)
    if found is None or len(plain(text[: found.start()]).split()) > _HEADING_WORDS:
        return text, ""
    return text[: found.start()], text[found.end() :]


def _term(block: Block) -> str | None:
    """The term an unlabelled paragraph defines: its emphasised lead ("*Control station*
    means ...") or, in plain text, a short lead phrase ("Defense services. ...")."""
    if block.kind != "paragraph":
        return None
    emphasised = _EMPHASISED_TERM.match(block.text.lstrip())
    if emphasised is not None:
        term = fold(emphasised.group(1)).strip(' .,:\u201c\u201d"')
        return term if term and not _LEAD.match(term) else None
    text = plain(block.text).strip()
    found = _TERM.match(text)
    if found is None or _LEAD.match(text) or len(found.group("term").split()) > 8:
        return None
    term = fold(found.group("term")).strip()
    return None if _NOT_A_TERM.search(term) else term


def _restates(stack: _Stack, open_: list[tuple[tuple[int, str], _Open]]) -> bool:
    """Whether ``stack`` names a paragraph already open ("(i) * * *" said again)."""
    return len(stack) <= len(open_) and all(open_[i][0] == stack[i] for i in range(len(stack)))


def _build(blocks: list[Block], owner: _Open, emphasis: bool, elisions: bool) -> None:
    """One heading's run of blocks, with its markers read as one sequence, into ``owner``.
    ``elisions``: keep each "* * *" of a rule as a ``stars`` node where it stands."""
    events: list[Piece | Block] = []
    for block in blocks:
        if block.kind == "paragraph":
            events += pieces(block.text, emphasis)
        else:
            events.append(block)
    stacks = iter(_readings(events))
    open_: list[tuple[tuple[int, str], _Open]] = []
    paths: list[tuple[str, ...]] = []  # each open paragraph's path of markers
    by_path: dict[tuple[str, ...], _Open] = {}
    last_unlabelled: _Open | None = None

    def deepest() -> _Open:
        return open_[-1][1] if open_ else owner

    for event in events:
        if isinstance(event, Piece) and event.marker is not None:
            stack = next(stacks)
            if event.elided and _restates(stack, open_):
                del open_[len(stack) :], paths[len(stack) :]
                continue
            keep, same = len(stack) - 1, 0
            while same < min(len(open_), keep) and open_[same][0] == stack[same]:
                same += 1
            del open_[same:], paths[same:]
            while len(open_) < keep:  # a barrier: the note just before owns this list
                holder = last_unlabelled or deepest()
                open_.append((stack[len(open_)], holder))
                paths.append(paths[-1] if paths else ())
            paragraph = _Open(event.marker, "paragraph", "", event.text)
            deepest().add(paragraph)
            open_.append((stack[-1], paragraph))
            paths.append((*(paths[-1] if paths else ()), paragraph.label))
            by_path.setdefault(paths[-1], paragraph)
            last_unlabelled = None
        elif isinstance(event, Piece):
            last_unlabelled = deepest().add_text(event.text)
        elif event.kind == "note":
            named = _NOTE_NAMES.search(plain(event.title))
            target = deepest()
            if named:
                path = tuple(_PATH.findall(named.group(1)))
                target = by_path.get(path, target)
            note = _Open(note_label(event.title), "note", plain(event.title).strip(), event.text)
            target.add(note)
            last_unlabelled = note
        elif event.kind == "footnote":
            number = re.match(r"\^?(\w{1,4})\b", event.text)
            label = f"Footnote {number.group(1)}" if number else "Footnote"
            deepest().add(_Open(label, "footnote", "", event.text))
        elif event.kind == "node":
            assert event.node is not None
            deepest().add(event.node)
        elif event.kind == "stars":
            if elisions:  # beside the last paragraph given: the rest of its parent left out
                (open_[-2][1] if len(open_) > 1 else owner).add(_Open(STARS, "stars"))
        else:  # flush text (FP) and other unlabelled blocks
            last_unlabelled = deepest().add_text(plain(event.text).strip())
