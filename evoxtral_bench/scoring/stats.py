"""Per-utterance sufficient statistics (docs/spec.md §3): text -> additive counts.

Every metric is a function of sums of these counts, so the corpus score, any subset and
every bootstrap resample come from one pass over the text. Word and character error counts
are Levenshtein distances from rapidfuzz, the engine jiwer itself calls (a test checks that
the corpus WER and CER equal ``jiwer.wer`` / ``jiwer.cer`` on the same normalized strings);
the word alignment needed for tag positions is the same engine's opcodes, which is what
``jiwer.process_words`` returns as its alignment (also checked by a test).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import accumulate

import numpy as np
from rapidfuzz.distance import Levenshtein

from evoxtral_bench.scoring import normalize, position
from evoxtral_bench.scoring.normalize import Normalizer
from evoxtral_bench.scoring.tags import Transcript, emphasis_tokens

BASE_COLUMNS: tuple[str, ...] = (
    "word_errors",
    "ref_words",
    "char_errors",
    "ref_chars",
    "tag_tp",
    "tag_pred",
    "tag_ref",
    "tag_hallucinated",
    "emph_tp",
    "emph_pred",
    "emph_ref",
    "tag_tp_at0",
    "tag_tp_at1",
    "tag_offset_sum",
    "tag_tp_pos",
)


@dataclass(frozen=True)
class UtteranceStats:
    """Raw counts for one utterance. Errors are S+D+I; offsets are in words."""

    word_errors: int = 0
    ref_words: int = 0
    char_errors: int = 0
    ref_chars: int = 0
    tag_tp: int = 0
    tag_pred: int = 0
    tag_ref: int = 0
    tag_hallucinated: int = 0
    emph_tp: int = 0
    emph_pred: int = 0
    emph_ref: int = 0
    tag_tp_at0: int = 0
    tag_tp_at1: int = 0
    tag_offset_sum: int = 0
    tag_tp_pos: int = 0
    per_label: dict[str, tuple[int, int, int]] = field(default_factory=dict)  # label -> (tp, pred, ref)
    oov_tags: int = 0


@dataclass(frozen=True)
class StatsTable:
    """An N x K matrix of counts (float64, integer-valued) with named columns."""

    columns: tuple[str, ...]
    matrix: np.ndarray
    labels: tuple[str, ...]

    def col(self, name: str) -> int:
        return self.columns.index(name)

    def rows(self, index: Sequence[int] | np.ndarray) -> StatsTable:
        return StatsTable(self.columns, self.matrix[np.asarray(index, dtype=np.intp)], self.labels)

    def without_labels(self) -> StatsTable:
        """The columns that the corpus metrics read (no per-label columns)."""
        keep = [j for j, c in enumerate(self.columns) if not c.startswith(LABEL_PREFIXES)]
        return StatsTable(tuple(self.columns[j] for j in keep), self.matrix[:, keep], ())


MAX_LABELS = 100
"""Labels outside the canonical vocabulary with their own per-tag columns; the rest are
pooled into :data:`OTHER_LABELS` (so cost and output grow only linearly with OOV labels)."""
OTHER_LABELS = "<other OOV>"
"""The pooled per-tag entry (never a real label: labels are lowercased)."""
LABEL_PREFIXES = ("tp:", "pred:", "ref:")


def shown_labels(counts: Counter[str], keep: Sequence[str] = (), *, keep_first: bool = True) -> tuple[list[str], dict[str, str]]:
    """Labels with their own columns and the mapping of every label to its column label.

    ``keep`` (the canonical labels present) always have their own columns; of the others the
    :data:`MAX_LABELS` most frequent (then by name) do, and the rest map to
    :data:`OTHER_LABELS`, which comes last. ``keep`` comes first, in its order, and the others
    follow by name; with ``keep_first=False`` all are in name order.
    """
    kept = set(keep)
    others = sorted(label for label in counts if label not in kept)
    pooled = len(others) > MAX_LABELS
    if pooled:
        others = sorted(sorted(others, key=lambda label: (-counts[label], label))[:MAX_LABELS])
    labels = [*keep, *others] if keep_first else sorted([*keep, *others])
    mapping = {label: OTHER_LABELS for label in counts} if pooled else {}
    mapping.update({label: label for label in labels})
    return labels + ([OTHER_LABELS] if pooled else []), mapping


def pooled_counts(counts: Counter[str]) -> dict[str, int]:
    """``counts`` sorted by label, with all but the :data:`MAX_LABELS` most frequent pooled."""
    labels, mapping = shown_labels(counts)
    out: dict[str, int] = {}
    for label, n in counts.items():
        out[mapping[label]] = out.get(mapping[label], 0) + n
    return dict(sorted(out.items()))


def label_columns(label: str) -> tuple[str, str, str]:
    """Names of the per-label columns: true positives, predicted and reference counts."""
    return f"tp:{label}", f"pred:{label}", f"ref:{label}"


def _emphasis(text: str) -> Counter[str]:
    words: Counter[str] = Counter()
    for token in emphasis_tokens(text):
        words.update(normalize.basic(token).split())
    return words


def _multiset_tp(a: Counter[str], b: Counter[str]) -> int:
    return sum(min(n, b[k]) for k, n in a.items() if k in b)


def _gap_positions(words_per_chunk: list[list[str]], transcript: Transcript) -> list[int]:
    """Word gap of each tag: the number of normalized words before it."""
    before = list(accumulate((len(w) for w in words_per_chunk), initial=0))
    return [before[t.position] for t in transcript.tags]


def _positions_by_label(labels: list[str], gaps: list[int]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for label, gap in zip(labels, gaps):
        out.setdefault(label, []).append(gap)
    return {k: sorted(v) for k, v in out.items()}


def corpus_stats(
    *,
    predictions: Sequence[Transcript],
    references: Sequence[Transcript],
    normalizer: Normalizer,
    tolerance: int = position.TOLERANCE,
) -> list[UtteranceStats]:
    """Sufficient statistics for each (prediction, reference) pair, in input order.

    ``tolerance`` (word gaps) decides which pairs count for ``tag_tp_pos`` (``tag_f1_pos``).
    """
    if len(predictions) != len(references):
        raise ValueError("predictions and references must have the same length")
    chunkwise = normalize.is_chunkwise(normalizer)
    result = []
    for ref, hyp in zip(references, predictions):
        ref_chunks = [normalizer(c).split() for c in ref.chunks]
        hyp_chunks = [normalizer(c).split() for c in hyp.chunks]
        if chunkwise:  # normalizing chunk by chunk gives exactly the words of the whole text
            ref_words = [w for c in ref_chunks for w in c]
            hyp_words = [w for c in hyp_chunks for w in c]
        else:
            ref_words, hyp_words = normalizer(ref.text).split(), normalizer(hyp.text).split()
        ref_norm, hyp_norm = " ".join(ref_words), " ".join(hyp_words)
        ref_tags, hyp_tags = Counter(ref.labels), Counter(hyp.labels)
        ref_emph, hyp_emph = _emphasis(ref.text), _emphasis(hyp.text)
        per_label = {
            label: (min(hyp_tags[label], ref_tags[label]), hyp_tags[label], ref_tags[label])
            for label in ref_tags.keys() | hyp_tags.keys()
        }
        at0 = at1 = offsets = tp_pos = 0
        if ref.tags or hyp.tags:
            # positions use the chunk-wise words (the same as the whole text's for chunkwise normalizers)
            ref_chunk_words = [w for c in ref_chunks for w in c]
            hyp_chunk_words = [w for c in hyp_chunks for w in c]
            alignment = Levenshtein.opcodes(ref_chunk_words, hyp_chunk_words)
            ref_pos = _positions_by_label(ref.labels, _gap_positions(ref_chunks, ref))
            hyp_gaps = [position.ref_gap(alignment, g) for g in _gap_positions(hyp_chunks, hyp)]
            hyp_pos = _positions_by_label(hyp.labels, hyp_gaps)
            for label, r in ref_pos.items():
                p = hyp_pos.get(label, [])
                at0 += position.tp_within(r, p, 0)
                at1 += position.tp_within(r, p, 1)
                offsets += position.min_total_offset(r, p)
                tp_pos += len(position.match_within(r, p, tolerance))
        result.append(
            UtteranceStats(
                word_errors=Levenshtein.distance(ref_words, hyp_words),
                ref_words=len(ref_words),
                char_errors=Levenshtein.distance(ref_norm, hyp_norm),
                ref_chars=len(ref_norm),
                tag_tp=_multiset_tp(hyp_tags, ref_tags),
                tag_pred=sum(hyp_tags.values()),
                tag_ref=sum(ref_tags.values()),
                tag_hallucinated=sum(n for k, n in hyp_tags.items() if k not in ref_tags),
                emph_tp=_multiset_tp(hyp_emph, ref_emph),
                emph_pred=sum(hyp_emph.values()),
                emph_ref=sum(ref_emph.values()),
                tag_tp_at0=at0,
                tag_tp_at1=at1,
                tag_offset_sum=offsets,
                tag_tp_pos=tp_pos,
                per_label=per_label,
                oov_tags=sum(1 for t in hyp.tags if t.oov),
            )
        )
    return result


def to_table(stats: Sequence[UtteranceStats], labels: Sequence[str], mapping: dict[str, str] | None = None) -> StatsTable:
    """Stack utterance statistics into a matrix with base and per-label columns; ``mapping``
    sends a label to the column label that counts it (see :func:`shown_labels`)."""
    columns = BASE_COLUMNS + tuple(c for label in labels for c in label_columns(label))
    matrix = np.zeros((len(stats), len(columns)), dtype=np.float64)
    for i, s in enumerate(stats):
        matrix[i, : len(BASE_COLUMNS)] = [getattr(s, c) for c in BASE_COLUMNS]
    offset = len(BASE_COLUMNS)
    index = {label: offset + 3 * j for j, label in enumerate(labels)}
    if mapping is not None:
        index = {label: index[target] for label, target in mapping.items()}
    for i, s in enumerate(stats):
        for label, counts in s.per_label.items():
            j = index.get(label)
            if j is not None:
                matrix[i, j : j + 3] += counts
    return StatsTable(columns=columns, matrix=matrix, labels=tuple(labels))
