"""Shared by the rule-based renderers: a plan's parts joined into one clip with its word and tag spans.

A renderer supplies a :class:`Speaker` (how a speech part and a non-verbal sound sound);
:func:`assemble` lays the parts out (lead-in, pauses after punctuation, sounds, ``[pause]``
silences, tail) and reports where every word and tag landed; :func:`finish` turns the mix into
16 kHz PCM. Masked plans (docs/spec.md §10.1) put room tone where each sound would have been.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from evoxtral_bench.corpus.synth.audio import SAMPLE_RATE, resample, to_pcm16
from evoxtral_bench.corpus.synth.clip import Job, Span
from evoxtral_bench.corpus.synth.plan import Part, Plan, Sound, Speech
from evoxtral_bench.corpus.synth.script import SOUND_TAGS, Cue, Script

LEAD_S, TAIL_S = 0.25, 0.35
"""Silence before the first and after the last part, seconds."""
SOUND_GAP_S = 0.12
"""The least gap before and after a non-verbal sound, seconds."""
PEAK = 0.97
"""A clip louder than this is scaled down to it (full scale 1)."""


class Speaker(Protocol):
    """How one renderer voices a clip: its sample rate, speech parts and non-verbal sounds."""

    rate: int

    def speak(self, part: Speech) -> tuple[np.ndarray, dict[int, tuple[int, int]], int]:
        """Samples of a speech part, word index -> (start, end) sample, start of its stutter."""
        ...

    def sound(self, label: str, rng: np.random.Generator) -> np.ndarray:
        """Samples of the non-verbal sound ``label``, drawn from ``rng``."""
        ...


@dataclass(frozen=True)
class Mixed:
    """An assembled clip: float samples at the speaker's rate and the spans of its words and tags."""

    samples: np.ndarray
    words: tuple[Span, ...]
    tags: tuple[Span, ...]


def assemble(job: Job, script: Script, plan: Plan, speaker: Speaker, rng: np.random.Generator) -> Mixed:
    """Join the plan's parts: speech, sounds (room tone when ``job.masked``; drawn either way, so the
    random stream stays the same) and silences, with gaps that follow the punctuation."""
    rate = speaker.rate
    chunks: list[np.ndarray] = [np.zeros(int(LEAD_S * rate))]
    cursor = len(chunks[0])
    part_spans: list[tuple[int, int]] = []
    word_at: dict[int, tuple[int, int]] = {}
    onsets: dict[int, int] = {}  # word index -> start of its stutter fragments
    previous: Part | None = None
    for part in plan.parts:
        gap = int(max(gap_after(previous), SOUND_GAP_S if isinstance(part, Sound) else 0.0) * rate)
        chunks.append(np.zeros(gap))
        cursor += gap
        if isinstance(part, Speech):
            audio, spans, onset = speaker.speak(part)
            word_at.update({i: (cursor + s, cursor + e) for i, (s, e) in spans.items()})
            if part.stutter:
                onsets[part.words[0][0]] = cursor + onset
        elif isinstance(part, Sound):
            audio = speaker.sound(part.label, rng).astype(np.float64)  # drawn when masked too
            if job.masked:
                audio = room_tone(len(audio))
        else:
            audio = np.zeros(int(part.seconds * rate))
        part_spans.append((cursor, cursor + len(audio)))
        chunks.append(audio)
        cursor += len(audio)
        previous = part
    chunks.append(np.zeros(int(TAIL_S * rate)))
    seconds = 1.0 / rate
    words = tuple(Span(w.text, word_at[i][0] * seconds, word_at[i][1] * seconds) for i, w in enumerate(script.words))
    tags = tuple(
        Span(cue.label, *(t * seconds for t in cue_span(cue, part, part_spans, word_at, onsets, cursor, job.masked, job.splice)))
        for cue, part in zip(script.cues, plan.cue_parts)
    )
    return Mixed(np.concatenate(chunks), words, tags)


def finish(mix: np.ndarray, rate: int, background: Callable[[int], np.ndarray] | None = None) -> np.ndarray:
    """The clip as 16 kHz int16: scaled down to :data:`PEAK` if louder, ``background(n)`` added
    (room tone at the output rate), clipped and rounded."""
    peak = float(np.max(np.abs(mix))) if len(mix) else 0.0
    if peak > PEAK:
        mix *= PEAK / peak
    out = resample(mix, rate, SAMPLE_RATE)
    if background is not None:
        out = out + background(len(out))
    return to_pcm16(out)


def cue_span(
    cue: Cue,
    part: int,
    part_spans: list[tuple[int, int]],
    word_spans: dict[int, tuple[int, int]],
    onsets: dict[int, int],
    end: int,
    masked: bool = False,
    splice: bool = False,
) -> tuple[int, int]:
    """Sample span of a cue: its sound (room tone when masked) or silence, then the words it governs
    (stutter included); a masked ``[pause]`` (and, when ``splice``, a masked sound) is an empty span
    where it would have been."""
    at = part_spans[part][0] if part < len(part_spans) else end
    if masked and (cue.label == "pause" or (splice and cue.label in SOUND_TAGS)):
        at = word_spans[cue.words.start][0] if cue.words.start in word_spans else end
        return at, at
    if cue.label in SOUND_TAGS or cue.label == "pause":
        at, end = part_spans[part]
    else:
        end = at
    if cue.words:
        first, last = cue.words[0], cue.words[-1]
        if cue.label not in SOUND_TAGS:
            at = onsets.get(first, word_spans[first][0])
        end = word_spans[last][1]
    return at, end

def room_tone(n: int) -> np.ndarray:
    """``n`` samples of the clip's background, the level of its lead-in and of every gap: digital
    silence in this renderer (what a masked track puts in place of a non-verbal sound)."""
    return np.zeros(n)

def gap_after(part: Part | None) -> float:
    """Pause after a part, seconds: longer after a sentence end than after a comma or mid-sentence."""
    if isinstance(part, Sound):
        return SOUND_GAP_S
    if not isinstance(part, Speech):
        return 0.0
    tail = part.text.rstrip().rstrip("\"'”’)")
    if tail.endswith((".", "!", "?", "…")):
        return 0.32
    if tail.endswith((",", ";", ":", "—", "–", "-")):
        return 0.16
    return 0.05

def add_stutter(
    x: np.ndarray, spans: list[tuple[int, int]], rate: int, part: Speech
) -> tuple[np.ndarray, list[tuple[int, int]], int]:
    """Repeat the first word's onset ``part.stutter`` times (its first ~0.15 s, faded out, each
    followed by 0.12 s of silence); return the samples, the shifted word spans and where the
    stutter starts (0 without one)."""
    if not part.stutter:
        return x, spans, 0
    onset, first_end = spans[0]
    size = min(int(0.15 * rate), max(int(0.05 * rate), (first_end - onset) // 2))
    fragment = x[onset : onset + size] * np.linspace(1.0, 0.0, len(x[onset : onset + size])) ** 0.5
    prefix = np.concatenate([fragment, np.zeros(int(0.12 * rate))] * part.stutter)
    x = np.concatenate([x[:onset], prefix, x[onset:]])
    spans = [(s + len(prefix), e + len(prefix)) for s, e in spans]
    if part.written_stutter:
        spans[0] = (onset, spans[0][1])
    return x, spans, onset

def trim(x: np.ndarray, threshold: float = 0.01) -> tuple[int, int]:
    """Bounds of the audible part of ``x`` (espeak-ng pads its output with silence)."""
    loud = np.flatnonzero(np.abs(x) > threshold)
    if len(loud) == 0:
        return 0, len(x)
    return int(loud[0]), int(loud[-1]) + 1

def word_spans(x: np.ndarray, starts: list[int], rate: int) -> list[tuple[int, int]]:
    """(start, end) samples of each word: it ends where its sound fades, before the next word starts."""
    hop = max(1, int(0.005 * rate))
    frames = np.abs(np.concatenate([x, np.zeros(-len(x) % hop)])).reshape(-1, hop).max(axis=1)
    active = frames > 0.05 * (frames.max() if len(frames) else 0.0)
    spans = []
    for k, start in enumerate(starts):
        stop = starts[k + 1] if k + 1 < len(starts) else len(x)
        first = start // hop
        loud = np.flatnonzero(active[first : -(-stop // hop)])
        end = (first + int(loud[-1]) + 2) * hop if len(loud) else start + 10 * hop
        spans.append((start, max(start + 1, min(end, stop))))
    return spans
