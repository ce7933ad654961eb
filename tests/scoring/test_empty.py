"""Empty references and predictions, in the spirit of jiwer's own empty-input tests."""

import pytest

from tests.helpers import score_texts as table_for


def test_empty_reference_with_words_predicted_counts_insertions_but_no_reference_words():
    m = table_for(["some words"], [""])["metrics"]
    assert m["wer"]["value"] == 0.0 and m["wer"]["defined"] is False
    assert m["cer"]["defined"] is False


def test_empty_prediction_deletes_everything():
    m = table_for([""], ["two words"])["metrics"]
    assert m["wer"]["value"] == 1.0 and m["cer"]["value"] == 1.0


def test_all_empty_is_undefined_everywhere_never_one():
    m = table_for([""], [""])["metrics"]
    for entry in m.values():
        assert entry["value"] == 0.0 and entry["defined"] is False


def test_empty_reference_among_others_adds_its_insertions_to_the_numerator():
    # corpus: ("a b" -> "a b") and ("" -> "x y z"): 3 insertions over 2 reference words
    m = table_for(["a b", "x y z"], ["a b", ""])["metrics"]
    assert m["wer"]["value"] == pytest.approx(3 / 2)


def test_tags_only_transcripts():
    m = table_for(["[laughs]"], ["[laughs]"])
    assert m["metrics"]["tag_f1"]["value"] == 1.0
    assert m["extras"]["tag_f1_at_0"]["value"] == 1.0
