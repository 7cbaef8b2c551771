"""The pages the app and the static site both render, each from what the store says and a
Links (crawler.deliver.web.layout): a day's report, a rule, a CFR unit, a comparison."""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

from crawler.deliver.web.guard import SafeJSON
from crawler.deliver.web.layout import ALL_FEED, Frame, Links, render_page
from crawler.deliver.web.reader import CompareView, Reader, Variant
from crawler.diff.cite import fr_sources, official_links
from crawler.diff.in_context import blocks, runs
from crawler.diff.model import DocumentDiff
from crawler.digest.context import DocumentEntry, Report
from crawler.keys import readable
from crawler.query.reconcile import unexplained_history
from crawler.query.timeline import Timeline
from storage import DocumentRow, VersionRow


def neighbours(every: list[str], day: str) -> tuple[str | None, str | None]:
    """The days with a report after and before ``day`` (``every``: newest first)."""
    at = every.index(day) if day in every else -1
    newer = every[at - 1] if at > 0 else None
    older = every[at + 1] if 0 <= at < len(every) - 1 else None
    return newer, older


def day_page(
    report: Report, links: Links, newer: str | None, older: str | None, section: str = "/days"
) -> str:
    frame = Frame(report.day_long, section, (ALL_FEED,))
    return render_page("web/day.html.j2", frame, links, digest=report, newer=newer, older=older)


def rule_page(
    entry: DocumentEntry,
    corrections: list[DocumentRow],
    links: Links,
    timeline: Timeline,
    today: date,
) -> str:
    frame = Frame(f"FR Doc. {entry.number}", "/rules", (ALL_FEED,))
    return render_page(
        "web/rule.html.j2",
        frame,
        links,
        entry=entry,
        corrections=corrections,
        timeline=timeline,
        today=today,
    )


def unit_page(reader: Reader, key: str, links: Links) -> str:
    """``key``'s current text and its timeline of versions."""
    current = reader.current(key)
    row = reader.store.document(key)
    history = reader.history(key)
    return render_page(
        "web/unit.html.j2",
        Frame(readable(key), "/cfr", (ALL_FEED,)),
        links,
        key=key,
        title=row.title if row else "",
        history=history,
        strays=unexplained_history(reader.store, history),
        blocks=blocks(key, current, current, DocumentDiff(())),
        official=official_links(key, fr_sources(current, current)),
    )


def compare_page(
    found: CompareView, links: Links, view: str, only: bool, full: bool, permalink: str = ""
) -> str:
    """Two versions of a unit: the whole unit with its changes in place."""
    old, new = found.old.valid_from, found.new.valid_from
    return render_page(
        "web/compare.html.j2",
        Frame(f"{readable(found.key)}: {old} to {new}", "/cfr"),
        links,
        key=found.key,
        found=found,
        runs=runs(list(found.blocks)),
        view=view,
        only=only,
        full=full,
        permalink=permalink,
    )


def comparison(reader: Reader, key: str, old: VersionRow, new: VersionRow, asked: Variant) -> bytes:
    """Two stored versions of ``key`` compared, as ``asked``: rendered once, by a worker
    process when the app has one (the serving process only sends cached bytes), and kept in
    the cache of rendered pages by the two trees."""
    worker = reader.worker

    def made() -> bytes:
        if worker is not None:
            return worker(key, old.id, new.id, asked)
        return rendered(reader, reader.compare_versions(key, old, new), asked)

    # by the versions too: the page names them (provenance), not only their text
    cached = ("compare", key, old.id, old.tree_blob, new.id, new.tree_blob, asked)
    return reader.pages.get(cached, made)


def rendered(reader: Reader, found: CompareView, asked: Variant) -> bytes:
    """``found`` as the compare page or, asked for JSON, the diff model."""
    if asked.format == "json":
        return bytes(SafeJSON(found.model).body)
    links = Links(reader.unit_keys)
    if found.rule:
        permalink = links.beside(found.key, found.rule)
    else:
        permalink = links.compare(found.key, found.old.valid_from, found.new.valid_from)
    permalink = f"{permalink}&{urlencode({'view': asked.view})}"
    page = compare_page(found, links, asked.view, asked.only, asked.full, permalink)
    return page.encode()
