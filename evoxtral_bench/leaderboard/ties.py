"""Statistical ties: neighbours on the tag-F1 ordering that a paired bootstrap cannot separate."""

from __future__ import annotations

from evoxtral_bench.leaderboard.entries import OPTIONS
from evoxtral_bench.scoring.core import ReferenceSet, System, compare

TIE_METRIC = "tag_f1"
TIE_ALPHA = 0.05
RULE = (
    f"Entries are sorted by tag F1; an entry shares the rank of the one above it when a paired bootstrap "
    f"({OPTIONS.n_boot} resamples, seed {OPTIONS.seed}) cannot tell their tag F1 apart (p ≥ {TIE_ALPHA:g}), "
    "so a tie can chain down several entries."
)


def compare_neighbours(above: System, below: System, refs: ReferenceSet) -> dict:
    """``compare above below`` on tag F1: delta, interval and p-value (as ``evoxtral-bench compare``)."""
    return compare(above, below, refs, OPTIONS).metrics[TIE_METRIC].to_dict(TIE_METRIC)


def is_tied(comparison: dict) -> bool:
    return comparison["p_value"] >= TIE_ALPHA


def ranks(n: int, comparisons: list[dict]) -> list[int]:
    """1-based ranks of ``n`` entries in order; ``comparisons[i]`` compares entry i with i + 1.

    A tie keeps the rank of the entry above; otherwise the rank is the entry's position
    (competition ranking: 1, 1, 3).
    """
    out: list[int] = []
    for i in range(n):
        out.append(out[-1] if i and is_tied(comparisons[i - 1]) else i + 1)
    return out
