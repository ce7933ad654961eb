"""What the pipeline hands a backend (:class:`Job`) and gets back (:class:`Clip`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Job:
    """One clip to render: row id, tagged transcript, resolved voice; ``masked``: the counterfactual
    rendering without any audible tag (:data:`evoxtral_bench.corpus.synth.plan.MASKED`)."""

    id: str
    text: str
    voice: str
    masked: bool = False


@dataclass(frozen=True)
class Span:
    """A word or tag label and where it was rendered, seconds from the start of the clip (None: unknown)."""

    label: str
    start: float | None
    end: float | None


@dataclass(frozen=True)
class Clip:
    """A rendered clip: int16 mono samples and the spans of its tags and words (None: unknown)."""

    pcm: np.ndarray
    sample_rate: int
    voice: str
    tags: tuple[Span, ...]
    words: tuple[Span, ...] | None
