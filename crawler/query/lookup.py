"""The versions of a CFR unit or part, at any date: from the store, and from the eCFR's
point-in-time API when the store does not have them (kept once fetched)."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from crawler.clock import stamp
from crawler.config import Config
from crawler.diff import DocumentDiff
from crawler.diff.cite import UNOFFICIAL, OfficialLink, cited_diff, fr_sources, official_links
from crawler.diff.provenance import NORMALISED, provenance, provenance_line
from crawler.digest.source import change_diff
from crawler.errors import Busy, FetchError, NotCovered, NotStored, UsageError
from crawler.fetch.ecfr_client import EcfrClient
from crawler.fetch.items import FetchedCfrPart
from crawler.keys import (
    CFR,
    cfr_key,
    fr_number,
    is_projection,
    projection_key,
    readable,
    title_part,
)
from crawler.parse.cfr_units import fr_citations, parse_watch, rebuild, unit_refs
from crawler.parse.ecfr_json import FIRST_DAY
from crawler.query.citations import parse_citation
from crawler.query.coverage import Checked, checked, never, scope
from crawler.records import Node, from_json
from storage import LockBusy, RunStatus, Store, VersionRow

# (a key naming a tree, how to make it) -> the tree: a cache the caller keeps
TreeCache = Callable[[Hashable, Callable[[], Node]], Node]


@dataclass(frozen=True)
class Side:
    version: VersionRow
    tree: Node

    @property
    def day(self) -> str:
        return self.version.valid_from

    def provenance(self) -> dict[str, Any]:
        """What anyone needs to check this side (crawler.diff.provenance)."""
        return provenance(self.version, self.tree)


@dataclass(frozen=True)
class Comparison:
    key: str
    title: str
    old: Side
    new: Side
    diff: DocumentDiff

    def official(self) -> tuple[OfficialLink, ...]:
        """The official texts behind the two sides (their FR sources, the annual CFR)."""
        return official_links(self.key, fr_sources(self.old.tree, self.new.tree))

    def to_json(self, rule: str | None = None) -> dict[str, Any]:
        """The diff model as `regwatch diff --format json` and the web app's API give it."""
        return {
            "key": self.key,
            "citation": readable(self.key),
            "title": self.title,
            "from": self.old.day,
            "rule": rule,
            "to": self.new.day,
            "unofficial": UNOFFICIAL,
            "official": [{"text": x.text, "url": x.url} for x in self.official()],
            "provenance": {
                "from": self.old.provenance(),
                "to": self.new.provenance(),
                "normalised": NORMALISED,
            },
            **self.diff.to_json(),
        }

    def provenance_lines(self) -> list[str]:
        """The provenance as a reader is shown it under a redline, one line per side."""
        return [
            provenance_line(n, s.provenance()) for n, s in (("from", self.old), ("to", self.new))
        ]


@dataclass(frozen=True)
class Cited:
    """An FR citation named in a unit's source note, with the stored document it is."""

    citation: str  # "91 FR 70101"
    number: str  # its FR document number, "" when the store does not have it
    title: str


@dataclass(frozen=True)
class HistoryLine:
    day: str
    seq: int
    change: str  # "first version", "3 changes (2 substantive)", "removed"
    sources: tuple[Cited, ...]  # FR citations newly named in the unit's source note
    version: VersionRow | None = None
    diff: DocumentDiff | None = None  # from the version before (None: the first, or removed)


@dataclass(frozen=True)
class History:
    key: str
    lines: tuple[HistoryLine, ...]
    checked: Checked | None  # None: only versions fetched on demand, no run checked it


class Lookup:
    """``fetch=False`` (the web app): the store only; a version it lacks is NotStored,
    naming the command that fetches it, never fetched."""

    def __init__(
        self,
        store: Store,
        config: Config,
        now: datetime,
        fetch: bool = True,
        trees: TreeCache | None = None,
    ) -> None:
        self.store = store
        self.config = config
        self.now = now
        self.fetch = fetch
        self.trees = trees  # parsed trees kept between lookups (the web app), by blob hash
        self._checked: dict[str, Checked | None] = {}
        self._histories: dict[str, History] = {}  # read once per lookup (every tree parsed)

    @functools.cached_property
    def client(self) -> EcfrClient:
        """The eCFR's API, made when first asked (a lookup that may not fetch never is)."""
        return EcfrClient(self.config)

    def resolve(self, text: str) -> str:
        titles = [parse_watch(w)[0] for w in self.config.sources.ecfr.watches]
        known = [k for k in self.store.keys(CFR) if not is_projection(k)]
        try:
            return parse_citation(text, known, titles)
        except UsageError:
            if not self.fetch:
                raise
            key = parse_citation(text, [], titles)
            title, _ = _title_part(key)
            with contextlib.suppress(FetchError, UsageError):
                self._on_demand(key, self.client.up_to_date_as_of(title), None)
            return parse_citation(
                text, [k for k in self.store.keys(CFR) if not is_projection(k)], titles
            )

    def compare(self, key: str, old_day: date | None, new_day: date | None) -> Comparison:
        """The version in effect on ``new_day`` (default: the latest stored) against the one
        in effect on ``old_day`` (default: the version before it)."""
        old, new = self.pair(key, old_day, new_day)
        return self.compare_versions(key, old, new)

    def pair(
        self, key: str, old_day: date | None, new_day: date | None
    ) -> tuple[VersionRow, VersionRow]:
        """The two versions ``compare`` compares, without reading their trees."""
        self._check_dates(old_day, new_day)
        new = self.version(key, new_day) if new_day else self._latest(key)
        old = self.version(key, old_day) if old_day else self._before(key, new)
        return old, new

    def compare_versions(self, key: str, old: VersionRow, new: VersionRow) -> Comparison:
        row = self.store.document(key)
        sides = Side(old, self.tree(key, old)), Side(new, self.tree(key, new))
        return Comparison(key, row.title if row else readable(key), *sides, self._diff(key, *sides))

    def _diff(self, key: str, old: Side, new: Side) -> DocumentDiff:
        """The stored change when ``new`` is the version right after ``old`` (what the digest
        said), else the diff of the two trees."""
        for change in self.store.changes_of(key):
            if change.from_version == old.version.id and change.to_version == new.version.id:
                return change_diff(self.store, change, keep=self.fetch)
        return cited_diff(key, old.tree, new.tree)

    def _check_dates(self, old_day: date | None, new_day: date | None) -> None:
        if old_day and new_day and old_day > new_day:
            raise UsageError(f"--from {old_day} is after --to {new_day}")
        today = self.now.astimezone(ZoneInfo(self.config.timezone)).date()
        for name, day in (("--from", old_day), ("--to", new_day)):
            if day and day > today:
                raise UsageError(
                    f"{name} {day} is in the future (today is {today}): nothing is known of it"
                )

    def _latest(self, key: str) -> VersionRow:
        latest = self.store.latest_version(key)
        if latest is None and self.checked(key) is None:
            raise NotCovered(never(readable(key), ["ecfr"]))
        if latest is None:
            raise UsageError(f"no version of {readable(key)} in the store")
        return latest

    def _before(self, key: str, new: VersionRow) -> VersionRow:
        earlier = [v for v in self.store.history(key) if v.valid_from < new.valid_from]
        if not earlier:
            raise UsageError(
                f"{readable(key)}: no version before the one in effect since "
                f"{new.valid_from} is stored; give --from to fetch an earlier one from the eCFR"
            )
        return earlier[-1]

    def compare_rule(self, key: str, number: str, new_day: date | None) -> Comparison:
        """The unit as FR doc ``number`` said it would read (its publication-day redline)
        against the eCFR's text on ``new_day`` (default: the latest stored): what the eCFR
        integrated differently from the rule, if anything."""
        projected_key = projection_key(key, fr_number(number))
        projected = self.store.latest_version(projected_key)
        if projected is None:
            raise UsageError(f"FR Doc. {number} has no redline of {readable(key)} in the store")
        tree = from_json(Node, self.store.blob(projected.tree_blob))
        if tree.kind in ("flagged", "removed"):
            raise UsageError(
                f"FR Doc. {number}'s change to {readable(key)} was {tree.kind}, "
                "not applied as text; nothing to compare"
            )
        if new_day is None:
            latest = self.store.last_valid_from(key)
            if latest is None:
                raise UsageError(f"no eCFR version of {readable(key)} in the store")
            new_day = date.fromisoformat(latest)
        new = self.side(key, new_day)
        row = self.store.document(key)
        return Comparison(
            key,
            row.title if row else readable(key),
            Side(projected, tree),
            new,
            cited_diff(key, tree, new.tree),
        )

    def checked(self, key: str) -> Checked | None:
        """The days the store has checked the eCFR for ``key`` (from its first version),
        read once per lookup."""
        if key not in self._checked:
            first = self.store.first_in_effect(key)
            self._checked[key] = checked(self.store, "ecfr", first)
        return self._checked[key]

    def side(self, key: str, day: date) -> Side:
        version = self.version(key, day)
        return Side(version, self.tree(key, version))

    def version(self, key: str, day: date) -> VersionRow:
        """The version of ``key`` in effect on ``day``: from the store when the store has
        checked that day, else from the eCFR (kept once fetched), else NotCovered."""
        if day < FIRST_DAY:
            raise UsageError(
                f"the eCFR has no point-in-time text before {FIRST_DAY} (asked for {day})"
            )
        cover = self.checked(key)
        version = self.store.version_at(key, day.isoformat())
        if version is None or cover is None or not cover.knows(day.isoformat()):
            if not self.fetch:
                raise NotStored(
                    f"{readable(key)} as of {day}: not stored; "
                    f'`regwatch diff "{readable(key)}" --from {day}` fetches it from the eCFR'
                )
            version = self._on_demand(key, day, cover)
        return version

    def _on_demand(self, key: str, day: date, cover: Checked | None) -> VersionRow:
        title, part = _title_part(key)
        try:
            latest = self.client.up_to_date_as_of(title)
        except FetchError as exc:
            known = scope(readable(key), [cover]) if cover else never(readable(key), ["ecfr"])
            raise NotCovered(f"{known}; the eCFR cannot be asked for {day}: {exc}") from None
        if day > latest:
            raise UsageError(f"the eCFR is up to date as of {latest}; {day} is later")
        dates = self.client.amendment_dates(title, part, day)
        if dates:
            effective = date.fromisoformat(dates[-1])
            if effective.isoformat() not in self.store.valid_dates(cfr_key(title, part)):
                self._fetch(title, part, effective)
        version = self.store.version_at(key, day.isoformat())
        if version is None:
            raise UsageError(f"no version of {readable(key)} in effect on {day}")
        if dates and version.valid_from < dates[-1]:
            self._not_held(key, title, part, dates[-1])
        return version

    def _not_held(self, key: str, title: int, part: str, effective: str) -> None:
        """A fetch held as implausible (crawler.snapshot.held) is no answer for what it holds: the
        whole part, or (the part applied) the table it names as losing entries."""
        whole = self.store.version_at(cfr_key(title, part), effective)
        applied = whole is not None and whole.valid_from == effective
        for row in self.store.held_fetches(cfr_key(title, part)):
            if row.valid_from == effective and (not applied or readable(key) in row.reason):
                raise NotCovered(
                    f"{readable(key)}: the eCFR's text of {title} CFR part {part} as of "
                    f"{effective} is held as implausible ({row.reason}); it is not applied "
                    "until the versions API, an FR rule or a later fetch confirms it"
                )

    def _fetch(self, title: int, part: str, day: date) -> None:
        from crawler.snapshot.versioning import store_cfr_part  # parsing only when fetching

        url, body = self.client.part_xml(title, part, day)
        self._histories.clear()  # what is fetched now is history too
        try:  # never beside a crawl of the eCFR writing the same part
            held = self.store.lock("source:ecfr", wait=self.config.store.lock_wait)
        except LockBusy:
            raise Busy(
                f"a regwatch run is crawling the eCFR in {self.config.store_label}; "
                "try again when it is done"
            ) from None
        with held:
            run = self.store.start_run("ondemand", None, stamp(self.now), f"fetch {title}:{part}")
            item = FetchedCfrPart("ecfr", title, part, day, url, body, stamp(self.now))
            self._checked.clear()  # a version stored may widen what is known
            try:
                store_cfr_part(self.store, item, run, self.config.sources.ecfr)
                self.store.finish_run(run, stamp(self.now), RunStatus.OK)
            except Exception:
                self.store.finish_run(run, stamp(self.now), RunStatus.FAILED)
                raise

    def tree(self, key: str, version: VersionRow) -> Node:
        """The stored tree of ``version`` of ``key`` (kept in the cache given, if any)."""
        if self.trees is None:
            return self._read_tree(key, version)
        return self.trees(("tree", version.tree_blob), lambda: self._read_tree(key, version))

    def _read_tree(self, key: str, version: VersionRow) -> Node:
        tree = from_json(Node, self.store.blob(version.tree_blob))
        if tree.kind != "part":
            return tree
        units = {}
        for unit_key, digest in unit_refs(tree):
            match = next(
                (v for v in self.store.history(unit_key) if v.text_hash.startswith(digest)), None
            )
            if match is not None:
                units[digest] = from_json(Node, self.store.blob(match.tree_blob))
        return rebuild(tree, units)

    def history(self, key: str) -> History:
        """Every stored version of ``key`` with what changed and the FR documents its
        source note newly names, and what the store has checked; NotCovered when nothing
        is stored and the eCFR was never checked."""
        if key in self._histories:
            return self._histories[key]
        cover = self.checked(key)
        lines = self._history_lines(key)
        if not lines and cover is None:
            raise NotCovered(never(readable(key), ["ecfr"]))
        self._histories[key] = History(key, tuple(lines), cover)
        return self._histories[key]

    def _history_lines(self, key: str) -> list[HistoryLine]:
        """Each version with its stored change (what the digest said), diffed here only
        for a change stored without its diff."""
        lines = []
        previous: Node | None = None
        stored = {c.to_version: c for c in self.store.changes_of(key) if c.diff_blob}
        for version in self.store.history(key):
            tree = from_json(Node, self.store.blob(version.tree_blob))
            diff = None
            if tree.kind == "removed":
                change = "removed"
            elif previous is None:
                change = "first version"
            else:
                if version.id in stored:
                    diff = change_diff(self.store, stored[version.id])
                else:
                    diff = cited_diff(key, previous, tree)
                change = diff.counted()
            sources = tuple(self._cited(c) for c in _new_sources(previous, tree))
            lines.append(
                HistoryLine(version.valid_from, version.seq, change, sources, version, diff)
            )
            previous = tree
        return lines

    def _cited(self, citation: str) -> Cited:
        found = self.store.by_citation(citation)
        if not found:
            return Cited(citation, "", "")
        return Cited(citation, fr_number(found[0].key), found[0].title)


def _title_part(key: str) -> tuple[int, str]:
    title, part = title_part(key)
    return int(title), part


def _new_sources(old: Node | None, new: Node) -> tuple[str, ...]:
    before = fr_citations(old) if old else set()
    return tuple(sorted(fr_citations(new) - before))
