"""The compare view of a track: its ranked entries' pairs as the ranking tested them (the
matrix of the best :data:`MATRIX_MAX`, and each entry against the next).

:func:`_results` is the one place the site reads the ranking's pair tests
(:attr:`.standings.Ranked.pairs`); nothing here tests a pair again, so the matrix and the ranks
cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from evoxtral_bench.leaderboard import ranking
from evoxtral_bench.leaderboard.standings import Ranked


@dataclass(frozen=True)
class PairResult:
    """Two ranked entries (slugs) as the ranking compared them: Δ = a − b on the ranking
    metric (a fraction) with its 95% interval (Δ ± t·se, the Student t of the pair's test), the
    raw two-sided p-value, and whether the pair is significant after the track's Holm correction."""

    a: str
    b: str
    delta: float
    ci_low: float
    ci_high: float
    p_value: float
    significant: bool

    def turned(self) -> PairResult:
        """The same pair read the other way (Δ = b − a)."""
        return PairResult(self.b, self.a, -self.delta, -self.ci_high, -self.ci_low, self.p_value, self.significant)


MATRIX_MAX = 40
"""Ranked entries the compare view's matrix shows: the best ``MATRIX_MAX`` (m² cells: a thousand
entries would make a page of hundreds of megabytes); every pair is in ``leaderboard.json``, and
:func:`neighbours` lists each entry against the next one for every entry."""


def pair_results(board: Ranked, among: set[str] | None = None) -> list[PairResult]:
    """The pairs of ``board``'s ranked entries (both in ``among``, or all), from the ranking's own
    tests (Δ, se, p, Holm)."""
    pairs = board.pairs
    if among is None:
        return _results(board, np.arange(len(pairs)))
    member = np.array([slug in among for slug in board.compared], dtype=bool)
    return _results(board, np.flatnonzero(member[pairs.a] & member[pairs.b]) if len(member) else np.zeros(0, dtype=np.int64))


def neighbours(board: Ranked) -> list[PairResult]:
    """Each ranked entry against the next one in rank order (Δ = upper − lower), from the
    ranking's own tests: where the significant steps of the ranking are."""
    index = {slug: i for i, slug in enumerate(board.compared)}
    chosen = np.array([board.pairs.index_of(index[u.slug], index[v.slug]) for u, v in zip(board.ranked, board.ranked[1:])], dtype=np.int64)
    return [r if r.a == upper.slug else r.turned() for r, upper in zip(_results(board, chosen), board.ranked)]


def _results(board: Ranked, chosen: np.ndarray) -> list[PairResult]:
    """The pairs at positions ``chosen`` of ``board.pairs``, with their t intervals."""
    slugs, pairs = board.compared, board.pairs
    low, high = ranking.t_intervals(pairs.delta[chosen], pairs.se[chosen], board.units)
    columns = (pairs.a[chosen], pairs.b[chosen], pairs.delta[chosen], low, high, pairs.p_value[chosen], pairs.significant[chosen])
    return [PairResult(slugs[a], slugs[b], d, lo, hi, p, sig) for a, b, d, lo, hi, p, sig in zip(*(c.tolist() for c in columns))]


@dataclass(frozen=True)
class Cell:
    """One cell of the matrix: the row entry against the column entry (None on the diagonal);
    ``verdict`` is ``better`` or ``worse`` (significant, the row's Δ > 0 or < 0) or ``tie``."""

    pair: PairResult | None
    verdict: str


def matrix(board: Ranked, limit: int = MATRIX_MAX) -> list[tuple[str, list[Cell]]]:
    """(row slug, cells) for the first ``limit`` ranked entries in rank order, one cell per such
    entry in the same order: Δ = row − column."""
    slugs = [s.slug for s in board.ranked[:limit]]
    found = {}
    for pair in pair_results(board, set(slugs)):
        found[(pair.a, pair.b)] = pair
        found[(pair.b, pair.a)] = pair.turned()
    rows = []
    for row in slugs:
        cells = []
        for column in slugs:
            if row == column:
                cells.append(Cell(None, "self"))
            else:
                cells.append(Cell(found[(row, column)], verdict(found[(row, column)])))
        rows.append((row, cells))
    return rows


def verdict(pair: PairResult) -> str:
    """``better`` or ``worse`` (significant, Δ > 0 or < 0) or ``tie``."""
    return "tie" if not pair.significant or pair.delta == 0 else ("better" if pair.delta > 0 else "worse")
