import pytest

from evoxtral_bench.errors import InputError
from evoxtral_bench.scoring import normalize


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # hand-worked against docs/spec.md §2, step by step
        ("I DON’T know…", "i don't know"),
        ("Well—maybe... rock-n-roll!", "well maybe rock n roll"),
        ("'Quoted' words, 'tis fine", "quoted words tis fine"),
        ("  Spaces\t\nand  tabs ", "spaces and tabs"),
        ("ﬁne ＷＯＲＫ", "fine work"),  # NFKC ligature and full-width letters
        ("50% of $3 & more", "50 of 3 more"),
        ("", ""),
    ],
)
def test_basic(raw, expected):
    assert normalize.basic(raw) == expected


def test_none_only_collapses_whitespace():
    assert normalize.none("  Hello,   WORLD! ") == "Hello, WORLD!"


def test_unknown_normalizer_is_an_input_error():
    with pytest.raises(InputError, match="unknown normalizer"):
        normalize.get("fancy")


def test_whisper_normalizer_from_transformers():
    norm = normalize.get("whisper")
    assert norm("Mr. Smith's   20 dollars!") == norm("mister smith's 20 dollars")


@pytest.mark.parametrize("text", ["'tis", "rock 'n' roll", "don''t", "a'", "'", "''", "x'y'z", "o'clock 'quoted' ' a", "9'9 _'a a'_"])
def test_ascii_apostrophe_path_equals_the_regex(text):
    from evoxtral_bench.scoring.normalize import _LONE_APOSTROPHE_RE, _ascii_apostrophes

    assert _ascii_apostrophes(text) == _LONE_APOSTROPHE_RE.sub("", text)
