"""What the site shows for each entry: its metrics and, for ranked entries, rank and results;
one table per audio track (:func:`by_track`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from evoxtral_bench.leaderboard import ranking
from evoxtral_bench.leaderboard.entries import Entry
from evoxtral_bench.leaderboard.ranking import RANK_METRIC, Pair
from evoxtral_bench.scoring.metrics import METRIC_NAMES
from evoxtral_bench.scoring.results import Estimate
from evoxtral_bench.tracks import TEXT_ONLY, TRACK_NAMES, TRACKS

SHOWN_METRICS: tuple[str, ...] = (RANK_METRIC, *METRIC_NAMES)
"""The metrics every row carries (downloads): the headline, then the seven."""


@dataclass(frozen=True)
class Standing:
    """One row of the leaderboard.

    ``metrics`` has :data:`SHOWN_METRICS` as in a results document (``value`` None: not
    reported). Verified rows also carry the results document and the sample utterance ids;
    ranked rows (verified, not reference) carry ``rank`` and ``better``, the slugs of the
    entries significantly better on the headline metric.
    """

    entry: Entry
    metrics: dict[str, dict]
    rank: int | None = None
    better: tuple[str, ...] = ()
    results: dict | None = None
    samples: dict | None = None

    @property
    def slug(self) -> str:
        return self.entry.slug

    @property
    def reference(self) -> bool:
        return self.entry.meta.reference


@dataclass(frozen=True)
class Ranked:
    """The verified rows: ranked ones in rank order, reference rows apart, and every compared
    pair (``Pair.a`` and ``Pair.b`` index ``compared``, the ranked slugs by headline value)."""

    ranked: list[Standing]
    references: list[Standing]
    pairs: list[Pair]
    compared: tuple[str, ...] = ()
    n_boot: int = 0  # the resamples of the pairwise comparisons (:func:`.ranking.resamples_for`)

    @property
    def verified(self) -> list[Standing]:
        return self.ranked + self.references


def reported(entry: Entry) -> Standing:
    """A reported entry's numbers as metrics without intervals (the headline is never quoted)."""
    quoted = entry.meta.reported_metrics or {}
    metrics = {name: Estimate(quoted.get(name), defined=quoted.get(name) is not None).to_dict(name) for name in SHOWN_METRICS}
    return Standing(entry, metrics)


def reported_order(standings: list[Standing]) -> list[Standing]:
    """Reported rows by their quoted tag F1 (unreported last), then slug; never ranked."""
    return sorted(standings, key=lambda s: (s.metrics["tag_f1"]["value"] is None, -(s.metrics["tag_f1"]["value"] or 0), s.slug))


def _metrics(results: dict) -> dict[str, dict]:
    return {name: results["extras"][name] if name == RANK_METRIC else results["metrics"][name] for name in SHOWN_METRICS}


def verified(entries: list[Entry], scored: dict[str, dict]) -> Ranked:
    """Ranks (see :mod:`.ranking`) of the verified entries that are not reference rows.

    ``scored[slug]`` holds ``results``, ``samples`` and ``counts`` (the per-utterance headline
    counts). Ranked rows are ordered by rank, then headline value (highest first), then slug;
    reference rows by headline value, then slug.
    """
    value = lambda e: scored[e.slug]["results"]["extras"][RANK_METRIC]["value"]  # noqa: E731
    order = sorted((e for e in entries if not e.meta.reference), key=lambda e: (-value(e), e.slug))
    values = [value(e) for e in order]
    n_boot = ranking.resamples_for(len(order))
    found: list[Pair] = []
    if len(order) > 1:
        found = ranking.pairs(values, ranking.resampled_values([np.asarray(scored[e.slug]["counts"]) for e in order], n_boot))
    better = ranking.better_than(len(order), found)

    def row(entry: Entry, rank: int | None = None, above: tuple[str, ...] = ()) -> Standing:
        doc = scored[entry.slug]
        return Standing(entry, _metrics(doc["results"]), rank, above, doc["results"], doc["samples"])

    ranked = [row(e, 1 + len(b), tuple(order[j].slug for j in b)) for e, b in zip(order, better)]
    ranked.sort(key=lambda s: s.rank)  # stable: equal ranks keep the value order
    references = [row(e) for e in sorted((e for e in entries if e.meta.reference), key=lambda e: (-value(e), e.slug))]
    return Ranked(ranked, references, found, tuple(e.slug for e in order), n_boot)


@dataclass(frozen=True)
class TrackTable:
    """One audio track's table: its verified entries ranked among themselves (the pairs and the
    Holm correction are the track's), its reported rows, and the reference rows made from text
    (track ``none``), which do not depend on audio and are shown in every track's table."""

    track: str
    ranked: Ranked
    reported: list[Standing]

    @property
    def description(self) -> str:
        return track_description(self.track)

    @property
    def recipe_hash(self) -> str | None:
        return TRACKS[self.track].recipe_hash if self.track in TRACKS else None


def track_description(name: str) -> str:
    """A track's description from the registry (``none``: predictions made from text)."""
    return TRACKS[name].description if name in TRACKS else "predictions made from text, no audio"


def tracks_of(entries: list[Entry]) -> list[str]:
    """The tracks that get a table: the registered ones with an entry, in registry order (``none``
    alone when every entry is made from text)."""
    present = {e.track for e in entries}
    names = [name for name in TRACK_NAMES if name in present]
    return names or ([TEXT_ONLY] if TEXT_ONLY in present else [])


def by_track(entries: list[Entry], scored: dict[str, dict]) -> list[TrackTable]:
    """One :class:`TrackTable` per track of :func:`tracks_of`; ``scored`` as for :func:`verified`."""
    tables = []
    for name in tracks_of(entries):
        members = [e for e in entries if e.track in (name, TEXT_ONLY)]
        ranked = verified([e for e in members if e.verified], scored)
        tables.append(TrackTable(name, ranked, reported_order([reported(e) for e in members if not e.verified])))
    return tables
