"""The masked-twin leak measure (docs/spec.md §10.5): hand-worked counts, a brute-force total,
and a simulation of the test under the null and an alternative."""

from __future__ import annotations

import random

import numpy as np
import pytest

from evoxtral_bench.scoring.leak import CLASSES, gap_classes, leak_cells, leak_counts, masked_leak

REF = "I said [sighs] that we should go now"  # 7 words, gaps 0..7, the sigh at gap 2


@pytest.mark.parametrize(
    ("prediction", "expected"),
    [
        # hand-worked: other gaps are those more than one word from gap 2: 0, 4, 5, 6, 7
        ("I said that we should go now", (1, 0, 5, 0)),
        ("I said that we [pause] should go now", (1, 0, 5, 2)),  # gap 4: near 3, 4, 5 -> others 4, 5
        ("I said that [pause] we should go now", (1, 1, 5, 1)),  # gap 3: near 2, 3, 4
        ("[laughs] I said that we should go now", (1, 0, 5, 1)),  # gap 0: near 0, 1
        ("I said [laughs] that we should go", (1, 1, 5, 0)),  # a deleted word: gap 2 maps to 2
        ("I said we should [laughs] go now", (1, 0, 5, 3)),  # "that" deleted: prediction gap 4 is reference gap 5: near 4, 5, 6
        ("I said that we should go now [pause] [sighs]", (1, 0, 5, 2)),  # two tags at gap 7: near 6, 7
    ],
)
def test_counts_are_the_hand_worked_ones(prediction, expected):
    assert leak_counts(prediction, REF) == expected


def test_the_totals_and_shares_are_sums_over_utterances():
    preds = ["I said that [pause] we should go now", "I said that we [pause] should go now", "a [laughs] b c"]
    refs = [REF, REF, "a b [laughs] c [sighs]"]
    counts = [leak_counts(p, r) for p, r in zip(preds, refs)]
    assert counts[2] == (2, 1, 1, 1)  # gaps 0..3, tags at 2 and 3: gap 0 is the one other gap; the prediction at 1 is near 0 and 2
    leak = masked_leak(predictions=preds, references=refs, n_boot=0)
    events, hits, gaps, gap_hits = (sum(c[k] for c in counts) for k in range(4))
    assert (leak.events, leak.event_hits, leak.gaps, leak.gap_hits) == (events, hits, gaps, gap_hits) == (4, 2, 11, 4)
    assert leak.at_events.value == pytest.approx(2 / 4) and leak.at_other_gaps.value == pytest.approx(4 / 11)
    assert leak.difference.value == pytest.approx(0.5 - 4 / 11) and leak.p_value is None


def _simulate(rng: random.Random, n: int, at_event: float) -> tuple[list[str], list[str]]:
    """``n`` utterances of 30 words with one reference tag at a random gap; the prediction puts
    one tag at the event's gap with probability ``at_event``, else at a uniformly random gap."""
    preds, refs = [], []
    for _ in range(n):
        words = [f"w{k}" for k in range(30)]
        g = rng.randrange(31)
        p = g if rng.random() < at_event else rng.randrange(31)
        refs.append(" ".join(words[:g] + ["[sighs]"] + words[g:]))
        preds.append(" ".join(words[:p] + ["[pause]"] + words[p:]))
    return preds, refs


def test_simulation_the_test_holds_its_level_under_the_null_and_finds_a_leak():
    """Null: a system that puts its tag at random gaps; the difference's interval covers 0 and
    p < 0.05 about 5% of the time. Alternative: a third of the tags at the removed events."""
    rng = random.Random(7)
    null_p, null_matched, alt_p, covered = [], [], [], 0
    for k in range(60):
        preds, refs = _simulate(rng, 150, 0.0)
        leak = masked_leak(predictions=preds, references=refs, n_boot=400, seed=k)
        null_p.append(leak.p_value)
        null_matched.append(leak.matched_p_value)
        covered += leak.difference.ci_low <= 0 <= leak.difference.ci_high
        preds, refs = _simulate(rng, 150, 1 / 3)
        alt_p.append(masked_leak(predictions=preds, references=refs, n_boot=400, seed=k).p_value)
    rejections = np.mean(np.array(null_p) < 0.05)
    assert rejections <= 0.12, rejections  # 5% nominal; 60 draws: 0.12 is about 2.4 Monte Carlo SEs above
    assert covered >= 52, covered
    assert np.mean(np.array(null_matched) < 0.05) <= 0.12
    assert np.mean(np.array(alt_p) < 0.05) >= 0.95


def test_clusters_widen_the_interval_of_a_duplicated_set():
    preds, refs = _simulate(random.Random(3), 80, 0.5)
    plain = masked_leak(predictions=preds * 2, references=refs * 2, n_boot=1000)
    grouped = masked_leak(predictions=preds * 2, references=refs * 2, groups=[str(i) for i in range(80)] * 2, n_boot=1000)
    assert plain.difference.value == grouped.difference.value
    width = lambda e: e.ci_high - e.ci_low  # noqa: E731
    assert width(grouped.difference) > 1.2 * width(plain.difference)  # about √2: half as many independent units


def test_gap_classes_follow_the_written_punctuation():
    start, sentence, clause, none = (CLASSES.index(c) for c in ("start", "sentence", "clause", "none"))
    # hand-worked: 6 words, gaps 0..6; "well-known" is two words with a plain gap inside
    assert gap_classes("Well, I said [sighs] that. Go now!") == [start, clause, none, none, sentence, none, sentence]
    assert gap_classes('It is "well-known." [laughs] Yes') == [start, none, none, none, sentence, none]
    assert gap_classes("") == [start]


def test_the_matched_share_removes_what_punctuation_explains():
    """A system that tags every sentence end finds the one event (also at a sentence end): its
    plain difference is positive, but against other sentence ends it is exactly 0 (hand-worked)."""
    ref = "A b. [sighs] C d. E f. G h."  # words a..h, gaps 0..8; sentence ends at gaps 2, 4, 6, 8
    pred = "A b. [pause] C d. [pause] E f. [pause] G h. [pause]"
    sentence = CLASSES.index("sentence")
    cells = leak_cells(pred, ref)
    assert cells[:, sentence].tolist() == [1, 1, 3, 3]  # the event and the other sentence ends 4, 6, 8, all hit
    assert cells.sum(axis=1).tolist() == [1, 1, 6, 5]  # other gaps 0, 4, 5, 6, 7, 8; 0 is not near a prediction
    leak = masked_leak(predictions=[pred], references=[ref], n_boot=0)
    assert leak.difference.value == pytest.approx(1 - 5 / 6)
    assert leak.at_matched_gaps.value == 1.0 and leak.matched_difference.value == 0.0
