"""Jinja2 rendering. HTML/XML templates are always autoescaped whatever their file name;
``*.txt.j2`` templates render plain text through a separate non-escaping environment.
Undefined names are errors (StrictUndefined). No crawled text is ever marked safe."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


@cache
def _environment(escape: bool) -> Environment:
    from crawler.diff.views import node_text, path_text

    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=escape,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.globals.update(path_text=path_text, node_lines=lambda node: list(node_text(node)))
    env.filters["url"] = safe_url
    return env


def safe_url(value: str) -> str:
    """A link target fit for href: http(s), or a relative path; anything else (javascript:,
    data:, vbscript:, protocol-relative) becomes "#". Every href in the templates uses it."""
    text = "".join(str(value).split())
    if text.lower().startswith(("http://", "https://")):
        return text
    if text.startswith("//") or ":" in text.split("/", 1)[0]:
        return "#"
    return text


def render(name: str, **context: Any) -> str:
    """Render ``templates/<name>``; plain text only for names ending in .txt.j2."""
    return _environment(not name.endswith(".txt.j2")).get_template(name).render(**context)
