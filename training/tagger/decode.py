"""Frame probabilities to tag events and emphasis flags; tuning the rules on labelled clips.

Per tag (a :class:`Rule`): frames at or above the threshold form runs; runs separated by at
most ``merge_gap`` frames are joined, runs shorter than ``min_frames`` are dropped, and each
remaining run is one event at the time its first frame starts. A word is emphasized when the
mean emphasis probability of the frames whose centre lies inside it reaches its threshold.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .clips import Clip
from .config import DecodeConfig
from .labels import EMPHASIS, FRAME_S, TAGS, frame_times, is_emphasis


@dataclass(frozen=True)
class Rule:
    """How one tag's probabilities become events (``min_frames`` and ``merge_gap`` in 40 ms frames)."""

    threshold: float
    min_frames: int
    merge_gap: int


@dataclass(frozen=True)
class Event:
    """One tag ``label`` detected from ``start`` seconds."""

    start: float
    label: str


def segments(active: np.ndarray, merge_gap: int) -> list[tuple[int, int]]:
    """``[start, end)`` frame runs of the true values of ``active``; runs at most ``merge_gap``
    frames apart are joined."""
    edges = np.diff(np.concatenate(([0], active.astype(np.int8), [0])))
    runs: list[tuple[int, int]] = []
    for start, end in zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist()):
        if runs and start - runs[-1][1] <= merge_gap:
            runs[-1] = (runs[-1][0], end)
        else:
            runs.append((start, end))
    return runs


def decode_events(probs: np.ndarray, rules: dict[str, Rule]) -> list[Event]:
    """Events of one clip's ``(frames, outputs)`` probabilities, by start time then tag order."""
    events = []
    for index, label in enumerate(TAGS):
        rule = rules[label]
        for start, end in segments(probs[:, index] >= rule.threshold, rule.merge_gap):
            if end - start >= rule.min_frames:
                events.append((start, index, Event(round(start * FRAME_S, 3), label)))
    return [event for _, _, event in sorted(events)]


def word_scores(probs: np.ndarray, spans: Sequence[tuple[float, float]]) -> np.ndarray:
    """Mean emphasis probability over each ``(start, end)`` span in seconds (a span with no frame
    centre inside it takes the frame under its midpoint)."""
    column = probs[:, EMPHASIS]
    centres = frame_times(len(column))
    scores = []
    for start, end in spans:
        inside = column[(centres >= start) & (centres < end)]
        if inside.size == 0:
            inside = column[min(len(column) - 1, max(0, int((start + end) / 2 / FRAME_S)))]
        scores.append(float(np.mean(inside)))
    return np.array(scores)


def _f1(tp: float, predicted: float, reference: float) -> float:
    return 2 * tp / (predicted + reference) if predicted + reference else 0.0


def _frames(seconds: list[float]) -> list[int]:
    return sorted({round(s / FRAME_S) for s in seconds})


def _tune_tag(probs: Sequence[np.ndarray], index: int, reference: np.ndarray, cfg: DecodeConfig) -> tuple[Rule, int, int]:
    """The rule of ``cfg``'s grids with the best F1 for tag ``index`` (the first best in grid
    order), with its tp and predicted count."""
    best = (-1.0, Rule(0.0, 1, 0), 0, 0)  # f1, rule, tp, predicted
    for threshold in cfg.thresholds:
        for gap in _frames(cfg.merge_gaps_s):
            lengths = [np.array([end - start for start, end in segments(p[:, index] >= threshold, gap)]) for p in probs]
            for minimum in [max(1, n) for n in _frames(cfg.min_lengths_s)]:
                predicted = np.array([int((runs >= minimum).sum()) for runs in lengths])
                tp, total = int(np.minimum(predicted, reference).sum()), int(predicted.sum())
                f1 = _f1(tp, total, int(reference.sum()))
                if f1 > best[0]:
                    best = (f1, Rule(threshold, minimum, gap), tp, total)
    return best[1:]


def _tune_emphasis(probs: Sequence[np.ndarray], clips: Sequence[Clip], cfg: DecodeConfig) -> tuple[float, float]:
    """The emphasis threshold with the best F1 over the clips' words, and that F1."""
    scores = np.concatenate([word_scores(p, [(w.start, w.end) for w in clip.words]) for p, clip in zip(probs, clips)])
    truth = np.array([is_emphasis(w.label) for clip in clips for w in clip.words])
    best = (-1.0, 0.0)
    for threshold in cfg.thresholds:
        flagged = scores >= threshold
        f1 = _f1(int((flagged & truth).sum()), int(flagged.sum()), int(truth.sum()))
        if f1 > best[0]:
            best = (f1, threshold)
    return best[1], best[0]


def tune(probs: Sequence[np.ndarray], clips: Sequence[Clip], cfg: DecodeConfig) -> tuple[dict[str, Rule], float, dict]:
    """Per tag, the rule from ``cfg``'s grids with the best position-free F1 on ``clips`` (per
    clip, tp = min(predicted, reference) events, as the benchmark counts); the emphasis
    threshold with the best F1 over the manifest's words. Returns the rules, the emphasis
    threshold and a report of the scores reached."""
    rules: dict[str, Rule] = {}
    per_tag: dict[str, float] = {}
    totals = Counter()
    for index, label in enumerate(TAGS):
        reference = np.array([sum(tag.label == label for tag in clip.tags) for clip in clips])
        rules[label], tp, predicted = _tune_tag(probs, index, reference, cfg)
        per_tag[label] = round(_f1(tp, predicted, int(reference.sum())), 4)
        totals.update(tp=tp, predicted=predicted, reference=int(reference.sum()))
    emphasis_threshold, emphasis_f1 = _tune_emphasis(probs, clips, cfg)
    report = {
        "tag_f1": round(_f1(totals["tp"], totals["predicted"], totals["reference"]), 4),
        "tags_predicted": totals["predicted"],
        "tags_reference": totals["reference"],
        "per_tag_f1": per_tag,
        "emphasis_word_f1": round(emphasis_f1, 4),
    }
    return rules, emphasis_threshold, report
