"""What the store has checked: each source from which day through which day, derived from
its runs (the windows ``Store.checked`` counts). A question about days no run has checked
is answered "not known", never "no change"."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from crawler.fetch.spiders import get
from storage import Store


@dataclass(frozen=True)
class Checked:
    """The days one source was checked through, for one subject."""

    source: str  # the registry name: "ecfr"
    title: str  # as people name it: "eCFR"
    first: str  # ISO day
    last: str  # ISO day

    def knows(self, day: str) -> bool:
        return self.first <= day <= self.last

    def span(self) -> str:
        return f"the {self.title} from {self.first} to {self.last}"


def checked(store: Store, source: str, earliest: str | None = None) -> Checked | None:
    """What ``store`` has checked of ``source``; ``earliest`` (the first stored version of
    the subject, in effect from that day) widens the start. None: never checked."""
    window = store.checked(source)
    if window is None:
        return None
    first = min(window[0], earliest) if earliest else window[0]
    return Checked(source, get(source).title, first, window[1])


def last_known(checks: Sequence[Checked]) -> str:
    return max(c.last for c in checks)


def first_known(checks: Sequence[Checked]) -> str:
    return min(c.first for c in checks)


def scope(subject: str, checks: Sequence[Checked]) -> str:
    """ "15 CFR 744.11: the store has checked the eCFR only from 2026-10-01 to 2026-10-09;
    nothing is known after 2026-10-09", each of ``checks`` (at least one) named."""
    spans = " and ".join(c.span() for c in checks)
    return (
        f"{subject}: the store has checked {spans.replace(' from ', ' only from ', 1)}; "
        f"nothing is known after {last_known(checks)}"
    )


def never(subject: str, sources: Sequence[str]) -> str:
    """ "15 CFR 744.11: the store has never checked the eCFR; nothing is known"."""
    names = " or ".join(f"the {get(s).title}" for s in sources)
    return (
        f"{subject}: the store has never checked {names}; nothing is known "
        "(`regwatch run` checks every enabled source)"
    )
