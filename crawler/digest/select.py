"""Which items a subscription wants. Pure: facets of an item + a subscription -> yes/no."""

from __future__ import annotations

import dataclasses
import fnmatch
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from crawler.config import SubscriptionConfig
from crawler.parse.text import fold
from crawler.records import FrDocument, Node
from crawler.topics import Topic, tag

if TYPE_CHECKING:
    from crawler.diff import DocumentDiff
    from crawler.digest.context import Digest

TYPES = {
    "RULE": "Rule",
    "PRORULE": "Proposed Rule",
    "NOTICE": "Notice",
    "PRESDOCU": "Presidential Document",
}


@dataclass(frozen=True)
class Facets:
    """What a subscription can filter an item (a document or a change) on."""

    agencies: tuple[str, ...] = ()  # FR agency slugs
    type: str = ""  # "Rule", "Proposed Rule", ... ("" for eCFR changes)
    cfr: tuple[str, ...] = ()  # "15:744", "15:744.11", "15:744:supp-4"
    eccns: tuple[str, ...] = ()
    entities: tuple[tuple[str, str], ...] = ()  # (country, entity name)
    text: str = ""
    topics: tuple[str, ...] = ()


def matches(subscription: SubscriptionConfig, item: Facets) -> bool:
    """Every filter the subscription sets must match; unset filters match everything."""
    s = subscription
    text = fold(item.text).lower()
    checks = [
        not s.agencies or bool(set(s.agencies) & set(item.agencies)),
        not s.types or item.type in {TYPES.get(t.upper(), t) for t in s.types},
        not s.cfr or any(_cfr(want, have) for want in s.cfr for have in item.cfr),
        not s.eccns
        or any(fnmatch.fnmatchcase(e.upper(), p.upper()) for p in s.eccns for e in item.eccns),
        not s.entity_countries
        or any(
            fold(c).upper() in {fold(x).upper() for x in s.entity_countries}
            for c, _ in item.entities
        ),
        not s.entity_names
        or any(
            fold(n).lower() in fold(name).lower()
            for n in s.entity_names
            for _, name in item.entities
        ),
        not s.keywords or any(fold(k).lower() in text for k in s.keywords),
        not s.topics or bool(set(s.topics) & set(item.topics)),
    ]
    return all(checks)


def _cfr(want: str, have: str) -> bool:
    """ "15" matches everything in title 15; "15:744" the part and all its units."""
    return have == want or have.startswith(f"{want}:") or have.startswith(f"{want}.")


_ECCN = re.compile(r"^[0-9][A-E][0-9]{3}$")


def document_facets(doc: FrDocument, topics: tuple[Topic, ...]) -> Facets:
    text = " ".join((doc.title, doc.abstract, doc.action))
    return Facets(
        agencies=doc.agency_slugs,
        type=doc.type,
        cfr=doc.cfr_parts,
        text=text,
        topics=tag(text, topics),
    )


def change_facets(key: str, title: str, diff: DocumentDiff, topics: tuple[Topic, ...]) -> Facets:
    """Facets of an eCFR change: its unit, the ECCNs and Entity List entries it touches."""
    labels = [label for c in diff.changes for label in c.path]
    entities = tuple((c, n) for c, _, n in (x.partition("|") for x in labels if "|" in x))
    text = " ".join(
        [title]
        + [f.new for c in diff.changes for f in c.fields]
        + [" ".join(_node_text(c.node)) for c in diff.changes if c.node]
    )
    mentioned = re.findall(r"\b[0-9][A-E][0-9]{3}\b", text)  # sections that cite an ECCN
    return Facets(
        cfr=(key.removeprefix("cfr:").split("~")[0],),
        eccns=tuple(dict.fromkeys([*(x for x in labels if _ECCN.match(x)), *mentioned])),
        entities=entities,
        text=text,
        topics=tag(text, topics),
    )


def _node_text(node: Node) -> list[str]:
    out = [node.title, node.text, *(v for _, v in node.fields)]
    for child in node.children:
        out += _node_text(child)
    return out


def for_subscription(digest: Digest, subscription: SubscriptionConfig) -> Digest:
    """The digest with only what ``subscription`` asks for (sources footer kept whole)."""

    def keep(entries: tuple) -> tuple:
        return tuple(e for e in entries if matches(subscription, e.facets))

    sections = tuple(dataclasses.replace(s, entries=keep(s.entries)) for s in digest.sections)
    sections = tuple(s for s in sections if s.entries)
    corrections = keep(digest.corrections)
    return dataclasses.replace(
        digest,
        sections=sections,
        corrections=corrections,
        cfr_changes=keep(digest.cfr_changes),
        cfr_quiet=keep(digest.cfr_quiet),
        changes=() if subscription_filters(subscription) else digest.changes,
        total_new=sum(len(s.entries) for s in sections) + len(corrections),
    )


def subscription_filters(subscription: SubscriptionConfig) -> bool:
    """Whether the subscription filters at all (an unfiltered one gets everything)."""
    s = subscription
    return any(
        (
            s.agencies,
            s.types,
            s.cfr,
            s.eccns,
            s.entity_countries,
            s.entity_names,
            s.keywords,
            s.topics,
        )
    )
