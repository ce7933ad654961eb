"""The compare view of a track: every pair of its ranked entries as the ranking tested it.

:func:`pair_results` is the one place the site reads the ranking's pair tests
(:attr:`.standings.Ranked.pairs`); nothing here tests a pair again, so the matrix and the ranks
cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

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


def pair_results(board: Ranked) -> list[PairResult]:
    """Every pair of ``board``'s ranked entries, from the ranking's own tests (Δ, se, p, Holm)."""
    slugs = board.compared
    low, high = ranking.t_intervals([p.delta for p in board.pairs], [p.se for p in board.pairs], board.units)
    return [
        PairResult(slugs[p.a], slugs[p.b], p.delta, float(lo), float(hi), p.p_value, p.significant)
        for p, lo, hi in zip(board.pairs, low.tolist(), high.tolist())
    ]


@dataclass(frozen=True)
class Cell:
    """One cell of the matrix: the row entry against the column entry (None on the diagonal);
    ``verdict`` is ``better`` or ``worse`` (significant, the row's Δ > 0 or < 0) or ``tie``."""

    pair: PairResult | None
    verdict: str


def matrix(board: Ranked) -> list[tuple[str, list[Cell]]]:
    """(row slug, cells) for every ranked entry in rank order, one cell per ranked entry in the
    same order: Δ = row − column."""
    found = {}
    for pair in pair_results(board):
        found[(pair.a, pair.b)] = pair
        found[(pair.b, pair.a)] = pair.turned()
    slugs = [s.slug for s in board.ranked]
    rows = []
    for row in slugs:
        cells = []
        for column in slugs:
            if row == column:
                cells.append(Cell(None, "self"))
            else:
                pair = found[(row, column)]
                verdict = "tie" if not pair.significant or pair.delta == 0 else ("better" if pair.delta > 0 else "worse")
                cells.append(Cell(pair, verdict))
        rows.append((row, cells))
    return rows
