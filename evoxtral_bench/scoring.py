"""Scoring: validated inputs -> statistics table -> results document (SPEC §3-§7)."""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import NamedTuple

import numpy as np

from . import BENCHMARK_NAME, BENCHMARK_VERSION, __version__, adapters, legacy, normalize
from .bootstrap import paired_p_value, percentile_intervals, resample_sums
from .errors import InputError
from .metrics import CORPUS_METRICS, LEGACY_METRICS, POSITION_METRICS, MetricDef, macro_f1, per_label_defs
from .stats import StatsTable, corpus_stats, label_columns, to_table
from .submission import Problems, Reference, read_predictions, read_references, select_split
from .tags import parse, tag_table

SHIPPED_REFERENCES = "corpus.jsonl"
DEFAULT_SPLIT = "test"


@dataclass(frozen=True)
class Options:
    """Everything that can change a number; all of it goes into the signature."""

    normalizer: str = "basic"
    legacy: bool = False
    adapter: str | None = None
    lenient: bool = False
    n_boot: int = 1000
    seed: int = 0
    ci: float = 0.95
    strict: bool = False

    def check(self) -> None:
        if not 0 < self.ci < 1:
            raise InputError(f"--ci must be between 0 and 1 (exclusive), got {self.ci}")
        if self.n_boot < 0:
            raise InputError(f"--bootstrap must be 0 or more, got {self.n_boot}")
        if self.lenient and not self.adapter:
            raise InputError("--lenient only applies together with --adapter")
        if self.legacy and self.normalizer != "basic":
            raise InputError("--legacy uses the paper's own text handling; drop --normalizer")


@dataclass(frozen=True)
class ReferenceSet:
    path: str
    sha256: str
    split: str
    rows: list[Reference]
    known_ids: set[str]


@dataclass(frozen=True)
class System:
    """One validated submission aligned to the reference rows (missing ids -> empty text)."""

    path: str
    sha256: str
    texts: list[str]
    n_predictions: int
    n_missing: int
    n_extra: int


def shipped_references() -> Path:
    """Path of the references shipped in the package; InputError until the corpus is shipped."""
    path = Path(str(resources.files("evoxtral_bench.data").joinpath(SHIPPED_REFERENCES)))
    if not path.is_file():
        raise InputError(
            "this version of evoxtral-bench ships no reference corpus yet; "
            "pass --references FILE (JSONL with id and tagged_text)"
        )
    return path


def _sha256(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def load_references(path: str | None, split: str | None, problems: Problems) -> ReferenceSet | None:
    """Read and select the reference rows. Shipped corpus: split defaults to ``test``."""
    if path is None:
        path = str(shipped_references())
        split = split or DEFAULT_SPLIT
    rows = read_references(path, problems)
    if problems.errors:
        return None
    selected = select_split(rows, split)
    if not any(r.splits for r in rows) and split is not None:
        problems.warning(path, None, "split", f"no row carries a split label; --split {split} ignored, file scored whole")
        split = None
    if not selected:
        labels = sorted({s for r in rows for s in r.splits})
        problems.error(path, None, "split", f"no row has split {split!r}; labels present: {', '.join(labels)}")
        return None
    return ReferenceSet(path, _sha256(path), split or "all", selected, {r.id for r in rows})


def load_system(path: str, refs: ReferenceSet, options: Options, problems: Problems) -> System | None:
    adapt = adapters.get(options.adapter, lenient=options.lenient) if options.adapter else None
    scored = {r.id for r in refs.rows}
    found = read_predictions(
        path,
        problems,
        scored_ids=scored,
        known_ids=refs.known_ids,
        adapt=adapt,
        strict=options.strict,
        scope=refs.path,
    )
    if any(p.path == path for p in problems.errors):
        return None
    preds = found.predictions
    texts = [preds[r.id].text if r.id in preds else "" for r in refs.rows]
    return System(path, _sha256(path), texts, len(preds), len(found.missing), len(found.extra))


def _labels(pred_labels: Counter[str], ref_labels: Counter[str]) -> list[str]:
    canonical = [label for label in tag_table().canonical if label in pred_labels or label in ref_labels]
    others = sorted((pred_labels.keys() | ref_labels.keys()) - set(canonical))
    return canonical + others


def build_table(system_texts: list[str], refs: ReferenceSet, options: Options) -> tuple[StatsTable, Counter[str]]:
    """Statistics table for one system plus its OOV tag counts."""
    ref_texts = [r.tagged_text for r in refs.rows]
    if options.legacy:
        return legacy.legacy_table(predictions=system_texts, references=ref_texts), Counter()
    preds = [parse(t) for t in system_texts]
    refs_parsed = [parse(t) for t in ref_texts]
    stats = corpus_stats(predictions=preds, references=refs_parsed, normalizer=normalize.get(options.normalizer))
    pred_labels = Counter(label for p in preds for label in p.labels)
    ref_labels = Counter(label for r in refs_parsed for label in r.labels)
    oov = Counter(t.label for p in preds for t in p.tags if t.oov)
    return to_table(stats, _labels(pred_labels, ref_labels)), oov


class MetricValue(NamedTuple):
    value: float
    defined: bool  # False when the denominator was 0 (value is then 0)


def utterance_metrics(
    *, predictions: list[str], references: list[str], normalizer: str = "basic"
) -> list[dict[str, MetricValue]]:
    """The seven metrics of each (prediction, reference) pair on its own.

    Each utterance is scored with the corpus definitions on its own counts, so a caller can
    decide what an undefined ratio means for it (e.g. tag F1 with no tags on either side).
    Used by the RAFT reward.
    """
    preds = [parse(t) for t in predictions]
    refs_parsed = [parse(t) for t in references]
    stats = corpus_stats(predictions=preds, references=refs_parsed, normalizer=normalize.get(normalizer))
    table = to_table(stats, [])
    out = []
    for row in table.matrix:
        sums = _sums(table, row)
        scored = {}
        for d in CORPUS_METRICS:
            value, defined = d.formula(sums)
            scored[d.name] = MetricValue(float(value), bool(defined))
        out.append(scored)
    return out


def _sums(table: StatsTable, matrix: np.ndarray) -> dict[str, np.ndarray]:
    return {c: matrix[..., j] for j, c in enumerate(table.columns)}


def summarize(table: StatsTable, options: Options) -> dict:
    """Metrics, per-tag scores and extras with percentile intervals for one table.

    Every interval comes from one vectorized percentile call over all resampled values.
    """
    point = _sums(table, table.matrix.sum(axis=0))
    boot = _sums(table, resample_sums(table.matrix, options.n_boot, options.seed)) if options.n_boot else None
    entries: list[dict] = []
    samples: list[np.ndarray] = []

    def entry(value: np.ndarray, defined: np.ndarray, resampled: np.ndarray | None, hib: bool) -> dict:
        out = {"value": float(value), "ci_low": None, "ci_high": None, "defined": bool(defined), "higher_is_better": hib}
        if resampled is not None:
            entries.append(out)
            samples.append(resampled)
        return out

    def evaluate(defs: tuple[MetricDef, ...]) -> dict:
        return {
            d.name: entry(*d.formula(point), d.formula(boot)[0] if boot is not None else None, d.higher_is_better)
            for d in defs
        }

    metrics = evaluate(LEGACY_METRICS if options.legacy else CORPUS_METRICS)
    per_tag = {}
    canonical = tag_table().canonical
    for label in table.labels:
        tp, pred, ref = label_columns(label)
        per_tag[label] = evaluate(per_label_defs(label))
        per_tag[label].update(support=int(point[ref]), predicted=int(point[pred]), canonical=label in canonical)
    macro_labels = [label for label in table.labels if label in canonical and point[label_columns(label)[2]] > 0]
    resampled_macro = macro_f1(boot, macro_labels)[0] if boot is not None else None
    extras = {"tag_macro_f1": entry(*macro_f1(point, macro_labels), resampled_macro, True)}
    if not options.legacy:
        extras.update(evaluate(POSITION_METRICS))
    if entries:
        lo, hi = percentile_intervals(np.vstack(samples), options.ci, np.array([e["value"] for e in entries]))
        for e, low, high in zip(entries, lo.tolist(), hi.tolist()):
            e["ci_low"], e["ci_high"] = low, high
    return {"metrics": metrics, "per_tag": per_tag, "extras": extras}


def _breakdowns(table: StatsTable, refs: ReferenceSet, options: Options) -> dict:
    out: dict[str, dict] = {}
    for key in ("slice", "domain"):
        groups: dict[str, list[int]] = {}
        for i, r in enumerate(refs.rows):
            value = getattr(r, key)
            if value is not None:
                groups.setdefault(value, []).append(i)
        if groups:
            out[key] = {
                name: {"n": len(index), "metrics": summarize(table.rows(index), options)["metrics"]}
                for name, index in sorted(groups.items())
            }
    return out


def signature(refs: ReferenceSet, options: Options) -> str:
    """One line that pins every option that can change a number (sacreBLEU-style)."""
    parts = [
        f"{BENCHMARK_NAME}:{BENCHMARK_VERSION}",
        f"refs:{refs.sha256[:12]}",
        f"split:{refs.split}",
        f"n:{len(refs.rows)}",
        f"norm:{'legacy' if options.legacy else options.normalizer}",
        f"legacy:{'yes' if options.legacy else 'no'}",
        f"adapter:{options.adapter or 'none'}",
        f"lenient:{'yes' if options.lenient else 'no'}",
        f"tags:{tag_table().version}",
        f"boot:{options.n_boot}",
        f"seed:{options.seed}",
        f"ci:{options.ci:g}",
        f"version:{__version__}",
    ]
    return "|".join(parts)


def benchmark_info(refs: ReferenceSet) -> dict:
    return {
        "name": BENCHMARK_NAME,
        "version": BENCHMARK_VERSION,
        "references": refs.path,
        "references_sha256": refs.sha256,
        "split": refs.split,
        "n": len(refs.rows),
    }


def _config(options: Options) -> dict:
    return {
        "normalizer": "legacy" if options.legacy else options.normalizer,
        "legacy": options.legacy,
        "adapter": options.adapter,
        "lenient": options.lenient,
        "tag_table_version": tag_table().version,
        "bootstrap": {"n": options.n_boot, "seed": options.seed, "ci": options.ci},
    }


def _submission(system: System, oov: Counter[str]) -> dict:
    return {
        "path": system.path,
        "sha256": system.sha256,
        "predictions": system.n_predictions,
        "missing": system.n_missing,
        "extra": system.n_extra,
        "oov_tags": sum(oov.values()),
        "oov_labels": dict(sorted(oov.items())),
    }


def score(system: System, refs: ReferenceSet, options: Options) -> dict:
    """The results document of SPEC §7."""
    table, oov = build_table(system.texts, refs, options)
    summary = summarize(table, options)
    return {
        "benchmark": benchmark_info(refs),
        "submission": _submission(system, oov),
        "config": _config(options),
        "metrics": summary["metrics"],
        "per_tag": summary["per_tag"],
        "breakdowns": _breakdowns(table, refs, options),
        "extras": summary["extras"],
        "signature": signature(refs, options),
    }


def compare(a: System, b: System, refs: ReferenceSet, options: Options) -> dict:
    """Paired bootstrap of A − B on the same resamples (Koehn 2004) for every metric."""
    table_a, _ = build_table(a.texts, refs, options)
    table_b, _ = build_table(b.texts, refs, options)
    k = table_a.matrix.shape[1]
    joint = np.hstack([table_a.matrix, table_b.matrix])
    boot = resample_sums(joint, options.n_boot, options.seed) if options.n_boot else None
    defs = (LEGACY_METRICS if options.legacy else CORPUS_METRICS) + (() if options.legacy else POSITION_METRICS)
    point_a, point_b = _sums(table_a, table_a.matrix.sum(axis=0)), _sums(table_b, table_b.matrix.sum(axis=0))
    metrics = {}
    for d in defs:
        va, da = d.formula(point_a)
        vb, db = d.formula(point_b)
        entry = {
            "a": float(va),
            "b": float(vb),
            "delta": float(va - vb),
            "defined": bool(da and db),
            "ci_low": None,
            "ci_high": None,
            "p_value": None,
            "higher_is_better": d.higher_is_better,
        }
        if boot is not None:
            deltas = d.formula(_sums(table_a, boot[:, :k]))[0] - d.formula(_sums(table_b, boot[:, k:]))[0]
            (low,), (high,) = percentile_intervals(deltas, options.ci, entry["delta"])
            entry["ci_low"], entry["ci_high"] = float(low), float(high)
            entry["p_value"] = paired_p_value(deltas)
        metrics[d.name] = entry
    return {
        "benchmark": benchmark_info(refs),
        "a": {"path": a.path, "sha256": a.sha256},
        "b": {"path": b.path, "sha256": b.sha256},
        "config": _config(options),
        "metrics": metrics,
        "signature": signature(refs, options) + "|paired:yes",
    }
