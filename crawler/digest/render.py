"""Jinja2 rendering. HTML/XML templates are always autoescaped whatever their file name;
``*.txt.j2`` templates render plain text through a separate non-escaping environment.
Undefined names are errors (StrictUndefined). No crawled text is ever marked safe.

Templates are package data of ``crawler`` (``crawler/templates``, a link to the top-level
``templates/`` folder in the checkout, real files in the wheel), read through
importlib.resources, so an installed wheel and an editable checkout load the same files."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

from jinja2 import Environment, FunctionLoader, StrictUndefined
from jinja2.loaders import split_template_path

from crawler.parse.text import clean

TEMPLATES = resources.files("crawler") / "templates"


@cache
def _environment(escape: bool) -> Environment:
    from crawler.diff.cite import UNOFFICIAL
    from crawler.diff.model import Op
    from crawler.diff.views import node_text, where, where_from
    from crawler.records import AlertKind, Outcome, ProjectionOp, SourceState

    env = Environment(
        loader=FunctionLoader(template_source),
        autoescape=escape,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.globals.update(  # the enums templates compare with: never their bare strings
        Op=Op,
        ProjectionOp=ProjectionOp,
        SourceState=SourceState,
        Outcome=Outcome,
        AlertKind=AlertKind,
        where=where,
        where_from=where_from,
        node_lines=lambda node: list(node_text(node)),
        unofficial=UNOFFICIAL,
    )
    env.filters["url"] = safe_url
    return env


def template_source(name: str) -> str | None:
    """The source of ``templates/<name>`` (None when there is no such template)."""
    path = TEMPLATES.joinpath(*split_template_path(name))
    return path.read_text(encoding="utf-8") if path.is_file() else None


def safe_url(value: str) -> str:
    """A link target fit for href: http(s), or a relative path; anything else (javascript:,
    data:, vbscript:, protocol-relative, also spelt with backslashes) becomes "#". Spaces
    and control characters are dropped first, as browsers drop them ("java\tscript:").
    Every href in the templates and the feeds uses it."""
    text = "".join(clean(str(value)).split())
    if text.lower().startswith(("http://", "https://")):
        return text
    if text.replace("\\", "/").startswith("//") or ":" in text.split("/", 1)[0]:
        return "#"
    return text or "#"


def render(name: str, **context: Any) -> str:
    """Render ``templates/<name>``; plain text only for names ending in .txt.j2."""
    return _environment(not name.endswith(".txt.j2")).get_template(name).render(**context)
