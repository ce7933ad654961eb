"""Typed results: frozen dataclasses that round-trip the JSON results document byte for byte.

``Results.to_dict()`` *is* the document that ``evoxtral-bench score --format json`` prints
(docs/spec.md §7), and ``Results.from_dict(doc) == results``. A metric's direction, label and
unit are read from its definition (:data:`evoxtral_bench.scoring.metrics.METRICS`), never stored
twice. ``to_pandas()`` and friends give the tables as DataFrames (pandas imported on use).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field

from evoxtral_bench.errors import InputError
from evoxtral_bench.files import json_text
from evoxtral_bench.scoring.metrics import METRICS
from evoxtral_bench.scoring.options import Signature

PER_TAG_SCORES = ("precision", "recall", "f1")


def _higher_is_better(name: str) -> bool:
    """Direction of a reported metric; per-tag precision, recall and F1 are all ↑."""
    return METRICS[name].higher_is_better if name in METRICS else True


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its bootstrap percentile interval.

    ``defined`` is False when the ratio's denominator was 0 (``value`` is then 0). ``ci_low`` and
    ``ci_high`` are None when no bootstrap was run.
    """

    value: float
    ci_low: float | None = None
    ci_high: float | None = None
    defined: bool = True

    def to_dict(self, name: str) -> dict:
        return {
            "value": self.value,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "defined": self.defined,
            "higher_is_better": _higher_is_better(name),
        }

    @classmethod
    def from_dict(cls, d: Mapping) -> Estimate:
        return cls(d["value"], d["ci_low"], d["ci_high"], d["defined"])


def _estimates_to_dict(estimates: Mapping[str, Estimate]) -> dict:
    return {name: e.to_dict(name) for name, e in estimates.items()}


def _estimates_from_dict(d: Mapping) -> dict[str, Estimate]:
    return {name: Estimate.from_dict(e) for name, e in d.items()}


@dataclass(frozen=True)
class TagScore:
    """Precision, recall and F1 of one label; ``support`` = reference count."""

    precision: Estimate
    recall: Estimate
    f1: Estimate
    support: int
    predicted: int
    canonical: bool

    def to_dict(self) -> dict:
        out = {name: getattr(self, name).to_dict(name) for name in PER_TAG_SCORES}
        out.update(support=self.support, predicted=self.predicted, canonical=self.canonical)
        return out

    @classmethod
    def from_dict(cls, d: Mapping) -> TagScore:
        return cls(*(Estimate.from_dict(d[name]) for name in PER_TAG_SCORES), d["support"], d["predicted"], d["canonical"])


@dataclass(frozen=True)
class Group:
    """The seven metrics on one group of utterances (a slice or a domain)."""

    n: int
    metrics: dict[str, Estimate]

    def to_dict(self) -> dict:
        return {"n": self.n, "metrics": _estimates_to_dict(self.metrics)}

    @classmethod
    def from_dict(cls, d: Mapping) -> Group:
        return cls(d["n"], _estimates_from_dict(d["metrics"]))


@dataclass(frozen=True)
class BenchmarkInfo:
    """Which references were scored: ``references`` is a path or a label for in-memory rows."""

    name: str
    version: int
    references: str
    references_sha256: str
    split: str
    n: int

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "version": self.version,
            "references": self.references,
            "references_sha256": self.references_sha256,
            "split": self.split,
            "n": self.n,
        }

    @classmethod
    def from_dict(cls, d: Mapping) -> BenchmarkInfo:
        return cls(d["name"], d["version"], d["references"], d["references_sha256"], d["split"], d["n"])


@dataclass(frozen=True)
class SubmissionInfo:
    """What was read from the predictions: counts of scored, missing and extra ids, OOV tags,
    and malformed markup spans (scored as punctuation)."""

    path: str
    sha256: str
    predictions: int
    missing: int
    extra: int
    oov_labels: dict[str, int] = field(default_factory=dict)
    malformed_spans: int = 0

    @property
    def oov_tags(self) -> int:
        return sum(self.oov_labels.values())

    def to_dict(self) -> dict:
        return {
            "path": self.path,
            "sha256": self.sha256,
            "predictions": self.predictions,
            "missing": self.missing,
            "extra": self.extra,
            "oov_tags": self.oov_tags,
            "oov_labels": dict(self.oov_labels),
            "malformed_spans": self.malformed_spans,
        }

    @classmethod
    def from_dict(cls, d: Mapping) -> SubmissionInfo:
        return cls(d["path"], d["sha256"], d["predictions"], d["missing"], d["extra"], dict(d["oov_labels"]), d.get("malformed_spans", 0))


@contextmanager
def _document(kind: str) -> Iterator[None]:
    """Turn what reading a malformed document raises into one :class:`InputError` naming it."""
    try:
        yield
    except KeyError as exc:
        raise InputError(f"not a {kind}: the key {exc.args[0]!r} is missing") from None
    except (TypeError, ValueError, AttributeError, IndexError) as exc:
        raise InputError(f"not a {kind}: {type(exc).__name__}: {exc}") from None


def _frame(rows: list[dict], index: str, columns: list[str]):
    import pandas  # a core dependency, imported on use so that scoring starts fast

    return pandas.DataFrame(rows, columns=columns).set_index(index)


ESTIMATE_COLUMNS = ["metric", "label", "value", "ci_low", "ci_high", "defined", "higher_is_better", "unit"]


def _estimate_row(name: str, e: Estimate) -> dict:
    info = METRICS.get(name)
    return {
        "metric": name,
        "label": info.label if info else name,
        "value": e.value,
        "ci_low": e.ci_low,
        "ci_high": e.ci_high,
        "defined": e.defined,
        "higher_is_better": _higher_is_better(name),
        "unit": info.unit if info else "fraction",
    }


@dataclass(frozen=True)
class Results:
    """The scores of one system (docs/spec.md §7); ``grounding`` only when masked-track
    predictions were scored with it (docs/spec.md §10), else None and absent from the document."""

    benchmark: BenchmarkInfo
    submission: SubmissionInfo
    signature: Signature
    metrics: dict[str, Estimate]
    per_tag: dict[str, TagScore]
    breakdowns: dict[str, dict[str, Group]]
    extras: dict[str, Estimate]
    grounding: Grounding | None = None

    def __getitem__(self, name: str) -> Estimate:
        """``results["tag_f1"]``: a headline metric or an extra, by name."""
        return self.metrics[name] if name in self.metrics else self.extras[name]

    def to_dict(self) -> dict:
        out = {
            "benchmark": self.benchmark.to_dict(),
            "submission": self.submission.to_dict(),
            "config": self.signature.config(),
            "metrics": _estimates_to_dict(self.metrics),
            "per_tag": {label: t.to_dict() for label, t in self.per_tag.items()},
            "breakdowns": {key: {name: g.to_dict() for name, g in groups.items()} for key, groups in self.breakdowns.items()},
            "extras": _estimates_to_dict(self.extras),
        }
        if self.grounding is not None:
            out["grounding"] = self.grounding.to_dict()
        out["signature"] = self.signature.format()
        return out

    @classmethod
    def from_dict(cls, d: Mapping) -> Results:
        """The results from their document (:meth:`to_dict`); :class:`InputError` for anything else."""
        with _document("results document (evoxtral-bench score --format json)"):
            return cls._from_dict(d)

    @classmethod
    def _from_dict(cls, d: Mapping) -> Results:
        return cls(
            benchmark=BenchmarkInfo.from_dict(d["benchmark"]),
            submission=SubmissionInfo.from_dict(d["submission"]),
            signature=Signature.from_document(d["benchmark"], d["config"], d["signature"]),
            metrics=_estimates_from_dict(d["metrics"]),
            per_tag={label: TagScore.from_dict(t) for label, t in d["per_tag"].items()},
            breakdowns={k: {n: Group.from_dict(g) for n, g in groups.items()} for k, groups in d["breakdowns"].items()},
            extras=_estimates_from_dict(d["extras"]),
            grounding=Grounding.from_dict(d["grounding"]) if d.get("grounding") is not None else None,
        )

    def to_json(self) -> str:
        """The results document as ``evoxtral-bench score --format json`` writes it."""
        return json_text(self.to_dict())

    def to_pandas(self):
        """The headline metrics and extras, one row per metric (index ``metric``)."""
        rows = [_estimate_row(name, e) for name, e in {**self.metrics, **self.extras}.items()]
        return _frame(rows, "metric", ESTIMATE_COLUMNS)

    def per_tag_frame(self):
        """Per-tag precision, recall, F1 (with intervals), support and predicted count."""
        rows = []
        for label, t in self.per_tag.items():
            row: dict = {"tag": label, "support": t.support, "predicted": t.predicted, "canonical": t.canonical}
            for name in PER_TAG_SCORES:
                e = getattr(t, name)
                row.update({name: e.value, f"{name}_ci_low": e.ci_low, f"{name}_ci_high": e.ci_high, f"{name}_defined": e.defined})
            rows.append(row)
        columns = ["tag", "support", "predicted", "canonical"]
        columns += [f"{n}{s}" for n in PER_TAG_SCORES for s in ("", "_ci_low", "_ci_high", "_defined")]
        return _frame(rows, "tag", columns)

    def breakdown_frame(self):
        """One row per (breakdown key, group, metric): the seven metrics by slice and by domain."""
        rows = [
            {"by": key, "group": name, "n": g.n, **_estimate_row(metric, e)}
            for key, groups in self.breakdowns.items()
            for name, g in groups.items()
            for metric, e in g.metrics.items()
        ]
        return _frame(rows, "by", ["by", "group", "n", *ESTIMATE_COLUMNS])


@dataclass(frozen=True)
class Delta:
    """A − B for one metric: both values, the difference, its paired-bootstrap interval and p.

    ``defined`` is True when the metric is defined for both systems; ``a_defined`` and
    ``b_defined`` say which side is undefined (value 0: a zero denominator) otherwise.
    """

    a: float
    b: float
    delta: float
    defined: bool
    ci_low: float | None = None
    ci_high: float | None = None
    p_value: float | None = None
    a_defined: bool = True
    b_defined: bool = True

    def to_dict(self, name: str) -> dict:
        return {
            "a": self.a,
            "b": self.b,
            "delta": self.delta,
            "defined": self.defined,
            "a_defined": self.a_defined,
            "b_defined": self.b_defined,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "p_value": self.p_value,
            "higher_is_better": _higher_is_better(name),
        }

    @classmethod
    def from_dict(cls, d: Mapping) -> Delta:
        return cls(d["a"], d["b"], d["delta"], d["defined"], d["ci_low"], d["ci_high"], d["p_value"], d["a_defined"], d["b_defined"])


@dataclass(frozen=True)
class Comparison:
    """Paired comparison of two systems on the same resamples (docs/spec.md §4)."""

    benchmark: BenchmarkInfo
    a: tuple[str, str]  # (path, sha256)
    b: tuple[str, str]
    signature: Signature
    metrics: dict[str, Delta]

    def __getitem__(self, name: str) -> Delta:
        return self.metrics[name]

    def to_dict(self) -> dict:
        return {
            "benchmark": self.benchmark.to_dict(),
            "a": {"path": self.a[0], "sha256": self.a[1]},
            "b": {"path": self.b[0], "sha256": self.b[1]},
            "config": self.signature.config(),
            "metrics": {name: d.to_dict(name) for name, d in self.metrics.items()},
            "signature": self.signature.format() + "|paired:yes",
        }

    @classmethod
    def from_dict(cls, d: Mapping) -> Comparison:
        """The comparison from its document (:meth:`to_dict`); :class:`InputError` for anything else."""
        with _document("comparison document (evoxtral-bench compare --format json)"):
            return cls._from_dict(d)

    @classmethod
    def _from_dict(cls, d: Mapping) -> Comparison:
        line = d["signature"].removesuffix("|paired:yes")
        return cls(
            benchmark=BenchmarkInfo.from_dict(d["benchmark"]),
            a=(d["a"]["path"], d["a"]["sha256"]),
            b=(d["b"]["path"], d["b"]["sha256"]),
            signature=Signature.from_document(d["benchmark"], d["config"], line),
            metrics={name: Delta.from_dict(m) for name, m in d["metrics"].items()},
        )

    def to_json(self) -> str:
        """The document as ``evoxtral-bench compare --format json`` writes it."""
        return json_text(self.to_dict())

    def to_pandas(self):
        """One row per metric: A, B, Δ, interval, p-value, direction."""
        rows = [{"metric": name, "label": METRICS[name].label, **d.to_dict(name)} for name, d in self.metrics.items()]
        columns = ["metric", "label", "a", "b", "delta", "defined", "a_defined", "b_defined", "ci_low", "ci_high", "p_value", "higher_is_better"]
        return _frame(rows, "metric", columns)


@dataclass(frozen=True)
class Gap:
    """One metric on the full track and on its masked twin (same utterances, same references).

    ``gap`` is the paired comparison full − masked (``a`` full, ``b`` masked) from the same
    bootstrap as ``compare``; ``grounded_share`` = 1 − masked / full, None when the full value
    is 0 or its interval reaches 0 (nothing to share, or a share without bounds).
    """

    full: Estimate
    masked: Estimate
    gap: Delta
    grounded_share: float | None

    def to_dict(self, name: str) -> dict:
        return {
            "full": self.full.to_dict(name),
            "masked": self.masked.to_dict(name),
            "gap": self.gap.to_dict(name),
            "grounded_share": self.grounded_share,
        }

    @classmethod
    def from_dict(cls, d: Mapping) -> Gap:
        return cls(Estimate.from_dict(d["full"]), Estimate.from_dict(d["masked"]), Delta.from_dict(d["gap"]), d["grounded_share"])


@dataclass(frozen=True)
class Grounding:
    """How much of a system's tagging comes from the audio: its scores on the masked track's
    predictions (``masked``: what was read from them) against the full track's, per metric;
    ``track`` is the masked track's name (the ``-masked`` twin of the results' track)."""

    masked: SubmissionInfo
    metrics: dict[str, Gap]
    track: str

    def __getitem__(self, name: str) -> Gap:
        return self.metrics[name]

    def to_dict(self) -> dict:
        return {
            "track": self.track,
            "masked_submission": self.masked.to_dict(),
            "metrics": {name: g.to_dict(name) for name, g in self.metrics.items()},
        }

    @classmethod
    def from_dict(cls, d: Mapping) -> Grounding:
        metrics = {name: Gap.from_dict(g) for name, g in d["metrics"].items()}
        return cls(SubmissionInfo.from_dict(d["masked_submission"]), metrics, d["track"])
