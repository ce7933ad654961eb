"""Metric definitions: summed counts -> scores (docs/spec.md §3, §5).

Every metric is a ratio of column sums, evaluated on plain floats (the point estimate) or on
arrays of bootstrap resamples alike. A zero denominator gives value 0 and ``defined=False``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from evoxtral_bench.scoring.stats import family_columns, label_columns
from evoxtral_bench.scoring.tags import tag_table

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
    """One metric: how it is computed and how it is shown (the one owner of both).

    ``unit`` is what a value is: ``"fraction"`` for a ratio in [0, 1] (reports show it ×100, as
    %) or ``"words"`` for a mean distance; ``formula`` is
    None for a metric computed otherwise (``tag_macro_f1``, a mean of per-label F1).
    """

    name: str
    higher_is_better: bool
    formula: Ratio | None
    description: str
    label: str
    short: str
    unit: str = "fraction"

    @property
    def arrow(self) -> str:
        return "↑" if self.higher_is_better else "↓"


CORPUS_METRICS: tuple[MetricDef, ...] = (
    MetricDef("wer", False, Ratio("word_errors", ("ref_words",)), "word errors (S+D+I) / reference words", "WER", "WER"),
    MetricDef("cer", False, Ratio("char_errors", ("ref_chars",)), "character errors / reference characters", "CER", "CER"),
    MetricDef("tag_precision", True, Ratio("tag_tp", ("tag_pred",)), "matched tags / predicted tags", "Tag precision", "Tag P"),
    MetricDef("tag_recall", True, Ratio("tag_tp", ("tag_ref",)), "matched tags / reference tags", "Tag recall", "Tag R"),
    MetricDef(
        "tag_f1", True, f1("tag_tp", "tag_pred", "tag_ref"), "harmonic mean of tag precision and recall", "Tag F1", "Tag F1"
    ),
    MetricDef(
        "tag_hallucination_rate",
        False,
        Ratio("tag_hallucinated", ("tag_pred",)),
        "predicted tags whose label is absent from the utterance's reference / predicted tags",
        "Tag hallucination",
        "Halluc.",
    ),
    MetricDef(
        "emphasis_f1", True, f1("emph_tp", "emph_pred", "emph_ref"), "F1 of CAPITALIZED emphasis words", "Emphasis F1", "Emph. F1"
    ),
)

TAG_F1_POS = MetricDef(
    "tag_f1_pos",
    True,
    f1("tag_tp_pos", "tag_pred", "tag_ref"),
    "tag F1 with same-label tags matched one-to-one by optimal assignment, a match counting when its "
    "word gaps differ by at most the tolerance (1 word); the leaderboard's headline metric",
    "Tag F1 (position ±1)",
    "Pos. F1",
)
"""The headline metric: a bag of tags in the wrong places cannot win it (docs/spec.md §3.9, §8.5)."""

TAG_F1_ANCHORED = MetricDef(
    "tag_f1_anchored",
    True,
    f1("tag_tp_anch", "tag_pred", "tag_ref"),
    "tag F1 (position ±1) in which a reference tag can only be matched when a reference word next to it "
    "is transcribed correctly (a hit of the word alignment); the headline of benchmark version 2",
    "Tag F1 (anchored, ±1)",
    "Anch. F1",
)
"""Benchmark v2's headline: tags only count where the words around them are right (docs/spec.md §3.10)."""

def _family_metrics() -> tuple[tuple[MetricDef, ...], tuple[MetricDef, ...]]:
    """Per tag family (docs/spec.md §3.11, the tag table's ``families``): the anchored headlines
    and the position-free tag F1s, each restricted to the family's labels."""
    anchored, plain = [], []
    for family, (label, tags) in tag_table().families.items():
        tp, pred, ref, tp_anch = family_columns(family)
        anchored.append(MetricDef(
            f"tag_f1_anchored_{family}", True, f1(tp_anch, pred, ref),
            f"tag F1 (anchored, ±1) over the {label} tags only ({', '.join(tags)})", f"Tag F1 (anchored, ±1), {label}", f"Anch. {family}",
        ))
        plain.append(MetricDef(
            f"tag_f1_{family}", True, f1(tp, pred, ref), f"tag F1 over the {label} tags only ({', '.join(tags)})", f"Tag F1, {label}", f"F1 {family}",
        ))
    return tuple(anchored), tuple(plain)


FAMILY_HEADLINES, FAMILY_F1 = _family_metrics()
FAMILY_METRICS: tuple[MetricDef, ...] = FAMILY_HEADLINES + FAMILY_F1
"""Benchmark version 2 reports these after its headline: what kind of tag a system gets right."""

POSITION_METRICS: tuple[MetricDef, ...] = (
    TAG_F1_POS,
    MetricDef(
        "tag_f1_at_0",
        True,
        f1("tag_tp_at0", "tag_pred", "tag_ref"),
        "tag F1, same word gap as the reference",
        "Tag F1 @0 words",
        "F1 @0",
    ),
    MetricDef(
        "tag_f1_at_1",
        True,
        f1("tag_tp_at1", "tag_pred", "tag_ref"),
        "tag F1, within one word of the reference",
        "Tag F1 @1 word",
        "F1 @1",
    ),
    MetricDef(
        "mean_tag_offset_words",
        False,
        Ratio("tag_offset_sum", ("tag_tp",)),
        "mean distance in words between matched predicted and reference tags",
        "Mean tag offset (words)",
        "Offset",
        unit="words",
    ),
)

LEGACY_METRICS: tuple[MetricDef, ...] = tuple(
    MetricDef(d.name, d.higher_is_better, Ratio(num, (den,)), description, d.label, d.short)
    for d, num, den, description in zip(
        CORPUS_METRICS,
        ("wer_sum", "cer_sum", "tag_p_sum", "tag_r_sum", "tag_f1_sum", "halluc_sum", "emph_f1_sum"),
        ("text_n", "text_n", "n", "n", "n", "n", "n"),
        (
            "mean per-utterance WER (non-empty references)",
            "mean per-utterance CER (non-empty references)",
            "mean per-utterance tag precision",
            "mean per-utterance tag recall",
            "mean per-utterance tag F1",
            "mean per-utterance hallucination rate",
            "mean per-utterance emphasis F1",
        ),
    )
)

TAG_MACRO_F1 = MetricDef(
    "tag_macro_f1", True, None, "unweighted mean of per-tag F1 over canonical tags with support", "Tag macro-F1", "Macro F1"
)

METRIC_NAMES: tuple[str, ...] = tuple(m.name for m in CORPUS_METRICS)
"""The seven headline metrics, in the order every table shows them."""

METRICS: dict[str, MetricDef] = {m.name: m for m in CORPUS_METRICS + (TAG_F1_ANCHORED,) + FAMILY_METRICS + POSITION_METRICS + (TAG_MACRO_F1,)}
"""Every reported metric by name (legacy metrics share the names and the presentation)."""


def position_metrics(benchmark_version: int) -> tuple[MetricDef, ...]:
    """The position-aware extras of a benchmark version: v2 adds its anchored headline first, then
    the headline and tag F1 per tag family."""
    return ((TAG_F1_ANCHORED, *FAMILY_METRICS) if benchmark_version >= 2 else ()) + POSITION_METRICS


def family_headlines(benchmark_version: int) -> tuple[MetricDef, ...]:
    """The headline of each tag family (§3.11): version 2 only."""
    return FAMILY_HEADLINES if benchmark_version >= 2 else ()


def headline(benchmark_version: int) -> MetricDef:
    """The ranking metric of a benchmark version (v1: ``tag_f1_pos``, v2: ``tag_f1_anchored``)."""
    return TAG_F1_ANCHORED if benchmark_version >= 2 else TAG_F1_POS


def per_label_defs(label: str) -> tuple[MetricDef, ...]:
    """Precision, recall and F1 for one label, from its per-label columns."""
    tp, pred, ref = label_columns(label)
    return (
        MetricDef("precision", True, Ratio(tp, (pred,)), f"{label}: matched / predicted", "Precision", "P"),
        MetricDef("recall", True, Ratio(tp, (ref,)), f"{label}: matched / reference", "Recall", "R"),
        MetricDef("f1", True, f1(tp, pred, ref), f"{label}: F1", "F1", "F1"),
    )


def macro_f1(sums: Sums, labels: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Unweighted mean of per-label F1 over ``labels`` (undefined when there are none)."""
    if not labels:
        zero = np.zeros_like(np.asarray(next(iter(sums.values())), dtype=np.float64))
        return zero, np.zeros(zero.shape, dtype=bool)
    values = [per_label_defs(label)[2].formula(sums)[0] for label in labels]
    mean = np.mean(values, axis=0)
    return mean, np.ones(np.shape(mean), dtype=bool)
