"""The text-only prior: gaps and CAPS read from scripts, decoding, a fit that learns word cues, input errors."""

from __future__ import annotations

from tests.helpers import need, write_jsonl

need("sklearn")

import numpy as np
import pytest

from training import textprior  # noqa: E402
from training.__main__ import main as training_main  # noqa: E402


def test_from_script_puts_tags_in_word_gaps_and_reads_caps_without_showing_them():
    e = textprior.from_script("x", "[sighs] I NEVER said that. [laughs] Fine [whispers] [scared] go.")
    assert e.tokens == ("I", "never", "said", "that.", "Fine", "go.")
    assert e.gap_tags == (("sighs",), (), (), (), ("laughs",), ("whispers", "scared"), ())
    assert e.emphasis == (False, True, False, False, False, False)


def test_decode_writes_each_label_once_at_its_best_gap_above_threshold():
    tokens = ["oh", "my", "gosh"]
    labels = ["gasps", "laughs"]
    probs = np.array([[0.9, 0.2], [0.1, 0.3], [0.2, 0.1], [0.4, 0.35]])
    text = textprior.decode(tokens, probs, np.array([0.1, 0.9, 0.2]), labels, {"gasps": 0.5, "laughs": 0.5}, 0.5)
    assert text == "[gasps] oh MY gosh"
    text = textprior.decode(tokens, probs, np.zeros(3), labels, {"gasps": 0.95, "laughs": 0.3}, 0.5)
    assert text == "oh my gosh [laughs]"


def test_fit_learns_word_cues_and_predicts_the_same_bytes_twice():
    cued = [
        textprior.from_script(f"g{i}", f"Well, here we go. [gasps] Oh my gosh, the {noun} is gone!")
        for i, noun in enumerate(["cat", "car", "key", "cake", "dog", "hat"])
    ]
    plain = [textprior.from_script(f"p{i}", f"The {noun} is on the table, as I SAID.") for i, noun in enumerate(["pen", "cup", "map"])]
    model = textprior.fit(cued + plain)
    test = [textprior.Example("t1", tuple("So here we go. Oh my gosh, the bike is gone!".split())), textprior.Example("t2", ("The", "box", "is", "here."))]
    first = model.predict(test)
    assert first[0] == "So here we go. [gasps] Oh my gosh, the bike is gone!"
    assert "[gasps]" not in first[1]
    assert textprior.fit(cued + plain).predict(test) == first


def test_input_must_cover_the_split_and_bad_input_exits_2(tmp_path, capsys):
    partial = write_jsonl(tmp_path / "in.jsonl", [{"id": "evx-00011", "prediction": "hello there"}])
    with pytest.raises(textprior.InputError, match="evx-"):
        textprior.read_input(partial, "test")
    assert training_main(["text-prior", "--input", str(partial), "--out", str(tmp_path / "out.jsonl")]) == 2
    assert "error" in capsys.readouterr().err and not (tmp_path / "out.jsonl").exists()


def test_limit_reads_the_first_ids_of_a_rendered_track_as_run_limit_runs_them(tmp_path):
    """``--limit N`` takes the words of an ``evoxtral-bench run --limit N`` try: the first N ids
    of the split (sorted), renderings included; one of them missing is still an error."""
    from evoxtral_bench.runner.audio import split_rows
    from evoxtral_bench.tracks import get_track

    rows = split_rows(get_track("neural-v2"), "test", 5)
    words = [{"id": r["id"], "prediction": f"words of {r['id']}"} for r in rows]
    examples = textprior.read_input(write_jsonl(tmp_path / "in.jsonl", words), "test", "neural-v2", limit=5)
    assert [e.id for e in examples] == [r["id"] for r in rows] and examples[0].tokens == ("words", "of", rows[0]["id"])
    with pytest.raises(textprior.InputError, match=rows[4]["id"]):
        textprior.read_input(write_jsonl(tmp_path / "short.jsonl", words[:4]), "test", "neural-v2", limit=5)
    with pytest.raises(textprior.InputError, match="--limit"):
        textprior.read_input(tmp_path / "in.jsonl", "test", "neural-v2", limit=0)
