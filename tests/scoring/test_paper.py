"""Legacy mode (docs/spec.md §5) on a hand-built reference set."""

import pytest

from evoxtral_bench.scoring.paper import emphasis_f1, legacy_text, tag_scores
from evoxtral_bench.scoring.tags import parse
from tests.helpers import score_texts as table_for

REFS = [
    "[sighs] I NEVER said that.",  # tags, emphasis
    "Plain words only here.",  # no tags, no emphasis
    "[laughs] That was FUN, [pause] honestly.",  # tags, emphasis
    "We go now, RIGHT now.",  # no tags, emphasis
    "[whispers] Keep it down.",  # tags, no emphasis
]


def _strip(ref: str) -> str:
    # references with tags removed and CAPS lowercased
    return " ".join(parse(ref).text.split()).replace("NEVER", "never").replace("FUN", "fun").replace("RIGHT", "right")


def test_plain_transcriber_scores_the_fraction_of_untagged_utterances():
    preds = [_strip(r) for r in REFS]
    m = table_for(preds, REFS, legacy=True)["metrics"]
    no_tags = 2 / 5  # utterances 2 and 4 have no reference tags
    no_emphasis = 2 / 5  # utterances 2 and 5 have no emphasis words
    assert m["tag_precision"]["value"] == pytest.approx(no_tags)
    assert m["tag_recall"]["value"] == pytest.approx(no_tags)
    assert m["tag_f1"]["value"] == pytest.approx(no_tags)
    assert m["emphasis_f1"]["value"] == pytest.approx(no_emphasis)
    assert m["tag_hallucination_rate"]["value"] == 0.0
    assert m["wer"]["value"] == 0.0


def test_paper_conventions_per_utterance():
    from collections import Counter

    assert tag_scores(Counter(), Counter()) == (1.0, 1.0, 1.0, 0.0)
    assert tag_scores(Counter(), Counter({"sighs": 1})) == (0.0, 0.0, 0.0, 0.0)
    assert tag_scores(Counter({"sighs": 1}), Counter()) == (0.0, 0.0, 0.0, 1.0)
    p, r, f, h = tag_scores(Counter({"sighs": 2, "gasps": 1}), Counter({"sighs": 1, "pause": 1}))
    assert (p, r, h) == (pytest.approx(1 / 3), 0.5, pytest.approx(1 / 3))
    assert f == pytest.approx(2 * (1 / 3) * 0.5 / (1 / 3 + 0.5))
    assert emphasis_f1(Counter(), Counter()) == 1.0
    assert emphasis_f1(Counter({"no": 1}), Counter()) == 0.0
    assert legacy_text("[sighs] I NEVER said, [pause]  OK") == "I never said, ok"


def test_legacy_averages_per_utterance_unlike_corpus_mode():
    # one long perfect utterance and one short bad one: the mean of per-utterance WERs
    refs = ["one two three four five six seven eight nine ten", "alpha beta"]
    preds = ["one two three four five six seven eight nine ten", "gamma"]
    legacy = table_for(preds, refs, legacy=True)["metrics"]["wer"]["value"]
    corpus = table_for(preds, refs)["metrics"]["wer"]["value"]
    assert legacy == pytest.approx((0 + 1.0) / 2)
    assert corpus == pytest.approx(2 / 12)
