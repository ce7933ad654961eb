"""Position-aware tag matching (an extra beside the position-free tag metrics).

Method (also in the README): the prediction's normalized words are aligned to the
reference's with the Levenshtein opcodes jiwer's alignment is made of (rapidfuzz, called
directly; a test checks they equal ``jiwer.process_words`` alignments). A tag sits in a *word gap* (gap g = after g words). Each predicted
tag's gap is moved to the reference gap it falls in through the alignment; then, per label,
predicted and reference tags are matched one-to-one:

* ``tp_at(k)``: the largest number of pairs whose gaps differ by at most ``k`` words
  (greedy over sorted positions, which is optimal for matching points on a line);
* offsets: the ``min(n_pred, n_ref)`` pairs of least total distance (the same count as the
  position-free true positives), giving a summed absolute offset in words;
* the headline ``tag_f1_pos``: an optimal one-to-one matching (:func:`match_within`, by
  ``scipy.optimize.linear_sum_assignment``) of maximum cardinality among pairs whose gaps differ
  by at most :data:`TOLERANCE` words, and among those of least total distance; its pairs are
  the true positives (event-based F1 with a collar, the word as the unit).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from rapidfuzz.distance import Opcodes

TOLERANCE = 1
"""Word gaps a predicted tag may sit from its reference tag and still count for ``tag_f1_pos``."""


def ref_gap(alignment: Opcodes | Sequence[tuple[str, int, int, int, int]], gap: int) -> int:
    """The reference gap that prediction gap ``gap`` (after ``gap`` words) falls in.

    ``alignment``: rapidfuzz opcodes, or the same as tuples (``Opcodes.as_list()``, faster to
    walk). Gaps inside matched or substituted runs map one to one; gaps inside inserted words
    map to the reference gap where the insertion happens; at a run boundary the earlier run
    wins, so a tag just before deleted reference words lands before them.
    """
    last = 0
    for tag, src_start, src_end, dest_start, dest_end in alignment:
        if dest_start <= gap <= dest_end:
            if tag == "equal" or tag == "replace":
                return src_start + (gap - dest_start)
            return src_start
        last = src_end
    return last


def anchored_gaps(alignment: Opcodes | Sequence[tuple[str, int, int, int, int]], n_ref: int) -> set[int] | range:
    """The reference word gaps (0..``n_ref``) next to a correctly transcribed reference word.

    Gap g lies between reference words g − 1 and g; it is anchored when either of them is in
    an ``equal`` run of the alignment (a hit). With no reference words every gap (only 0) is
    anchored: there is no word to get right. docs/spec.md §3.10."""
    if n_ref == 0:
        return range(1)
    out: set[int] = set()
    for tag, src_start, src_end, _, _ in alignment:
        if tag == "equal":
            out.update(range(src_start, src_end + 1))  # words src_start..src_end-1: gaps on both sides
    return out


def tp_within(ref: Sequence[int], pred: Sequence[int], k: int) -> int:
    """Maximum number of one-to-one pairs with ``|ref - pred| <= k`` (inputs sorted)."""
    i = j = tp = 0
    while i < len(ref) and j < len(pred):
        if abs(ref[i] - pred[j]) <= k:
            tp += 1
            i += 1
            j += 1
        elif ref[i] < pred[j]:
            i += 1
        else:
            j += 1
    return tp


def min_total_offset(ref: Sequence[int], pred: Sequence[int]) -> int:
    """Least summed ``|ref - pred|`` over ``min(len)`` one-to-one pairs (inputs sorted).

    Dynamic programme over the two sorted lists (an optimal matching on a line never crosses).
    """
    short, long_ = (ref, pred) if len(ref) <= len(pred) else (pred, ref)
    if not short:
        return 0
    inf = float("inf")
    # best[j]: least cost of matching the first i items of `short` within the first j of `long_`
    best = [0.0] * (len(long_) + 1)
    for i in range(1, len(short) + 1):
        new = [inf] * (len(long_) + 1)
        for j in range(i, len(long_) + 1):
            new[j] = min(new[j - 1], best[j - 1] + abs(short[i - 1] - long_[j - 1]))
        best = new
    return int(best[len(long_)])


def match_within(ref: Sequence[int], pred: Sequence[int], tolerance: int = TOLERANCE) -> list[tuple[int, int]]:
    """Optimal one-to-one pairs ``(i, j)`` with ``|ref[i] - pred[j]| <= tolerance``.

    Maximum number of pairs first, then least total distance, by one call to
    ``scipy.optimize.linear_sum_assignment``: an allowed pair costs ``distance - big`` with
    ``big > tolerance * min(len)``, so one more pair always outweighs any saving in distance;
    a pair beyond the tolerance costs 0 and is dropped from the answer. Inputs need not be sorted.
    """
    if tolerance < 0:
        raise ValueError(f"tolerance must be 0 or more, got {tolerance}")
    if not ref or not pred:
        return []
    from scipy.optimize import linear_sum_assignment  # on use: importing scipy.optimize takes ~0.5 s

    distance = np.abs(np.subtract.outer(np.asarray(ref, dtype=np.int64), np.asarray(pred, dtype=np.int64)))
    allowed = distance <= tolerance
    big = tolerance * min(len(ref), len(pred)) + 1
    cost = np.where(allowed, distance - big, 0).astype(np.float64)
    rows, cols = linear_sum_assignment(cost)
    return [(int(i), int(j)) for i, j in zip(rows, cols) if allowed[i, j]]
