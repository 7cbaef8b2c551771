"""Exact word-level diff with diff-match-patch: words mapped to characters (its line-mode
trick at word granularity), no timeout (so never a coarsened whole-text replace), then a
semantic cleanup."""

from __future__ import annotations

import re

from diff_match_patch import diff_match_patch

from crawler.diff.model import TextOp

_TOKEN = re.compile(r"\s+|[^\s\w]|\w+")
_OPS = {0: "equal", 1: "insert", -1: "delete"}


def _engine() -> diff_match_patch:
    dmp = diff_match_patch()
    dmp.Diff_Timeout = 0  # exact at any size
    return dmp


_DMP = _engine()


def word_diff(old: str, new: str) -> tuple[TextOp, ...]:
    """The words of ``old`` and ``new`` as equal/delete/insert runs that rebuild both."""
    if old == new:
        return (TextOp("equal", old),) if old else ()
    if not old:
        return (TextOp("insert", new),)
    if not new:
        return (TextOp("delete", old),)
    vocabulary: dict[str, str] = {}
    tokens: list[str] = []

    def encode(text: str) -> str:
        out = []
        for token in _TOKEN.findall(text):
            char = vocabulary.get(token)
            if char is None:
                char = (
                    chr(0xE000 + len(tokens))
                    if len(tokens) < 0x1900
                    else chr(0xF0000 + len(tokens) - 0x1900)
                )
                vocabulary[token] = char
                tokens.append(token)
            out.append(char)
        return "".join(out)

    a, b = encode(old), encode(new)
    diffs = _DMP.diff_main(a, b, False)
    _DMP.diff_cleanupSemantic(diffs)
    ops: list[TextOp] = []
    for code, chars in diffs:
        text = "".join(tokens[_index(c)] for c in chars)
        if ops and ops[-1].op == _OPS[code]:
            ops[-1] = TextOp(ops[-1].op, ops[-1].text + text)
        else:
            ops.append(TextOp(_OPS[code], text))
    return tuple(ops)


def _index(char: str) -> int:
    code = ord(char)
    return code - 0xE000 if code < 0xF0000 else code - 0xF0000 + 0x1900
