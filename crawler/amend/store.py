"""Publication-day redlines kept in the store: each unit a new rule touches, as amended by
that rule, is a version of ``<unit key>~fr:<number>`` (apart from the eCFR's own versions,
so the eCFR text that appears after the effective date can be compared with it)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from sqlalchemy.exc import SQLAlchemyError

from crawler.amend.project import Projection, project
from crawler.keys import FR, projection_key, unit_label
from crawler.records import FrDocument, Node, from_json, to_json
from crawler.snapshot.rederive import upgrade
from crawler.snapshot.rows import text_hash
from crawler.snapshot.versioning import snapshot
from storage import NewVersion, Store, VersionRow

KINDS = ("Rule", "Proposed Rule")


def project_rules(
    store: Store, run: int, fetched_at: str, failed: Callable[[str, Exception], None]
) -> int:
    """Project every stored rule that has no publication-day redlines yet onto the prior
    text (this run's rules, and any a killed run left without); returns how many units.
    A rule that cannot be projected is reported to ``failed`` (document key, exception)
    and tried again by the next run; it does not stop the others."""
    done = 0
    for version in store.unredlined(FR, KINDS):
        try:
            units = _project(store, version, run, fetched_at)
        except (SQLAlchemyError, OSError):
            raise
        except Exception as exc:  # a bug in the projection of this one rule
            failed(version.document, exc)
            continue
        store.mark_redlined(version.id, units, run)
        done += units
    return done


def _project(store: Store, version: VersionRow, run: int, fetched_at: str) -> int:
    row = store.document(version.document)
    if row is None or row.meta.get("reference_for"):
        return 0
    doc = from_json(FrDocument, store.blob(version.tree_blob))
    if doc.xml is None:
        return 0
    projections, priors = project_rule(store, doc)
    units = 0
    for projection in projections:
        new = redline_version(projection, doc, priors.get(projection.key), run, fetched_at)
        snapshot(store, new)
        units += 1
    return units


def project_rule(store: Store, doc: FrDocument) -> tuple[list[Projection], dict[str, int]]:
    """Every unit ``doc``'s REGTEXT touches, projected onto the stored prior text (as the
    current parser reads it), and the prior version of each unit by key."""
    if doc.xml is None:
        return [], {}
    day = prior_day(doc)
    priors: dict[str, int] = {}

    def prior(key: str) -> Node | None:
        found = store.version_at(key, day)
        if found is None:
            return None
        upgraded = upgrade(store, found)  # the prior text as the current parser reads it
        found = upgraded if isinstance(upgraded, VersionRow) else found
        priors[key] = found.id
        return from_json(Node, store.blob(found.tree_blob))

    return project(doc.xml, prior, doc.citation), priors


def prior_day(doc: FrDocument) -> str:
    """The day whose text a rule amends: the day before it was published or took effect."""
    takes_effect = min(doc.publication_date, doc.effective_on or doc.publication_date)
    return (takes_effect - timedelta(days=1)).isoformat()


def redline_version(
    p: Projection, doc: FrDocument, base: int | None, run: int, fetched_at: str
) -> NewVersion:
    label = unit_label(p.key)
    tree_node = p.new or Node(label, p.op, "", "\n".join(p.given))
    tree = to_json(tree_node)
    effective = (doc.effective_on or doc.publication_date).isoformat()
    return NewVersion(
        key=projection_key(p.key, doc.number),
        kind="as-amended",
        source="federal_register",
        title=f"{p.key} as amended by FR Doc. {doc.number}",
        url=doc.html_url,
        published=doc.publication_date.isoformat(),
        meta={
            "unit": p.key,
            "fr": doc.number,
            "op": p.op,
            "flags": list(p.flags),
            "instructions": list(p.instructions),
            "given": list(p.given),
            "base_version": base,
        },
        raw={},
        tree=tree,
        text_hash=text_hash(tree),
        valid_from=effective,
        fetched_at=fetched_at,
        run=run,
    )
