"""Which items a subscription wants. Pure: facets of an item + a subscription -> yes/no."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass

from crawler.config import SubscriptionConfig
from crawler.parse.text import fold

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
