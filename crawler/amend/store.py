"""Publication-day redlines kept in the store: each unit a new rule touches, as amended by
that rule, is a version of ``<unit key>~fr:<number>`` (apart from the eCFR's own versions,
so the eCFR text that appears after the effective date can be compared with it)."""

from __future__ import annotations

from datetime import timedelta

from crawler.amend.project import Projection, project
from crawler.records import FrDocument, Node, from_json, to_json
from crawler.snapshot import text_hash
from crawler.versioning import snapshot
from storage import NewVersion, Store

KINDS = ("Rule", "Proposed Rule")


def projection_key(unit: str, number: str) -> str:
    return f"{unit}~fr:{number}"


def project_rules(store: Store, run: int, fetched_at: str) -> int:
    """Project every rule stored in ``run`` onto the prior text; returns how many units."""
    done = 0
    for version in store.versions_in([run]):
        if not version.document.startswith("fr:"):
            continue
        row = store.document(version.document)
        if row is None or row.kind not in KINDS or row.meta.get("reference_for"):
            continue
        doc = from_json(FrDocument, store.blob(version.tree_blob))
        if doc.xml is None:
            continue
        # the prior text: what was in effect the day before the rule (published or effective)
        takes_effect = min(doc.publication_date, doc.effective_on or doc.publication_date)
        day = (takes_effect - timedelta(days=1)).isoformat()
        priors: dict[str, int] = {}

        def prior(key: str, day: str = day, priors: dict[str, int] = priors) -> Node | None:
            found = store.version_at(key, day)
            if found is None:
                return None
            priors[key] = found.id
            return from_json(Node, store.blob(found.tree_blob))

        for projection in project(doc.xml, prior, doc.citation):
            snapshot(store, _version(projection, doc, priors.get(projection.key), run, fetched_at))
            done += 1
    return done


def _version(
    p: Projection, doc: FrDocument, base: int | None, run: int, fetched_at: str
) -> NewVersion:
    label = p.key.rsplit(":", 1)[-1]
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
