"""The word diff's engine (crawler.diff.words): fast-diff-match-patch, the C++ port, gives
what the Python diff-match-patch gives, on random strings of the characters words are mapped
to (the private-use planes, astral ones included) and on every paragraph of real pairs."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_in_context import _pairs

from crawler.diff import words
from crawler.records import Node

# words become characters of the private-use areas, the BMP's first, then the astral planes
TOKENS = st.sampled_from(
    [chr(0xE000 + i) for i in range(12)] + [chr(0xF0000 + i) for i in range(6)]
)
TEXT = st.lists(TOKENS, max_size=120).map("".join)


@given(TEXT, TEXT)
@settings(max_examples=400, deadline=None)
def test_the_port_diffs_as_the_reference_does(a: str, b: str) -> None:
    assert words._fast is not None, "fast-diff-match-patch is a dependency"
    assert words.diff(a, b) == words.reference_diff(a, b)


@given(TEXT, st.lists(st.tuples(st.integers(0, 120), TEXT), max_size=6))
@settings(max_examples=300, deadline=None)
def test_the_port_agrees_on_small_edits_too(a: str, edits: list[tuple[int, str]]) -> None:
    b = a
    for at, text in edits:  # what real revisions are: a few words put in or taken out
        b = b[:at] + text + b[at + len(text) // 2 :]
    assert words.diff(a, b) == words.reference_diff(a, b)


def _paragraphs(node: Node, path: str = "") -> Iterator[tuple[str, str]]:
    here = f"{path}/{node.label}"
    for text in (node.title, node.text, *(v for _, v in node.fields)):
        if text:
            yield here, text
    for child in node.children:
        yield from _paragraphs(child, here)


@pytest.mark.parametrize("which", [0, 1, 2], ids=["107", "447", "title1"])
def test_real_revisions_diff_word_for_word_as_the_reference_does(
    shared_data, which, monkeypatch
) -> None:
    _, _, old, new = _pairs(shared_data)[which]
    before, after = dict(_paragraphs(old)), dict(_paragraphs(new))
    pairs = [(before[k], after[k]) for k in before.keys() & after.keys() if before[k] != after[k]]
    assert len(pairs) >= 3, "the pair revises paragraphs"
    fast = [words.word_diff(a, b) for a, b in pairs]
    monkeypatch.setattr(words, "_fast", None)
    assert fast == [words.word_diff(a, b) for a, b in pairs]
