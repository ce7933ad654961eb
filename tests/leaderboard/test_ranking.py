"""Holm-corrected ranks on constructed entries, against independent computations, and the
simulation proof that the ranks control the family-wise error (tests/leaderboard/simulation.py)."""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest
from scipy import stats

from evoxtral_bench.leaderboard import ranking
from evoxtral_bench.scoring.metrics import TAG_F1_POS
from tests.leaderboard import simulation
from tests.leaderboard.fixtures import holm_by_closed_testing


def constructed(seed: int, rates: list[float], n: int = 60) -> list[np.ndarray]:
    """Per-utterance (tp, pred, ref) counts of entries that find a share ``rate`` of the reference tags."""
    rng = np.random.default_rng(seed)
    ref = rng.integers(0, 5, size=n)
    out = []
    for rate in rates:
        tp = rng.binomial(ref, rate)
        pred = tp + rng.integers(0, 2, size=n)
        out.append(np.column_stack([tp, pred, ref]).astype(np.float64))
    return out


def delta_method_by_gradient(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Δ and its standard error by the textbook delta method, written independently of the code:
    Δ = g(x̄) with g(t_a, p_a, t_b, p_b, r) = 2t_a/(p_a + r) − 2t_b/(p_b + r) on the unit means,
    Var ≈ ∇g' Σ ∇g / G with Σ the sample covariance (ddof 1) of the units' five counts."""
    x = np.column_stack([a[:, 0], a[:, 1], b[:, 0], b[:, 1], a[:, 2]])
    ta, pa, tb, pb, r = x.mean(axis=0)
    grad = np.array([2 / (pa + r), -2 * ta / (pa + r) ** 2, -2 / (pb + r), 2 * tb / (pb + r) ** 2, -2 * ta / (pa + r) ** 2 + 2 * tb / (pb + r) ** 2])
    var = grad @ np.cov(x, rowvar=False, ddof=1) @ grad / len(x)
    return 2 * ta / (pa + r) - 2 * tb / (pb + r), math.sqrt(var)


def brute_force_ranks(counts: list[np.ndarray], alpha: float) -> list[int]:
    """p of each pair from the textbook delta method and scipy's t distribution, Holm by closed
    testing, ranks by counting."""
    g = len(counts[0])
    index = [(a, b) for a in range(len(counts)) for b in range(a + 1, len(counts))]
    tests = [delta_method_by_gradient(counts[a], counts[b]) for a, b in index]
    p = [2 * stats.t.sf(abs(d) / se, g - 1) for d, se in tests]
    rejected = holm_by_closed_testing(p, alpha)
    better = [0] * len(counts)
    for (a, b), (d, _), r in zip(index, tests, rejected):
        if r and d != 0:
            better[b if d > 0 else a] += 1
    return [1 + k for k in better]


@pytest.mark.parametrize("seed", range(6))
def test_pair_tests_equal_the_textbook_delta_method(seed):
    counts = constructed(seed, [0.9, 0.87, 0.6, 0.58, 0.55, 0.2][: 3 + seed % 4])
    delta, se, computed = ranking.pair_tests(counts, TAG_F1_POS)
    index = [(a, b) for a in range(len(counts)) for b in range(a + 1, len(counts))]
    assert computed == index
    for i, (a, b) in enumerate(index):
        expected_delta, expected_se = delta_method_by_gradient(counts[a], counts[b])
        assert delta[i] == pytest.approx(expected_delta, rel=1e-12, abs=1e-15)
        assert se[i] == pytest.approx(expected_se, rel=1e-9)
    found, _ = ranking.pairs(counts, TAG_F1_POS)
    assert ranking.ranks(len(counts), found) == brute_force_ranks(counts, ranking.ALPHA)


def test_known_pairs_are_taken_not_computed():
    counts = constructed(1, [0.9, 0.5, 0.2])
    fresh, _ = ranking.pairs(counts, TAG_F1_POS)
    delta, se = np.full((3, 3), np.nan), np.full((3, 3), np.nan)
    delta[0, 2], se[0, 2], delta[2, 0], se[2, 0] = fresh[1].delta, fresh[1].se, -fresh[1].delta, fresh[1].se
    again, computed = ranking.pairs(counts, TAG_F1_POS, (delta, se))
    assert computed == [(0, 1), (1, 2)] and again == fresh
    delta[0, 2], se[0, 2] = 0.0, 1.0
    fake, _ = ranking.pairs(counts, TAG_F1_POS, (delta, se))
    assert fake[1].p_value == 1.0 and not fake[1].significant  # the cached value is what is used


def test_groups_make_units_of_utterances():
    counts = constructed(2, [0.8, 0.4], n=12)
    groups = [5, 5, 1, 1, 9, 9, 2, 2, 3, 3, 7, 7]  # every script rendered twice
    units = [ranking.unit_counts(c, groups) for c in counts]
    by_hand = [np.array([c[[2, 3]].sum(0), c[[6, 7]].sum(0), c[[8, 9]].sum(0), c[[0, 1]].sum(0), c[[10, 11]].sum(0), c[[4, 5]].sum(0)]) for c in counts]
    for u, h in zip(units, by_hand):
        assert np.array_equal(u, h)
    assert np.array_equal(ranking.unit_counts(counts[0]), counts[0])
    with pytest.raises(ValueError, match="one group per utterance"):
        ranking.unit_counts(counts[0], groups[:-1])


def test_duplicated_utterances_do_not_narrow_a_grouped_test():
    # each utterance rendered twice with identical counts: grouped, se is that of the original
    # set; ungrouped, it shrinks by √2 (times √((80/79)/(40/39)), the G/(G − 1) factors)
    counts = constructed(3, [0.8, 0.6], n=40)
    doubled = [np.repeat(c, 2, axis=0) for c in counts]
    groups = np.repeat(np.arange(40), 2)
    _, se_once, _ = ranking.pair_tests(counts, TAG_F1_POS)
    _, se_grouped, _ = ranking.pair_tests([ranking.unit_counts(c, groups) for c in doubled], TAG_F1_POS)
    _, se_naive, _ = ranking.pair_tests(doubled, TAG_F1_POS)
    assert se_grouped[0] == pytest.approx(se_once[0], rel=1e-12)
    assert se_naive[0] == pytest.approx(se_once[0] / math.sqrt(2) * math.sqrt(80 / 79 * 39 / 40), rel=1e-9)


def test_constructed_ranks_share_and_separate():
    counts = constructed(0, [0.9, 0.88, 0.3, 0.29])
    found, _ = ranking.pairs(counts, TAG_F1_POS)
    assert ranking.ranks(4, found) == [1, 1, 3, 3]  # two close pairs, far apart from each other


def test_holm_equals_closed_testing():
    rng = np.random.default_rng(0)
    for m in range(1, 8):
        for _ in range(30):
            p = rng.choice([0.0001, 0.003, 0.01, 0.02, 0.04, 0.3], size=m).tolist()
            assert ranking.holm(p) == holm_by_closed_testing(p, ranking.ALPHA)
    assert ranking.holm([0.02, 0.5, 0.9]) == [False, False, False]  # 0.02 < 0.05 alone, not once corrected
    assert ranking.holm([0.02]) == [True] and ranking.holm([]) == []


def test_zero_standard_error():
    # a perfect entry and an empty one: every unit's linearized term is 0, Δ = 1
    perfect = np.array([[2, 2, 2], [1, 1, 1], [3, 3, 3]], dtype=float)
    empty = np.array([[0, 0, 2], [0, 0, 1], [0, 0, 3]], dtype=float)
    (pair,), _ = ranking.pairs([perfect, empty], TAG_F1_POS)
    assert (pair.delta, pair.se, pair.p_value, pair.significant) == (1.0, 0.0, 0.0, True)
    (same,), _ = ranking.pairs([perfect, perfect], TAG_F1_POS)
    assert (same.delta, same.p_value, same.significant) == (0.0, 1.0, False)


def brute_force_rank_intervals(counts: list[np.ndarray], n_boot: int, seed: int, ci: float) -> tuple[list[int], list[int]]:
    """Each resample drawn as compare draws it for a small N, every entry's F1 by its formula, its
    rank by counting the strictly higher ones, the interval's ends picked from the sorted ranks."""
    g = len(counts[0])
    draws = np.random.default_rng(seed).integers(0, g, size=(n_boot, g))
    f1 = np.array([[2 * c[d, 0].sum() / (c[d, 1].sum() + c[d, 2].sum()) for c in counts] for d in draws])
    rank = np.array([[1 + sum(row[j] > row[i] for j in range(len(counts))) for i in range(len(counts))] for row in f1])
    low_at, high_at = math.floor((n_boot - 1) * (1 - ci) / 2), math.ceil((n_boot - 1) * (1 + ci) / 2)
    return [int(np.sort(rank[:, i])[low_at]) for i in range(len(counts))], [int(np.sort(rank[:, i])[high_at]) for i in range(len(counts))]


def test_rank_intervals_equal_brute_force():
    counts = constructed(4, [0.9, 0.86, 0.84, 0.5, 0.2], n=50)
    low, high = ranking.rank_intervals(counts, TAG_F1_POS, n_boot=300, seed=7)
    assert (low, high) == brute_force_rank_intervals(counts, 300, 7, 0.95)
    assert low[0] == 1 and high[-1] == 5 and all(lo <= hi for lo, hi in zip(low, high))
    assert high[1] > low[1]  # three close entries: their ranks are uncertain


# -- simulation (tests/leaderboard/simulation.py) ------------------------------------------------

NULL_REPS = 400


def test_null_family_wise_error_is_controlled_and_needs_the_correction():
    # 10 entries (45 pairs) drawn from one distribution on 128 units: every claim is false
    fwer, _ = simulation.error_rates([0.6] * 10, 128, NULL_REPS, seed=1)
    monte_carlo = math.sqrt(ranking.ALPHA * (1 - ranking.ALPHA) / NULL_REPS)
    assert fwer <= ranking.ALPHA + 2 * monte_carlo
    # the same boards without the correction: the test above must fail
    uncorrected, _ = simulation.error_rates([0.6] * 10, 128, NULL_REPS, seed=1, correction=simulation.NONE)
    assert uncorrected > ranking.ALPHA + 2 * monte_carlo + 0.3


def test_power_with_known_differences_and_why_percentile_needed_b_proportional_to_m():
    rates = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05]  # 45 pairs, all truly different
    fwer, power = simulation.error_rates(rates, 128, 40, seed=2)
    assert fwer <= 0.05 and power > 0.85
    # the percentile bootstrap with the scorer's 1000 resamples: p >= 2/1001 > α/45 = Holm's first
    # threshold, so nothing can ever be declared different, however large the differences
    percentile = functools.partial(simulation.percentile_p, n_boot=1000, seed=0)
    _, power_1000 = simulation.error_rates(rates, 128, 5, seed=2, p_values=percentile)
    assert power_1000 == 0.0 and 2 / 1001 > ranking.ALPHA / 45
    # with B ∝ m (4m/α − 1 = 3599) it can; the delta method needs no resamples at all
    percentile_m = functools.partial(simulation.percentile_p, n_boot=3599, seed=0)
    _, power_m = simulation.error_rates(rates, 128, 5, seed=2, p_values=percentile_m)
    assert power_m > 0.5
