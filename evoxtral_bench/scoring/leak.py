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
use (:func:`.position.ref_gap`). The difference of the two shares gets a bootstrap percentile
interval and a paired p-value over utterances (over clusters, e.g. the renderings of one
script, with ``groups``). A text-only system also shows a difference here, because the words
tell where scripts put their tags (sentence ends); compare a tagger with the text prior on
the same words.
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
from evoxtral_bench.scoring.tags import tag_table

NEAR = 1
"""Word gaps within which a predicted tag counts as near a place."""


@dataclass(frozen=True)
class Leak:
    """The two shares (fractions in [0, 1]) and their difference, with the raw counts."""

    at_events: Estimate
    at_other_gaps: Estimate
    difference: Estimate
    """at_events − at_other_gaps."""
    p_value: float | None
    """Two-sided paired-bootstrap p of the difference (None without a bootstrap)."""
    events: int
    event_hits: int
    gaps: int
    gap_hits: int


def leak_counts(prediction: str, reference: str, normalizer: normalize.Normalizer = normalize.basic) -> tuple[int, int, int, int]:
    """(reference tags, those with a predicted tag within :data:`NEAR` gaps, other gaps, those
    with a predicted tag within :data:`NEAR` gaps) of one utterance."""
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
    others = [g for g in range(len(ref.chunk_words) + 1) if g not in near_reference]
    return (
        len(ref_gaps),
        sum(g in near_prediction for g in ref_gaps),
        len(others),
        sum(g in near_prediction for g in others),
    )


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
    matrix = np.array([leak_counts(p, r, normalizer) for p, r in zip(predictions, references)], dtype=np.float64).reshape(-1, 4)
    totals = matrix.sum(axis=0)
    cluster = None
    if groups is not None:
        cluster = np.unique(np.asarray(groups), return_inverse=True)[1]

    def shares(sums: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        with np.errstate(invalid="ignore", divide="ignore"):
            return sums[..., 1] / sums[..., 0], sums[..., 3] / sums[..., 2]

    event, other = shares(totals)
    point = np.array([event, other, event - other])
    if not n_boot or not len(matrix):
        estimates = [Estimate(float(v), defined=bool(np.isfinite(v))) for v in point]
        p = None
    else:
        boot_event, boot_other = shares(resample_sums(matrix, n_boot, seed, cluster))
        samples = np.nan_to_num(np.stack([boot_event, boot_other, boot_event - boot_other]))
        lo, hi = percentile_intervals(samples, ci, np.nan_to_num(point))
        estimates = [Estimate(float(np.nan_to_num(v)), float(a), float(b), bool(np.isfinite(v))) for v, a, b in zip(point, lo, hi)]
        p = paired_p_value(samples[2])
    return Leak(*estimates, p, *(int(t) for t in totals))
