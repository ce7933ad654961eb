"""Position-aware tag matching (an extra beside the position-free tag metrics).

Method (also in the README): the prediction's normalized words are aligned to the
reference's with the Levenshtein opcodes jiwer's alignment is made of (rapidfuzz, called
directly; a test checks they equal ``jiwer.process_words`` alignments). A tag sits in a *word gap* (gap g = after g words). Each predicted
tag's gap is moved to the reference gap it falls in through the alignment; then, per label,
predicted and reference tags are matched one-to-one:

* ``tp_at(k)``: the largest number of pairs whose gaps differ by at most ``k`` words
  (greedy over sorted positions, which is optimal for matching points on a line);
* offsets: the ``min(n_pred, n_ref)`` pairs of least total distance (the same count as the
  position-free true positives), giving a summed absolute offset in words.
"""

from __future__ import annotations

from collections.abc import Sequence

from rapidfuzz.distance import Opcodes


def ref_gap(alignment: Opcodes, gap: int) -> int:
    """The reference gap that prediction gap ``gap`` (after ``gap`` words) falls in.

    Gaps inside matched or substituted runs map one to one; gaps inside inserted words map
    to the reference gap where the insertion happens; at a run boundary the earlier run wins,
    so a tag just before deleted reference words lands before them.
    """
    last = 0
    for op in alignment:
        if op.dest_start <= gap <= op.dest_end:
            if op.tag in ("equal", "replace"):
                return op.src_start + (gap - op.dest_start)
            return op.src_start
        last = op.src_end
    return last


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
