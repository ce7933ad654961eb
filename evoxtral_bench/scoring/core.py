"""Scoring: validated inputs -> statistics table -> typed results (docs/spec.md §3-§7)."""

from __future__ import annotations

import gc
import os
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import NamedTuple

import numpy as np

from evoxtral_bench.errors import InputError
from evoxtral_bench.scoring import adapters, normalize
from evoxtral_bench.scoring.bootstrap import paired_p_value, percentile_intervals, resample_sums
from evoxtral_bench.scoring.metrics import (
    CORPUS_METRICS,
    LEGACY_METRICS,
    TAG_MACRO_F1,
    MetricDef,
    macro_f1,
    per_label_defs,
    position_metrics,
)
from evoxtral_bench.scoring.options import BENCHMARK_NAME, Options, Signature, masked_track
from evoxtral_bench.scoring.results import (
    BenchmarkInfo,
    Comparison,
    Delta,
    Estimate,
    Gap,
    Grounding,
    Group,
    Results,
    SubmissionInfo,
    TagScore,
)
from evoxtral_bench.scoring.stats import StatsTable, count_tables, label_columns, pooled_counts
from evoxtral_bench.scoring.submission import (
    Prediction,
    Problems,
    Reference,
    Source,
    read_predictions,
    read_records,
    read_references,
    select_split,
)
from evoxtral_bench.scoring.tags import split_tags, tag_table
from evoxtral_bench.tracks import REFERENCE_SETS, ReferenceSetSpec, rendering_id

SHIPPED_DIR = "evoxtral_bench/corpus/data"
"""How results name the shipped reference files (a stable label, not this machine's install path)."""
GROUNDING_METRICS = ("tag_f1", "emphasis_f1")
"""The metrics whose grounding gap (full − masked track) is reported."""


@dataclass(frozen=True)
class ReferenceSet:
    """The scored reference rows; ``path`` is the file as given or a label."""

    path: str
    sha256: str
    split: str
    rows: list[Reference]
    known_ids: dict[str, tuple[str, ...]]
    """Every id of the references (all splits) -> its split labels."""
    groups: np.ndarray | None = None
    """The resampling cluster (script) of each row, 0..G−1, when rows share a ``group``; None: each row its own."""

    @property
    def n_groups(self) -> int | None:
        return None if self.groups is None else int(self.groups.max()) + 1

    def info(self, options: Options) -> BenchmarkInfo:
        return BenchmarkInfo(BENCHMARK_NAME, options.version, self.path, self.sha256, self.split, len(self.rows))

    def signature(self, options: Options) -> Signature:
        return Signature.build(references_sha256=self.sha256, split=self.split, n=len(self.rows), options=options, groups=self.n_groups)

    def subset_groups(self, index: list[int]) -> np.ndarray | None:
        """The clusters of the rows ``index``, renumbered 0..G'−1 (None without clusters)."""
        if self.groups is None:
            return None
        return np.unique(self.groups[np.asarray(index, dtype=np.intp)], return_inverse=True)[1]


@dataclass(frozen=True)
class System:
    """One validated submission aligned to the reference rows (missing ids -> empty text)."""

    path: str
    sha256: str
    texts: list[str]
    n_predictions: int
    n_missing: int
    n_extra: int
    n_malformed: int = 0


def shipped_references(reference_set: ReferenceSetSpec = REFERENCE_SETS["v1"]) -> Path:
    """Path of a reference file shipped in the package (default: the corpus, whose test split is
    v1), beside this module's package: a plain path, so that a cold start does not import
    importlib.resources and its zipfile readers."""
    return Path(__file__).resolve().parent.parent / "corpus" / "data" / reference_set.file


def load_references(
    source: Source | None,
    split: str | None,
    problems: Problems,
    *,
    legacy: bool = False,
    reference_set: ReferenceSetSpec = REFERENCE_SETS["v1"],
    renderings: int = 1,
) -> ReferenceSet | None:
    """Read and select the reference rows (None after recording problems).

    ``source`` None means the shipped ``reference_set`` (default v1: the corpus), whose split
    defaults to its own; with ``renderings`` > 1 each shipped row becomes that many utterances
    (:func:`.tracks.rendering_id`) of one cluster. A mapping ``{id: tagged_text}`` or a
    sequence of records works as well as a JSONL path; rows that carry a ``group`` are resampled
    by group. Malformed markup is an error in a reference, except with ``legacy``.
    """
    label = "<references>"
    shipped = source is None
    if shipped:
        label = f"{SHIPPED_DIR}/{reference_set.file}"
        source = shipped_references(reference_set)
        split = split or reference_set.split
    records = read_records(source, problems, text_field="tagged_text", label=label)
    if shipped:
        records = type(records)(label, records.sha256, records.items)
    rows = read_references(records, problems, legacy=legacy)
    if problems.errors:
        return None
    path = records.label
    selected = select_split(rows, split)
    if not any(r.splits for r in rows) and split is not None:
        problems.warning(path, None, "split", f"no row carries a split label; --split {split} ignored, file scored whole")
        split = None
    if not selected:
        if not rows:
            problems.error(path, None, None, "no reference rows")
            return None
        labels = sorted({s for r in rows for s in r.splits})
        problems.error(path, None, "split", f"no row has split {split!r}; labels present: {', '.join(labels)}")
        return None
    known = {r.id: r.splits for r in rows}
    if shipped and renderings > 1:
        selected = [
            r._replace(id=rendering_id(r.id, k, renderings), group=r.id) for r in selected for k in range(1, renderings + 1)
        ]
        known = {rendering_id(i, k, renderings): splits for i, splits in known.items() for k in range(1, renderings + 1)}
    return ReferenceSet(path, records.sha256, split or "all", selected, known, _groups(selected))


def _groups(rows: list[Reference]) -> np.ndarray | None:
    """Cluster numbers of the rows (in order of first appearance) when any row carries a
    ``group``; a row without one is a cluster of its own. None when no row shares a cluster."""
    if all(r.group is None for r in rows):
        return None
    number: dict[tuple[bool, str], int] = {}
    out = np.fromiter(
        (number.setdefault((r.group is not None, r.group if r.group is not None else r.id), len(number)) for r in rows),
        dtype=np.intp,
        count=len(rows),
    )
    return out if len(number) < len(rows) else None


def load_system(
    source: Source,
    refs: ReferenceSet,
    options: Options,
    problems: Problems,
    *,
    strict: bool = False,
    label: str = "<predictions>",
    report_oov: bool = False,
) -> System | None:
    """Read and validate one submission against ``refs`` (None after recording errors);
    ``report_oov``: also warn about out-of-vocabulary tags (``validate``; ``score`` reports them
    in the results)."""
    adapt = adapters.get(options.adapter, lenient=options.lenient) if options.adapter else None
    records = read_records(source, problems, text_field="prediction", label=label)
    found = read_predictions(
        records,
        problems,
        scored_ids={r.id for r in refs.rows},
        known_ids=refs.known_ids,
        adapt=adapt,
        strict=strict,
        legacy=options.legacy,
        scope=refs.path,
        split=refs.split,
    )
    if any(p.path == records.label for p in problems.errors):
        return None
    preds = found.predictions
    if report_oov:
        oov_warning(records.label, preds.values(), problems)
    texts = [preds[r.id].text if r.id in preds else "" for r in refs.rows]
    return System(records.label, records.sha256, texts, len(preds), len(found.missing), len(found.extra), found.malformed_spans)


MAX_OOV_LISTED = 10
"""The most out-of-vocabulary labels one ``validate`` warning lists (the most frequent)."""


def oov_warning(path: str, predictions: Iterable[Prediction], problems: Problems) -> None:
    """One warning listing the out-of-vocabulary tag labels of ``predictions`` (after aliases):
    count, first line, and the nearest canonical label (rapidfuzz's normalized Levenshtein
    similarity, the best when at least 0.5), so a misspelt tag can be fixed before scoring."""
    from rapidfuzz import distance, process

    table = tag_table()
    counts: Counter[str] = Counter()
    first: dict[str, int] = {}
    for prediction in predictions:
        for label in split_tags(prediction.text, table)[1]:
            if label not in table.canonical:
                counts[label] += 1
                first[label] = min(first.get(label, prediction.line), prediction.line)
    if not counts:
        return
    listed = []
    for label, count in sorted(counts.items(), key=lambda kv: (-kv[1], first[kv[0]]))[:MAX_OOV_LISTED]:
        near = process.extractOne(label, list(table.canonical), scorer=distance.Levenshtein.normalized_similarity, score_cutoff=0.5)
        hint = f"nearest canonical label [{near[0]}]" if near else "no canonical label is near"
        listed.append(f"[{label}]×{count} (first on line {first[label]}; {hint})")
    more = f", and {len(counts) - MAX_OOV_LISTED} more labels" if len(counts) > MAX_OOV_LISTED else ""
    problems.warning(
        path,
        None,
        "prediction",
        f"{sum(counts.values())} out-of-vocabulary tags, scored as predicted tags under their own names "
        f"(`evoxtral-bench tags` lists the vocabulary): {', '.join(listed)}{more}",
    )


def build_table(system_texts: list[str], refs: ReferenceSet, options: Options) -> tuple[StatsTable, Counter[str]]:
    """Statistics table for one system plus its OOV tag counts."""
    return build_tables([system_texts], refs, options)[0]


PARALLEL_MIN_ROWS = 20_000
"""From this many utterances, :func:`build_tables` with ``workers`` > 1 counts systems in
parallel processes; below it, starting a process costs more than it saves."""


def default_workers() -> int:
    """The command line's default ``--jobs``: 2 (two systems at most) when this process may run
    on 2 CPUs or more, else 1."""
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return min(2, usable)


def build_tables(
    systems: list[list[str]], refs: ReferenceSet, options: Options, *, workers: int = 1
) -> list[tuple[StatsTable, Counter[str]]]:
    """:func:`build_table` of several systems, the references parsed and normalized once per
    process. With ``workers`` > 1 (and at least :data:`PARALLEL_MIN_ROWS` utterances) the systems
    are shared out among up to ``workers`` processes, this one counting the first share; the
    tables are the same either way (the counts do not depend on where they are made)."""
    if workers < 1:
        raise InputError(f"workers must be 1 or more, got {workers}")
    references = [r.tagged_text for r in refs.rows]
    if options.legacy:
        from evoxtral_bench.scoring import paper  # imports jiwer: only the legacy metrics need it

        return [(paper.legacy_table(predictions=texts, references=references), Counter()) for texts in systems]
    shares = min(workers, len(systems)) if len(references) >= PARALLEL_MIN_ROWS else 1
    if shares <= 1:
        return _count(systems, references, options.normalizer)
    groups = [systems[i::shares] for i in range(shares)]  # system k goes to share k mod shares
    with worker_pool(shares - 1) as pool:
        pending = [pool.apply_async(_count, (group, references, options.normalizer)) for group in groups[1:]]
        counted = [_count(groups[0], references, options.normalizer), *(r.get() for r in pending)]
    return [counted[k % shares][k // shares] for k in range(len(systems))]


@contextmanager
def worker_pool(processes: int) -> Iterator[object]:
    """A :class:`multiprocessing.pool.Pool` whose workers ignore SIGINT: Ctrl-C (sent by a
    terminal to the whole process group) interrupts this process only, which then terminates
    the workers on the way out, so no worker prints a traceback or outlives the run. SIGINT is
    held back while the workers start (they inherit the mask), so none is interrupted before it
    ignores the signal; one that arrives meanwhile is delivered here right after."""
    import multiprocessing  # on use: a cold start imports no multiprocessing
    import signal

    held = hasattr(signal, "pthread_sigmask")
    if held:
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        pool = multiprocessing.get_context().Pool(processes, initializer=_ignore_sigint)
    finally:
        if held:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    with pool:  # leaving it, normally or by an exception, terminates the workers
        yield pool


def _ignore_sigint() -> None:
    """A worker's initializer: SIGINT ignored (the parent handles Ctrl-C), then unblocked."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def _count(systems: list[list[str]], references: list[str], normalizer: str) -> list[tuple[StatsTable, Counter[str]]]:
    """:func:`.stats.count_tables` with the garbage collector paused (also run in a worker process)."""
    with gc_paused():
        return count_tables(systems, references, normalize.get(normalizer))


@contextmanager
def gc_paused() -> Iterator[None]:
    """The cyclic garbage collector off (scoring allocates millions of acyclic objects, which
    would otherwise trigger full collections for nothing); its previous state restored."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class MetricValue(NamedTuple):
    value: float
    defined: bool  # False when the denominator was 0 (value is then 0)


@dataclass(frozen=True)
class UtteranceScore:
    """The seven metrics of one (prediction, reference) pair, and the raw counts behind them."""

    metrics: dict[str, MetricValue]
    counts: dict[str, int]

    def __getitem__(self, name: str) -> MetricValue:
        return self.metrics[name]


def utterance_metrics(*, predictions: list[str], references: list[str], normalizer: str = "basic") -> list[UtteranceScore]:
    """The seven metrics of each (prediction, reference) pair on its own.

    Each utterance is scored with the corpus definitions on its own counts, so a caller can
    decide what an undefined ratio means for it (e.g. tag F1 with no tags on either side); the
    counts (``word_errors``, ``ref_words``, ``tag_tp``, …) are kept. Used by the RAFT reward.
    """
    if len(predictions) != len(references):
        raise InputError(f"{len(predictions)} predictions for {len(references)} references")
    function = normalize.get(normalizer)
    with gc_paused():
        ((table, _),) = count_tables([predictions], references, function, per_label=False)
    out = []
    for row in table.matrix:
        sums = _sums(table, row)
        scored = {}
        for d in CORPUS_METRICS:
            value, defined = d.formula(sums)
            scored[d.name] = MetricValue(float(value), bool(defined))
        out.append(UtteranceScore(scored, {c: int(row[j]) for j, c in enumerate(table.columns)}))
    return out


def _sums(table: StatsTable, matrix: np.ndarray) -> dict[str, np.ndarray]:
    return {c: matrix[..., j] for j, c in enumerate(table.columns)}


@dataclass(frozen=True)
class Summary:
    metrics: dict[str, Estimate]
    per_tag: dict[str, TagScore]
    extras: dict[str, Estimate]


class _Intervals:
    """Collects point estimates and their resampled values; one percentile call fills them all."""

    def __init__(self, ci: float) -> None:
        self.ci = ci
        self.points: list[tuple[float, bool]] = []
        self.samples: list[np.ndarray] = []

    def add(self, value: np.ndarray, defined: np.ndarray, resampled: np.ndarray | None) -> int:
        self.points.append((float(value), bool(defined)))
        if resampled is not None:
            self.samples.append(resampled)
        return len(self.points) - 1

    def estimates(self) -> list[Estimate]:
        if not self.samples:
            return [Estimate(v, None, None, d) for v, d in self.points]
        lo, hi = percentile_intervals(np.vstack(self.samples), self.ci, np.array([v for v, _ in self.points]))
        return [Estimate(v, low, high, d) for (v, d), low, high in zip(self.points, lo.tolist(), hi.tolist())]


def summarize(table: StatsTable, options: Options, groups: np.ndarray | None = None) -> Summary:
    """Metrics, per-tag scores and extras with percentile intervals for one table (its rows
    resampled by cluster with ``groups``, :func:`.bootstrap.resample_counts`).

    Every interval comes from one vectorized percentile call over all resampled values.
    """
    point = _sums(table, table.matrix.sum(axis=0))
    boot = _sums(table, resample_sums(table.matrix, options.n_boot, options.seed, groups)) if options.n_boot else None
    acc = _Intervals(options.ci)

    def evaluate(defs: tuple[MetricDef, ...]) -> dict[str, int]:
        return {d.name: acc.add(*d.formula(point), d.formula(boot)[0] if boot is not None else None) for d in defs}

    metrics = evaluate(LEGACY_METRICS if options.legacy else CORPUS_METRICS)
    canonical = tag_table().canonical
    per_tag = {label: evaluate(per_label_defs(label)) for label in table.labels}
    macro_labels = _macro_labels(table, point)
    resampled_macro = macro_f1(boot, macro_labels)[0] if boot is not None else None
    extras = {TAG_MACRO_F1.name: acc.add(*macro_f1(point, macro_labels), resampled_macro)}
    if not options.legacy:
        extras.update(evaluate(position_metrics(options.version)))
    found = acc.estimates()
    tags = {}
    for label, index in per_tag.items():
        _, pred, ref = label_columns(label)
        p, r, f = (found[index[n]] for n in ("precision", "recall", "f1"))
        tags[label] = TagScore(p, r, f, int(point[ref]), int(point[pred]), label in canonical)
    return Summary(
        {name: found[i] for name, i in metrics.items()}, tags, {name: found[i] for name, i in extras.items()}
    )


def _group_metrics(
    table: StatsTable, index: list[int], defs: tuple[MetricDef, ...], options: Options, acc: _Intervals, groups: np.ndarray | None
) -> list[int]:
    """Add the metrics ``defs`` (each a ratio of the table's columns) on the rows ``index`` to
    ``acc``, with their resampled values (by the clusters ``groups`` of those rows): the same
    numbers as :func:`summarize` gives for them on those rows. Returns their places in ``acc``."""
    rows = table.matrix[np.asarray(index, dtype=np.intp)]
    point = _sums(table, rows.sum(axis=0))
    boot = _sums(table, resample_sums(rows, options.n_boot, options.seed, groups)) if options.n_boot else None
    return [acc.add(*d.formula(point), d.formula(boot)[0] if boot is not None else None) for d in defs]


def _breakdowns(table: StatsTable, refs: ReferenceSet, options: Options) -> dict[str, dict[str, Group]]:
    """The seven metrics per slice and per domain, bootstrapped on the columns they read only;
    every interval from one percentile call."""
    defs = LEGACY_METRICS if options.legacy else CORPUS_METRICS
    read = {c for d in defs for c in (d.formula.num, *d.formula.den)}
    keep = [j for j, c in enumerate(table.columns) if c in read]
    table = StatsTable(tuple(table.columns[j] for j in keep), table.matrix[:, keep], ())
    acc = _Intervals(options.ci)
    placed: dict[str, dict[str, tuple[int, list[int]]]] = {}
    for key in ("slice", "domain"):
        groups: dict[str, list[int]] = {}
        for i, r in enumerate(refs.rows):
            value = getattr(r, key)
            if value is not None:
                groups.setdefault(value, []).append(i)
        if groups:
            placed[key] = {
                name: (len(index), _group_metrics(table, index, defs, options, acc, refs.subset_groups(index)))
                for name, index in sorted(groups.items())
            }
    found = acc.estimates()
    return {
        key: {name: Group(n, {d.name: found[i] for d, i in zip(defs, places)}) for name, (n, places) in groups.items()}
        for key, groups in placed.items()
    }


def score(system: System, refs: ReferenceSet, options: Options) -> Results:
    """The results of one system (docs/spec.md §7)."""
    table, oov = build_table(system.texts, refs, options)
    return results_of_table(system, refs, options, table, oov)


def results_of_table(system: System, refs: ReferenceSet, options: Options, table: StatsTable, oov: Counter[str]) -> Results:
    """The results of one system from its statistics table (:func:`build_table`), for a
    caller that keeps the table (the leaderboard ranks from its per-utterance columns)."""
    summary = summarize(table, options, refs.groups)
    return Results(
        benchmark=refs.info(options),
        submission=_submission_info(system, oov),
        signature=refs.signature(options),
        metrics=summary.metrics,
        per_tag=summary.per_tag,
        breakdowns=_breakdowns(table, refs, options),
        extras=summary.extras,
    )


def _submission_info(system: System, oov: Counter[str]) -> SubmissionInfo:
    return SubmissionInfo(
        system.path, system.sha256, system.n_predictions, system.n_missing, system.n_extra, pooled_counts(oov), system.n_malformed
    )


def _macro_labels(table: StatsTable, point: dict[str, np.ndarray]) -> list[str]:
    """Canonical labels with reference support: those tag macro-F1 averages over."""
    canonical = tag_table().canonical
    return [label for label in table.labels if label in canonical and point[label_columns(label)[2]] > 0]


def compare(a: System, b: System, refs: ReferenceSet, options: Options, *, workers: int = 1) -> Comparison:
    """Paired bootstrap of A − B on the same resamples (Koehn 2004) for every metric of
    ``score`` (the seven, tag macro-F1 and, unless legacy, the position-aware extras).
    ``workers`` > 1: the two tables are counted in two processes (:func:`build_tables`)."""
    (table_a, _), (table_b, _) = build_tables([a.texts, b.texts], refs, options, workers=workers)
    return compare_tables(a, b, refs, options, table_a, table_b)


def compare_tables(a: System, b: System, refs: ReferenceSet, options: Options, table_a: StatsTable, table_b: StatsTable) -> Comparison:
    """:func:`compare` from the two systems' statistics tables."""
    k = table_a.matrix.shape[1]
    joint = np.hstack([table_a.matrix, table_b.matrix])
    boot = resample_sums(joint, options.n_boot, options.seed, refs.groups) if options.n_boot else None
    point_a, point_b = _sums(table_a, table_a.matrix.sum(axis=0)), _sums(table_b, table_b.matrix.sum(axis=0))
    labels = _macro_labels(table_a, point_a)  # reference support: the same for A and B
    defs = (LEGACY_METRICS if options.legacy else CORPUS_METRICS) + (TAG_MACRO_F1,) + (() if options.legacy else position_metrics(options.version))
    metrics = {}
    for d in defs:
        formula = d.formula if d.formula is not None else (lambda sums: macro_f1(sums, labels))
        va, da = formula(point_a)
        vb, db = formula(point_b)
        delta = float(va - vb)
        low = high = p_value = None
        if boot is not None:
            deltas = formula(_sums(table_a, boot[:, :k]))[0] - formula(_sums(table_b, boot[:, k:]))[0]
            (low,), (high,) = percentile_intervals(deltas, options.ci, delta)
            low, high, p_value = float(low), float(high), paired_p_value(deltas)
        metrics[d.name] = Delta(float(va), float(vb), delta, bool(da and db), low, high, p_value, bool(da), bool(db))
    return Comparison(refs.info(options), (a.path, a.sha256), (b.path, b.sha256), refs.signature(options), metrics)


def score_tables(
    full: System, masked: System | None, refs: ReferenceSet, options: Options, *, workers: int = 1
) -> tuple[Results, StatsTable]:
    """The results of ``full`` and its statistics table; with ``masked`` (the same system's
    predictions on the masked twin of ``options.track``, :func:`.options.masked_track`), the
    results carry the ``grounding`` section (docs/spec.md §10): each side's estimate is
    :func:`score`'s, the difference, its interval and p-value :func:`compare`'s paired bootstrap
    (A = full, B = masked). Each system's table is counted once (in two processes with
    ``workers`` > 1)."""
    if masked is None:
        ((table, oov),) = build_tables([full.texts], refs, options, workers=workers)
        return results_of_table(full, refs, options, table, oov), table
    if options.legacy:
        raise InputError("the grounding gap is defined on the corpus-level metrics; drop --legacy")
    track = masked_track(options.track)
    (table, oov), (masked_table, masked_oov) = build_tables([full.texts, masked.texts], refs, options, workers=workers)
    results = results_of_table(full, refs, options, table, oov)
    on_masked = summarize(masked_table, options, refs.groups).metrics
    paired = compare_tables(full, masked, refs, options, table, masked_table)
    gaps = {}
    for name in GROUNDING_METRICS:
        f, m = results.metrics[name], on_masked[name]
        # no share of a score that is not distinguishable from 0: the ratio's interval is unbounded
        share = None if f.value <= 0 or (f.ci_low is not None and f.ci_low <= 0) else 1.0 - m.value / f.value
        gaps[name] = Gap(f, m, paired.metrics[name], share)
    return replace(results, grounding=Grounding(_submission_info(masked, masked_oov), gaps, track)), table


def score_with_grounding(full: System, masked: System | None, refs: ReferenceSet, options: Options, *, workers: int = 1) -> Results:
    """:func:`score`, with the ``grounding`` section when masked-track predictions are given
    (:func:`score_tables`)."""
    return score_tables(full, masked, refs, options, workers=workers)[0]
