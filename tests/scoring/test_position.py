"""Position-aware tag matching: helpers against brute force, and a hand-worked utterance."""

import itertools
import random

import jiwer
import pytest
from rapidfuzz.distance import Levenshtein

import evoxtral_bench
from evoxtral_bench.scoring.position import match_within, min_total_offset, ref_gap, tp_within
from tests.helpers import score_texts as table_for


def brute_tp_within(ref, pred, k):
    best = 0
    for r in range(min(len(ref), len(pred)) + 1):
        for rs in itertools.combinations(range(len(ref)), r):
            for ps in itertools.permutations(range(len(pred)), r):
                if all(abs(ref[a] - pred[b]) <= k for a, b in zip(rs, ps)):
                    best = max(best, r)
    return best


def brute_min_offset(ref, pred):
    short, long_ = (ref, pred) if len(ref) <= len(pred) else (pred, ref)
    return min((sum(abs(a - b) for a, b in zip(short, perm)) for perm in itertools.permutations(long_, len(short))), default=0)


@pytest.mark.parametrize("seed", range(40))
def test_matching_helpers_equal_brute_force(seed):
    rng = random.Random(seed)
    ref = sorted(rng.randint(0, 8) for _ in range(rng.randint(0, 4)))
    pred = sorted(rng.randint(0, 8) for _ in range(rng.randint(0, 4)))
    for k in (0, 1, 2):
        assert tp_within(ref, pred, k) == brute_tp_within(ref, pred, k)
    assert min_total_offset(ref, pred) == brute_min_offset(ref, pred)


@pytest.mark.parametrize("seed", range(20))
def test_alignment_is_jiwers(seed):
    # the opcodes we use are exactly the alignment jiwer.process_words reports
    rng = random.Random(seed)
    ref = [rng.choice("abcde") for _ in range(rng.randint(0, 9))]
    hyp = [rng.choice("abcdf") for _ in range(rng.randint(0, 9))]
    ours = [(o.tag.replace("replace", "substitute"), o.src_start, o.src_end, o.dest_start, o.dest_end) for o in Levenshtein.opcodes(ref, hyp)]
    theirs = [(c.type, c.ref_start_idx, c.ref_end_idx, c.hyp_start_idx, c.hyp_end_idx) for c in jiwer.process_words(" ".join(ref) or " ", " ".join(hyp) or " ").alignments[0]]
    assert ours == theirs


def test_gap_map_through_insertions_and_deletions():
    # ref: a b c d ; hyp: a x b d  (x inserted, c deleted)
    alignment = Levenshtein.opcodes("a b c d".split(), "a x b d".split())
    gaps = [ref_gap(alignment, g) for g in range(5)]
    assert gaps[0] == 0 and gaps[4] == 4
    assert gaps[1] == 1  # after "a"
    assert gaps[3] in (2, 3)  # after "b": before or after the deleted "c"


def test_hand_worked_positions():
    ref = "so [sighs] I went home [pause] and slept"
    # sighs one word late, pause exactly right
    pred = "so I [sighs] went home [pause] and slept"
    extras = table_for([pred], [ref])["extras"]
    assert extras["tag_f1_at_0"]["value"] == pytest.approx(0.5)  # 1 of 2 at the same gap
    assert extras["tag_f1_at_1"]["value"] == pytest.approx(1.0)
    assert extras["mean_tag_offset_words"]["value"] == pytest.approx(0.5)  # (1 + 0) / 2


def brute_best_matching(ref, pred, k):
    """(count, -distance) of the best one-to-one matching of allowed pairs, by enumeration."""
    best = (0, 0)
    for r in range(min(len(ref), len(pred)) + 1):
        for rs in itertools.combinations(range(len(ref)), r):
            for ps in itertools.permutations(range(len(pred)), r):
                if all(abs(ref[a] - pred[b]) <= k for a, b in zip(rs, ps)):
                    best = max(best, (r, -sum(abs(ref[a] - pred[b]) for a, b in zip(rs, ps))))
    return best


@pytest.mark.parametrize("seed", range(60))
def test_optimal_matching_equals_brute_force(seed):
    rng = random.Random(seed)
    ref = [rng.randint(0, 8) for _ in range(rng.randint(0, 5))]  # unsorted on purpose
    pred = [rng.randint(0, 8) for _ in range(rng.randint(0, 5))]
    for k in (0, 1, 2, 3):
        pairs = match_within(ref, pred, k)
        assert len({i for i, _ in pairs}) == len({j for _, j in pairs}) == len(pairs)  # one-to-one
        assert all(abs(ref[i] - pred[j]) <= k for i, j in pairs)
        assert (len(pairs), -sum(abs(ref[i] - pred[j]) for i, j in pairs)) == brute_best_matching(ref, pred, k)


def test_matching_prefers_more_pairs_over_shorter_ones():
    # pairing 2-2 (distance 0) leaves 1 and 3 unmatched; 1-2 and 2-3 give two pairs at distance 1 each
    assert sorted(match_within([1, 2], [2, 3], 1)) == [(0, 0), (1, 1)]
    with pytest.raises(ValueError, match="tolerance"):
        match_within([1], [1], -1)


def test_headline_ignores_a_bag_of_tags_in_the_wrong_places():
    ref = "so [sighs] I went home and then [laughs] we slept all day"
    moved = "[sighs] [laughs] so I went home and then we slept all day"  # every tag at the start
    extras = table_for([moved], [ref])
    assert extras["metrics"]["tag_f1"]["value"] == 1.0
    assert extras["extras"]["tag_f1_pos"]["value"] == pytest.approx(0.5)  # sighs is 1 gap off, laughs 6
    assert table_for([ref], [ref])["extras"]["tag_f1_pos"]["value"] == 1.0


def test_tolerance_is_in_the_signature_and_round_trips():
    doc = table_for(["a [sighs] b"], ["a b [sighs]"])
    assert "|tol:1|" in doc["signature"] and doc["config"]["position_tolerance"] == 1
    assert evoxtral_bench.Results.from_dict(doc).to_dict() == doc


@pytest.mark.parametrize("seed", range(5))
def test_optimal_count_equals_the_sorted_greedy_count(seed):
    # maximum cardinality on a line: the assignment and the sorted greedy pass must agree, so
    # tag_f1_pos equals tag_f1_at_1 on any corpus (only the matched pairs may differ)
    rng = random.Random(seed)
    words = "one two three four five six seven".split()
    labels = ["sighs", "laughs", "pause"]

    def utterance():
        out = []
        for w in words[: rng.randint(1, len(words))]:
            if rng.random() < 0.4:
                out.append(f"[{rng.choice(labels)}]")
            out.append(w)
        return " ".join(out)

    refs = [utterance() for _ in range(8)]
    preds = [utterance() for _ in range(8)]
    extras = table_for(preds, refs)["extras"]
    assert extras["tag_f1_pos"]["value"] == extras["tag_f1_at_1"]["value"]


@pytest.mark.parametrize("seed", range(60))
def test_greedy_count_is_the_size_of_the_optimal_matching(seed):
    # the scorer counts tag_tp_pos with tp_within on sorted gaps; it must equal match_within's size
    rng = random.Random(seed)
    ref = sorted(rng.randint(0, 12) for _ in range(rng.randint(0, 7)))
    pred = sorted(rng.randint(0, 12) for _ in range(rng.randint(0, 7)))
    for k in (0, 1, 2, 3):
        assert tp_within(ref, pred, k) == len(match_within(ref, pred, k))
