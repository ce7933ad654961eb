"""Holm-corrected ranks on constructed entries, against a brute-force computation."""

from __future__ import annotations

import numpy as np
import pytest

from evoxtral_bench.leaderboard import ranking
from tests.leaderboard.fixtures import holm_by_closed_testing


def constructed(seed: int, rates: list[float], n: int = 60) -> list[np.ndarray]:
    """Per-utterance (tp, pred, ref) counts of entries that find a share ``rate`` of the reference tags."""
    rng = np.random.default_rng(seed)
    ref = rng.integers(0, 5, size=n)
    out = []
    for rate in rates:
        tp = rng.binomial(ref, rate)
        pred = tp + rng.integers(0, 2, size=n)
        out.append(np.column_stack([tp, pred, ref]))
    return out


def brute_force_ranks(counts: list[np.ndarray], n_boot: int, seed: int, alpha: float) -> tuple[list[int], list[float]]:
    """Each pair's paired-bootstrap p from its own resamples, Holm by closed testing, ranks by counting."""
    n = len(counts[0])
    draws = np.random.default_rng(seed).integers(0, n, size=(n_boot, n))  # what compare draws for a small N

    def f1(c: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        picked = c[rows] if rows is not None else c[None]
        tp, pred, ref = picked.sum(axis=1).T
        return 2 * tp / (pred + ref)

    values = [float(f1(c)[0]) for c in counts]
    resampled = [f1(c, draws) for c in counts]
    index = [(a, b) for a in range(len(counts)) for b in range(a + 1, len(counts))]
    p = []
    for a, b in index:
        d = resampled[a] - resampled[b]
        p.append(min(1.0, 2 * min(np.sum(d <= 0) + 1, np.sum(d >= 0) + 1) / (n_boot + 1)))
    rejected = holm_by_closed_testing(p, alpha)
    better = [0] * len(counts)
    for (a, b), r in zip(index, rejected):
        if r and values[a] != values[b]:
            better[b if values[a] > values[b] else a] += 1
    return [1 + k for k in better], p


@pytest.mark.parametrize("seed", range(8))
def test_ranks_equal_brute_force(seed):
    rates = [0.9, 0.87, 0.6, 0.58, 0.55, 0.2][: 3 + seed % 4]
    counts = constructed(seed, rates)
    values = [2 * c[:, 0].sum() / (c[:, 1].sum() + c[:, 2].sum()) for c in counts]
    found = ranking.pairs(values, ranking.resampled_values(counts, n_boot=400, seed=seed))
    expected, p = brute_force_ranks(counts, 400, seed, ranking.ALPHA)
    assert [pair.p_value for pair in found] == pytest.approx(p, abs=0)
    assert ranking.ranks(len(counts), found) == expected


def test_constructed_ranks_share_and_separate():
    counts = constructed(0, [0.9, 0.88, 0.3, 0.29])
    values = [2 * c[:, 0].sum() / (c[:, 1].sum() + c[:, 2].sum()) for c in counts]
    found = ranking.pairs(values, ranking.resampled_values(counts, n_boot=1000, seed=0))
    assert ranking.ranks(4, found) == [1, 1, 3, 3]  # two close pairs, far apart from each other


def test_holm_is_stricter_than_unadjusted():
    # 0.02 < 0.05 alone, but not once corrected for three comparisons
    assert ranking.holm([0.02, 0.5, 0.9]) == [False, False, False]
    assert ranking.holm([0.02]) == [True]


def test_enough_resamples_for_holm_to_reject_at_all():
    # 8 clearly different entries, 28 pairs: with 1000 resamples p >= 2/1001 > 0.05/28, so Holm
    # could reject nothing and every entry would share rank 1; resamples_for gives enough
    counts = constructed(3, [0.95, 0.85, 0.75, 0.65, 0.55, 0.45, 0.35, 0.25], n=400)
    values = [2 * c[:, 0].sum() / (c[:, 1].sum() + c[:, 2].sum()) for c in counts]
    assert ranking.ranks(8, ranking.pairs(values, ranking.resampled_values(counts, n_boot=1000))) == [1] * 8
    n_boot = ranking.resamples_for(8)
    assert 2 / (n_boot + 1) <= ranking.ALPHA / (2 * 28) and ranking.resamples_for(4) == 1000
    assert ranking.ranks(8, ranking.pairs(values, ranking.resampled_values(counts, n_boot=n_boot))) == list(range(1, 9))
