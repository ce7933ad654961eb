"""What the pipeline hands a backend (:class:`Job`) and gets back (:class:`Clip`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Job:
    """One clip to render: row id, tagged transcript, resolved voice; ``masked``: the counterfactual
    rendering without any audible tag (:data:`evoxtral_bench.corpus.synth.plan.MASKED`); ``splice``:
    masked sounds are cut out rather than replaced by room tone; ``events``: the family of event
    generators (:data:`evoxtral_bench.corpus.synth.neural.EVENT_FAMILIES`); ``script`` and
    ``rendering``: the script a rendering of a multiply rendered split speaks and its number (1-based;
    0 when the script is rendered once and ``id`` is the script's id)."""

    id: str
    text: str
    voice: str
    masked: bool = False
    splice: bool = False
    events: str = "rule-v1"
    script: str = ""
    rendering: int = 0


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
