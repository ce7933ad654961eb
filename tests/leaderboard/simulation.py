"""Simulated leaderboards for the ranking's error rates (used by test_ranking.py and by
benchmarks/ranking_simulation.py; no tests here).

A simulated test set has G units, each with r_u reference tags (1 + Poisson(2)). An entry with
recall rate ρ finds tp_u ~ Binomial(r_u, ρ) of them and adds Poisson(0.5) false tags; entries
are independent given the units, and paired through them (they share r_u), as real systems on
one test set are. Entries with the same ρ have the same true headline value: under the null
every entry has the same ρ.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from evoxtral_bench.leaderboard import ranking
from evoxtral_bench.scoring.bootstrap import paired_p_values, resample_counts
from evoxtral_bench.scoring.metrics import TAG_F1_POS


def board(rng: np.random.Generator, rates: Sequence[float], units: int) -> list[np.ndarray]:
    """(G, 3) unit counts (tp, pred, ref) of one entry per recall rate."""
    ref = 1 + rng.poisson(2.0, size=units)
    out = []
    for rate in rates:
        tp = rng.binomial(ref, rate)
        out.append(np.column_stack([tp, tp + rng.poisson(0.5, size=units), ref]).astype(np.float64))
    return out


def values(counts: Sequence[np.ndarray]) -> np.ndarray:
    return np.array([ranking.linearized(c, TAG_F1_POS)[0] for c in counts])


def delta_method_p(counts: Sequence[np.ndarray]) -> np.ndarray:
    """The ranking's raw p-values (pairs a < b in order)."""
    delta, se, _ = ranking.pair_tests(counts, TAG_F1_POS)
    return ranking.t_p_values(delta, se, len(counts[0]))


def percentile_p(counts: Sequence[np.ndarray], n_boot: int, seed: int) -> np.ndarray:
    """The earlier ranking's p-values: paired percentile bootstrap with ``n_boot`` shared resamples."""
    stacked = np.hstack(counts)
    boot = np.vstack([draws @ stacked for draws in resample_counts(len(counts[0]), n_boot, seed)])
    k = len(counts)
    f1 = 2 * boot[:, 0::3] / np.maximum(boot[:, 1::3] + boot[:, 2::3], 1)  # (B, k)
    return np.concatenate([paired_p_values(f1[:, a][None] - f1[:, a + 1 :].T) for a in range(k - 1)])


Correction = Callable[[np.ndarray], list[bool]]
HOLM: Correction = lambda p: ranking.holm(p)  # noqa: E731
NONE: Correction = lambda p: (np.asarray(p) <= ranking.ALPHA).tolist()  # noqa: E731
"""No correction: each pair at α on its own (what the test must catch)."""


def error_rates(
    rates: Sequence[float],
    units: int,
    reps: int,
    seed: int,
    *,
    correction: Correction = HOLM,
    p_values: Callable[[list[np.ndarray]], np.ndarray] = delta_method_p,
) -> tuple[float, float]:
    """(family-wise error, power) over ``reps`` simulated boards: the share of boards with at least
    one false claim (a pair of equal ρ declared different, or a pair declared in the wrong
    direction), and the share of truly different pairs declared different in the right direction."""
    rng = np.random.default_rng(seed)
    k = len(rates)
    index = [(a, b) for a in range(k) for b in range(a + 1, k)]
    truth = np.array([np.sign(rates[a] - rates[b]) for a, b in index])
    errors, found, different = 0, 0, int(np.count_nonzero(truth)) * reps
    for _ in range(reps):
        counts = board(rng, rates, units)
        v = values(counts)
        rejected = np.array(correction(p_values(counts)), dtype=bool)
        sign = np.array([np.sign(v[a] - v[b]) for a, b in index])
        errors += bool(np.any(rejected & (sign != truth)))
        found += int(np.count_nonzero(rejected & (truth != 0) & (sign == truth)))
    return errors / reps, (found / different if different else 0.0)
