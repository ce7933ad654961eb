"""Corpus metrics against independent computations: jiwer itself and hand-worked counts."""

import random

import jiwer
import pytest

from evoxtral_bench.scoring import normalize
from evoxtral_bench.scoring.core import load_references
from evoxtral_bench.scoring.metrics import CORPUS_METRICS
from evoxtral_bench.scoring.stats import count_tables
from evoxtral_bench.scoring.submission import Problems
from evoxtral_bench.scoring.tags import parse
from tests.helpers import SMALL_REFS, score_texts

WORDS = ["yes", "NO", "well", "maybe", "the", "cat", "don't", "I", "NEVER", "said", "that,", "what?", "rock-n-roll", "…"]
TAGS = ["[sighs]", "[laughs]", "[pause]", "[whispers]", "[gasps]"]


def random_transcript(rng: random.Random, max_words: int = 12) -> str:
    out = []
    for _ in range(rng.randint(0, max_words)):
        out.append(rng.choice(TAGS) if rng.random() < 0.2 else rng.choice(WORDS))
    return " ".join(out)


table_for = score_texts


@pytest.mark.parametrize("seed", range(5))
def test_wer_and_cer_equal_jiwer_corpus_figures(seed):
    rng = random.Random(seed)
    refs = [random_transcript(rng) for _ in range(60)]
    preds = [random_transcript(rng) for _ in range(60)]
    refs[0] = refs[0] or "hello there"  # jiwer's corpus ratio needs some reference words
    result = table_for(preds, refs)["metrics"]
    norm_refs = [normalize.basic(parse(r).text) for r in refs]
    norm_preds = [normalize.basic(parse(p).text) for p in preds]
    assert result["wer"]["value"] == pytest.approx(jiwer.wer(norm_refs, norm_preds), abs=1e-12)
    assert result["cer"]["value"] == pytest.approx(jiwer.cer(norm_refs, norm_preds), abs=1e-12)


def test_hand_worked_small_corpus():
    # Hand count for tests/data/refs_small.jsonl split test (u1..u4) vs these predictions:
    refs = [r.tagged_text for r in load_references(str(SMALL_REFS), "test", Problems()).rows]
    preds = [
        "[sighs] I never said that, did I? [pause]",  # tags 2/2 matched; NEVER lost
        "Well that's the FUNNIEST thing I heard all week [laughs]",  # i've -> i: 1 sub; laughs matched
        "No tags here at all just words [gasps]",  # 1 hallucinated tag
        "",  # 2 reference tags missed, 8 words deleted
    ]
    m = table_for(preds, refs)["metrics"]
    # tags: tp 3, predicted 4, reference 5 (sighs, pause, laughs, whispers, nervous)
    assert m["tag_precision"]["value"] == pytest.approx(3 / 4)
    assert m["tag_recall"]["value"] == pytest.approx(3 / 5)
    assert m["tag_f1"]["value"] == pytest.approx(2 * 3 / (4 + 5))
    assert m["tag_hallucination_rate"]["value"] == pytest.approx(1 / 4)
    # emphasis: reference {never, funniest}, predicted {funniest}
    assert m["emphasis_f1"]["value"] == pytest.approx(2 * 1 / (1 + 2))
    # words: 6 + 9 + 7 + 8 reference words; errors 0 + 1 + 0 + 8
    assert m["wer"]["value"] == pytest.approx(9 / 30)


def test_references_score_perfectly_and_no_tags_scores_zero():
    refs = [r.tagged_text for r in load_references(str(SMALL_REFS), None, Problems()).rows]
    perfect = table_for(refs, refs)
    assert perfect["metrics"]["wer"]["value"] == 0 and perfect["metrics"]["cer"]["value"] == 0
    for name in ("tag_precision", "tag_recall", "tag_f1", "emphasis_f1"):
        assert perfect["metrics"][name]["value"] == 1.0
    assert perfect["extras"]["tag_f1_at_0"]["value"] == 1.0
    assert perfect["extras"]["mean_tag_offset_words"]["value"] == 0.0
    assert all(t["f1"]["value"] == 1.0 for t in perfect["per_tag"].values())

    plain = [parse(r).text for r in refs]
    m = table_for(plain, refs)["metrics"]
    assert m["tag_f1"]["value"] == 0.0 and m["tag_f1"]["defined"]
    assert m["tag_precision"]["value"] == 0.0 and m["tag_precision"]["defined"] is False
    assert m["tag_hallucination_rate"]["defined"] is False


def test_every_metric_declares_its_direction():
    assert {m.name: m.higher_is_better for m in CORPUS_METRICS} == {
        "wer": False,
        "cer": False,
        "tag_precision": True,
        "tag_recall": True,
        "tag_f1": True,
        "tag_hallucination_rate": False,
        "emphasis_f1": True,
    }


def test_oov_tags_count_as_predicted_and_are_reported():
    refs = ["[sighs] fine"]
    preds = ["[sighs] [harrumph] fine"]
    result = table_for(preds, refs)
    assert result["metrics"]["tag_precision"]["value"] == 0.5
    assert result["per_tag"]["harrumph"]["canonical"] is False
    ((_, oov),) = count_tables([preds], refs, normalize.basic)
    assert oov == {"harrumph": 1}


def test_utterance_metrics_score_each_pair_alone():
    from evoxtral_bench.scoring.core import utterance_metrics

    a, b = utterance_metrics(predictions=["[sighs] hello there", "hi"], references=["[sighs] hello [pause] there", ""])
    assert a["tag_f1"] == (pytest.approx(2 / 3), True) and a["wer"] == (0.0, True)
    assert b["tag_f1"] == (0.0, False) and b["wer"] == (0.0, False)
