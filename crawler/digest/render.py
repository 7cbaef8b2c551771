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
    return env


def render(name: str, **context: Any) -> str:
    """Render ``templates/<name>``; plain text only for names ending in .txt.j2."""
    return _environment(not name.endswith(".txt.j2")).get_template(name).render(**context)
