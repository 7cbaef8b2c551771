"""Exact word-level diff with diff-match-patch: words mapped to characters (its line-mode
trick at word granularity), no timeout (so never a coarsened whole-text replace), then a
semantic cleanup. The common head and tail are cut off first, at whitespace, so the work is
proportional to the edit, not to the paragraph."""

from __future__ import annotations

import re

from diff_match_patch import diff_match_patch

from crawler.diff.model import TextOp

_TOKEN = re.compile(r"\s+|[^\s\w]|\w+")
_OPS = {0: "equal", 1: "insert", -1: "delete"}
_PRIVATE = [(0xE000, 0xF8FF), (0xF0000, 0xFFFFD), (0x100000, 0x10FFFD)]


def _engine() -> diff_match_patch:
    dmp = diff_match_patch()
    dmp.Diff_Timeout = 0  # exact at any size
    return dmp


_DMP = _engine()


def word_diff(old: str, new: str) -> tuple[TextOp, ...]:
    """The words of ``old`` and ``new`` as equal/delete/insert runs that rebuild both."""
    if old == new:
        return (TextOp("equal", old),) if old else ()
    head = _head(old, new)
    tail = _tail(old[head:], new[head:])
    a, b = old[head : len(old) - tail], new[head : len(new) - tail]
    ops: list[TextOp] = []
    _add(ops, "equal", old[:head])
    for op, text in _middle(a, b):
        _add(ops, op, text)
    _add(ops, "equal", old[len(old) - tail :])
    return tuple(ops)


def _add(ops: list[TextOp], op: str, text: str) -> None:
    if not text:
        return
    if ops and ops[-1].op == op:
        ops[-1] = TextOp(op, ops[-1].text + text)
    else:
        ops.append(TextOp(op, text))


def _common(a: str, b: str) -> int:
    """Length of the common prefix (binary search over C-speed slice compares)."""
    lo, hi = 0, min(len(a), len(b))
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[:mid] == b[:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _head(a: str, b: str) -> int:
    """Common prefix, backed off to just after a whitespace (a token boundary)."""
    n = _common(a, b)
    if n == len(a) == len(b):
        return n
    while n > 0 and not a[n - 1].isspace():
        n -= 1
    return n


def _tail(a: str, b: str) -> int:
    """Common suffix, backed off to start at a whitespace (a token boundary)."""
    n = _common(a[::-1], b[::-1])
    while n > 0 and not a[len(a) - n].isspace():
        n -= 1
    return n


def _middle(a: str, b: str) -> list[tuple[str, str]]:
    if not a or not b:
        return [("delete", a), ("insert", b)]
    vocabulary: dict[str, str] = {}
    tokens: dict[str, str] = {}
    chars = _chars()

    def encode(text: str) -> str:
        out = []
        for token in _TOKEN.findall(text):
            char = vocabulary.get(token)
            if char is None:
                char = vocabulary[token] = next(chars)
                tokens[char] = token
            out.append(char)
        return "".join(out)

    diffs = _DMP.diff_main(encode(a), encode(b), False)
    _DMP.diff_cleanupSemantic(diffs)
    return [(_OPS[code], "".join([tokens[c] for c in text])) for code, text in diffs]


def _chars():
    for start, end in _PRIVATE:
        for code in range(start, end + 1):
            yield chr(code)
    raise ValueError("more than 137,000 distinct words in one paragraph")
