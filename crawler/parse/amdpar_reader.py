"""Reading one AMDPAR's tokens into operations, with the context it inherits and passes on.

A verb opens a group; the targets that follow join it ("revising paragraphs (b) and (c)");
targets named before any verb wait for a passive verb ("Section 85.5 is revised") or else set
the context ("In § 601.2, add ..."). Paragraphs after "amend" are the context of the phrase
edits or sentence edits that follow ("Amend paragraph (a) by removing ...").
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field

from crawler.parse.amdpar_context import Context
from crawler.parse.amdpar_labels import Path, complete, expand
from crawler.parse.amdpar_ops import Instruction, Operation, OpKind, Target, UnitKind
from crawler.parse.amdpar_tokens import GROUP, SEC, Prose, Token, tokens

_CONTEXT_END = re.compile(r"(?::|-|\bby|\bas follows:?)\s*$")


@dataclass
class _Group:
    kind: OpKind | None  # None: "amend" / "continues" - names context, does nothing
    phrase: str | None = None
    replacement: str | None = None
    targets: list[Target] = field(default_factory=list)
    destinations: list[Target] = field(default_factory=list)
    to_destination: bool = False
    portion: str = ""  # where in each target a phrase edit falls ("eighth sentence")


_VERBS = (
    (re.compile(r"remov\w*\s+and\s+reserv", re.I), OpKind.RESERVE),
    (re.compile(r"add\w*\s+in\s+(?:its|their)\s+place", re.I), None),
    (re.compile(r"add", re.I), OpKind.ADD),
    (re.compile(r"revis", re.I), OpKind.REVISE),
    (re.compile(r"remov", re.I), OpKind.REMOVE),
    (re.compile(r"reserv", re.I), OpKind.RESERVE),
    (re.compile(r"redesignat", re.I), OpKind.REDESIGNATE),
    (re.compile(r"designat", re.I), OpKind.DESIGNATE),
)


def read_instruction(text: str, prose: Prose, context: Context) -> tuple[Instruction, Context]:
    """One instruction read in its context -> the Instruction and the context it passes on."""
    reader = _Reader(prose, context)
    for token in tokens(prose):
        reader.take(token)
    operations = reader.finish()
    unread = [f for f in reader.flags if f.startswith("cannot read")]
    flag = "; ".join(dict.fromkeys(unread or reader.flags)) or None
    kept = () if flag else tuple(operations)
    return Instruction(text, prose.number, kept, flag), reader.context()


class _Reader:
    def __init__(self, prose: Prose, context: Context) -> None:
        self.prose, self.title, self.part = prose, context.title, context.part
        self.units = list(context.units)
        self.heading = context.heading
        self.paragraphs = list(context.paragraphs)
        self.own_paragraphs = False
        self.groups: list[_Group] = []
        self.pending: list[Target] = []
        self.portion = ""
        self.notes: list[str] = []
        self.previous: Path = ()
        self.last: tuple[list[Target], int] | None = None
        self.after_phrase = False
        self.flags: list[str] = []

    # --- tokens ---------------------------------------------------------------------------

    def take(self, token: Token) -> None:
        handler = getattr(self, f"_on_{token.kind}")
        handler(token, token.groups)
        self.after_phrase = token.kind == "verb" and token.groups["verb_q"] is not None

    def _on_noop(self, token: Token, g: dict) -> None:
        pass

    def _on_unreadable(self, token: Token, g: dict) -> None:
        self.flags.append(f"cannot read {self._text(token)!r}")

    def _on_auth(self, token: Token, g: dict) -> None:
        if g["auth_part"]:
            self.part = g["auth_part"]
            unit = Target(self.title, self.part, UnitKind.PART, self.part)
            self._add(dataclasses.replace(unit, portion="authority citation"))
        elif g["auth_rel"]:
            where = "before" if g["auth_rel"].lower() in ("preceding", "before") else "after"
            for path in self._paths(g["auth_para"]):
                for target in self._in_units(path):
                    self._add(dataclasses.replace(target, portion=f"authority citation {where}"))
        else:
            self._add_to_units("authority citation")

    def _on_appendix(self, token: Token, g: dict) -> None:
        self._unit(
            token, [Target(self.title, g["app_part"], UnitKind.APPENDIX, g["app_id"].upper())]
        )

    def _on_supplement(self, token: Token, g: dict) -> None:
        self._unit(token, [Target(self.title, g["supp_part"], UnitKind.SUPPLEMENT, g["supp_id"])])

    def _on_sections(self, token: Token, g: dict) -> None:
        if re.search(r"through", g["sect_list"], re.I):
            self.flags.append(f"section range not read: {self._text(token)!r}")
        numbers = re.findall(SEC, g["sect_list"])
        units = [Target(self.title, n.split(".")[0], UnitKind.SECTION, n) for n in numbers]
        self._unit(token, units)

    def _on_subpart(self, token: Token, g: dict) -> None:
        self._unit(
            token, [Target(self.title, self.part or "", UnitKind.SUBPART, g["subpart_id"].upper())]
        )

    def _on_chapter(self, token: Token, g: dict) -> None:
        self._unit(token, [Target(self.title, self.part or "", UnitKind.CHAPTER, g["chapter_id"])])

    def _on_part(self, token: Token, g: dict) -> None:
        if self._group_kind() is not None:
            self._add(Target(self.title, g["part_no"], UnitKind.PART, g["part_no"]))
        else:
            self.part = g["part_no"]

    def _on_category(self, token: Token, g: dict) -> None:
        self.heading = "Category " + g["cat"].split()[-1].upper()

    def _on_under(self, token: Token, g: dict) -> None:
        self.heading = self._quote(g["under_q"])

    def _on_under_caps(self, token: Token, g: dict) -> None:
        self.heading = g["under_name"].rstrip(",")

    def _on_definitions(self, token: Token, g: dict) -> None:
        for number in re.findall(r"\x01(\d+)\x02", g["defs"]):
            self._add_to_units(f'definition "{self.prose.quotes[int(number)]}"')

    def _on_entry(self, token: Token, g: dict) -> None:
        base = self.paragraphs[-1:] or self.units[-1:]
        for target in base:
            name = self._quote(g["entry_q"])
            heading = target.heading or self.heading
            self._add(dataclasses.replace(target, heading=heading, portion=f'entry "{name}"'))
        if not base:
            self.flags.append(f"no section for {self._text(token)!r}")

    def _on_footnote(self, token: Token, g: dict) -> None:
        base = self.paragraphs[-1:] or self.units[-1:]
        for target in base:
            self._add(dataclasses.replace(target, portion=f"footnote {g['footnote_no']}"))

    def _on_rate_set(self, token: Token, g: dict) -> None:
        self._add_to_units(f"rate set {g['rate_no']}")

    def _on_note(self, token: Token, g: dict) -> None:
        ordinal = g["note_ord"]
        self.notes.append(f"{ordinal.lower()} note after" if ordinal else "note after")

    def _on_after(self, token: Token, g: dict) -> None:
        if not self.notes:
            return  # "add paragraph (i) after paragraph (h)": where it goes, not a target
        extra = f", {self.portion}" if self.portion else ""
        for path in self._paths(g["after_para"]):
            for target in self._in_units(path):
                for note in self.notes:
                    self._add(dataclasses.replace(target, portion=note + extra))
        self.notes, self.portion = [], ""

    def _on_intro(self, token: Token, g: dict) -> None:
        self._portion("introductory text", bool(g["intro_of"]))

    def _on_sect_heading(self, token: Token, g: dict) -> None:
        self._add_to_units("heading")

    def _on_heading(self, token: Token, g: dict) -> None:
        self._portion("heading", bool(g["heading_of"]))

    def _on_sentence(self, token: Token, g: dict) -> None:
        words = g["sent"].lower()
        name = f"{words} sentences" if " and " in words else f"{words} sentence"
        if g["sent_of"]:
            self.portion = name
        elif self.after_phrase:  # "removing the word 'x' in the first sentence"
            self.groups[-1].portion = name
        else:
            base = self.paragraphs[-1:] or self.units[-1:]
            for target in base:
                self._add(dataclasses.replace(target, portion=name))

    def _on_airworthiness(self, token: Token, g: dict) -> None:
        self._add_to_units("airworthiness directive")

    def _on_verb(self, token: Token, g: dict) -> None:
        word, phrase = g["word"], self._quote(g["verb_q"]) if g["verb_q"] else None
        kind = next((k for pattern, k in _VERBS if pattern.match(word)), OpKind.REVISE)
        is_verb = any(pattern.match(word) for pattern, _ in _VERBS)
        if kind is None:  # an in-place verb (no match gives REVISE)
            self._in_place(phrase)
            return
        if not is_verb:  # amend, continues: the targets so far are context
            self._to_context(self.pending)
            self.pending = []
            self.groups.append(_Group(None))
            return
        kind = _phrase_kind(kind, phrase)
        group = _Group(kind, phrase=phrase)
        if g["passive"]:
            group.targets = self.pending
        else:
            self._to_context(self.pending)
        self.pending = []
        self.groups.append(group)

    def _on_as(self, token: Token, g: dict) -> None:
        if self.groups and self.groups[-1].kind in (OpKind.REDESIGNATE, OpKind.DESIGNATE):
            self.groups[-1].to_destination = True

    def _on_paragraphs(self, token: Token, g: dict) -> None:
        if self._group_kind() is None and self.groups and not self.own_paragraphs:
            self.paragraphs, self.own_paragraphs = [], True
        for path in self._paths(g["groups"]):
            for target in self._in_units(path):
                self._add(target)
        if not self.units:
            self.flags.append(f"no section named for {self._text(token)!r}")

    # --- helpers --------------------------------------------------------------------------

    def _unit(self, token: Token, units: list[Target]) -> None:
        """A section, appendix ... named: a whole-unit target after a verb, else context."""
        follows = self.prose.text[token.end :]
        names_paragraph = re.match(rf"\s*(?:,\s*)?(?:paragraphs?\s*)?{GROUP}", follows)
        if self._group_kind() is not None and not names_paragraph and not self._to_destination():
            for unit in units:
                self._add(unit)
            self.units = units
            return
        if self._to_destination():
            for unit in units:
                self._add(unit)
            return
        self.units, self.heading = units, None
        if (not self.groups and not names_paragraph) or self.portion:
            for unit in units:
                self._add(unit)

    def _add_to_units(self, portion: str) -> None:
        if not self.units:
            self.flags.append(f"no section named for the {portion}")
        for unit in self.units:
            self._add(dataclasses.replace(unit, portion=portion))

    def _add(self, target: Target) -> None:
        if self.portion and not target.portion:
            target = dataclasses.replace(target, portion=self.portion)
            self.portion = ""
        if not self.groups:
            where = self.pending
        elif self.groups[-1].kind is None:
            self._to_context([target])
            where = self.paragraphs if target.paragraph else self.units
            self.last = (where, len(where) - 1)
            return
        elif self.groups[-1].to_destination:
            where = self.groups[-1].destinations
        else:
            where = self.groups[-1].targets
        if where is self.pending and (target.paragraph or target.portion):
            where[:] = [t for t in where if not _same_unit(t, target) or t.paragraph or t.portion]
        where.append(target)
        self.last = (where, len(where) - 1)

    def _to_context(self, targets: list[Target]) -> None:
        for target in targets:
            if target.paragraph:
                self.paragraphs.append(target)
            elif target.unit is not UnitKind.PART and not target.portion:
                self.units = [target]

    def _portion(self, name: str, before: bool) -> None:
        """ "introductory text of paragraph (a)" (before) or "paragraph (a) introductory text"."""
        if before:
            self.portion = name
        elif self.last is not None and self._last_is_open():
            where, index = self.last
            where[index] = dataclasses.replace(where[index], portion=name)
        else:
            self._add_to_units(name)

    def _last_is_open(self) -> bool:
        where, index = self.last  # type: ignore[misc]
        target = where[index]
        current = self.groups[-1].targets if self.groups and self.groups[-1].kind else None
        in_group = current is None or where is current or where is self.pending
        return in_group and bool(target.paragraph) and not target.portion

    def _in_place(self, phrase: str | None) -> None:
        """ "... and adding in its place 'x'": the open phrase removal becomes a replacement."""
        group = self.groups[-1] if self.groups else None
        if group is not None and group.kind is OpKind.REMOVE_PHRASE and phrase is not None:
            group.kind, group.replacement = OpKind.REPLACE_PHRASE, phrase
        else:
            self.flags.append("'in its place' without a quoted phrase removed and added")

    def _paths(self, text: str) -> list[Path]:
        paths: list[Path] = []
        matches = list(re.finditer(GROUP, text))
        for i, match in enumerate(matches):
            path = complete(tuple(re.findall(r"\((\w+)\)", match.group())), self.previous)
            gap = text[matches[i - 1].end() : match.start()] if i else ""
            if "through" in gap.lower() and paths:
                span = expand(paths[-1], path)
                if span is None:
                    self.flags.append(f"range not read: {text!r}")
                    span = [path]
                paths.extend(span[1:] if span[0] == paths[-1] else span)
            else:
                paths.append(path)
            self.previous = path
        return paths

    def _in_units(self, path: Path) -> list[Target]:
        return [
            dataclasses.replace(unit, heading=self.heading, paragraph=path, portion="")
            for unit in self.units
        ]

    def _group_kind(self) -> OpKind | None:
        return self.groups[-1].kind if self.groups else None

    def _to_destination(self) -> bool:
        return bool(self.groups) and self.groups[-1].to_destination

    def _quote(self, number: str) -> str:
        return self.prose.quotes[int(number.strip("\x01\x02"))]

    def _text(self, token: Token) -> str:
        return re.sub(
            r"\x01(\d+)\x02",
            lambda m: f'"{self._quote(m.group(1))}"',
            self.prose.text[token.start : token.end],
        )

    # --- the end --------------------------------------------------------------------------

    def finish(self) -> list[Operation]:
        operations: list[Operation] = []
        if self.pending and _CONTEXT_END.search(self.prose.text):
            self._to_context(self.pending)
            self.pending = []
        for group in self.groups:
            if group.kind is not None:
                operations.extend(self._operations(group))
        if self.notes:
            self.flags.append("a note named without the paragraph it follows")
        if not operations and not self.flags and not self._is_context():
            self.flags.append("no operation read")
        return operations

    def _is_context(self) -> bool:
        """Headers ("Amend § 447.21 as follows:", "d. In Category VI:") and authority
        citations that continue to read: no operation, nothing to flag."""
        said_continue = re.search(r"\bcontinues? to read\b", self.prose.text, re.I)
        return bool(said_continue or _CONTEXT_END.search(self.prose.text)) and not self.pending

    def _operations(self, group: _Group) -> list[Operation]:
        kind = group.kind
        assert kind is not None
        targets = group.targets or self._default_targets(kind)
        if not targets:
            self.flags.append(f"no target named for {kind.value}")
            return []
        if kind in (OpKind.REDESIGNATE, OpKind.DESIGNATE):
            return self._moves(kind, targets, group.destinations)
        if group.portion:
            targets = [dataclasses.replace(t, portion=t.portion or group.portion) for t in targets]
        return [
            Operation(kind, t, phrase=group.phrase, replacement=group.replacement) for t in targets
        ]

    def _default_targets(self, kind: OpKind) -> list[Target]:
        if kind in (OpKind.REPLACE_PHRASE, OpKind.REMOVE_PHRASE, OpKind.ADD_PHRASE):
            return list(self.paragraphs or self.units)
        return []

    def _moves(
        self, kind: OpKind, targets: list[Target], destinations: list[Target]
    ) -> list[Operation]:
        if len(destinations) == 1 and kind is OpKind.DESIGNATE:
            destinations = destinations * len(targets)
        if len(destinations) != len(targets):
            self.flags.append(
                f"{kind.value}: {len(targets)} targets but {len(destinations)} destinations"
            )
            return []
        return [
            Operation(kind, t, destination=d) for t, d in zip(targets, destinations, strict=True)
        ]

    def context(self) -> Context:
        return Context(
            self.title, self.part, tuple(self.units), self.heading, tuple(self.paragraphs)
        )


def _phrase_kind(kind: OpKind, phrase: str | None) -> OpKind:
    if phrase is None:
        return kind
    return {OpKind.REMOVE: OpKind.REMOVE_PHRASE, OpKind.ADD: OpKind.ADD_PHRASE}.get(kind, kind)


def _same_unit(a: Target, b: Target) -> bool:
    return (a.unit, a.unit_id, a.part) == (b.unit, b.unit_id, b.part)
