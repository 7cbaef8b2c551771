"""The report half for one day: gather from the store, build the digest, write its files."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

from crawler.config import Config
from crawler.deliver.files import write_atomic
from crawler.digest.build import CfrRecord, DayRecords, RedlineRecord, WebRecord, build_digest
from crawler.digest.context import CitedDocument, Digest
from crawler.digest.render import render
from crawler.digest.topics import all_topics
from crawler.fetch.spiders import SOURCES
from crawler.keys import BIS, CFR, FR, PI, fr_key, fr_number, is_projection, projection_parts
from crawler.parse.cfr_units import fr_citations
from crawler.records import FrDocument, Node, ProjectionOp, from_json
from storage import DocumentRow, OutboxState, Store


def gather(store: Store, day: date, config: Config) -> DayRecords:
    """What the store knows about ``day``: documents published on it or first seen in its
    daily runs, changes and errors of those runs, that day's Public Inspection list."""
    iso = day.isoformat()
    daily = [r for r in store.runs_on(iso) if r.kind == "daily"]
    runs = [r.id for r in daily]
    last_started = max((r.started for r in daily), default="")
    rows = store.documents(published=iso, first_runs=runs, prefix=FR)
    chosen = [r for r in rows if r.published == iso or not r.meta.get("reference_for")]
    documents = tuple((row, _record(store, row)) for row in chosen)
    originals = {}
    for _, doc in documents:
        if doc.correction_of and (original := store.document(fr_key(doc.correction_of))):
            originals[original.key] = original
    changes = []
    cfr = []
    first_seen = store.documents(first_runs=runs, prefix=BIS) if runs else []
    web = [_web_record(store, row, None) for row in first_seen]
    for change in store.changes_in(runs):
        row = store.document(change["document"])
        if row is not None and row.key.startswith(BIS):
            if row.first_run not in runs:  # a page first seen today is shown as new
                web.append(_web_record(store, row, change))
        elif row is not None and row.key.startswith(CFR):
            if row.kind not in ("part", "as-amended"):  # manifests and redlines are shown
                cfr.append(_cfr_record(store, row, change))  # elsewhere
        elif row is not None:
            fields = change["stats"].get("substantive_fields") or change["stats"].get("fields", ())
            changes.append((row, tuple(fields), bool(change["substantive"])))
    latest: dict[str, int] = {}
    for line in store.run_sources(runs):
        latest[line.source] = line.run
    sources = tuple(r for r in store.run_sources(runs) if latest.get(r.source) == r.run)
    enabled = {n: s.title for n, s in SOURCES.items() if getattr(config.sources, n).enabled}
    if config.smtp.host and config.subscriptions:
        enabled["email"] = "Email"
    projected: dict[str, list[str]] = {}  # FR document number -> its redline keys
    for key in store.keys(CFR):
        if is_projection(key):
            projected.setdefault(projection_parts(key)[1], []).append(key)
    redlines = {
        doc.number: _redlines(store, projected.get(doc.number, []))
        for _, doc in documents
        if doc.type in ("Rule", "Proposed Rule")
    }
    return DayRecords(
        day=day,
        documents=documents,
        originals=originals,
        changes=tuple(changes),
        inspection=tuple(store.documents(published=iso, prefix=PI)),
        sources=sources,
        errors=tuple(store.errors(sorted(set(latest.values())))),
        source_titles=enabled,
        cfr=tuple(cfr),
        topics=all_topics(config),
        redlines={k: v for k, v in redlines.items() if v},
        web=tuple(web),
        held=tuple(h for h in store.held_fetches() if runs and h.run <= max(runs)),
        # still failing, and failing already when the day's last run started
        retrying=tuple(r for r in store.retry_list() if r.first_failed <= last_started),
        mailed=sum(1 for row in store.outbox(f"{iso}/") if row["status"] == OutboxState.SENT),
    )


def _web_record(store: Store, row: DocumentRow, change: dict | None) -> WebRecord:
    """A page first seen (no change) or changed: its tree before and after."""
    if change is None:
        version = store.latest_version(row.key)
        assert version is not None, row.key
        return WebRecord(row, None, from_json(Node, store.blob(version.tree_blob)))
    old = store.version(change["from_version"])
    new = store.version(change["to_version"])
    return WebRecord(
        row,
        from_json(Node, store.blob(old.tree_blob)),
        from_json(Node, store.blob(new.tree_blob)),
    )


def _redlines(store: Store, keys: list[str]) -> tuple[RedlineRecord, ...]:
    out = []
    for key in keys:
        version = store.latest_version(key)
        row = store.document(key)
        if version is None or row is None:
            continue
        meta = row.meta
        tree = from_json(Node, store.blob(version.tree_blob))
        base = meta.get("base_version")
        old = from_json(Node, store.blob(store.version(base).tree_blob)) if base else None
        out.append(
            RedlineRecord(
                unit=meta["unit"],
                op=ProjectionOp(meta["op"]),
                flags=tuple(meta.get("flags", ())),
                instructions=tuple(meta.get("instructions", ())),
                given=tuple(meta.get("given", ())),
                old=old,
                new=None if tree.kind in (ProjectionOp.FLAGGED, ProjectionOp.REMOVED) else tree,
            )
        )
    return tuple(out)


def _cfr_record(store: Store, row: DocumentRow, change: dict) -> CfrRecord:
    old_version = store.version(change["from_version"])
    new_version = store.version(change["to_version"])
    old = from_json(Node, store.blob(old_version.tree_blob))
    new = from_json(Node, store.blob(new_version.tree_blob))
    return CfrRecord(
        row=row,
        old=None if old.kind == "removed" else old,
        new=None if new.kind == "removed" else new,
        from_date=old_version.valid_from,
        to_date=new_version.valid_from,
        caused_by=_cited(store, old, new),
    )


def _cited(store: Store, old: Node, new: Node) -> tuple[CitedDocument, ...]:
    """FR documents newly named in the unit's source note (CITA): the rules behind it."""

    out = []
    for citation in sorted(fr_citations(new) - fr_citations(old)):
        found = store.by_citation(citation)
        doc = found[0] if found else None
        out.append(
            CitedDocument(
                citation,
                fr_number(doc.key) if doc else "",
                doc.title if doc else "",
                doc.url if doc else "",
            )
        )
    return tuple(out)


def _record(store: Store, row: DocumentRow) -> FrDocument:
    version = store.latest_version(row.key)
    assert version is not None, row.key
    return from_json(FrDocument, store.blob(version.tree_blob))


def digest_for(store: Store, day: date, config: Config) -> Digest:
    return build_digest(gather(store, day, config), ZoneInfo(config.timezone))


def write_digest(store: Store, day: date, config: Config) -> tuple[Path, Path]:
    """Render the day's digest as text and HTML into the digest folder; returns the paths."""
    digest = digest_for(store, day, config)
    folder = config.digest_dir
    text = write_atomic(
        folder / f"{day.isoformat()}.txt", render("digest/digest.txt.j2", digest=digest)
    )
    html = write_atomic(
        folder / f"{day.isoformat()}.html", render("digest/digest.html.j2", digest=digest)
    )
    return text, html
