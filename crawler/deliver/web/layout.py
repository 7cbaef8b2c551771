"""What a page of templates/web/ is framed by and where its links go, for the two places the
pages are rendered: the app (`regwatch serve`: absolute URLs, every page there) and the static
site (crawler.deliver.site: relative files, and only the files it wrote, so no link leads
nowhere). One set of templates; the links object decides."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from typing import Any
from urllib.parse import quote, urlencode

from crawler.digest.render import render
from crawler.errors import UsageError
from crawler.keys import CFR, fr_number, readable
from crawler.query.citations import parse_citation


@dataclass(frozen=True)
class Alternate:
    name: str  # the feed's file name ("all.atom"): where it is, Links.feed says
    title: str
    type: str = "application/atom+xml"


@dataclass(frozen=True)
class Frame:
    title: str
    section: str  # the navigation entry it belongs to ("/", "/cfr" ...)
    alternates: tuple[Alternate, ...] = ()


STATIC = resources.files("crawler.deliver.web") / "static"  # the stylesheet and icon
ALL_FEED = Alternate("all.atom", "regwatch: every change")
SECTIONS = (
    ("/", "Today"),
    ("/days", "Days"),
    ("/cfr", "CFR text"),
    ("/rules", "FR documents"),
    ("/entities", "Entity List"),
    ("/eccns", "CCL"),
    ("/search", "Search"),
    ("/sources", "Sources"),
    ("/feeds", "Feeds"),
)


def unit_path(key: str) -> tuple[str, str]:
    """cfr:15:744.11 -> ("15", "744.11"); cfr:15:744:supp-4 -> ("15", "744:supp-4")."""
    title, rest = key.removeprefix(CFR).split(":", 1)
    return title, rest


class Links:
    """The app's URLs. ``units``: the stored CFR unit keys, asked for once a citation needs
    them (a rule's "15 CFR 744 Supp. No. 4" links to that unit's page only if it is stored)."""

    dynamic = True  # a server answers: forms, JSON, any pair of dates

    def __init__(self, units: Callable[[], list[str]]) -> None:
        self._units = units
        self._known: list[str] | None = None

    def nav(self) -> list[tuple[str, str, str]]:
        """(href, label, section) of the header navigation."""
        return [(href, label, href) for href, label in SECTIONS]

    def home(self) -> str:
        return "/"

    def asset(self, name: str) -> str:
        return f"/static/{name}"

    def days(self) -> str:
        return "/days"

    def feed(self, name: str) -> str | None:
        return f"/feeds/{name}"

    def day(self, day: str) -> str | None:
        return f"/days/{day}"

    def api(self, path: str = "openapi.json") -> str | None:
        return f"/api/{path}"

    def rule(self, number: str) -> str | None:
        return f"/rules/{quote(number, safe='-')}"

    def unit(self, key: str) -> str | None:
        title, rest = unit_path(key)
        return f"/cfr/{title}/{quote(rest, safe=':.-')}"

    def compare(self, key: str, old: str | None, new: str | None) -> str | None:
        """The two dates of ``key`` compared (either may be None: `regwatch diff`'s default)."""
        asked = {k: v for k, v in (("from", old), ("to", new)) if v}
        return f"{self.unit(key)}/compare" + (f"?{urlencode(asked)}" if asked else "")

    def beside(self, key: str, number: str) -> str | None:
        """The eCFR text now against what FR Doc. ``number`` said ``key`` would read."""
        return f"{self.unit(key)}/compare?{urlencode({'rule': number})}"

    def cited(self, citation: str) -> str | None:
        """The page of the stored unit ``citation`` names, or None when none is stored."""
        key = self.cited_key(citation)
        return self.unit(key) if key else None

    def cited_key(self, citation: str) -> str | None:
        """The stored unit ``citation`` names ("15 CFR 744 Supp. No. 4"), or None."""
        if self._known is None:
            self._known = self._units()
        try:
            key = parse_citation(citation, self._known)
        except UsageError:
            return None
        return key if key in self._known else None


class SiteLinks(Links):
    """The static site's links: relative to a page ``prefix`` below the site's folder ("" for
    index.html, "../" for the rest), to the files ``exists`` says are there (written before
    or being written now), None otherwise: the template shows the words without a link."""

    dynamic = False

    def __init__(
        self,
        units: Callable[[], list[str]],
        prefix: str,
        exists: Callable[[str], bool],
        feeds: str | None,
    ) -> None:
        super().__init__(units)
        self.prefix = prefix
        self.exists = exists
        self.feeds = feeds  # the feeds' folder relative to the site's, if it is below root

    def feed(self, name: str) -> str | None:
        return f"{self.prefix}{self.feeds}/{name}" if self.feeds else None

    def _file(self, path: str) -> str | None:
        return self.prefix + path if self.exists(path) else None

    def nav(self) -> list[tuple[str, str, str]]:
        return [(self.prefix + "index.html", "Days", "/days")]

    def home(self) -> str:
        return self.prefix + "index.html"

    def asset(self, name: str) -> str:
        return f"{self.prefix}static/{name}"

    def days(self) -> str:
        return self.home()

    def day(self, day: str) -> str | None:
        return self._file(day_file(day))

    def api(self, path: str = "openapi.json") -> str | None:
        return None

    def rule(self, number: str) -> str | None:
        return self._file(rule_file(number))

    def unit(self, key: str) -> str | None:
        return self._file(unit_file(key))

    def compare(self, key: str, old: str | None, new: str | None) -> str | None:
        return self._file(compare_file(key, old, new)) if old and new else None

    def beside(self, key: str, number: str) -> str | None:
        return None


def _name(text: str) -> str:
    return "".join(c if c.isalnum() or c in ".-" else "_" for c in text)


def day_file(day: str) -> str:
    return f"days/{_name(day)}.html"


def rule_file(number: str) -> str:
    return f"rules/{_name(number)}.html"


def unit_file(key: str) -> str:
    return f"cfr/{_name('-'.join(unit_path(key)))}.html"


def compare_file(key: str, old: str | None, new: str | None) -> str:
    return f"compare/{_name('-'.join(unit_path(key)))}_{old}_{new}.html"


def render_page(name: str, frame: Frame, links: Links, **context: Any) -> str:
    """Page ``name`` of templates/web/ in ``frame``, its links from ``links``."""
    return render(name, frame=frame, links=links, readable=readable, number=fr_number, **context)
