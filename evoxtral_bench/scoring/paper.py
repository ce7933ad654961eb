"""Legacy (paper-compatible) per-utterance statistics (docs/spec.md §5).

Each utterance contributes its own WER, CER, tag precision/recall/F1, hallucination rate and
emphasis F1 under the paper's conventions; the corpus score is their mean, computed as
``sum / count`` columns so that the same bootstrap machinery applies.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

import jiwer
import numpy as np

from evoxtral_bench.scoring.stats import StatsTable, label_columns, shown_labels
from evoxtral_bench.scoring.tags import tag_table

_TAG_STRIP_RE = re.compile(r"\[[^\]]+\]\s*")
_TAG_RE = re.compile(r"\[([^\]]+)\]")
_CAPS_RE = re.compile(r"\b[A-Z]{2,}\b")

COLUMNS: tuple[str, ...] = (
    "wer_sum",
    "cer_sum",
    "text_n",
    "tag_p_sum",
    "tag_r_sum",
    "tag_f1_sum",
    "halluc_sum",
    "emph_f1_sum",
    "n",
)


def legacy_text(tagged: str) -> str:
    """Tags removed, CAPS words lowercased, trimmed: the paper's only text normalization."""
    return _CAPS_RE.sub(lambda m: m.group(0).lower(), _TAG_STRIP_RE.sub("", tagged)).strip()


def legacy_labels(tagged: str) -> Counter[str]:
    return Counter(m.lower() for m in _TAG_RE.findall(tagged))


def _emphasis(tagged: str) -> Counter[str]:
    """The paper's emphasis words: ``\\b[A-Z]{2,}\\b`` in the raw text, tags included, lowercased
    (``[LAUGHS]`` counts as the word ``laughs``; a tag glued between words does not split them)."""
    return Counter(m.lower() for m in _CAPS_RE.findall(tagged))


def tag_scores(pred: Counter[str], ref: Counter[str]) -> tuple[float, float, float, float]:
    """Per-utterance (precision, recall, F1, hallucination rate) with the paper's conventions."""
    tp = sum((pred & ref).values())
    n_pred, n_ref = sum(pred.values()), sum(ref.values())
    fp, fn = n_pred - tp, n_ref - tp
    p = tp / (tp + fp) if tp + fp > 0 else (1.0 if n_ref == 0 else 0.0)
    r = tp / (tp + fn) if tp + fn > 0 else (1.0 if n_pred == 0 else 0.0)
    f = 2 * p * r / (p + r) if p + r > 0 else (1.0 if n_pred == 0 and n_ref == 0 else 0.0)
    halluc = sum(n for k, n in pred.items() if k not in ref) / n_pred if n_pred else 0.0
    return p, r, f, halluc


def emphasis_f1(pred: Counter[str], ref: Counter[str]) -> float:
    n_pred, n_ref = sum(pred.values()), sum(ref.values())
    if n_pred == 0 and n_ref == 0:
        return 1.0
    if n_pred == 0 or n_ref == 0:
        return 0.0
    return 2 * sum((pred & ref).values()) / (n_pred + n_ref)


def legacy_table(*, predictions: Sequence[str], references: Sequence[str]) -> StatsTable:
    """Per-utterance legacy scores (rows) for raw tagged prediction/reference strings."""
    pred_labels = [legacy_labels(p) for p in predictions]
    ref_labels = [legacy_labels(r) for r in references]
    counts: Counter[str] = Counter()
    for found in (*pred_labels, *ref_labels):
        counts.update(found)
    canonical = [label for label in tag_table().canonical if label in counts]
    labels, mapping = shown_labels(counts, canonical, keep_first=False)
    label_index = {label: len(COLUMNS) + 3 * j for j, label in enumerate(labels)}
    label_index = {label: label_index[target] for label, target in mapping.items()}
    columns = COLUMNS + tuple(c for label in labels for c in label_columns(label))
    matrix = np.zeros((len(references), len(columns)), dtype=np.float64)
    for i, (pred, ref) in enumerate(zip(predictions, references)):
        ref_text, pred_text = legacy_text(ref), legacy_text(pred)
        if ref_text:
            matrix[i, 0] = jiwer.wer(ref_text, pred_text)
            matrix[i, 1] = jiwer.cer(ref_text, pred_text)
            matrix[i, 2] = 1
        matrix[i, 3:7] = tag_scores(pred_labels[i], ref_labels[i])
        matrix[i, 7] = emphasis_f1(_emphasis(pred), _emphasis(ref))
        matrix[i, 8] = 1
        for label in pred_labels[i].keys() | ref_labels[i].keys():
            p, r = pred_labels[i][label], ref_labels[i][label]
            j = label_index[label]
            matrix[i, j : j + 3] += (min(p, r), p, r)
    return StatsTable(columns=columns, matrix=matrix, labels=tuple(labels))
