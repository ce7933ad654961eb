"""Does a masked twin still say where its events were? (docs/spec.md §10.5)

On a masked track every tag's sound, style, pause and stutter is taken out of the audio; the
references are unchanged. A system that only listens then has no reason to put a tag near a
reference tag's place more often than anywhere else in the utterance. The *leak* compares two
shares on the masked predictions:

* **at events**: of the reference tags, the share with a predicted tag (any label) within
  ±1 word gap of theirs;
* **at other gaps**: of the utterance's other word gaps (those more than one word from every
  reference tag), the share with a predicted tag within ±1 word gap.

Predicted gaps move to reference gaps through the word alignment the position-aware metrics
use (:func:`.position.ref_gap`). The words tell where scripts put their tags (mostly after a
sentence or a clause), so a text-only system also finds the events' places. The **matched**
share controls for that: the other gaps' share within each punctuation class of the gap
(:data:`CLASSES`: the start, after a sentence end, after a clause mark, no mark), weighted by
the events' classes. Each difference gets a bootstrap percentile interval and a paired p-value
over utterances (over clusters, e.g. the renderings of one script, with ``groups``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from rapidfuzz.distance import Levenshtein

from evoxtral_bench.scoring import normalize, position
from evoxtral_bench.scoring.bootstrap import paired_p_value, percentile_intervals, resample_sums
from evoxtral_bench.scoring.results import Estimate
from evoxtral_bench.scoring.stats import side
from evoxtral_bench.scoring.tags import split_tags, tag_table

NEAR = 1
"""Word gaps within which a predicted tag counts as near a place."""
CLASSES = ("start", "sentence", "clause", "none")
"""Punctuation classes of a word gap: before the first word; after a word ending in ``.``,
``!`` or ``?``; after one ending in ``,``, ``;``, ``:``, a dash or an ellipsis; any other."""
_SENTENCE = ".!?"
_CLAUSE = ",;:-\u2013\u2014\u2026"


@dataclass(frozen=True)
class Leak:
    """The two shares (fractions in [0, 1]) and their difference, with the raw counts."""

    at_events: Estimate
    at_other_gaps: Estimate
    difference: Estimate
    """at_events − at_other_gaps."""
    p_value: float | None
    """Two-sided paired-bootstrap p of the difference (None without a bootstrap)."""
    at_matched_gaps: Estimate
    """The other gaps' share per punctuation class, weighted by the events' classes (classes
    without other gaps left out of both)."""
    matched_difference: Estimate
    """at_events − at_matched_gaps, over the events whose class has other gaps."""
    matched_p_value: float | None
    events: int
    event_hits: int
    gaps: int
    gap_hits: int


def gap_classes(reference: str, normalizer: normalize.Normalizer = normalize.basic) -> list[int]:
    """The :data:`CLASSES` index of each word gap (0 … number of words) of ``reference``, from
    the punctuation ending the written token before it (tags removed)."""
    chunks, _, _ = split_tags(reference, tag_table())
    classes = [0]
    for token in " ".join(chunks).split():
        n = len(normalizer(token).split())
        if n:
            mark = token.rstrip("\"')]")[-1:]
            classes += [3] * (n - 1) + [1 if mark and mark in _SENTENCE else 2 if mark and mark in _CLAUSE else 3]
    return classes


def leak_cells(prediction: str, reference: str, normalizer: normalize.Normalizer = normalize.basic) -> np.ndarray:
    """(4, len(CLASSES)) counts of one utterance per gap class: reference tags, those with a
    predicted tag within :data:`NEAR` gaps, other gaps, those with a predicted tag within
    :data:`NEAR` gaps."""
    chunkwise = normalize.is_chunkwise(normalizer)
    table = tag_table()
    ref = side(reference, normalizer, chunkwise, table)
    hyp = side(prediction, normalizer, chunkwise, table)
    ref_gaps = [g for gaps in ref.positions.values() for g in gaps]
    predicted = [g for gaps in hyp.positions.values() for g in gaps]
    if predicted and ref.chunk_words != hyp.chunk_words:
        alignment = Levenshtein.opcodes(ref.chunk_words, hyp.chunk_words).as_list()
        predicted = [position.ref_gap(alignment, g) for g in predicted]
    near_prediction = {g + d for g in predicted for d in range(-NEAR, NEAR + 1)}
    near_reference = {g + d for g in ref_gaps for d in range(-NEAR, NEAR + 1)}
    n_gaps = len(ref.chunk_words) + 1
    classes = gap_classes(reference, normalizer)
    if len(classes) != n_gaps:  # a normalizer whose words differ token by token: one class
        classes = [3] * n_gaps
    cells = np.zeros((4, len(CLASSES)), dtype=np.int64)
    for g in ref_gaps:
        cells[0, classes[g]] += 1
        cells[1, classes[g]] += g in near_prediction
    for g in range(n_gaps):
        if g not in near_reference:
            cells[2, classes[g]] += 1
            cells[3, classes[g]] += g in near_prediction
    return cells


def leak_counts(prediction: str, reference: str, normalizer: normalize.Normalizer = normalize.basic) -> tuple[int, int, int, int]:
    """(reference tags, those with a predicted tag within :data:`NEAR` gaps, other gaps, those
    with a predicted tag within :data:`NEAR` gaps) of one utterance."""
    a, b, c, d = leak_cells(prediction, reference, normalizer).sum(axis=1)
    return int(a), int(b), int(c), int(d)


def masked_leak(
    *,
    predictions: Sequence[str],
    references: Sequence[str],
    groups: Sequence[str] | None = None,
    n_boot: int = 1000,
    ci: float = 0.95,
    seed: int = 12345,
    normalizer: normalize.Normalizer = normalize.basic,
) -> Leak:
    """:class:`Leak` of masked-track ``predictions`` against their ``references`` (aligned
    lists); ``groups``: the resampling cluster of each utterance (None: each its own)."""
    if len(predictions) != len(references):
        raise ValueError("predictions and references must have the same length")
    if groups is not None and len(groups) != len(references):
        raise ValueError("groups and references must have the same length")
    k = len(CLASSES)
    matrix = np.array([leak_cells(p, r, normalizer).ravel() for p, r in zip(predictions, references)], dtype=np.float64).reshape(-1, 4 * k)
    totals = matrix.sum(axis=0)
    cluster = None if groups is None else np.unique(np.asarray(groups), return_inverse=True)[1]

    def shares(sums: np.ndarray) -> np.ndarray:
        """(…, 5): at events, at other gaps, their difference, at matched gaps, the matched difference."""
        cells = sums.reshape(*sums.shape[:-1], 4, k)
        events, event_hits, gaps, gap_hits = (cells[..., j, :] for j in range(4))
        with np.errstate(invalid="ignore", divide="ignore"):
            at_events = event_hits.sum(-1) / events.sum(-1)
            at_other = gap_hits.sum(-1) / gaps.sum(-1)
            kept = np.where(gaps > 0, events, 0)  # events of the classes that have other gaps
            matched = (kept * np.where(gaps > 0, gap_hits / np.where(gaps > 0, gaps, 1), 0)).sum(-1) / kept.sum(-1)
            at_kept = np.where(gaps > 0, event_hits, 0).sum(-1) / kept.sum(-1)
        return np.stack([at_events, at_other, at_events - at_other, matched, at_kept - matched], axis=-1)

    point = shares(totals)
    if not n_boot or not len(matrix):
        estimates = [Estimate(float(np.nan_to_num(v)), defined=bool(np.isfinite(v))) for v in point]
        p = matched_p = None
    else:
        samples = np.nan_to_num(shares(resample_sums(matrix, n_boot, seed, cluster))).T
        lo, hi = percentile_intervals(samples, ci, np.nan_to_num(point))
        estimates = [Estimate(float(np.nan_to_num(v)), float(a), float(b), bool(np.isfinite(v))) for v, a, b in zip(point, lo, hi)]
        p, matched_p = paired_p_value(samples[2]), paired_p_value(samples[4])
    events, event_hits, gaps, gap_hits = (int(t) for t in totals.reshape(4, k).sum(axis=1))
    return Leak(*estimates[:3], p, *estimates[3:], matched_p, events, event_hits, gaps, gap_hits)
