"""Ranks: 1 + the number of entries of the same audio track significantly better on the
headline metric (entries are ranked only within their track: :func:`.standings.by_track`).

Every pair of ranked entries of a track is compared on the headline metric (:data:`RANK_METRIC`) by a
paired bootstrap over utterances: the resamples are the ones ``evoxtral-bench compare
--bootstrap B`` draws (they depend only on N, B and the seed), so each pair's Δ and p-value
are exactly those ``compare`` reports. The p-values of the track's pairs are corrected together by
Holm–Bonferroni at :data:`ALPHA`; entry *j* is significantly better than *i* when their pair is
rejected and *j*'s value is the higher. Entries sharing a rank are shown as ``=k``.
Reference rows (oracles) are never part of the family and never ranked.

B is :func:`resamples_for` the number of pairs: a bootstrap p-value is never below
2 / (B + 1), and Holm's first step needs p ≤ α / m, so with the scorer's 1000 resamples no pair
could ever be significant once there are more than 25 pairs (8 entries).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from evoxtral_bench.leaderboard.entries import OPTIONS
from evoxtral_bench.scoring.bootstrap import paired_p_values, resample_counts
from evoxtral_bench.scoring.metrics import TAG_F1_POS
from evoxtral_bench.scoring.stats import StatsTable

RANK_METRIC = TAG_F1_POS.name
ALPHA = 0.05
CORRECTION = "holm"
COLUMNS: tuple[str, ...] = (TAG_F1_POS.formula.num, *TAG_F1_POS.formula.den)
"""The per-utterance counts the headline metric is a ratio of."""
HEADROOM = 2
"""B is chosen so that the smallest attainable p is Holm's first threshold divided by this."""
RULE = (
    f"Rank = 1 + the number of entries of the same audio track significantly better on {TAG_F1_POS.label}: "
    f"entries are ranked only within their track; every pair of ranked entries of a track is compared by a paired "
    f"bootstrap (seed {OPTIONS.seed}, as evoxtral-bench compare; B = the larger of {OPTIONS.n_boot} and {2 * HEADROOM}·m/α resamples for m pairs, so that a "
    f"clear difference can pass the correction), and the p-values of the track's pairs are corrected together by Holm–Bonferroni at α = {ALPHA:g}. "
    "Entries that share a rank show =k. Reference rows (oracles) are shown apart and never ranked; those made from "
    "text (track none) are shown in every track's table."
)


def resamples_for(entries: int) -> int:
    """Resamples for ranking ``entries`` entries: at least the scorer's default, and enough that
    the smallest attainable p, 2 / (B + 1), is at most α / (HEADROOM · m) for m pairs."""
    m = entries * (entries - 1) // 2
    return max(OPTIONS.n_boot, math.ceil(2 * HEADROOM * m / Fraction(str(ALPHA))) - 1)  # exact: no float rounding


def headline_counts(table: StatsTable) -> list[list[int]]:
    """Per-utterance ``COLUMNS`` of a statistics table, as integers (cached with the results)."""
    index = [table.col(c) for c in COLUMNS]
    return table.matrix[:, index].astype(np.int64).tolist()


def resampled_values(counts: Sequence[np.ndarray], n_boot: int, seed: int = OPTIONS.seed) -> np.ndarray:
    """(entries, n_boot) headline values on the shared resamples of every entry's (N, 3) counts."""
    stacked = np.hstack([np.asarray(c, dtype=np.float64) for c in counts])
    n, k = stacked.shape[0], len(COLUMNS)
    out = np.empty((len(counts), n_boot))
    row = 0
    for draws in resample_counts(n, n_boot, seed):
        sums = draws @ stacked
        for e in range(len(counts)):
            value, _ = TAG_F1_POS.formula(dict(zip(COLUMNS, sums[:, e * k : (e + 1) * k].T)))
            out[e, row : row + len(draws)] = value
        row += len(draws)
    return out


def holm(p_values: Sequence[float], alpha: float = ALPHA) -> list[bool]:
    """Holm–Bonferroni step-down: which hypotheses are rejected at family-wise level ``alpha``.

    Sorted ascending (ties by input order), the k-th smallest (0-based) is rejected while
    ``p <= alpha / (m - k)``; testing stops at the first that is not.
    """
    m = len(p_values)
    rejected = [False] * m
    for k, i in enumerate(sorted(range(m), key=lambda i: (p_values[i], i))):
        if p_values[i] > alpha / (m - k):
            break
        rejected[i] = True
    return rejected


@dataclass(frozen=True)
class Pair:
    """Entries ``a`` < ``b`` (indices): Δ = a − b on the headline metric, its p-value, Holm's verdict."""

    a: int
    b: int
    delta: float
    p_value: float
    significant: bool


def pairs(values: Sequence[float], resampled: np.ndarray, alpha: float = ALPHA) -> list[Pair]:
    """Every pair of entries, with paired-bootstrap p-values and the Holm correction over all."""
    index = [(a, b) for a in range(len(values)) for b in range(a + 1, len(values))]
    p: list[float] = []
    for a in range(len(values) - 1):  # every b > a at once
        p.extend(paired_p_values(resampled[a] - resampled[a + 1 :]).tolist())
    rejected = holm(p, alpha)
    return [Pair(a, b, float(values[a] - values[b]), pv, r) for (a, b), pv, r in zip(index, p, rejected)]


def better_than(n: int, found: Sequence[Pair]) -> list[list[int]]:
    """For each entry, the entries significantly better than it."""
    out: list[list[int]] = [[] for _ in range(n)]
    for pair in found:
        if pair.significant and pair.delta > 0:
            out[pair.b].append(pair.a)
        elif pair.significant and pair.delta < 0:
            out[pair.a].append(pair.b)
    return [sorted(x) for x in out]


def ranks(n: int, found: Sequence[Pair]) -> list[int]:
    """1 + the number of entries significantly better than each entry."""
    return [1 + len(b) for b in better_than(n, found)]
