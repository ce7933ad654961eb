"""Metric definitions: summed counts -> scores (SPEC §3, §5).

Every metric is a ratio of column sums, evaluated on plain floats (the point estimate) or on
arrays of bootstrap resamples alike. A zero denominator gives value 0 and ``defined=False``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from .stats import label_columns

Sums = Mapping[str, np.ndarray]


@dataclass(frozen=True)
class Ratio:
    """``num / den`` of summed columns; ``scale`` multiplies the numerator (2 for F1)."""

    num: str
    den: tuple[str, ...]
    scale: float = 1.0

    def __call__(self, sums: Sums) -> tuple[np.ndarray, np.ndarray]:
        num = self.scale * np.asarray(sums[self.num], dtype=np.float64)
        den = sum(np.asarray(sums[d], dtype=np.float64) for d in self.den)
        defined = den > 0
        value = np.divide(num, den, out=np.zeros(np.broadcast(num, den).shape), where=defined)
        return value, np.broadcast_to(defined, value.shape)


def f1(tp: str, pred: str, ref: str) -> Ratio:
    """Micro F1 = 2·tp / (pred + ref), the harmonic mean of precision and recall."""
    return Ratio(tp, (pred, ref), scale=2.0)


@dataclass(frozen=True)
class MetricDef:
    name: str
    higher_is_better: bool
    formula: Ratio
    description: str


CORPUS_METRICS: tuple[MetricDef, ...] = (
    MetricDef("wer", False, Ratio("word_errors", ("ref_words",)), "word errors (S+D+I) / reference words"),
    MetricDef("cer", False, Ratio("char_errors", ("ref_chars",)), "character errors / reference characters"),
    MetricDef("tag_precision", True, Ratio("tag_tp", ("tag_pred",)), "matched tags / predicted tags"),
    MetricDef("tag_recall", True, Ratio("tag_tp", ("tag_ref",)), "matched tags / reference tags"),
    MetricDef("tag_f1", True, f1("tag_tp", "tag_pred", "tag_ref"), "harmonic mean of tag precision and recall"),
    MetricDef(
        "tag_hallucination_rate",
        False,
        Ratio("tag_hallucinated", ("tag_pred",)),
        "predicted tags whose label is absent from the utterance's reference / predicted tags",
    ),
    MetricDef("emphasis_f1", True, f1("emph_tp", "emph_pred", "emph_ref"), "F1 of CAPITALIZED emphasis words"),
)

POSITION_METRICS: tuple[MetricDef, ...] = (
    MetricDef("tag_f1_at_0", True, f1("tag_tp_at0", "tag_pred", "tag_ref"), "tag F1, same word gap as the reference"),
    MetricDef("tag_f1_at_1", True, f1("tag_tp_at1", "tag_pred", "tag_ref"), "tag F1, within one word of the reference"),
    MetricDef(
        "mean_tag_offset_words",
        False,
        Ratio("tag_offset_sum", ("tag_tp",)),
        "mean distance in words between matched predicted and reference tags",
    ),
)

LEGACY_METRICS: tuple[MetricDef, ...] = (
    MetricDef("wer", False, Ratio("wer_sum", ("text_n",)), "mean per-utterance WER (non-empty references)"),
    MetricDef("cer", False, Ratio("cer_sum", ("text_n",)), "mean per-utterance CER (non-empty references)"),
    MetricDef("tag_precision", True, Ratio("tag_p_sum", ("n",)), "mean per-utterance tag precision"),
    MetricDef("tag_recall", True, Ratio("tag_r_sum", ("n",)), "mean per-utterance tag recall"),
    MetricDef("tag_f1", True, Ratio("tag_f1_sum", ("n",)), "mean per-utterance tag F1"),
    MetricDef("tag_hallucination_rate", False, Ratio("halluc_sum", ("n",)), "mean per-utterance hallucination rate"),
    MetricDef("emphasis_f1", True, Ratio("emph_f1_sum", ("n",)), "mean per-utterance emphasis F1"),
)

METRIC_NAMES: tuple[str, ...] = tuple(m.name for m in CORPUS_METRICS)
HIGHER_IS_BETTER: dict[str, bool] = {m.name: m.higher_is_better for m in CORPUS_METRICS + POSITION_METRICS}
HIGHER_IS_BETTER["tag_macro_f1"] = True


def per_label_defs(label: str) -> tuple[MetricDef, ...]:
    """Precision, recall and F1 for one label, from its per-label columns."""
    tp, pred, ref = label_columns(label)
    return (
        MetricDef("precision", True, Ratio(tp, (pred,)), f"{label}: matched / predicted"),
        MetricDef("recall", True, Ratio(tp, (ref,)), f"{label}: matched / reference"),
        MetricDef("f1", True, f1(tp, pred, ref), f"{label}: F1"),
    )


def macro_f1(sums: Sums, labels: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Unweighted mean of per-label F1 over ``labels`` (undefined when there are none)."""
    if not labels:
        zero = np.zeros_like(np.asarray(next(iter(sums.values())), dtype=np.float64))
        return zero, np.zeros(zero.shape, dtype=bool)
    values = [per_label_defs(label)[2].formula(sums)[0] for label in labels]
    mean = np.mean(values, axis=0)
    return mean, np.ones(np.shape(mean), dtype=bool)
