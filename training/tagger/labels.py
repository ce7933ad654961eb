"""The tagger's outputs and their frame labels from a manifest entry.

Outputs: the 17 canonical tags in the benchmark's order, then ``emphasis``. Output frame ``j``
covers ``[j, j + 1) * FRAME_S`` seconds; it is labelled with every tag whose span contains the
frame's centre, and with ``emphasis`` when the centre falls inside a CAPS word (docs/spec.md §1).
"""

from __future__ import annotations

import numpy as np

from evoxtral_bench import emphasis_tokens, tag_table

from .clips import Clip

TAGS: tuple[str, ...] = tuple(tag_table().canonical)
"""The 17 canonical tags, in the benchmark's order."""
EMPHASIS = len(TAGS)
"""Index of the emphasis output."""
OUTPUTS: tuple[str, ...] = (*TAGS, "emphasis")
FRAME_S = 0.04
"""Seconds per output frame (10 ms log-mel hop x 4)."""


def is_emphasis(word: str) -> bool:
    """A CAPS emphasis word: all letters uppercase, at least two of them."""
    return bool(emphasis_tokens(word))


def frame_times(n_frames: int) -> np.ndarray:
    """Centre of each output frame (seconds)."""
    return (np.arange(n_frames) + 0.5) * FRAME_S


def frame_labels(clip: Clip, n_frames: int, min_span_s: float) -> np.ndarray:
    """``(n_frames, len(OUTPUTS))`` float32 0/1 targets of ``clip``.

    A tag span shorter than ``min_span_s`` seconds is labelled from its start for ``min_span_s``.
    """
    centres = frame_times(n_frames)
    targets = np.zeros((n_frames, len(OUTPUTS)), dtype=np.float32)
    index = {label: i for i, label in enumerate(TAGS)}
    for tag in clip.tags:
        if tag.label in index:
            end = max(tag.end, tag.start + min_span_s)
            targets[(centres >= tag.start) & (centres < end), index[tag.label]] = 1.0
    for word in clip.words:
        if is_emphasis(word.label):
            targets[(centres >= word.start) & (centres < word.end), EMPHASIS] = 1.0
    return targets
