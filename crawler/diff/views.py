"""Views of one DocumentDiff: terminal text, unified, HTML (through templates), JSON.

Text views are built here (they hold no markup); the HTML view is rendered by
``templates/diff/redline.html.j2``, which escapes everything it is given."""

from __future__ import annotations

import json
from collections.abc import Iterator

from crawler.diff.model import DocumentDiff, FieldChange, NodeChange, Op
from crawler.records import Node

RED, GREEN, DIM, RESET = "\x1b[31m", "\x1b[32m", "\x1b[2m", "\x1b[0m"
SIGN = {
    Op.ADDED: "+",
    Op.REMOVED: "-",
    Op.CHANGED: "~",
    Op.MOVED: ">",
    Op.REDESIGNATED: ">",
    Op.REORDERED: "~",
}


def path_text(path: tuple[str, ...] | None) -> str:
    return "/".join(path) if path else "(document)"


def inline(field: FieldChange, colour: bool = False) -> str:
    """``[-old-]{+new+}`` word-level markup of one field (coloured for a terminal)."""
    out = []
    for op in field.ops:
        if op.op == "equal":
            out.append(op.text)
        elif op.op == "delete":
            out.append(f"{RED}[-{op.text}-]{RESET}" if colour else f"[-{op.text}-]")
        else:
            out.append(f"{GREEN}{{+{op.text}+}}{RESET}" if colour else f"{{+{op.text}+}}")
    return "".join(out)


def node_text(node: Node, depth: int = 0) -> Iterator[str]:
    """A subtree as indented lines: heading, text, cells, then children."""
    pad = "  " * depth
    head = " ".join(x for x in (node.title, node.text) if x)
    if node.fields:
        head = " | ".join(v for _, v in node.fields)
    yield f"{pad}{head or node.label}"
    for child in node.children:
        yield from node_text(child, depth + 1)


def heading(change: NodeChange) -> str:
    where = path_text(change.path)
    if change.old_path:
        where = f"{path_text(change.old_path)} -> {where}"
    quiet = "" if change.substantive else " (typography/whitespace only)"
    return f"{SIGN[change.op]} {where}  {change.op} {change.kind}{quiet}"


def text_view(diff: DocumentDiff, colour: bool = False) -> str:
    lines: list[str] = []
    for change in diff.changes:
        head = heading(change)
        lines.append(f"{DIM}{head}{RESET}" if colour and not change.substantive else head)
        for field in change.fields:
            label = "" if field.name == "text" else f"{field.name.removeprefix('field:')}: "
            lines.append(f"    {label}{inline(field, colour)}")
        if change.op in (Op.ADDED, Op.REMOVED) and change.node is not None:
            colour_on = (GREEN if change.op == Op.ADDED else RED) if colour else ""
            lines += [
                f"    {colour_on}{line}{RESET if colour else ''}" for line in node_text(change.node)
            ]
        if change.op == Op.REORDERED and change.order:
            lines.append(f"    new order: {', '.join(change.order)}")
    if not diff.changes:
        lines.append("no changes")
    return "\n".join(lines) + "\n"


def unified_view(diff: DocumentDiff, old_name: str = "old", new_name: str = "new") -> str:
    lines = [f"--- {old_name}", f"+++ {new_name}"]
    for change in diff.changes:
        lines.append(f"@@ {heading(change)} @@")
        for field in change.fields:
            lines += [f"-{x}" for x in field.old.splitlines() or [""]]
            lines += [f"+{x}" for x in field.new.splitlines() or [""]]
        if change.node is not None and change.op != Op.CHANGED:
            sign = "-" if change.op == Op.REMOVED else "+"
            lines += [f"{sign}{line}" for line in node_text(change.node)]
    return "\n".join(lines) + "\n"


def json_view(diff: DocumentDiff) -> str:
    return json.dumps(diff.to_json(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def html_view(diff: DocumentDiff, title: str, old_label: str, new_label: str) -> str:
    """A standalone redline page."""
    from crawler.digest.render import render

    return render(
        "diff/redline.html.j2", diff=diff, title=title, old_label=old_label, new_label=new_label
    )
