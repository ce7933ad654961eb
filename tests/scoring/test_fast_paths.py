"""Fast paths of the scorer (issue 15) against the plain computation they replace, on random
text: each side is written out here step by step, independently of the fast code."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evoxtral_bench.scoring import normalize, submission
from evoxtral_bench.scoring.stats import chunk_words, side
from evoxtral_bench.scoring.tags import _STRAY_RE, TAG_RE, emphasis_tokens, malformed_spans, split_tags, tag_table

PIECES = [
    "a", "B", "rock", "DON'T", "I'M", "'", "''", "..", ".", "…", "—", "-", " ", "  ", "\t", "\n", "É", "é", "e\u0301",
    "\u0301", "Σ", "ΑΣ", "σ", "ﬁ", "Ｗ", "\u200d", "\x1c", "[", "]", "[sighs]", "[ ]", "[\u200d]", "[Laughs ]", "[pause]",
    "[[x]]", "[a\nb]", "[" + "x" * 41 + "]", "NO", "A.B", "x'y", "\x00",
]
texts = st.lists(st.sampled_from(PIECES), max_size=14).map("".join)


def words_chunk_by_chunk(chunks: list[str], normalizer) -> tuple[list[str], list[int]]:
    """The definition: each chunk normalized on its own; a tag's gap is the words before it."""
    words: list[str] = []
    gaps = []
    for i, chunk in enumerate(chunks):
        if i:
            gaps.append(len(words))
        words.extend(normalizer(chunk).split())
    return words, gaps


@settings(max_examples=400, deadline=None)
@given(texts)
@pytest.mark.parametrize("normalizer", [normalize.basic, normalize.none], ids=["basic", "none"])
def test_one_pass_over_marked_chunks_equals_chunk_by_chunk(normalizer, text):
    chunks = split_tags(text)[0]
    assert chunk_words(chunks, normalizer, True) == words_chunk_by_chunk(chunks, normalizer)


@settings(max_examples=400, deadline=None)
@given(texts)
def test_split_tags_equals_a_walk_over_the_matches(text):
    table = tag_table()
    chunks, labels, raws = [], [], []
    start = 0
    for m in TAG_RE.finditer(text):  # a tag is a match whose canonical label is not empty
        label = table.canonicalize(m.group(1))
        if label:
            chunks.append(text[start : m.start()])
            labels.append(label)
            raws.append(m.group(1))
            start = m.end()
    chunks.append(text[start:])
    assert split_tags(text) == (chunks, labels, raws)


@settings(max_examples=400, deadline=None)
@given(texts)
def test_malformed_spans_fast_path_equals_the_stray_brackets_of_the_chunks(text):
    expected = [m.group(0) for chunk in split_tags(text)[0] for m in _STRAY_RE.finditer(chunk)]
    assert malformed_spans(text) == expected


@settings(max_examples=400, deadline=None)
@given(texts)
def test_emphasis_tokens_ascii_path_equals_the_letter_rule(text):
    expected = []
    for token in text.split():
        letters = [c for c in token if c.isalpha()]
        if len(letters) >= 2 and all(c.isupper() for c in letters):
            expected.append(token)
    assert emphasis_tokens(text) == expected


@settings(max_examples=300, deadline=None)
@given(texts)
def test_emphasis_words_are_each_token_normalized_on_its_own(text):
    plain = " ".join(split_tags(text)[0])
    expected: dict[str, int] = {}
    for token in emphasis_tokens(plain):
        for word in normalize.basic(token).split():
            expected[word] = expected.get(word, 0) + 1
    got = side(text, normalize.basic, True, tag_table()).emphasis
    assert (got or {}) == expected


json_texts = st.one_of(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
        max_leaves=8,
    ).map(json.dumps),
    st.sampled_from(['{"a": 1, "a": 2}', '{"a": NaN}', '{"a": 1} x', ' {"a": 1} ', '{"a": 1}}', "{", "{}", '{"a": [1, {"b": Infinity}]}']),
)


def strict_loads(line: str) -> object:
    """The definition: ``json.loads`` with a duplicate-key check and no NaN or Infinity."""

    def pairs(items):
        keys = [k for k, _ in items]
        if len(set(keys)) != len(keys):
            raise ValueError("duplicate key")
        return dict(items)

    def constant(name):
        raise ValueError(name)

    return json.loads(line, object_pairs_hook=pairs, parse_constant=constant)


@settings(max_examples=400, deadline=None)
@given(json_texts)
def test_line_decoder_fast_path_equals_strict_json(line):
    try:
        expected = strict_loads(line)
    except ValueError:
        with pytest.raises(ValueError):
            submission._decode(line)
        return
    assert submission._decode(line) == expected
