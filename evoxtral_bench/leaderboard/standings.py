"""What the site shows for each entry: its metrics and, for ranked entries, rank and results;
one table per audio track (:func:`by_track`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from evoxtral_bench.leaderboard import ranking
from evoxtral_bench.leaderboard.entries import Entry, track_options
from evoxtral_bench.leaderboard.ranking import Pairs, rank_metric
from evoxtral_bench.scoring.core import Options, ReferenceSet
from evoxtral_bench.scoring.metrics import METRIC_NAMES, MetricDef, family_headlines
from evoxtral_bench.scoring.results import Estimate
from evoxtral_bench.tracks import FEATURED, TEXT_ONLY, TRACK_NAMES, TRACKS


def shown_metrics(version: int) -> tuple[str, ...]:
    """The metrics every row of a table on benchmark ``version`` carries (downloads): its
    headline (:func:`.ranking.rank_metric`), on version 2 the headline of each tag family, then
    the seven."""
    return (rank_metric(version).name, *(m.name for m in family_headlines(version)), *METRIC_NAMES)


@dataclass(frozen=True)
class Standing:
    """One row of the leaderboard.

    ``metrics`` has the :func:`shown_metrics` of its table's version as in a results document (``value`` None: not
    reported). Verified rows also carry the results document and the sample utterance ids;
    ranked rows (verified, not reference) carry ``rank``, its bootstrap interval
    ``rank_interval`` (low, high), ``better`` (the slugs of the entries significantly better on
    the headline metric) and, when the track has a floor entry (:attr:`Ranked.floor`) and this is
    not it, ``above_floor``: Δ = this − floor, its se and p, and ``significant`` (the pair's Holm
    verdict with Δ > 0).
    """

    entry: Entry
    metrics: dict[str, dict]
    rank: int | None = None
    better: tuple[str, ...] = ()
    results: dict | None = None
    samples: dict | None = None
    rank_interval: tuple[int, int] | None = None
    above_floor: dict | None = None

    @property
    def slug(self) -> str:
        return self.entry.slug

    @property
    def reference(self) -> bool:
        return self.entry.meta.reference

    @property
    def floor(self) -> bool:
        """Whether this row is its track's floor (the text-only prior, :data:`.meta.BASELINES`)."""
        return self.rank is not None and self.entry.meta.baseline is not None


@dataclass(frozen=True)
class Ranked:
    """The verified rows: ranked ones in rank order, reference rows apart, and every compared
    pair (``Pair.a`` and ``Pair.b`` index ``compared``, the ranked slugs by headline value);
    ``floor`` is the slug of the track's floor entry (None without one); ``computed`` the pairs
    tested in this build (the rest came from :class:`Memo`) as (slug a, slug b, Δ, se), and
    ``intervals_computed`` whether the rank intervals were."""

    ranked: list[Standing]
    references: list[Standing]
    pairs: Pairs
    compared: tuple[str, ...] = ()
    floor: str | None = None
    computed: tuple[tuple[str, str, float, float], ...] = ()
    intervals_computed: bool = False
    units: int = 0  # the resampling units of the pair tests (their t has units − 1 degrees of freedom)

    @property
    def verified(self) -> list[Standing]:
        return self.ranked + self.references


@dataclass(frozen=True)
class Memo:
    """What earlier builds already computed: ``pairs(slugs)`` gives (n, n) arrays of Δ = row − column
    and se of the ranked ``slugs`` (NaN where not known; :func:`.ranking.pair_tests`) or None,
    ``intervals(slugs)`` the rank intervals of exactly these slugs (in this order) or None."""

    pairs: Callable[[tuple[str, ...]], tuple[np.ndarray, np.ndarray] | None] = lambda slugs: None
    intervals: Callable[[tuple[str, ...]], tuple[list[int], list[int]] | None] = lambda slugs: None


def reported(entry: Entry, version: int = 1) -> Standing:
    """A reported entry's numbers as metrics without intervals (the headline is never quoted)."""
    quoted = entry.meta.reported_metrics or {}
    metrics = {name: Estimate(quoted.get(name), defined=quoted.get(name) is not None).to_dict(name) for name in shown_metrics(version)}
    return Standing(entry, metrics)


def reported_order(standings: list[Standing]) -> list[Standing]:
    """Reported rows by their quoted tag F1 (unreported last), then slug; never ranked."""
    return sorted(standings, key=lambda s: (s.metrics["tag_f1"]["value"] is None, -(s.metrics["tag_f1"]["value"] or 0), s.slug))


def _metrics(results: dict) -> dict[str, dict]:
    """The :func:`shown_metrics` of a results document's benchmark version, from its metrics and extras."""
    names = shown_metrics(results["benchmark"]["version"])
    return {name: results["metrics"][name] if name in METRIC_NAMES else results["extras"][name] for name in names}


def floor_of(entries: list[Entry]) -> Entry | None:
    """The floor of a track's ranked ``entries``: the one whose meta.yaml names a ``baseline``
    (``leaderboard check`` allows at most one per track); None without one."""
    return next((e for e in sorted(entries, key=lambda e: e.slug) if e.meta.baseline is not None), None)


def verified(
    entries: list[Entry], scored: dict[str, dict], *, metric: MetricDef, groups: Sequence[int] | None = None, memo: Memo = Memo()
) -> Ranked:
    """Ranks (see :mod:`.ranking`) on ``metric`` of the verified entries that are not reference rows.

    ``scored[slug]`` holds ``results``, ``samples`` and ``counts`` (the per-utterance headline
    counts); ``groups`` the resampling unit of each utterance (None: each its own);
    ``memo`` what earlier builds computed. Ranked rows are ordered by rank, then headline value
    (highest first), then slug; reference rows by headline value, then slug.
    """
    value = lambda e: scored[e.slug]["results"]["extras"][metric.name]["value"]  # noqa: E731
    order = sorted((e for e in entries if not e.meta.reference), key=lambda e: (-value(e), e.slug))
    slugs = tuple(e.slug for e in order)
    units = [ranking.unit_counts(np.asarray(scored[e.slug]["counts"]), groups) for e in order]
    found, computed = ranking.pairs(units, metric, memo.pairs(slugs))
    better = ranking.better_than(len(order), found)
    intervals = memo.intervals(slugs) if slugs else ([], [])
    fresh = intervals is None
    if intervals is None:
        intervals = ranking.rank_intervals(units, metric)
    floor = floor_of(order)

    def above(i: int) -> dict | None:
        if floor is None or order[i] is floor:
            return None
        f = slugs.index(floor.slug)
        pair = found.get(i, f)
        sign = 1.0 if pair.a == i else -1.0
        delta = sign * pair.delta
        return {"delta": delta, "se": pair.se, "p_value": pair.p_value, "significant": pair.significant and delta > 0}

    def row(entry: Entry, rank: int | None = None, up: tuple[str, ...] = (), interval: tuple[int, int] | None = None, floor_test: dict | None = None) -> Standing:
        doc = scored[entry.slug]
        return Standing(entry, _metrics(doc["results"]), rank, up, doc["results"], doc["samples"], interval, floor_test)

    ranked = [
        row(e, 1 + len(b), tuple(slugs[j] for j in b), (intervals[0][i], intervals[1][i]), above(i))
        for i, (e, b) in enumerate(zip(order, better))
    ]
    ranked.sort(key=lambda s: s.rank)  # stable: equal ranks keep the value order
    references = [row(e) for e in sorted((e for e in entries if e.meta.reference), key=lambda e: (-value(e), e.slug))]
    done = tuple((slugs[a], slugs[b], float(found.delta[k]), float(found.se[k])) for a, b in computed for k in (found.index_of(a, b),))
    return Ranked(ranked, references, found, slugs, floor.slug if floor else None, done, fresh, len(units[0]) if units else 0)


@dataclass(frozen=True)
class TrackTable:
    """One audio track's table: its verified entries ranked among themselves on the headline of
    the track's benchmark version (the pairs and the Holm correction are the track's), its
    reported rows, and the reference rows made from text (track ``none``, scored on the version-1
    references), which do not depend on audio and are shown in every table on those references.
    ``refs`` are the references the table is scored on."""

    track: str
    ranked: Ranked
    reported: list[Standing]
    refs: ReferenceSet | None = None

    @property
    def version(self) -> int:
        """The benchmark version of the track's references (docs/spec.md §6.9)."""
        return track_options(self.track).version

    @property
    def metric(self) -> MetricDef:
        """The ranking metric: the headline of :attr:`version`."""
        return rank_metric(self.version)

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
    """The tracks that get a table: the registered ones with an entry, :data:`.tracks.FEATURED`
    first, then in registry order (``none`` alone when every entry is made from text)."""
    present = {e.track for e in entries}
    names = [name for name in sorted(TRACK_NAMES, key=lambda name: name != FEATURED) if name in present]
    return names or ([TEXT_ONLY] if TEXT_ONLY in present else [])


def by_track(
    entries: list[Entry],
    scored: dict[str, dict],
    references: Callable[[Options], ReferenceSet | None],
    *,
    memo: Callable[[Sequence[int] | None], Memo] = lambda groups: Memo(),
) -> list[TrackTable]:
    """One :class:`TrackTable` per track of :func:`tracks_of`, on the track's references
    (``references(options)``, :meth:`.entries.References.of`), ranked on its version's headline
    with those references' resampling groups (each script's renderings together); ``scored`` as
    for :func:`verified`, ``memo(groups)`` the earlier builds' work for those units. A verified
    row made from text joins only the tables on the references it was scored on (version 1);
    a reported one, every table."""
    tables = []
    for name in tracks_of(entries):
        options = track_options(name)
        refs = references(options)
        members = [e for e in entries if e.track == name or (e.track == TEXT_ONLY and (not e.verified or _same(e.refs, refs)))]
        metric = rank_metric(options.version)
        groups = None if refs is None else refs.groups
        ranked = verified([e for e in members if e.verified], scored, metric=metric, groups=groups, memo=memo(groups))
        tables.append(TrackTable(name, ranked, reported_order([reported(e, options.version) for e in members if not e.verified]), refs))
    return tables


def _same(a: ReferenceSet | None, b: ReferenceSet | None) -> bool:
    """Whether two reference sets are the same utterances (file, split and ids)."""
    return a is b or a is not None and b is not None and (a.sha256, a.split, len(a.rows)) == (b.sha256, b.split, len(b.rows)) and [r.id for r in a.rows] == [r.id for r in b.rows]
