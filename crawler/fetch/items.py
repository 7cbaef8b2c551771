"""What the spiders hand the pipeline: raw payloads as fetched, and errors as data."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

Validators = dict[str, tuple[str | None, str | None]]  # url -> (ETag, Last-Modified)


@dataclass(frozen=True)
class FetchedDocument:
    """One FR document's JSON and full-text XML, as fetched (or re-read after a 304)."""

    source: str
    number: str
    json_url: str
    json: bytes
    xml_url: str | None
    xml: bytes | None
    fetched_at: str
    validators: Validators = field(default_factory=dict)
    reference_for: str | None = None  # fetched only because this document corrects it


@dataclass(frozen=True)
class FetchedPublicInspection:
    """The Public Inspection list of one day for the configured agencies."""

    source: str
    available_on: date
    url: str
    body: bytes
    fetched_at: str
    query: str = ""  # the agencies asked for, comma-separated ("": every agency)


@dataclass(frozen=True)
class FetchedCfrPart:
    """One CFR part as the eCFR's point-in-time API gave it for ``day``."""

    source: str
    title: int
    part: str
    day: date
    url: str
    body: bytes
    fetched_at: str
    # (unit key, amendment date) of each unit the versions API marks removed up to ``day``:
    # what confirms a loss that would otherwise be held as implausible
    removed: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class FetchedWebPage:
    """One web page as fetched: ``path`` is its identity (``bis:<path>``), also after a
    redirect; ``listing`` names the page that linked to it (None: a watched page)."""

    source: str
    path: str
    url: str
    body: bytes
    day: date  # the run's day: a page's version is keyed by the day it was seen
    fetched_at: str
    listing: str | None = None
    validators: Validators = field(default_factory=dict)


@dataclass(frozen=True)
class Unchanged:
    """A document whose payloads the server said are unchanged (HTTP 304 on all of them):
    ``key`` is its document key (fr:2024-12345, bis:/press-release/...)."""

    source: str
    key: str


@dataclass(frozen=True)
class CrawlError:
    """A request or payload that failed for good. ``fatal``: the source as a whole failed.
    ``kind`` says whose fault (storage.ErrorKind): the source's (``fetch``, ``input``) or
    regwatch's own (``bug``: a spider callback raised)."""

    source: str
    target: str
    message: str
    fatal: bool = False
    kind: str = "fetch"


@dataclass(frozen=True)
class WindowCounted:
    """A search window's result count, for the progress bar and the run's stats."""

    source: str
    since: date
    until: date
    count: int
