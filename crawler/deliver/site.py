"""A static site of plain HTML files, openable from disk or any web server: an index of the
digests by date, a page per document with its history, a page per change with its redline.
All links are relative; every page is rendered from templates/site/ (autoescaped)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from crawler.config import Config
from crawler.deliver.files import write_atomic
from crawler.diff.cite import cited_diff, fr_sources, official_links
from crawler.digest.render import render
from crawler.keys import CFR, FR
from crawler.query.citations import display
from crawler.records import FrDocument, Node, from_json
from storage import Store


@dataclass(frozen=True)
class PageLink:
    href: str
    title: str
    note: str


def page_name(key: str) -> str:
    return re.sub(r"[^A-Za-z0-9.-]+", "_", key) + ".html"


def write_site(store: Store, config: Config) -> list[Path]:
    folder = config.root / "site"
    written: list[Path] = []
    digests = (
        sorted(config.digest_dir.glob("*.html"), reverse=True) if config.digest_dir.exists() else []
    )
    documents: list[PageLink] = []
    changes: list[PageLink] = []
    for listed in store.documents(prefix=FR):
        history = store.history(listed.key)
        if not history:
            continue
        doc = from_json(FrDocument, store.blob(history[-1].tree_blob))
        name = page_name(listed.key)
        written.append(
            write_atomic(
                folder / "documents" / name,
                render("site/document.html.j2", doc=doc, versions=history),
            )
        )
        documents.append(
            PageLink(f"documents/{name}", doc.title, f"{doc.type}, {doc.publication_date}")
        )
    for change in store.all_changes(CFR):
        row = store.document(change["document"])
        if row is None or row.kind in ("part", "as-amended"):
            continue
        old_v, new_v = store.version(change["from_version"]), store.version(change["to_version"])
        old = from_json(Node, store.blob(old_v.tree_blob))
        new = from_json(Node, store.blob(new_v.tree_blob))
        diff = cited_diff(row.key, old, new)
        name = page_name(f"{row.key}@{new_v.valid_from}")
        citation = display(row.key)
        written.append(
            write_atomic(
                folder / "changes" / name,
                render(
                    "diff/redline.html.j2",
                    diff=diff,
                    title=f"{citation} ({row.title})",
                    old_label=old_v.valid_from,
                    new_label=new_v.valid_from,
                    official=official_links(row.key, fr_sources(old, new)),
                ),
            )
        )
        changes.append(PageLink(f"changes/{name}", citation, f"in effect {new_v.valid_from}"))
    links = [
        PageLink(Path("..", config.output.digests, p.name).as_posix(), p.stem, "") for p in digests
    ]
    written.append(
        write_atomic(
            folder / "index.html",
            render("site/index.html.j2", digests=links, documents=documents, changes=changes),
        )
    )
    return written
