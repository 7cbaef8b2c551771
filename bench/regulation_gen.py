"""A seeded generator of regulation-like eCFR XML pairs with planted edits (bench/diff.py).

The old version is a part of subparts, sections and labelled paragraphs; the new version
has word swaps, paragraphs inserted and deleted at the end of sections, and one section
moved to another subpart. Every edit is recorded, so the diff can be checked against it.
"""

from __future__ import annotations

import copy
import random
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

WORDS = [
    "export",
    "reexport",
    "transfer",
    "license",
    "exception",
    "item",
    "entity",
    "destination",
    "end",
    "user",
    "technology",
    "software",
    "commodity",
    "control",
    "classification",
    "number",
    "foreign",
    "direct",
    "product",
    "national",
    "security",
    "regional",
    "stability",
    "anti",
    "terrorism",
    "review",
    "policy",
    "presumption",
    "denial",
    "approval",
    "case",
    "basis",
    "requirement",
    "applies",
    "subject",
    "regulations",
    "section",
    "paragraph",
    "authorized",
    "person",
    "country",
    "group",
    "supplement",
    "list",
    "controlled",
    "specially",
    "designed",
    "military",
    "intelligence",
    "aircraft",
    "vessel",
    "component",
    "part",
    "accessory",
    "attachment",
]
LETTERS = "abcdefghijklmnopqrstuvwxyz"


@dataclass
class Para:
    label: str
    text: str
    children: list[Para] = field(default_factory=list)


@dataclass
class Section:
    number: str
    subject: str
    paras: list[Para]


@dataclass(frozen=True)
class Edit:
    kind: str  # swap, insert, delete, move
    path: tuple[str, ...]
    old_path: tuple[str, ...] | None = None
    old_word: str = ""
    new_word: str = ""


def _sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."


def _part(rng: random.Random, size: int, part: str = "999") -> list[tuple[str, list[Section]]]:
    subparts: list[tuple[str, list[Section]]] = []
    total, number = 0, 1
    while total < size:
        sections = []
        for _ in range(20):
            paras = []
            for i in range(rng.randint(3, 7)):
                kids = [
                    Para(str(j + 1), f"({j + 1}) " + _sentence(rng, rng.randint(15, 40)))
                    for j in range(rng.choice((0, 0, 2, 3)))
                ]
                paras.append(
                    Para(LETTERS[i], f"({LETTERS[i]}) " + _sentence(rng, rng.randint(30, 90)), kids)
                )
            sections.append(Section(f"{part}.{number}", _sentence(rng, 5), paras))
            total += (
                sum(len(p.text) + sum(len(k.text) + 12 for k in p.children) + 12 for p in paras)
                + 120
            )
            number += 1
        subparts.append((LETTERS[len(subparts) % 26].upper() * (1 + len(subparts) // 26), sections))
    return subparts


def _xml(subparts: list[tuple[str, list[Section]]], part: str = "999") -> bytes:
    out = [
        f'<?xml version="1.0"?>\n<DIV5 N="{part}" TYPE="PART">\n<HEAD>PART {part}\u2014'
        "GENERATED REGULATION</HEAD>\n"
    ]
    for name, sections in subparts:
        out.append(f'<DIV6 N="{name}" TYPE="SUBPART">\n<HEAD>Subpart {name}\u2014General</HEAD>\n')
        for s in sections:
            out.append(
                f'<DIV8 N="{s.number}" TYPE="SECTION">\n<HEAD>\u00a7 {s.number} '
                f"{escape(s.subject)}</HEAD>\n"
            )
            for p in s.paras:
                out.append(f"<P>{escape(p.text)}</P>\n")
                out.extend(f"<P>{escape(k.text)}</P>\n" for k in p.children)
            out.append("</DIV8>\n")
        out.append("</DIV6>\n")
    out.append("</DIV5>\n")
    return "".join(out).encode()


def generate(size: int, edits: int, seed: int) -> tuple[bytes, bytes, list[Edit]]:
    """(old XML, new XML, planted edits) of about ``size`` bytes with ``edits`` edits."""
    rng = random.Random(seed)
    old = _part(rng, size)
    new = copy.deepcopy(old)
    planted: list[Edit] = []
    sections = [(sp, s) for sp, secs in new for s in secs]
    touched: set[str] = set()
    # one moved block: a whole section to the end of another subpart
    (src_name, src_secs), (dst_name, dst_secs) = new[0], new[-1]
    moved = src_secs.pop(len(src_secs) // 2)
    dst_secs.append(moved)
    touched.add(moved.number)
    planted.append(
        Edit(
            "move",
            (f"Subpart {dst_name}", moved.number),
            old_path=(f"Subpart {src_name}", moved.number),
        )
    )
    by_section = {s.number: sp for sp, secs in new for s in secs}
    while len(planted) < edits:
        _sp, section = rng.choice(sections)
        if section.number in touched:
            continue
        touched.add(section.number)
        where = (f"Subpart {by_section[section.number]}", section.number)
        roll = rng.random()
        if roll < 0.07:
            label = LETTERS[len(section.paras)]
            section.paras.append(Para(label, f"({label}) " + _sentence(rng, 40)))
            planted.append(Edit("insert", (*where, label)))
        elif roll < 0.14 and len(section.paras) > 1:
            gone = section.paras.pop()
            planted.append(Edit("delete", (*where, gone.label)))
        else:
            para = rng.choice(section.paras)
            path = (*where, para.label)
            if para.children and rng.random() < 0.5:
                kid = rng.choice(para.children)
                para, path = kid, (*path, kid.label)
            words = para.text.split(" ")
            i = rng.randrange(1, len(words) - 1)
            replacement = f"ZQX{len(planted)}"
            planted.append(Edit("swap", path, old_word=words[i], new_word=replacement))
            words[i] = replacement
            para.text = " ".join(words)
    return _xml(old), _xml(new), planted


def evolve(size: int, versions: int, edits: int, seed: int, number: str = "999"):
    """``versions`` successive versions of one part (XML bytes), each with ``edits`` word
    swaps in scattered sections and now and then a paragraph added or removed."""
    rng = random.Random(seed)
    part = _part(rng, size, number)
    sections = [s for _, secs in part for s in secs]
    yield _xml(part, number)
    for n in range(1, versions):
        for _ in range(edits):
            section = rng.choice(sections)
            para = rng.choice(section.paras)
            words = para.text.split(" ")
            words[rng.randrange(1, len(words))] = f"V{n}W{rng.randrange(10**6)}"
            para.text = " ".join(words)
        if n % 10 == 0:
            section = rng.choice(sections)
            if len(section.paras) < 20:
                label = LETTERS[len(section.paras)]
                section.paras.append(Para(label, f"({label}) " + _sentence(rng, 40)))
        yield _xml(part, number)
