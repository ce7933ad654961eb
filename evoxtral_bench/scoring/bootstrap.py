"""Bootstrap over utterances (or their clusters) on summed sufficient statistics (docs/spec.md §4).

A resample is a vector of how often each utterance was drawn; its column sums are
``counts @ matrix``. Resamples are drawn in chunks whose size depends only on N, so memory
stays bounded (about 2**22 numbers per chunk) and results depend only on (N, B, seed).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

from evoxtral_bench.errors import InputError

_CHUNK_ELEMENTS = 1 << 22
MAX_RESAMPLED_VALUES = 1 << 27
"""The most resampled statistics kept at once (B × columns; 1 GiB of float64)."""


def resample_counts(n: int, n_boot: int, seed: int, groups: np.ndarray | None = None) -> Iterator[np.ndarray]:
    """Yield (chunk, n) float64 matrices of draw counts of the ``n`` rows.

    Without ``groups`` each row is drawn on its own: ``numpy.random.default_rng(seed).integers(0,
    n, size=(chunk, n))``, and each count row sums to ``n``. With ``groups`` (an int array of
    length ``n``, values 0..G−1, every value used: the cluster of each row) the G clusters are
    drawn instead, ``integers(0, G, size=(chunk, G))``, and every row gets its cluster's count
    (a cluster bootstrap: rows of one cluster always travel together). The chunk size depends
    only on ``n``, so memory stays bounded and identity groups give the same draws as none.
    """
    if n <= 0:
        raise ValueError("cannot bootstrap an empty set")
    units = n if groups is None else int(groups.max()) + 1
    rng = np.random.default_rng(seed)
    chunk = max(1, min(n_boot, _CHUNK_ELEMENTS // n))
    done = 0
    while done < n_boot:
        c = min(chunk, n_boot - done)
        idx = rng.integers(0, units, size=(c, units))
        idx += (np.arange(c) * units)[:, None]
        counts = np.bincount(idx.ravel(), minlength=c * units).reshape(c, units)
        del idx  # peak memory: two chunk-sized arrays at a time, not three
        out = counts.astype(np.float64) if groups is None else counts[:, groups].astype(np.float64)
        del counts
        yield out
        done += c


def resample_sums(matrix: np.ndarray, n_boot: int, seed: int, groups: np.ndarray | None = None) -> np.ndarray:
    """(n_boot, K) column sums of ``n_boot`` resamples of the rows of an (N, K) matrix
    (of its row clusters with ``groups``, :func:`resample_counts`).

    Raises :class:`InputError` when B × K exceeds :data:`MAX_RESAMPLED_VALUES`.
    """
    if n_boot * matrix.shape[1] > MAX_RESAMPLED_VALUES:
        raise InputError(
            f"--bootstrap {n_boot:,} × {matrix.shape[1]:,} statistics columns is more than the "
            f"{MAX_RESAMPLED_VALUES:,} resampled values kept at once; use fewer resamples"
        )
    out = np.empty((n_boot, matrix.shape[1]), dtype=np.float64)
    with one_blas_thread(matrix.shape[0] * n_boot):
        row = 0
        for counts in resample_counts(matrix.shape[0], n_boot, seed, groups):
            out[row : row + len(counts)] = counts @ matrix
            row += len(counts)
    return out


PIN_ABOVE = 1 << 20
"""Draws (N × B) from which the bootstrap's products run with BLAS on one thread."""


@contextmanager
def one_blas_thread(draws: int) -> Iterator[None]:
    """BLAS limited to one thread for a bootstrap of ``draws`` draws (threadpoolctl).

    The products are thin (chunk × N by N × K): a second BLAS thread saves little on a quiet
    machine and costs several times the work when another process is busy. The sums are of
    integers, so they are exact whatever the threads. Below :data:`PIN_ABOVE` draws the products
    take microseconds and threadpoolctl is not even imported (a cold start stays short).
    """
    if draws < PIN_ABOVE:
        yield
        return
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1, user_api="blas"):
        yield


_ROUNDING = 1e-9


def linear_percentiles(samples: np.ndarray, q: list[float]) -> np.ndarray:
    """``numpy.percentile(samples, q, axis=1)`` with its default ``linear`` method (Hyndman–Fan 7),
    step by step as numpy 2 computes it, bit for bit (a test compares them), for a finite (M, B)
    array: q / 100, virtual index (B − 1)·q, its floor and the next index (both the last value at
    or past B − 1), γ = index − floor, and numpy's two-sided interpolation. The order statistics
    come from a full sort instead of ``partition``, whose index list goes through ``numpy.unique``
    and so imports ``numpy.ma`` (about 25 ms of a cold start). Returns (len(q), M)."""
    b = samples.shape[1]
    ordered = np.sort(samples, axis=1)
    virtual = (b - 1) * np.true_divide(np.asarray(q, dtype=np.float64), np.float64(100))
    previous = np.floor(virtual)
    following = previous + 1
    past = virtual >= b - 1
    previous[past] = -1
    following[past] = -1
    gamma = (virtual - previous)[:, None]
    low, high = ordered[:, previous.astype(np.intp)].T, ordered[:, following.astype(np.intp)].T
    diff = np.subtract(high, low)
    out = np.add(low, diff * gamma)
    np.subtract(high, diff * (1 - gamma), out=out, where=np.broadcast_to(gamma >= 0.5, out.shape))
    return out


def percentile_intervals(samples: np.ndarray, ci: float, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Percentile intervals at level ``ci`` for each row of an (M, B) array of resampled values.

    numpy's default linear interpolation. Summation order differs between a point estimate and
    its resamples, so a degenerate interval can land a few ulps beside the point; an endpoint
    within 1e-9 (relative) of the point on the wrong side is snapped to it. Nothing larger is
    ever changed.
    """
    lo, hi = linear_percentiles(np.atleast_2d(samples), [50 * (1 - ci), 50 * (1 + ci)])
    points = np.atleast_1d(np.asarray(points, dtype=np.float64))
    tol = _ROUNDING * np.maximum(1.0, np.abs(points))
    lo = np.where((points < lo) & (lo <= points + tol), points, lo)
    hi = np.where((points - tol <= hi) & (hi < points), points, hi)
    return lo, hi


def paired_p_values(deltas: np.ndarray) -> np.ndarray:
    """Two-sided paired-bootstrap p-values for Δ = A − B, one per row of resampled values.

    ``p = min(1, 2 · min(#{Δ* ≤ 0} + 1, #{Δ* ≥ 0} + 1) / (B + 1))``: twice the smaller tail
    mass at zero, with the +1 correction so that p is never 0 (its floor is 2 / (B + 1)).
    p < 1 − ci exactly when 0 lies (about) outside the percentile interval of Δ.
    """
    deltas = np.atleast_2d(deltas)
    b = deltas.shape[-1]
    below = np.count_nonzero(deltas <= 0, axis=-1) + 1
    above = np.count_nonzero(deltas >= 0, axis=-1) + 1
    return np.minimum(1.0, 2.0 * np.minimum(below, above) / (b + 1))


def paired_p_value(deltas: np.ndarray) -> float:
    """:func:`paired_p_values` of one vector of resampled differences."""
    return float(paired_p_values(deltas)[0])
