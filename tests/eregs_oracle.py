"""eRegs' 27 CFR 447 pair through the eCFR path: the two trees written as eCFR part XML by
``../shared/tools/eregs_to_ecfr.py``, parsed by our eCFR parser, diffed by our engine, and
compared with eRegs' own diff of the same pair, node for node."""

from __future__ import annotations

import functools
import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from crawler.diff import diff_documents
from crawler.diff.model import NodeChange, Op
from crawler.parse.ecfr_xml import parse_ecfr_xml
from crawler.parse.text import fold
from crawler.records import Node

OLD, NEW = "regulation_447_v2014-02580.json", "regulation_447_v2014-06778.json"
DIFF = "diff_447_2014-02580_to_2014-06778.json"
_OPS = {"added": Op.ADDED, "deleted": Op.REMOVED, "modified": Op.CHANGED}

Path_ = tuple[str, ...]


@functools.cache  # one run of the tool per tree and date (bytes: nothing can change them)
def as_ecfr(shared: Path, name: str, date: str) -> bytes:
    tool = shared / "tools" / "eregs_to_ecfr.py"
    tree = shared / "data" / "eregs_atf_447" / name
    return subprocess.run(
        [sys.executable, str(tool), str(tree), date], check=True, capture_output=True
    ).stdout


def paths(eregs: dict, ours: Node) -> dict[str, Path_]:
    """Each eRegs node's label ("447-21-p2201854344-e-p1-a") -> the path of the same node
    in our tree, found by walking both: markers by label, headings by their text, notes and
    unlabelled paragraphs in order."""
    out: dict[str, Path_] = {}

    def walk(e: dict, node: Node, path: Path_) -> None:
        out["-".join(e["label"])] = path
        notes = [c for c in node.children if c.kind == "note"]
        texts = [c for c in node.children if c.kind == "paragraph" and c.label.startswith("p")]
        for child in e.get("children", []):
            last = child["label"][-1]
            if child.get("node_type") == "subpart":
                found = node.child(f"Subpart {last}")
            elif len(child["label"]) == 2 and not last.startswith("p"):
                found = node.child(".".join(child["label"]))
            elif child.get("title") and child.get("node_type") != "subpart":
                title = fold(child["title"]).lower()
                found = next(
                    (
                        c
                        for c in node.children
                        if c.kind == "heading" and fold(c.title).lower() == title
                    ),
                    None,
                )
                if found is not None and child.get("text"):  # heading and text: our p1 below it
                    out["-".join(child["label"])] = (*path, found.label)
            elif child.get("text") and node.child(_term(child["text"])) is not None:
                found = node.child(_term(child["text"]))
            elif child.get("node_type") == "note":
                found = notes.pop(0) if notes else None
            elif last.startswith("p") and last[1:].isdigit():
                found = texts.pop(0) if texts else None
            else:
                found = node.child(last)
            if found is None:
                raise KeyError(f"eRegs node {'-'.join(child['label'])} has no counterpart")
            walk(child, found, (*path, found.label))

    walk(eregs, ours, ())
    return out


@dataclass
class Comparison:
    expected: int  # eRegs' text-bearing changes
    missed: list[str]  # ... that our diff does not report with the same operation
    extra: list[NodeChange]  # our substantive changes eRegs has no node for


def compare(shared: Path) -> Comparison:
    folder = shared / "data" / "eregs_atf_447"
    eregs_old = json.loads((folder / OLD).read_text())
    eregs_new = json.loads((folder / NEW).read_text())
    oracle = json.loads((folder / DIFF).read_text())
    old = parse_ecfr_xml(as_ecfr(shared, OLD, "2014-02-11"))
    new = parse_ecfr_xml(as_ecfr(shared, NEW, "2014-04-04"))
    old_paths, new_paths = paths(eregs_old, old), paths(eregs_new, new)
    diff = diff_documents(old, new)
    ours: dict[Path_, NodeChange] = {c.path: c for c in diff.changes}
    moved_from = {c.old_path: c for c in diff.changes if c.old_path}

    def covered(path: Path_, ops: tuple[Op, ...]) -> bool:
        return any(path[:n] in ours and ours[path[:n]].op in ops for n in range(len(path), 0, -1))

    missed = []
    text_bearing = {k: v for k, v in oracle.items() if v["op"] != "modified" or "text" in v}
    for key, entry in sorted(text_bearing.items()):
        op = _OPS[entry["op"]]
        if op is Op.CHANGED:
            change = ours.get(new_paths[key])
            ok = change is not None and change.op in (Op.CHANGED, Op.REDESIGNATED, Op.MOVED)
            ok = ok and any(f.substantive for f in change.fields)  # type: ignore[union-attr]
        elif op is Op.ADDED:
            ok = covered(new_paths[key], (Op.ADDED, Op.MOVED, Op.REDESIGNATED))
        else:
            path = old_paths[key]
            ok = covered(path, (Op.REMOVED,)) or any(
                path[:n] in moved_from for n in range(len(path), 0, -1)
            )
        if not ok:
            missed.append(key)
    named = {p for k, p in new_paths.items() if k in oracle} | {
        p for k, p in old_paths.items() if k in oracle
    }
    extra = [
        c
        for c in diff.substantive
        if c.path not in named and (c.old_path is None or c.old_path not in named)
    ]
    return Comparison(len(text_bearing), missed, extra)


def _term(text: str) -> str:
    return fold(text.split(".")[0]).strip('"\u201c\u201d ')


def expand_ranges(node: Node, prior: Node | None) -> Node:
    """eRegs' tree writes "(c)-(d)[Reserved]" where the official rule gives "(c) [Reserved]"
    and "(d) [Reserved]": a range this rule wrote (not in the prior text) is read as the
    paragraphs it stands for, what follows it (Category XIV's note) after the last of them,
    as the official text has it."""
    children: list[Node] = []
    for child in node.children:
        before = prior.child(child.label) if prior is not None else None
        found = re.match(r"^\((\w)\)\s*-\s*\((\w)\)\s*\[Reserved\]$", child.text)
        if found is None or (before is not None and before.text == child.text):
            children.append(expand_ranges(child, before))
            continue
        first, last = (ord(x) for x in found.groups())
        for n in range(first, last + 1):
            label = chr(n)
            kids = child.children if n == last else ()
            children.append(Node(label, child.kind, "", f"({label}) [Reserved]", kids))
    return Node(node.label, node.kind, node.title, node.text, tuple(children), node.fields)
