"""What the replay server serves: FR documents (API JSON + full-text XML) and PI lists.

A corpus folder holds ``documents/<number>.json`` (the API's default field set, as recorded),
``xml/<number>.xml`` (the document's full-text XML) and ``public-inspection/<date>.json``
(the response of ``public-inspection-documents.json?conditions[available_on]=<date>``).
URLs inside use the real host; the server maps their paths onto itself.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

FR_SITE = "https://www.federalregister.gov"
BIS = {
    "raw_name": "Bureau of Industry and Security",
    "name": "Industry and Security Bureau",
    "id": 241,
    "slug": "industry-and-security-bureau",
    "parent_id": 54,
}
COMMERCE = {
    "raw_name": "DEPARTMENT OF COMMERCE",
    "name": "Commerce Department",
    "id": 54,
    "slug": "commerce-department",
    "parent_id": None,
}


@dataclass
class Corpus:
    documents: dict[str, dict[str, Any]] = field(default_factory=dict)
    xml: dict[str, bytes] = field(default_factory=dict)
    public_inspection: dict[str, dict[str, Any]] = field(default_factory=dict)
    make_xml: Callable[[str], bytes] | None = None
    ecfr_titles: dict[str, Any] | None = None  # titles.json
    ecfr_versions: dict[int, dict[str, Any]] = field(default_factory=dict)  # title -> JSON
    ecfr_full: dict[tuple[str, int, str], bytes] = field(default_factory=dict)  # date,title,part
    ecfr_page_size: int = 1000  # rows per page of versions/title-N.json, as the API pages
    web: dict[str, bytes] = field(default_factory=dict)  # site path -> HTML (bis.gov pages)
    web_redirects: dict[str, tuple[int, str]] = field(default_factory=dict)  # path -> status, to
    robots: bytes | None = None  # /robots.txt (None: 404, which allows everything)

    @classmethod
    def load(cls, folder: Path) -> Corpus:
        corpus = cls()
        for path in sorted((folder / "documents").glob("*.json")):
            doc = json.loads(path.read_text(encoding="utf-8"))
            corpus.documents[doc["document_number"]] = doc
        for path in sorted((folder / "xml").glob("*.xml")):
            corpus.xml[path.stem] = path.read_bytes()
        for path in sorted((folder / "public-inspection").glob("*.json")):
            corpus.public_inspection[path.stem] = json.loads(path.read_text(encoding="utf-8"))
        ecfr = folder / "ecfr"
        if (ecfr / "titles.json").exists():
            corpus.ecfr_titles = json.loads((ecfr / "titles.json").read_text(encoding="utf-8"))
        for path in sorted((ecfr / "versions").glob("title-*.json")):
            number = int(path.stem.removeprefix("title-"))
            corpus.ecfr_versions[number] = json.loads(path.read_text(encoding="utf-8"))
        for path in sorted((ecfr / "full").glob("*/title-*/part-*.xml")):
            day, title = path.parent.parent.name, int(path.parent.name.removeprefix("title-"))
            corpus.ecfr_full[(day, title, path.stem.removeprefix("part-"))] = path.read_bytes()
        web = folder / "web"
        for path in sorted(web.rglob("*.html")):
            corpus.web["/" + path.relative_to(web).with_suffix("").as_posix()] = path.read_bytes()
        if (web / "redirects.json").exists():
            moves = json.loads((web / "redirects.json").read_text(encoding="utf-8"))
            corpus.web_redirects = {k: (int(v[0]), v[1]) for k, v in moves.items()}
        return corpus

    def ecfr_part(self, day: str, title: int, part: str) -> bytes | None:
        """The part as it stood on ``day``: the latest recorded version on or before it."""
        dates = sorted(d for d, t, p in self.ecfr_full if t == title and p == part and d <= day)
        return self.ecfr_full[(dates[-1], title, part)] if dates else None

    @classmethod
    def demo(cls) -> Corpus:
        """The project's own demo corpus: a week of BIS documents (invented, real format)."""
        return cls.load(Path(str(resources.files("crawler.demo.replay") / "corpus" / "demo")))

    def xml_for(self, number: str) -> bytes | None:
        if number in self.xml:
            return self.xml[number]
        if self.make_xml is not None and number in self.documents:
            return self.make_xml(number)
        return None

    def days(self) -> list[date]:
        return sorted({date.fromisoformat(d["publication_date"]) for d in self.documents.values()})


def synthetic(count: int, start: date, days: int, seed: int = 7) -> Corpus:
    """``count`` BIS-like documents spread over ``days`` days, with generated XML."""
    rng = random.Random(seed)
    corpus = Corpus()
    types = [("Rule", "RULE"), ("Proposed Rule", "PRORULE"), ("Notice", "NOTICE")]
    for i in range(count):
        day = start + timedelta(days=i % days)
        number = f"{day.year}-{90000 + i:05d}"
        kind, _ = rng.choice(types)
        corpus.documents[number] = document_json(
            number, day, kind, f"Synthetic {kind} {i}", cfr_parts=(744,), start_page=1000 + i
        )
    corpus.make_xml = lambda number: _synthetic_xml(corpus.documents[number])
    return corpus


def document_json(
    number: str,
    day: date,
    kind: str,
    title: str,
    cfr_parts: tuple[int, ...] = (),
    start_page: int | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A document's JSON in the API's default field shape (SOURCES.md 1.3)."""
    path = f"{day:%Y/%m/%d}/{number}"
    slug = "-".join(re.sub(r"[^a-z0-9 ]", "", title.lower()).split())[:80]
    doc = {
        "abstract": extra.pop("abstract", None),
        "action": extra.pop("action", None),
        "agencies": [COMMERCE, BIS],
        "body_html_url": f"{FR_SITE}/documents/full_text/html/{path}.html",
        "cfr_references": [
            {
                "title": 15,
                "part": p,
                "chapter": "VII",
                "citation_url": f"https://www.ecfr.gov/current/title-15/part-{p}",
            }
            for p in cfr_parts
        ],
        "citation": f"{day.year - 1935} FR {start_page}" if start_page else None,
        "comment_url": None,
        "comments_close_on": None,
        "correction_of": None,
        "corrections": [],
        "dates": None,
        "docket_ids": [],
        "document_number": number,
        "effective_on": None,
        "end_page": start_page,
        "full_text_xml_url": f"{FR_SITE}/documents/full_text/xml/{path}.xml",
        "html_url": f"{FR_SITE}/documents/{path}/{slug}",
        "json_url": f"{FR_SITE}/api/v1/documents/{number}.json",
        "pdf_url": f"https://www.govinfo.gov/content/pkg/FR-{day}/pdf/{number}.pdf",
        "publication_date": day.isoformat(),
        "raw_text_url": f"{FR_SITE}/documents/full_text/text/{path}.txt",
        "regulation_id_numbers": [],
        "significant": False,
        "start_page": start_page,
        "title": title,
        "type": kind,
        "volume": day.year - 1935,
    }
    doc.update(extra)
    return doc


def _synthetic_xml(doc: dict[str, Any]) -> bytes:
    tag = {"Rule": "RULE", "Proposed Rule": "PRORULE", "Notice": "NOTICE"}[doc["type"]]
    return (
        f'<{tag}><PREAMB><AGENCY TYPE="S">DEPARTMENT OF COMMERCE</AGENCY>'
        "<SUBAGY>Bureau of Industry and Security</SUBAGY><CFR>15 CFR Part 744</CFR>"
        f'<SUBJECT>{doc["title"]}</SUBJECT><ACT><HD SOURCE="HED">ACTION:</HD><P>{doc["type"]}.</P>'
        '</ACT><SUM><HD SOURCE="HED">SUMMARY:</HD><P>A generated document for load tests.</P>'
        f"</SUM></PREAMB><SUPLINF><P>Body of {doc['document_number']}.</P></SUPLINF>"
        f"<FRDOC>[FR Doc. {doc['document_number']} Filed 1-1-26; 8:45 am]</FRDOC></{tag}>"
    ).encode()
