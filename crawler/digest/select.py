"""Which items a subscription wants. Pure: facets of an item + a subscription -> yes/no."""

from __future__ import annotations

import dataclasses
import fnmatch
from dataclasses import dataclass
from typing import TYPE_CHECKING

from crawler.config import SubscriptionConfig
from crawler.diff import DocumentDiff
from crawler.diff.views import text_view
from crawler.digest.topics import Topic, tag
from crawler.keys import CFR, projection_parts
from crawler.parse.expect import ECCN
from crawler.parse.text import fold
from crawler.query.entities import summary as entity_summary
from crawler.records import FrDocument, Node

if TYPE_CHECKING:
    from crawler.digest.context import CfrChangeEntry, Report

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
        not s.eccns or any(_eccn_in(e, s.eccns) for e in item.eccns),
        not s.entity_countries or any(_country_in(c, s.entity_countries) for c, _ in item.entities),
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


def _eccn_in(eccn: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatchcase(eccn.upper(), p.upper()) for p in patterns)


def _country_in(country: str, countries: tuple[str, ...]) -> bool:
    return fold(country).upper() in {fold(c).upper() for c in countries}


def _cfr(want: str, have: str) -> bool:
    """ "15" matches everything in title 15; "15:744" the part and all its units."""
    return have == want or have.startswith(f"{want}:") or have.startswith(f"{want}.")


def document_facets(doc: FrDocument, topics: tuple[Topic, ...]) -> Facets:
    text = " ".join((doc.title, doc.abstract, doc.action))
    regtext = " ".join(
        line
        for r in (doc.xml.regtexts if doc.xml else ())
        for line in (*r.text, *(p for s in r.sections for p in s.paragraphs))
    )
    return Facets(
        agencies=doc.agency_slugs,
        type=doc.type,
        cfr=doc.cfr_parts,
        eccns=_mentioned(f"{text} {regtext}"),  # a rule that amends or names an ECCN
        text=text,
        topics=tag(text, topics),
    )


def _mentioned(text: str) -> tuple[str, ...]:
    """ECCNs named in ``text`` ("3A090", also as "3A090.a"), each once, in order."""
    return tuple(dict.fromkeys(ECCN.findall(text)))


def change_facets(key: str, title: str, diff: DocumentDiff, topics: tuple[Topic, ...]) -> Facets:
    """Facets of an eCFR change: its unit, the ECCNs and Entity List entries it touches."""
    labels = [label for c in diff.changes for label in c.path]
    entities = tuple((c, n) for c, _, n in (x.partition("|") for x in labels if "|" in x))
    text = " ".join(
        [title]
        + [f.new for c in diff.changes for f in c.fields]
        + [" ".join(_node_text(c.node)) for c in diff.changes if c.node]
    )
    own = [x for x in labels if ECCN.fullmatch(x)]
    return Facets(
        cfr=(projection_parts(key)[0].removeprefix(CFR),),
        eccns=tuple(dict.fromkeys([*own, *_mentioned(text)])),  # and sections citing one
        entities=entities,
        text=text,
        topics=tag(text, topics),
    )


BIS_SLUG = "industry-and-security-bureau"


def web_facets(kind: str, title: str, text: str, topics: tuple[Topic, ...]) -> Facets:
    """Facets of a BIS web page: BIS's own, and the ECCNs its text names."""
    said = f"{title} {text}"
    return Facets(
        agencies=(BIS_SLUG,),
        type=kind,
        eccns=_mentioned(said),
        text=said,
        topics=tag(said, topics),
    )


def _node_text(node: Node) -> list[str]:
    out = [node.title, node.text, *(v for _, v in node.fields)]
    for child in node.children:
        out += _node_text(child)
    return out


def for_subscription(digest: Report, subscription: SubscriptionConfig) -> Report:
    """The digest with only what ``subscription`` asks for (sources footer kept whole)."""

    def keep(entries: tuple) -> tuple:
        return tuple(e for e in entries if matches(subscription, e.facets))

    def narrow(entries: tuple) -> tuple:
        return tuple(narrowed(e, subscription) for e in keep(entries))

    sections = tuple(dataclasses.replace(s, entries=keep(s.entries)) for s in digest.sections)
    sections = tuple(s for s in sections if s.entries)
    corrections = keep(digest.corrections)
    return dataclasses.replace(
        digest,
        sections=sections,
        corrections=corrections,
        cfr_changes=narrow(digest.cfr_changes),
        cfr_quiet=narrow(digest.cfr_quiet),
        web=keep(digest.web),
        web_quiet=keep(digest.web_quiet),
        calendar=keep(digest.calendar),
        changes=() if subscription_filters(subscription) else digest.changes,
        total_new=sum(len(s.entries) for s in sections) + len(corrections),
    )


def narrowed(entry: CfrChangeEntry, subscription: SubscriptionConfig) -> CfrChangeEntry:
    """A change to a list (the CCL by ECCN, the Entity List by country) cut down to the
    rows the subscription watches: a 3A090 watch is not sent the 4A906 edit made by the
    same rule. Other changes are kept whole."""
    s = subscription

    def wanted(label: str) -> bool:
        if ECCN.fullmatch(label):
            return not s.eccns or _eccn_in(label, s.eccns)
        if "|" in label:
            country = label.partition("|")[0]
            return not s.entity_countries or _country_in(country, s.entity_countries)
        return True

    if not any(ECCN.fullmatch(x) or "|" in x for c in entry.diff.changes for x in c.path):
        return entry
    kept = tuple(c for c in entry.diff.changes if all(wanted(x) for x in c.path))
    if len(kept) == len(entry.diff.changes):
        return entry
    diff = DocumentDiff(kept)
    return dataclasses.replace(
        entry,
        diff=diff,
        text=text_view(diff),
        summary=entity_summary(diff) if entry.summary else "",
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
