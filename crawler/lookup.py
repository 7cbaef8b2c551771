"""The versions of a CFR unit or part, at any date: from the store, and from the eCFR's
point-in-time API when the store does not have them (kept once fetched)."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import date, datetime

from crawler.citations import display, parse_citation
from crawler.clock import stamp
from crawler.config import Config
from crawler.diff import DocumentDiff, diff_documents
from crawler.ecfr_client import EcfrClient
from crawler.errors import FetchError, UsageError
from crawler.items import FetchedCfrPart
from crawler.parse.cfr_units import fr_citations, parse_watch, rebuild, unit_refs
from crawler.records import Node, from_json
from storage import Store, VersionRow

FIRST_DAY = date(2017, 1, 1)  # the eCFR has no point-in-time text before this


@dataclass(frozen=True)
class Side:
    version: VersionRow
    tree: Node

    @property
    def day(self) -> str:
        return self.version.valid_from


@dataclass(frozen=True)
class Comparison:
    key: str
    title: str
    old: Side
    new: Side
    diff: DocumentDiff


@dataclass(frozen=True)
class HistoryLine:
    day: str
    seq: int
    fetched_at: str
    change: str  # "first version", "3 changes (2 substantive)", "removed"
    sources: tuple[str, ...]  # FR citations newly named in the unit's source note


class Lookup:
    def __init__(self, store: Store, config: Config, now: datetime) -> None:
        self.store = store
        self.config = config
        self.now = now
        self.client = EcfrClient(config)

    def resolve(self, text: str) -> str:
        titles = [parse_watch(w)[0] for w in self.config.sources.ecfr.watches]
        known = [k for k in self.store.keys("cfr:") if "~" not in k]
        try:
            return parse_citation(text, known, titles)
        except UsageError:
            key = parse_citation(text, [], titles)
            title, _ = _title_part(key)
            with contextlib.suppress(FetchError, UsageError):
                self._on_demand(key, self.client.up_to_date_as_of(title))
            return parse_citation(
                text, [k for k in self.store.keys("cfr:") if "~" not in k], titles
            )

    def compare(self, key: str, old_day: date | None, new_day: date | None) -> Comparison:
        history = self.store.history(key)
        if new_day is None and history:
            new_day = date.fromisoformat(history[-1].valid_from)
        if old_day is None:
            earlier = [v for v in history if new_day and v.valid_from < new_day.isoformat()]
            if not earlier:
                raise UsageError(
                    f"{display(key)} has one stored version only ("
                    f"{history[-1].valid_from if history else 'none'}); give --from"
                )
            old_day = date.fromisoformat(earlier[-1].valid_from)
        assert new_day is not None
        old, new = self.side(key, old_day), self.side(key, new_day)
        row = self.store.document(key)
        return Comparison(
            key, row.title if row else display(key), old, new, diff_documents(old.tree, new.tree)
        )

    def compare_rule(self, key: str, number: str, new_day: date | None) -> Comparison:
        """The unit as FR doc ``number`` said it would read (its publication-day redline)
        against the eCFR's text on ``new_day`` (default: the latest stored): what the eCFR
        integrated differently from the rule, if anything."""
        projected_key = f"{key}~fr:{number.removeprefix('fr:')}"
        projected = self.store.latest_version(projected_key)
        if projected is None:
            raise UsageError(f"FR Doc. {number} has no redline of {display(key)} in the store")
        tree = from_json(Node, self.store.blob(projected.tree_blob))
        if tree.kind in ("flagged", "removed"):
            raise UsageError(
                f"FR Doc. {number}'s change to {display(key)} was {tree.kind}, "
                "not applied as text; nothing to compare"
            )
        if new_day is None:
            latest = self.store.last_valid_from(key)
            if latest is None:
                raise UsageError(f"no eCFR version of {display(key)} in the store")
            new_day = date.fromisoformat(latest)
        new = self.side(key, new_day)
        row = self.store.document(key)
        return Comparison(
            key,
            row.title if row else display(key),
            Side(projected, tree),
            new,
            diff_documents(tree, new.tree),
        )

    def side(self, key: str, day: date) -> Side:
        """The version of ``key`` in effect on ``day``, fetched on demand if need be."""
        if day < FIRST_DAY:
            raise UsageError(
                f"the eCFR has no point-in-time text before {FIRST_DAY} (asked for {day})"
            )
        version = self.store.version_at(key, day.isoformat())
        latest = self.store.last_valid_from(key)
        if version is None or (latest and day.isoformat() > latest):
            version = self._on_demand(key, day) or version
        if version is None:
            raise UsageError(f"no version of {display(key)} in effect on {day}")
        return Side(version, self._tree(key, version))

    def _on_demand(self, key: str, day: date) -> VersionRow | None:
        title, part = _title_part(key)
        try:
            latest = self.client.up_to_date_as_of(title)
        except FetchError as exc:
            if self.store.version_at(key, day.isoformat()):
                return None  # offline: the store's own latest version stands
            raise UsageError(
                f"{display(key)} on {day} is not in the store and the eCFR cannot be asked: {exc}"
            ) from None
        if day > latest:
            raise UsageError(f"the eCFR is up to date as of {latest}; {day} is later")
        dates = self.client.amendment_dates(title, part, day)
        if not dates:
            return None
        effective = date.fromisoformat(dates[-1])
        if (
            self.store.version_at(f"cfr:{title}:{part}", effective.isoformat()) is None
            or self.store.last_valid_from(f"cfr:{title}:{part}") < effective.isoformat()
        ):
            self._fetch(title, part, effective)
        return self.store.version_at(key, day.isoformat())

    def _fetch(self, title: int, part: str, day: date) -> None:
        from crawler.versioning import store_cfr_part  # parsing only when fetching

        url, body = self.client.part_xml(title, part, day)
        run = self.store.start_run("ondemand", None, stamp(self.now), f"fetch {title}:{part}")
        item = FetchedCfrPart("ecfr", title, part, day, url, body, stamp(self.now))
        try:
            store_cfr_part(self.store, item, run, self.config.sources.ecfr.site_base)
            self.store.finish_run(run, stamp(self.now), "ok")
        except Exception:
            self.store.finish_run(run, stamp(self.now), "failed")
            raise

    def _tree(self, key: str, version: VersionRow) -> Node:
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

    def history(self, key: str) -> list[HistoryLine]:
        lines = []
        previous: Node | None = None
        for version in self.store.history(key):
            tree = from_json(Node, self.store.blob(version.tree_blob))
            if tree.kind == "removed":
                change = "removed"
            elif previous is None:
                change = "first version"
            else:
                diff = diff_documents(previous, tree)
                change = f"{len(diff.changes)} changes ({len(diff.substantive)} substantive)"
            lines.append(
                HistoryLine(
                    version.valid_from,
                    version.seq,
                    version.fetched_at,
                    change,
                    _new_sources(previous, tree),
                )
            )
            previous = tree
        return lines


def _title_part(key: str) -> tuple[int, str]:
    _, title, rest = key.split(":", 2)
    part = rest.partition(":")[0].split(".")[0]
    return int(title), part


def _new_sources(old: Node | None, new: Node) -> tuple[str, ...]:
    before = fr_citations(old) if old else set()
    return tuple(sorted(fr_citations(new) - before))
