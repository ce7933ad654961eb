"""Per-utterance sufficient statistics (docs/spec.md §3): text -> additive counts.

Every metric is a function of sums of these counts, so the corpus score, any subset and
every bootstrap resample come from one pass over the text. Word and character error counts
are Levenshtein distances from rapidfuzz, the engine jiwer itself calls (a test checks that
the corpus WER and CER equal ``jiwer.wer`` / ``jiwer.cer`` on the same normalized strings);
the word alignment needed for tag positions is the same engine's opcodes, which is what
``jiwer.process_words`` returns as its alignment (also checked by a test).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from rapidfuzz.distance import Levenshtein

from evoxtral_bench.scoring import normalize, position
from evoxtral_bench.scoring.normalize import Normalizer
from evoxtral_bench.scoring.tags import TagTable, emphasis_tokens, split_tags, tag_table

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
    "tag_tp_anch",
)
_CORE_COLUMNS = len(BASE_COLUMNS)


def family_columns(family: str) -> tuple[str, str, str, str]:
    """Names of a tag family's columns (docs/spec.md §3.11): matched, predicted and reference tags
    of its labels, and its anchored matches (position ±1)."""
    return f"tag_tp:{family}", f"tag_pred:{family}", f"tag_ref:{family}", f"tag_tp_anch:{family}"


_FAMILIES = tuple(tag_table().families)
_FAMILY_OF = tag_table().family_of
BASE_COLUMNS += tuple(c for family in _FAMILIES for c in family_columns(family))


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


MAX_LABELS = 100
"""Labels outside the canonical vocabulary with their own per-tag columns; the rest are
pooled into :data:`OTHER_LABELS` (so cost and output grow only linearly with OOV labels)."""
OTHER_LABELS = "<other OOV>"
"""The pooled per-tag entry (never a real label: labels are lowercased)."""


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


_CAPS_RE = re.compile(r"[A-Z][^a-z\s]*[A-Z]")
"""In ASCII text, what every emphasis word contains: two capitals without a lowercase letter or
a space between them (text without a match has no emphasis word)."""


def _emphasis(text: str) -> dict[str, int] | None:
    """Normalized emphasis words of tag-free text with their counts (None: there are none).

    The tokens are normalized together: ``basic`` of space-joined tokens gives the words of
    each token normalized on its own (no rule of it spans a space)."""
    if text.isascii() and not _CAPS_RE.search(text):
        return None
    tokens = emphasis_tokens(text)
    return _counts(normalize.basic(" ".join(tokens)).split()) if tokens else None


def _counts(labels: list[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for label in labels:
        out[label] = out.get(label, 0) + 1
    return out


class Side(NamedTuple):
    """One transcript as the statistics read it (nothing else of it is kept)."""

    norm: str  # normalized words of the whole text, space-joined (CER)
    words: list[str]  # the words of ``norm`` (WER)
    labels: dict[str, int]  # canonical label -> count
    n_tags: int  # the sum of ``labels``
    positions: dict[str, list[int]]  # label -> sorted word gaps of its tags (chunk-wise words)
    chunk_words: list[str]  # chunk-wise normalized words (the alignment's); ``words`` for a chunkwise normalizer
    emphasis: dict[str, int] | None
    n_emphasis: int  # the sum of ``emphasis``
    oov: list[str]  # labels outside the canonical vocabulary, one per tag


_MARK = "\x00"
"""Stands for a tag while a chunkwise normalizer runs over the whole text at once: a word of
its own that ``basic`` and ``none`` keep (a control character, category Cc, between spaces)."""
_JOIN = f" {_MARK} "


def chunk_words(chunks: list[str], normalizer: Normalizer, chunkwise: bool) -> tuple[list[str], list[int]]:
    """The normalized words of the text chunks between tags, and the word gap of each tag (the
    number of words before it).

    A chunkwise normalizer (:func:`.normalize.is_chunkwise`) runs once over the chunks joined by
    :data:`_MARK` words; otherwise, or when the text holds the mark itself, chunk by chunk. Both
    give the same words (a test checks it on random Unicode text)."""
    if chunkwise:
        joined = _JOIN.join(chunks)
        if joined.count(_MARK) == len(chunks) - 1:
            marked = normalizer(joined)  # words and marks, each after one space
            gaps = []
            at, spaces = -1, 0
            for j in range(len(chunks) - 1):
                found = marked.index(_MARK, at + 1)
                spaces += marked.count(" ", at + 1, found)  # counted once: linear in the text
                at = found
                gaps.append(spaces - j)  # the words and marks before it, less the marks
            return marked.replace(_MARK, "").split(), gaps
    words: list[str] = []
    gaps = []
    for chunk in chunks:
        gaps.append(len(words))
        words += normalizer(chunk).split()
    return words, gaps[1:]


def side(text: str, normalizer: Normalizer, chunkwise: bool, table: TagTable) -> Side:
    """Parse and normalize one tagged transcript (docs/spec.md §1-§2)."""
    chunks, labels, _ = split_tags(text, table)
    if not labels:
        words = normalizer(text).split()
        emphasis = _emphasis(text)
        return Side(" ".join(words), words, {}, 0, {}, words, emphasis, sum(emphasis.values()) if emphasis else 0, [])
    words, gaps = chunk_words(chunks, normalizer, chunkwise)
    positions: dict[str, list[int]] = {}
    for label, gap in zip(labels, gaps):
        positions.setdefault(label, []).append(gap)
    plain = " ".join(chunks)
    # normalizing chunk by chunk gives the words of the whole text only for chunkwise normalizers
    whole = words if chunkwise else normalizer(plain).split()
    canonical = table.canonical
    oov = [label for label in labels if label not in canonical]
    emphasis = _emphasis(plain)
    n_emphasis = sum(emphasis.values()) if emphasis else 0
    return Side(" ".join(whole), whole, _counts(labels), len(labels), positions, words, emphasis, n_emphasis, oov)


def _multiset_tp(a: dict[str, int] | None, b: dict[str, int] | None) -> int:
    if not a or not b:
        return 0
    return sum(min(n, b[k]) for k, n in a.items() if k in b)


def _positions(ref: Side, hyp: Side, common: list[str], tolerance: int, family_anch: list[int]) -> tuple[int, int, int, int, int]:
    """(tp within 0 words, within 1 word, least total offset, tp within ``tolerance``, tp within
    ``tolerance`` among anchored reference tags) summed over the labels on both sides (the last
    also added per tag family into ``family_anch``, by :data:`_FAMILY_OF` index); predicted
    gaps move to reference gaps through the alignment (the identity when both sides have the
    same words). A reference tag is *anchored* when a reference word next to its gap is a hit of
    the alignment (:func:`.position.anchored_gaps`, docs/spec.md §3.10)."""
    same = ref.chunk_words == hyp.chunk_words
    alignment = None if same else Levenshtein.opcodes(ref.chunk_words, hyp.chunk_words).as_list()
    anchored = None if same else position.anchored_gaps(alignment, len(ref.chunk_words))
    at0 = at1 = offsets = tp_pos = tp_anch = 0
    for label in common:
        r = ref.positions[label]
        p = hyp.positions[label] if same else [position.ref_gap(alignment, g) for g in hyp.positions[label]]
        family = _FAMILY_OF.get(label)
        if len(r) == 1 and len(p) == 1:  # the common case: one tag of the label on each side
            d = abs(r[0] - p[0])
            at0 += d == 0
            at1 += d <= 1
            offsets += d
            tp_pos += d <= tolerance
            hit = d <= tolerance and (anchored is None or r[0] in anchored)
            tp_anch += hit
            if family is not None:
                family_anch[family] += hit
            continue
        if not same:  # gaps are sorted as recorded; mapped ones are sorted again
            p.sort()
        within1 = position.tp_within(r, p, 1)
        at0 += position.tp_within(r, p, 0)
        at1 += within1
        offsets += position.min_total_offset(r, p)
        # the size of match_within's maximum matching: greedy on sorted gaps is optimal
        pos = within1 if tolerance == 1 else position.tp_within(r, p, tolerance)
        tp_pos += pos
        hits = pos if anchored is None else position.tp_within([g for g in r if g in anchored], p, tolerance)
        tp_anch += hits
        if family is not None:
            family_anch[family] += hits
    return at0, at1, offsets, tp_pos, tp_anch


_NO_POSITIONS = (0, 0, 0, 0, 0)


class _Builder:
    """The counts of one system while its rows are filled in."""

    def __init__(self, n: int) -> None:
        self.base = np.zeros((n, len(BASE_COLUMNS)), dtype=np.float64)
        self.rows: list[int] = []
        self.names: list[str] = []
        self.cells: list[int] = []
        self.oov: Counter[str] = Counter()

    def add(self, i: int, ref: Side, hyp: Side, tolerance: int) -> None:
        ref_tags, hyp_tags = ref.labels, hyp.labels
        tag_tp = hallucinated = 0
        positions = _NO_POSITIONS
        if ref_tags or hyp_tags:
            rows, names, cells = self.rows, self.names, self.cells
            families = [0] * (4 * len(_FAMILIES))  # per family: tp, pred, ref (anchored tp below)
            anch = [0] * len(_FAMILIES)
            common = []
            for label, r in ref_tags.items():
                p = hyp_tags.get(label, 0)
                if p:
                    common.append(label)
                tp = p if p < r else r
                tag_tp += tp
                rows.append(i)
                names.append(label)
                cells += (tp, p, r)
                family = _FAMILY_OF.get(label)
                if family is not None:
                    families[4 * family] += tp
                    families[4 * family + 1] += p
                    families[4 * family + 2] += r
            for label, p in hyp_tags.items():
                if label not in ref_tags:
                    hallucinated += p
                    rows.append(i)
                    names.append(label)
                    cells += (0, p, 0)
                    family = _FAMILY_OF.get(label)
                    if family is not None:
                        families[4 * family + 1] += p
            if common:
                positions = _positions(ref, hyp, common, tolerance, anch)
                for family, hits in enumerate(anch):
                    families[4 * family + 3] = hits
            if hyp.oov:
                self.oov.update(hyp.oov)
            self.base[i, _CORE_COLUMNS:] = families
        self.base[i, :_CORE_COLUMNS] = (
            Levenshtein.distance(ref.words, hyp.words),
            len(ref.words),
            Levenshtein.distance(ref.norm, hyp.norm),
            len(ref.norm),
            tag_tp,
            hyp.n_tags,
            ref.n_tags,
            hallucinated,
            _multiset_tp(hyp.emphasis, ref.emphasis),
            hyp.n_emphasis,
            ref.n_emphasis,
            *positions,
        )


def count_tables(
    systems: Sequence[Sequence[str]],
    references: Sequence[str],
    normalizer: Normalizer,
    *,
    per_label: bool = True,
    tolerance: int = position.TOLERANCE,
) -> list[tuple[StatsTable, Counter[str]]]:
    """The statistics table (docs/spec.md §3) and the OOV predicted labels of each system.

    One pass over the references: each is parsed and normalized once, whatever the number of
    systems, and each text is counted into one row of a preallocated matrix and dropped. The
    per-label counts are gathered as (row, label, tp, pred, ref) and scattered into their
    columns once the labels are known (see :func:`shown_labels`). ``tolerance`` (word gaps)
    decides which pairs count for ``tag_tp_pos`` (``tag_f1_pos``); ``per_label=False`` leaves out
    the per-label columns.
    """
    if any(len(texts) != len(references) for texts in systems):
        raise ValueError("predictions and references must have the same length")
    chunkwise = normalize.is_chunkwise(normalizer)
    table = tag_table()
    builders = [_Builder(len(references)) for _ in systems]
    for i, ref_text in enumerate(references):
        ref = side(ref_text, normalizer, chunkwise, table)
        for texts, builder in zip(systems, builders):
            builder.add(i, ref, side(texts[i], normalizer, chunkwise, table), tolerance)
    out = []
    for b in builders:
        counts = _with_labels(b.base, b.rows, b.names, b.cells, table) if per_label else StatsTable(BASE_COLUMNS, b.base, ())
        out.append((counts, b.oov))
    return out


def _with_labels(base: np.ndarray, rows: list[int], names: list[str], cells: list[int], table: TagTable) -> StatsTable:
    """``base`` with the per-label columns: canonical labels first, then the others (see
    :func:`shown_labels`), the counts of (row, label) scattered into them."""
    values = np.array(cells, dtype=np.float64).reshape(-1, 3)
    seen = {name: None for name in names}
    index = {name: j for j, name in enumerate(seen)}
    ids = np.fromiter((index[name] for name in names), dtype=np.intp, count=len(names))
    totals = np.zeros(len(index))
    np.add.at(totals, ids, values[:, 1] + values[:, 2])  # predicted + reference tags of each label
    counts = Counter({name: int(totals[j]) for name, j in index.items() if totals[j] > 0})
    labels, mapping = shown_labels(counts, [label for label in table.canonical if label in counts])
    columns = BASE_COLUMNS + tuple(c for label in labels for c in label_columns(label))
    matrix = np.zeros((base.shape[0], len(columns)), dtype=np.float64)
    matrix[:, : len(BASE_COLUMNS)] = base
    first = {label: len(BASE_COLUMNS) + 3 * j for j, label in enumerate(labels)}
    column_of = np.array([first[mapping[name]] if name in mapping else -1 for name in index], dtype=np.intp)
    cols = column_of[ids]
    keep = cols >= 0
    row_index = np.asarray(rows, dtype=np.intp)[keep]
    for k in range(3):
        np.add.at(matrix, (row_index, cols[keep] + k), values[keep, k])
    return StatsTable(columns=columns, matrix=matrix, labels=tuple(labels))
