"""The ``federal_register`` source in the snapshot stage: FR documents (their JSON and
full-text XML) and the day's Public Inspection list, stored as versions; the run window from
the last window that went without error; publication-day redlines once a run is stored."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from typing import Any, ClassVar

from crawler.clock import stamp
from crawler.config import Config
from crawler.errors import ParseError, bug_line
from crawler.fetch.items import FetchedDocument, FetchedPublicInspection
from crawler.keys import FR, PI, fr_key
from crawler.parse.fr_json import parse_document, parse_inspection_list, parse_public_inspection
from crawler.parse.fr_xml import parse_document_xml
from crawler.records import Outcome, to_json
from crawler.snapshot.rows import fr_version, pi_version
from crawler.snapshot.source import Maker, Snapshot, Window, Writer
from crawler.snapshot.versioning import snapshot
from storage import DocumentRow, ErrorKind, Store, VersionRow

log = logging.getLogger(__name__)

NAME = "federal_register"
INSPECTION = "inspection_"  # the stats of Public Inspection documents: inspection_<outcome>


def _document(item: FetchedDocument, w: Writer) -> Outcome:
    what = fr_key(item.number)
    xml = parse_document_xml(item.xml, f"{what} XML") if item.xml is not None else None
    doc = parse_document(item.json, xml, f"{what} JSON")
    raw = {"json": item.json} | ({"xml": item.xml} if item.xml is not None else {})
    new = fr_version(
        doc,
        raw,
        run=w.run,
        fetched_at=item.fetched_at,
        source=item.source,
        reference_for=item.reference_for,
        fetched_from={"json": item.json_url} | ({"xml": item.xml_url} if item.xml_url else {}),
    )
    outcome = snapshot(w.store, new)
    w.save_validators(item.validators)
    return outcome


def _public_inspection(item: FetchedPublicInspection, w: Writer) -> Counter[str]:
    """Each filing as a version of its own, then the list as fetched (kept last: a list is
    on record only once every filing it holds is). A list shorter than its count is kept
    as incomplete, and is an error: it cannot show what was withdrawn."""
    what = f"public inspection {item.available_on}"
    found = parse_inspection_list(item.body, item.available_on, what)
    outcomes: Counter[str] = Counter()
    for doc in found.documents:
        new = pi_version(
            doc,
            item.body,
            run=w.run,
            fetched_at=item.fetched_at,
            source=item.source,
            url=item.url,
        )
        outcomes[f"{INSPECTION}{snapshot(w.store, new)}"] += 1
    numbers = [doc.number for doc in found.documents]
    day = item.available_on.isoformat()
    w.store.record_inspection_list(w.run, day, item.fetched_at, item.query, found.count, numbers)
    if not found.complete:
        raise ParseError(
            f"the API counts {found.count} documents but listed {len(numbers)}; "
            "filings it left out are not seen, and no withdrawal is judged from it"
        )
    return outcomes


def _fr(row: DocumentRow, _version: VersionRow, raw: dict[str, bytes]) -> bytes:
    xml = parse_document_xml(raw["xml"], f"{row.key} XML") if "xml" in raw else None
    return to_json(parse_document(raw["json"], xml, f"{row.key} JSON"))


def _pi(row: DocumentRow, version: VersionRow, raw: dict[str, bytes]) -> bytes:
    day = date.fromisoformat(version.valid_from)
    docs = parse_public_inspection(raw["json"], day, f"public inspection {day}")
    found = [d for d in docs if d.key == row.key]
    if not found:
        raise KeyError(f"the public inspection list of {day} no longer holds it")
    return to_json(found[0])


class FederalRegister(Snapshot):
    name = NAME
    retry_keys = (FR,)
    makers: ClassVar[Mapping[str, Maker]] = {FR: _fr, PI: _pi}

    def target(self, item: Any) -> str:
        if isinstance(item, FetchedDocument):
            return fr_key(item.number)
        if isinstance(item, FetchedPublicInspection):  # as the spider names its request
            return f"public inspection {item.available_on}"
        return super().target(item)

    def store(self, item: Any, writer: Writer) -> Counter[str]:
        if isinstance(item, FetchedDocument):
            return Counter([_document(item, writer)])
        if isinstance(item, FetchedPublicInspection):
            return _public_inspection(item, writer)
        return super().store(item, writer)

    def window(self, config: Config, store: Store, day: date) -> Window:
        """From the end of the last window that went without error (or ``first_run_days``
        back) to ``day``; the day's Public Inspection list."""
        last = store.last_good_until(NAME)
        first = day - timedelta(days=config.sources.federal_register.first_run_days)
        since = min(date.fromisoformat(last), day) if last else first
        return Window(
            {
                "since": since.isoformat(),
                "until": day.isoformat(),
                "public_inspection_on": day.isoformat(),
            }
        )

    def settle(
        self, store: Store, run: int, config: Config, now: datetime, clock: Callable[[], datetime]
    ) -> None:
        """Publication-day redlines for every stored rule that has none yet (not only this
        run's: a killed run's rules get theirs from the next run)."""
        from crawler.amend.store import project_rules

        def failed(key: str, exc: Exception) -> None:  # a redline that cannot be made
            log.error("publication-day redlines of %s failed", key, exc_info=exc)
            store.record_error(
                run,
                NAME,
                key,
                bug_line(
                    f"while making the publication-day redlines of {key}",
                    exc,
                    "; every run tries again",
                ),
                stamp(clock()),
                ErrorKind.BUG,
            )

        project_rules(store, run, stamp(now), failed)

    def summary(self, stats: Mapping[str, int]) -> str:
        inspection = sum(v for k, v in stats.items() if k.startswith(INSPECTION))
        return f"FR new {stats.get(Outcome.NEW, 0)}, public inspection {inspection}"


SNAPSHOT = FederalRegister()
