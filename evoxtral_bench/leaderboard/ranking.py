"""Ranks: 1 + the number of entries of the same audio track significantly better on the
headline metric (entries are ranked only within their track: :func:`.standings.by_track`).

Every pair of ranked entries of a track is compared on the headline metric of the track's
benchmark version (:func:`rank_metric`: v1 ``tag_f1_pos``, v2 ``tag_f1_anchored``; a ratio of summed counts) by a paired test on the per-**unit** sufficient statistics
(docs/spec.md §8.5): the delta method linearizes each entry's ratio around its value, so the
difference of two entries is (to first order) a sum over independent units, whose variance is
estimated from the units themselves; t = Δ / se has G − 1 degrees of freedom for G units. The
p-values are continuous (as small as the data warrant), so Holm's correction at any number of
pairs m needs no resampling at all and each pair costs O(G), whatever m.

A unit is an utterance, or a group of utterances that must be resampled together (the
renderings of one script): ``groups`` gives each utterance's integer group; ``None`` makes each
utterance its own unit.

The p-values of a track's pairs are corrected together by Holm–Bonferroni at :data:`ALPHA`;
entry *j* is significantly better than *i* when their pair is rejected and *j*'s value is the
higher. Entries sharing a rank are shown as ``=k``. Reference rows (oracles) are never part of
the family and never ranked. Each rank comes with a bootstrap interval (:func:`rank_intervals`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from evoxtral_bench.leaderboard.entries import OPTIONS
from evoxtral_bench.scoring.bootstrap import resample_counts
from evoxtral_bench.scoring.metrics import MetricDef, headline
from evoxtral_bench.scoring.stats import StatsTable
from evoxtral_bench.tracks import BENCHMARK_VERSIONS

ALPHA = 0.05
CORRECTION = "holm"
TEST = "paired delta-method t-test over units"
TEST_VERSION = "pairs:v1"
"""Changes whenever :func:`pair_tests` would give other numbers (part of every pair's cache key)."""
RANK_BOOT = OPTIONS.n_boot
"""Resamples of the units behind each rank interval (fixed: it does not grow with the entries)."""
RANK_CI = OPTIONS.ci
RULE = (
    "Rank = 1 + the number of entries of the same audio track significantly better on the headline metric of the track's "
    f"benchmark version ({'; '.join(f'version {v}: {headline(v).label}' for v in BENCHMARK_VERSIONS)}): entries are ranked only within their track; every pair of ranked entries of a track is compared by a paired "
    "delta-method t-test on the per-utterance counts (t = Δ / se, the ratio linearized per utterance, G − 1 degrees of freedom), "
    f"and the p-values of the track's pairs are corrected together by Holm–Bonferroni at α = {ALPHA:g}. "
    f"The rank interval is the {RANK_CI:.0%} bootstrap interval of the entry's rank ({RANK_BOOT} resamples of the utterances, "
    f"seed {OPTIONS.seed}). Entries that share a rank show =k. Reference rows (oracles) are shown apart and never ranked; "
    "those made from text (track none, made on the version-1 references) are shown in every table on those references."
)


def rank_metric(version: int) -> MetricDef:
    """The ranking metric of a table on benchmark ``version``'s references: its headline."""
    return headline(version)


def columns(metric: MetricDef) -> tuple[str, ...]:
    """The per-utterance counts ``metric`` is a ratio of: numerator, then the denominator's columns."""
    return (metric.formula.num, *metric.formula.den)


def headline_counts(table: StatsTable, metric: MetricDef) -> list[list[int]]:
    """Per-utterance :func:`columns` of ``metric`` in a statistics table, as integers (cached with the results)."""
    index = [table.col(c) for c in columns(metric)]
    return table.matrix[:, index].astype(np.int64).tolist()


def unit_counts(counts: np.ndarray, groups: Sequence[int] | np.ndarray | None = None) -> np.ndarray:
    """(G, K) float64 sums of an (N, K) per-utterance count matrix over the units: the groups of
    ``groups`` (one integer per utterance; units in increasing group order), or each utterance
    when ``groups`` is None."""
    counts = np.asarray(counts, dtype=np.float64)
    if groups is None:
        return counts
    groups = np.asarray(groups)
    if groups.shape != (counts.shape[0],):
        raise ValueError(f"groups: expected one group per utterance ({counts.shape[0]}), got shape {groups.shape}")
    _, unit = np.unique(groups, return_inverse=True)
    out = np.zeros((int(unit.max()) + 1, counts.shape[1]))
    np.add.at(out, unit, counts)
    return out


def linearized(units: np.ndarray, metric: MetricDef) -> tuple[float, np.ndarray]:
    """The value of ``metric`` (a headline) on (G, k) unit counts (:func:`columns`: numerator, then the
    denominator's columns) and each unit's first-order contribution to its error: for the F1
    headline F = 2·Σtp / Σ(pred + ref), e_u = (2·tp_u − F·(pred_u + ref_u)) / Σ(pred + ref)
    (Σ_u e_u = 0). An undefined value (no tags at all) is 0 with e = 0."""
    num = metric.formula.scale * units[:, 0]
    den = units[:, 1:].sum(axis=1)
    total = den.sum()
    if total <= 0:
        return 0.0, np.zeros(len(units))
    value = num.sum() / total
    return float(value), (num - value * den) / total


def t_p_values(delta: np.ndarray, se: np.ndarray, units: int) -> np.ndarray:
    """Two-sided p of t = Δ / se with ``units`` − 1 degrees of freedom (Student's t).

    se = 0 leaves no sampling variation to first order: p = 1 when Δ = 0, else 0.
    """
    from scipy.special import stdtr

    delta, se = np.asarray(delta, dtype=np.float64), np.asarray(se, dtype=np.float64)
    t = np.divide(np.abs(delta), se, out=np.full(delta.shape, np.inf), where=se > 0)
    p = np.minimum(1.0, 2.0 * stdtr(max(units - 1, 1), -t))
    return np.where((se > 0) | (delta != 0), p, 1.0)


def t_intervals(delta: np.ndarray, se: np.ndarray, units: int, ci: float = OPTIONS.ci) -> tuple[np.ndarray, np.ndarray]:
    """The ``ci`` intervals Δ ± t·se that go with :func:`t_p_values` (same Student t, ``units`` − 1
    degrees of freedom): 0 lies outside exactly when p < 1 − ``ci``."""
    from scipy.special import stdtrit

    delta, se = np.asarray(delta, dtype=np.float64), np.asarray(se, dtype=np.float64)
    half = stdtrit(max(units - 1, 1), 0.5 + ci / 2) * se
    return delta - half, delta + half


def pair_tests(
    units: Sequence[np.ndarray], metric: MetricDef, known: tuple[np.ndarray, np.ndarray] | None = None
) -> tuple[np.ndarray, np.ndarray, list[tuple[int, int]]]:
    """Δ = a − b and its standard error for every pair a < b of entries (in that order), from each
    entry's (G, 3) unit counts; ``known`` (a cache: (n, n) arrays of Δ = row − column and se, NaN
    where not known) gives some pairs and the others are computed: se² = G / (G − 1) · Σ_u (e_u(a) − e_u(b))².
    Also returns the computed pairs."""
    n = len(units)
    lin = [linearized(u, metric) for u in units]
    values = np.array([v for v, _ in lin])
    e = np.array([x for _, x in lin]) if n else np.zeros((0, 0))
    g = e.shape[1] if n else 0
    scale = g / (g - 1) if g > 1 else 1.0
    delta, se, computed = [], [], []
    for a in range(n - 1):
        row_d = values[a] - values[a + 1 :]
        row_s = np.full(n - a - 1, np.nan)
        if known is not None:
            found = ~np.isnan(known[1][a, a + 1 :])
            row_d[found] = known[0][a, a + 1 :][found]
            row_s[found] = known[1][a, a + 1 :][found]
        missing = np.flatnonzero(np.isnan(row_s))
        if len(missing):
            diff = e[a] - e[a + 1 + missing]
            row_s[missing] = np.sqrt(scale * (diff * diff).sum(axis=1))  # row by row: the same bits in any batch
            computed.extend((a, a + 1 + int(j)) for j in missing)
        delta.append(row_d)
        se.append(row_s)
    if not delta:
        return np.zeros(0), np.zeros(0), computed
    return np.concatenate(delta), np.concatenate(se), computed


def holm(p_values: Sequence[float] | np.ndarray, alpha: float = ALPHA) -> list[bool]:
    """Holm–Bonferroni step-down: which hypotheses are rejected at family-wise level ``alpha``.

    Sorted ascending (ties by input order), the k-th smallest (0-based) is rejected while
    ``p <= alpha / (m - k)``; testing stops at the first that is not.
    """
    p = np.asarray(p_values, dtype=np.float64)
    m = len(p)
    order = np.argsort(p, kind="stable")
    passes = p[order] <= alpha / (m - np.arange(m))
    stop = m if passes.all() else int(np.argmin(passes))
    rejected = np.zeros(m, dtype=bool)
    rejected[order[:stop]] = True
    return rejected.tolist()


class Pair(NamedTuple):
    """Entries ``a`` < ``b`` (indices): Δ = a − b on the headline metric, its standard error and
    p-value, Holm's verdict."""

    a: int
    b: int
    delta: float
    se: float
    p_value: float
    significant: bool


class Pairs(Sequence):
    """Every pair a < b of ``n`` entries in that order (a = 0 first), as columns: a thousand
    entries make half a million pairs, kept as six arrays; item ``i`` is a :class:`Pair`."""

    def __init__(self, n: int, delta: np.ndarray, se: np.ndarray, p_value: np.ndarray, significant: np.ndarray) -> None:
        self.n = n
        self.a, self.b = (x.astype(np.int64) for x in np.triu_indices(n, 1))
        self.delta, self.se, self.p_value = (np.asarray(x, dtype=np.float64) for x in (delta, se, p_value))
        self.significant = np.asarray(significant, dtype=bool)
        if not len(self.a) == len(self.delta) == len(self.se) == len(self.p_value) == len(self.significant):
            raise ValueError(f"{n} entries make {len(self.a)} pairs; got columns of {len(self.delta)}")

    def __len__(self) -> int:
        return len(self.a)

    def __getitem__(self, i):  # noqa: ANN001 - an index or a slice, as for any sequence
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(len(self)))]
        i = range(len(self))[i]
        return Pair(int(self.a[i]), int(self.b[i]), float(self.delta[i]), float(self.se[i]), float(self.p_value[i]), bool(self.significant[i]))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Pairs) and list(self) == list(other)

    __hash__ = None  # type: ignore[assignment]

    def index_of(self, a: int, b: int) -> int:
        """The position of the pair of entries ``a`` and ``b`` (either order)."""
        a, b = min(a, b), max(a, b)
        if not 0 <= a < b < self.n:
            raise IndexError(f"no pair ({a}, {b}) among {self.n} entries")
        return a * self.n - a * (a + 1) // 2 + (b - a - 1)

    def get(self, a: int, b: int) -> Pair:
        return self[self.index_of(a, b)]


def pairs(
    units: Sequence[np.ndarray],
    metric: MetricDef,
    known: tuple[np.ndarray, np.ndarray] | None = None,
    alpha: float = ALPHA,
) -> tuple[Pairs, list[tuple[int, int]]]:
    """Every pair of entries (unit counts in ``units``), tested on ``metric`` by :func:`pair_tests`
    (``known`` as there) and corrected by Holm over all; also the pairs that were computed rather than known."""
    delta, se, computed = pair_tests(units, metric, known)
    g = len(units[0]) if len(units) else 0
    p = t_p_values(delta, se, g)
    return Pairs(len(units), delta, se, p, holm(p, alpha)), computed


def better_than(n: int, found: Pairs) -> list[list[int]]:
    """For each entry, the entries significantly better than it."""
    out: list[list[int]] = [[] for _ in range(n)]
    win = found.significant & (found.delta != 0)
    up = found.delta[win] > 0
    a, b = found.a[win], found.b[win]
    for loser, winner in zip(np.where(up, b, a).tolist(), np.where(up, a, b).tolist()):
        out[loser].append(winner)
    return [sorted(x) for x in out]


def ranks(n: int, found: Pairs) -> list[int]:
    """1 + the number of entries significantly better than each entry."""
    return [1 + len(b) for b in better_than(n, found)]


def rank_intervals(
    units: Sequence[np.ndarray], metric: MetricDef, n_boot: int = RANK_BOOT, seed: int = OPTIONS.seed, ci: float = RANK_CI
) -> tuple[list[int], list[int]]:
    """Bootstrap interval of each entry's rank: on each of ``n_boot`` shared resamples of the units
    (:func:`.scoring.bootstrap.resample_counts`), an entry's rank is 1 + the number of entries with
    a strictly higher value of ``metric``; the interval runs from the (1 − ci)/2 quantile of those ranks
    (numpy's ``lower``) to the (1 + ci)/2 quantile (``higher``), so both ends are ranks that occurred."""
    n = len(units)
    if n == 0:
        return [], []
    stacked = np.hstack([np.asarray(u, dtype=np.float64) for u in units])
    names = columns(metric)
    k = len(names)
    boot_ranks = np.empty((n_boot, n), dtype=np.int64)
    row = 0
    for draws in resample_counts(stacked.shape[0], n_boot, seed):
        sums = (draws @ stacked).reshape(len(draws), n, k)
        value, _ = metric.formula(dict(zip(names, np.moveaxis(sums, 2, 0))))
        ordered = np.sort(value, axis=1)
        # entries with a strictly higher value = n - (entries <= value)
        above = n - np.stack([np.searchsorted(ordered[i], value[i], side="right") for i in range(len(value))])
        boot_ranks[row : row + len(draws)] = 1 + above
        row += len(draws)
    low = np.quantile(boot_ranks, (1 - ci) / 2, axis=0, method="lower")
    high = np.quantile(boot_ranks, (1 + ci) / 2, axis=0, method="higher")
    return [int(x) for x in low], [int(x) for x in high]
