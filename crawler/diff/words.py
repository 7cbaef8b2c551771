"""Exact word-level diff with diff-match-patch: words mapped to characters (its line-mode
trick at word granularity), no timeout (so never a coarsened whole-text replace), then a
semantic cleanup. The common head and tail are cut off first, at whitespace, so the work is
proportional to the edit, not to the paragraph.

The diff itself runs in fast-diff-match-patch, the C++ port of the same algorithm (its
output is diff-match-patch's, checked by tests/test_words.py on random and real text, at
about 40 times the speed: a rewritten paragraph is milliseconds, not tens of them); the
Python diff-match-patch is the reference, and the engine where the port is not installed."""

from __future__ import annotations

import re

from diff_match_patch import diff_match_patch

from crawler.diff.model import TextOp

try:
    import fast_diff_match_patch as _fast
except ImportError:  # pragma: no cover - the wheel is a dependency; this is its absence
    _fast = None

_TOKEN = re.compile(r"\s+|[^\s\w]|\w+")
_OPS = {0: "equal", 1: "insert", -1: "delete"}
_FAST = {"=": "equal", "+": "insert", "-": "delete"}
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

    return [(op, "".join([tokens[c] for c in text])) for op, text in diff(encode(a), encode(b))]


def diff(a: str, b: str) -> list[tuple[str, str]]:
    """The exact diff of two strings, semantically cleaned: (op, text) runs."""
    if _fast is not None:
        try:
            runs = _fast.diff(
                a, b, timelimit=0, checklines=False, cleanup="Semantic", counts_only=False
            )
        except ValueError:  # a build whose characters are 16 bits refuses the astral planes
            return reference_diff(a, b)
        return [(_FAST[op], text) for op, text in runs]
    return reference_diff(a, b)


def reference_diff(a: str, b: str) -> list[tuple[str, str]]:
    """``diff`` by the Python diff-match-patch."""
    diffs = _DMP.diff_main(a, b, False)
    _DMP.diff_cleanupSemantic(diffs)
    return [(_OPS[code], text) for code, text in diffs]


def _chars():
    for start, end in _PRIVATE:
        for code in range(start, end + 1):
            yield chr(code)
    raise ValueError("more than 137,000 distinct words in one paragraph")
