"""Parsed records -> NewVersion rows for the store: identity, listing fields, hashes."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import date
from typing import Any
from urllib.parse import quote

from crawler.keys import cfr_key, fr_key, is_projection, unit_label
from crawler.parse.cfr_units import manifest, unit_refs, units
from crawler.parse.text import fold
from crawler.parse.web_page import page_tree
from crawler.records import (
    UNIT_REMOVED,
    Delay,
    FrDocument,
    Node,
    PublicInspectionDocument,
    WebPage,
    removed_unit,
    to_json,
)
from storage import NewVersion

DELAYS = "delays"  # link relation: a notice -> the FR citation of the rule it postpones


def text_hash(tree: bytes) -> str:
    """The hash of a record's normalised content. The tree is the parsed record as canonical
    JSON, with whitespace already squashed by the parsers, so a re-serialised payload with
    the same text is the same version; a typography-only edit is a new version whose change
    is marked non-substantive (see ``changed_fields``)."""
    return hashlib.sha256(tree).hexdigest()


TEXT_KEYS = frozenset(
    (
        "title",
        "text",
        "abstract",
        "action",
        "subject",
        "summary",
        "dates",
        "body",
        "agencies",
        "paragraphs",
        "headers",
        "rows",
    )
)
UNSEARCHED = ("part", "removed")  # manifests (unit references) and removal stubs


def searchable(key: str, kind: str, tree: bytes) -> str:
    """The words of a stored tree for the full-text index: its titles, texts and table
    cells (a Node), or an FR document's title, abstract, action, dates, summary and body
    and the text of its tables and regulatory text; nothing for a redline (a projection:
    what a rule would make, not a text that stood), a manifest or a removal."""
    if is_projection(key) or kind in UNSEARCHED:
        return ""
    out: list[str] = []

    def walk(value: Any, under: str) -> None:
        if isinstance(value, str):
            if under in TEXT_KEYS and value:
                out.append(value)
        elif isinstance(value, dict):
            for name, item in value.items():
                walk(item, name if name in TEXT_KEYS or name == "fields" else under)
        elif isinstance(value, list):
            if under == "fields" and all(isinstance(v, list) and len(v) == 2 for v in value):
                out.extend(str(v[1]) for v in value if v[1])
            else:
                for item in value:
                    walk(item, under)

    walk(json.loads(tree), "")
    return "\n".join(out)


def changed_fields(old_tree: bytes | None, new_tree: bytes) -> tuple[dict[str, Any], bool]:
    """Which top-level fields of a record differ between two versions, and whether any of
    them differs in more than typography (dashes, quotes, spaces)."""
    if old_tree is None:
        return {}, True
    old, new = _flat(json.loads(old_tree)), _flat(json.loads(new_tree))
    fields = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
    substantive = [k for k in fields if _beyond_typography(old.get(k), new.get(k))]
    return {"fields": fields, "substantive_fields": substantive}, bool(substantive)


def _flat(record: dict[str, Any]) -> dict[str, Any]:
    """Top-level fields, with the parsed XML's fields one level down as ``xml.<field>``."""
    out = {k: v for k, v in record.items() if k != "xml"}
    for key, value in (record.get("xml") or {}).items():
        out[f"xml.{key}"] = value
    return out


def _beyond_typography(old: Any, new: Any) -> bool:
    """``_folded(old) != _folded(new)``, folding only the parts that differ (a manifest's
    hundreds of units are equal but one or two)."""
    if old == new:
        return False
    if isinstance(old, str) and isinstance(new, str):
        return fold(old) != fold(new)
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        return any(_beyond_typography(a, b) for a, b in zip(old, new, strict=True))
    if isinstance(old, dict) and isinstance(new, dict) and old.keys() == new.keys():
        return any(_beyond_typography(old[k], new[k]) for k in old)
    return _folded(old) != _folded(new)


def _folded(value: Any) -> Any:
    """``value`` with every string folded (typography and whitespace made plain)."""
    if isinstance(value, str):
        return fold(value)
    if isinstance(value, list):
        return [_folded(v) for v in value]
    if isinstance(value, dict):
        return {k: _folded(v) for k, v in value.items()}
    return value


def fr_version(
    doc: FrDocument,
    raw: dict[str, bytes],
    *,
    run: int,
    fetched_at: str,
    source: str,
    reference_for: str | None,
    fetched_from: dict[str, str] | None = None,
) -> NewVersion:
    """``fetched_from``: the URL of each payload of ``raw``, by its role."""
    tree = to_json(doc)
    meta: dict[str, Any] = {  # listing metadata, stored as JSON
        "type": doc.type,
        "citation": doc.citation,
        "correction_of": doc.correction_of,
        "effective_on": doc.effective_on and doc.effective_on.isoformat(),
        "comments_close_on": doc.comments_close_on and doc.comments_close_on.isoformat(),
        "cfr_parts": list(doc.cfr_parts),
        "agencies": list(doc.agencies),
    }
    if reference_for:
        meta["reference_for"] = reference_for
    links: tuple[tuple[str, str], ...] = ()
    if doc.correction_of:
        links = (("corrects", fr_key(doc.correction_of)),)
    delays = doc.xml.delays if doc.xml else ()
    if delays:
        meta["delays"] = [_delay_meta(d) for d in delays]
        links += tuple((DELAYS, d.citation) for d in delays)
    return NewVersion(
        key=doc.key,
        kind=doc.type,
        source=source,
        title=doc.title,
        url=doc.html_url,
        published=doc.publication_date.isoformat(),
        meta=meta,
        raw=raw,
        tree=tree,
        text_hash=text_hash(tree),
        valid_from=doc.publication_date.isoformat(),
        fetched_at=fetched_at,
        run=run,
        links=links,
        fetched_from=fetched_from or {},
    )


def _delay_meta(delay: Delay) -> dict[str, str | None]:
    """A delay as listing metadata; the cited rule is under "rule", not "citation", so the
    notice is not taken for the rule by ``Store.by_citation``."""
    return {
        "rule": delay.citation,
        "published": delay.published.isoformat() if delay.published else None,
        "from": delay.from_date.isoformat() if delay.from_date else None,
        "to": delay.to_date.isoformat(),
    }


def pi_version(
    doc: PublicInspectionDocument,
    raw: bytes,
    *,
    run: int,
    fetched_at: str,
    source: str,
    url: str = "",
) -> NewVersion:
    """``raw``: the whole list the filing is on, fetched from ``url``."""
    tree = to_json(doc)
    meta = {
        "type": doc.type,
        "special_filing": doc.special_filing,
        "filed_at": doc.filed_at,
        "publication_date": doc.publication_date and doc.publication_date.isoformat(),
    }
    return NewVersion(
        key=doc.key,
        kind=doc.type,
        source=source,
        title=doc.title,
        url=doc.html_url,
        published=doc.available_on.isoformat(),
        meta=meta,
        raw={"json": raw},
        tree=tree,
        text_hash=text_hash(tree),
        valid_from=doc.available_on.isoformat(),
        fetched_at=fetched_at,
        run=run,
        fetched_from={"json": url} if url else {},
    )


def web_version(
    page: WebPage,
    raw: bytes,
    day: date,
    *,
    run: int,
    fetched_at: str,
    source: str,
    listing: str | None,
    key: str | None = None,
) -> NewVersion:
    """A web page as seen on ``day`` (pages carry no effective date of their own), under
    ``key`` (default: its bis.gov key; another web source keys its pages its own way)."""
    tree = to_json(page_tree(page))
    meta = {"published": page.published and page.published.isoformat(), "listing": listing}
    return NewVersion(
        key=key or page.key,
        kind=page.kind,
        source=source,
        title=page.title,
        url=page.url,
        published=(page.published or day).isoformat(),
        meta=meta,
        raw={"html": raw},
        tree=tree,
        text_hash=text_hash(tree),
        valid_from=day.isoformat(),
        fetched_at=fetched_at,
        run=run,
        fetched_from={"html": page.url} if page.url else {},  # as fetched (the spider's URL)
    )


def cfr_versions(
    title: int,
    part: str,
    root: Node,
    raw: bytes,
    day: date,
    *,
    run: int,
    fetched_at: str,
    source: str,
    site_base: str,
    raw_digests: Callable[[Node], str | None] | None = None,
    url: str = "",
) -> list[NewVersion]:
    """The part's manifest (its units by content hash, to rebuild the whole part), then
    each section and appendix that was parsed, as NewVersions valid from ``day`` (units left
    unparsed because their XML did not change are unit-refs in ``root``: the manifest keeps
    them as they are). The manifest comes first: its versions decide which earlier payload
    the part's XML is stored against. ``raw_digests``: the XML hash of a parsed unit, kept
    in the manifest. ``url``: where ``raw`` was fetched."""
    fetched_from = {"xml": url} if url else {}
    out = []
    hashes: dict[tuple[str, ...], tuple[str, str, str | None]] = {}
    for key, path, node in units(title, part, root):
        tree = to_json(node)
        full_hash = text_hash(tree)
        hashes[path] = (key, full_hash[:UNIT_REF], raw_digests(node) if raw_digests else None)
        out.append(
            NewVersion(
                key=key,
                kind=node.kind,
                source=source,
                title=node.title or node.label,
                url=_ecfr_url(site_base, day, title, part, node),
                published=day.isoformat(),
                meta={"title": title, "part": part, "label": node.label, "path": list(path)},
                raw={"xml": raw},
                tree=tree,
                text_hash=full_hash,
                valid_from=day.isoformat(),
                fetched_at=fetched_at,
                run=run,
                # against the unit's earlier tree (nearly the same, and small: compressing
                # against the part's megabytes of XML costs a dictionary load per version)
                tree_base="previous",
                fetched_from=fetched_from,
            )
        )
    stub = manifest(root, hashes)
    tree = to_json(stub)
    out.insert(
        0,
        NewVersion(
            key=cfr_key(title, part),
            kind="part",
            source=source,
            title=root.title or part,
            url=f"{site_base}/on/{day}/title-{title}/part-{part}",
            published=day.isoformat(),
            meta={
                "title": title,
                "part": part,
                "units": [k for k, _ in unit_refs(stub)],
            },
            raw={"xml": raw},
            tree=tree,
            text_hash=text_hash(tree),
            valid_from=day.isoformat(),
            fetched_at=fetched_at,
            run=run,
            tree_base="previous",
            fetched_from=fetched_from,
        ),
    )
    return out


UNIT_REF = 16  # hex digits of a unit's content hash kept in its part's manifest


def removed_version(
    key: str, day: date, *, run: int, fetched_at: str, source: str, title: str, url: str
) -> NewVersion:
    """The version that records a unit no longer in its part on ``day``."""
    tree = to_json(removed_unit(unit_label(key)))
    return NewVersion(
        key=key,
        kind=UNIT_REMOVED,
        source=source,
        title=title,
        url=url,
        published=day.isoformat(),
        meta={"removed": True},
        raw={},
        tree=tree,
        text_hash=text_hash(tree),
        valid_from=day.isoformat(),
        fetched_at=fetched_at,
        run=run,
    )


def _ecfr_url(site_base: str, day: date, title: int, part: str, node: Node) -> str:
    if node.kind == "section":
        return f"{site_base}/on/{day}/title-{title}/section-{node.label}"
    return f"{site_base}/on/{day}/title-{title}/part-{part}/appendix-{quote(node.label)}"
