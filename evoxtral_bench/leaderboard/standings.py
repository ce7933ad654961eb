"""What the site shows for each entry: its metrics and, for verified entries, rank and results."""

from __future__ import annotations

from dataclasses import dataclass

from evoxtral_bench.leaderboard.entries import Entry
from evoxtral_bench.leaderboard.ties import TIE_METRIC, is_tied, ranks
from evoxtral_bench.scoring.metrics import METRIC_NAMES
from evoxtral_bench.scoring.results import Estimate


@dataclass(frozen=True)
class Standing:
    """One row of the leaderboard.

    ``metrics`` has the seven metrics as in a results document (``value`` None: not reported).
    Verified rows also carry ``rank``, ``above`` (the tag-F1 comparison with the row ranked
    above, None for the first), the results document and the sample utterance ids.
    """

    entry: Entry
    metrics: dict[str, dict]
    rank: int | None = None
    above: dict | None = None
    results: dict | None = None
    samples: dict | None = None

    @property
    def slug(self) -> str:
        return self.entry.slug

    @property
    def tied(self) -> bool:
        return self.above is not None and is_tied(self.above)


def reported(entry: Entry) -> Standing:
    """A reported entry's numbers as metrics without intervals."""
    quoted = entry.meta.reported_metrics or {}
    metrics = {name: Estimate(quoted.get(name), defined=quoted.get(name) is not None).to_dict(name) for name in METRIC_NAMES}
    return Standing(entry, metrics)


def reported_order(standings: list[Standing]) -> list[Standing]:
    """Reported rows by their quoted tag F1 (unreported last), then slug; never ranked."""
    return sorted(standings, key=lambda s: (s.metrics[TIE_METRIC]["value"] is None, -(s.metrics[TIE_METRIC]["value"] or 0), s.slug))


def verified_order(entries: list[Entry], scored: dict[str, dict]) -> list[Entry]:
    """Verified entries by tag F1, highest first; equal values by slug."""
    return sorted(entries, key=lambda e: (-scored[e.slug]["results"]["metrics"][TIE_METRIC]["value"], e.slug))


def verified(order: list[Entry], scored: dict[str, dict], comparisons: list[dict]) -> list[Standing]:
    """Rows in ``order`` with ranks from the neighbour comparisons (see :mod:`.ties`)."""
    return [
        Standing(
            entry,
            scored[entry.slug]["results"]["metrics"],
            rank,
            comparisons[i - 1] if i else None,
            scored[entry.slug]["results"],
            scored[entry.slug]["samples"],
        )
        for i, (entry, rank) in enumerate(zip(order, ranks(len(order), comparisons)))
    ]
