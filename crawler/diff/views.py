"""Views of one DocumentDiff: terminal text, unified, HTML (through templates), JSON.

Text views are built here (they hold no markup); the HTML view is rendered by
``templates/diff/redline.html.j2``, which escapes everything it is given."""

from __future__ import annotations

from collections.abc import Iterator

from crawler.diff.cite import OfficialLink, cite
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


def where(change: NodeChange) -> str:
    """Where ``change`` is, as people cite it ("§ 744.11(b)(2)"); read from its labels
    alone when the diff was not cited against its unit (crawler.diff.cite.cite_diff)."""
    return change.citation or cite(None, change.path) or "the whole document"


def where_from(change: NodeChange) -> str:
    """Where a moved or redesignated node was, as people cite it."""
    if change.old_path is None:
        return ""
    return change.old_citation or cite(None, change.old_path) or "the whole document"


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
    """A subtree as indented lines: heading and text, or a row's fields one per line
    ("Country: CHINA"), then children."""
    pad = "  " * depth
    if node.fields:
        yield from (f"{pad}{name}: {value}" for name, value in node.fields if value)
    else:
        head = " ".join(x for x in (node.title, node.text) if x)
        yield f"{pad}{head or cite(None, (node.label,))}"
    for child in node.children:
        yield from node_text(child, depth + 1)


def heading(change: NodeChange) -> str:
    place = where(change)
    if change.old_path:
        place = f"{where_from(change)} -> {place}"
    quiet = "" if change.substantive else " (typography/whitespace only)"
    return f"{SIGN[change.op]} {place}  {change.op}{quiet}"


def text_view(diff: DocumentDiff, colour: bool = False) -> str:
    lines: list[str] = []
    for change in diff.listed:
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
            lines.append(f"    new order: {'; '.join(cite(None, (x,)) for x in change.order)}")
    if not diff.changes:
        lines.append("no changes")
    return "\n".join(lines) + "\n"


def unified_view(diff: DocumentDiff, old_name: str = "old", new_name: str = "new") -> str:
    lines = [f"--- {old_name}", f"+++ {new_name}"]
    for change in diff.listed:
        lines.append(f"@@ {heading(change)} @@")
        for field in change.fields:
            lines += [f"-{x}" for x in field.old.splitlines() or [""]]
            lines += [f"+{x}" for x in field.new.splitlines() or [""]]
        if change.node is not None and change.op != Op.CHANGED:
            sign = "-" if change.op == Op.REMOVED else "+"
            lines += [f"{sign}{line}" for line in node_text(change.node)]
    return "\n".join(lines) + "\n"


def html_view(
    diff: DocumentDiff,
    title: str,
    old_label: str,
    new_label: str,
    official: tuple[OfficialLink, ...] = (),
) -> str:
    """A standalone redline page; ``official`` links (given for eCFR text) label it as the
    unofficial compilation it is."""
    from crawler.digest.render import render

    return render(
        "diff/redline.html.j2",
        diff=diff,
        title=title,
        old_label=old_label,
        new_label=new_label,
        official=official,
    )
