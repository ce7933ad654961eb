"""Offline backend: espeak-ng speech with audible tags and numpy non-verbal sounds, 16 kHz mono.

A clip is planned (:mod:`evoxtral_bench.corpus.synth.plan`) as a sequence of parts: runs of words spoken
in one style, non-verbal sounds and silences. Each speech part is one espeak-ng
call whose word events give the word start times; parts are trimmed and joined with pauses that
follow the punctuation. ``[stammers]`` (and a written stutter such as ``W-well``) repeats the
onset of the word: its first ~0.15 s, faded out, twice before the word.

Determinism: the plan's random choices (pause lengths, sounds) come from a generator seeded by
clip id and seed; espeak-ng keeps state between calls, so :class:`OfflineBackend` renders every
clip in a fresh interpreter (``python -m evoxtral_bench.corpus.synth.offline``: a pickled (job, seed) on
stdin, the pickled :class:`Clip` on stdout).
"""

from __future__ import annotations

import os
import pickle
import re
import subprocess
import sys
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from evoxtral_bench.corpus.synth import espeak, sounds
from evoxtral_bench.corpus.synth.audio import SAMPLE_RATE, resample, to_pcm16
from evoxtral_bench.corpus.synth.clip import Clip, Job, Span
from evoxtral_bench.corpus.synth.plan import Part, Sound, Speech, make_plan
from evoxtral_bench.corpus.synth.pool import completed
from evoxtral_bench.corpus.synth.script import Cue, Script, read_script
from evoxtral_bench.corpus.synth.styles import apply_effects
from evoxtral_bench.corpus.synth.voices import pick_voice, stable_int
from evoxtral_bench.errors import InputError
from evoxtral_bench.tracks import ESPEAK_VOICES

DEFAULT_VOICES = ESPEAK_VOICES

_BASE_WPM = 165
_LEAD_S, _TAIL_S = 0.25, 0.35
_SOUND_GAP_S = 0.12
_PEAK = 0.97
_SOUNDS = {
    "laughs": sounds.laugh,
    "sighs": sounds.sigh,
    "gasps": sounds.gasp,
    "crying": sounds.sob,
    "clears throat": sounds.throat_clear,
}
_VOICE_SPEC = re.compile(r"^([A-Za-z0-9_+-]+?)(?:@(\d{1,2}))?$")


@dataclass(frozen=True)
class Voice:
    """An espeak-ng voice (``en-gb+f3``) at a base pitch (0-99); written ``en-gb+f3@47``."""

    name: str
    pitch: int

    @property
    def spec(self) -> str:
        return f"{self.name}@{self.pitch}"

    @property
    def female(self) -> bool:
        return "+f" in self.name

    @property
    def whisper_name(self) -> str:
        return self.name.split("+")[0] + ("+whisperf" if self.female else "+whisper")

    @property
    def f0(self) -> float:
        """Base pitch of the non-verbal sounds, Hz."""
        return (210.0 if self.female else 115.0) * (0.8 + 0.4 * self.pitch / 99)


def resolve_voice(entry: str, clip_id: str, seed: int) -> Voice:
    """Parse a pool entry (``en-us+f2`` or ``en-us+f2@55``); without ``@NN`` the pitch is drawn per clip."""
    match = _VOICE_SPEC.match(entry)
    if not match:
        raise InputError(f"offline voice {entry!r} is not NAME or NAME@PITCH (e.g. en-us+f2@55)")
    pitch = match.group(2)
    return Voice(match.group(1), int(pitch) if pitch else 38 + stable_int("pitch", clip_id, seed) % 25)


class OfflineBackend:
    """Renders clips with espeak-ng, each in a fresh worker process, ``concurrency`` at a time."""

    name = "offline"

    def __init__(self, voices: Sequence[str] | None = None) -> None:
        self.pool = tuple(voices or DEFAULT_VOICES)
        for entry in self.pool:
            voice = resolve_voice(entry, "", 0)
            for name in (voice.name, voice.whisper_name):
                if not espeak.voice_exists(name):
                    raise InputError(
                        f"offline voice {entry!r}: espeak-ng has no voice {name!r} "
                        "(voice file names as in `espeak-ng --voices=en`, e.g. en-us, en, en-gb-x-rp; variants +f1..+f5, +m1..+m7)"
                    )

    def check(self, script: Script) -> None:
        """Reject tags the offline backend cannot render (anything but the 17 canonical tags)."""
        if script.oov_labels:
            raise InputError(
                f"tag(s) {', '.join(map(repr, script.oov_labels))} are not canonical; the offline backend renders "
                "only the 17 canonical tags (evoxtral-bench tags)"
            )

    def voice_for(self, clip_id: str, seed: int) -> str:
        return resolve_voice(pick_voice(self.pool, clip_id, seed), clip_id, seed).spec

    def render(self, jobs: Sequence[Job], seed: int, concurrency: int) -> Iterator[tuple[Job, Clip]]:
        """Yield each job with its clip as workers finish; every clip gets a fresh process."""
        yield from completed(ThreadPoolExecutor(max_workers=concurrency), _render_in_subprocess, jobs, seed)


def _render_in_subprocess(job: Job, seed: int) -> Clip:
    """Run :func:`render_clip` in a fresh interpreter (``python -m evoxtral_bench.corpus.synth.offline``)."""
    root = str(Path(__file__).resolve().parents[3])  # importable even when not installed
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
    done = subprocess.run(
        [sys.executable, "-m", __name__], input=pickle.dumps((job, seed)), capture_output=True, check=False, env=env
    )
    if done.returncode != 0:
        detail = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise RuntimeError(f"offline synthesis of clip {job.id!r} failed: {detail[-1] if detail else done.returncode}")
    return pickle.loads(done.stdout)


def render_clip(job: Job, seed: int) -> Clip:
    """Render one clip (call in a fresh process for byte-identical output; see module docstring)."""
    script = read_script(job.text)
    voice = resolve_voice(job.voice, job.id, seed)
    rng = np.random.default_rng(stable_int("offline", job.id, seed))
    plan = make_plan(script, rng, masked=job.masked)
    rate = espeak.sample_rate()
    chunks: list[np.ndarray] = [np.zeros(int(_LEAD_S * rate))]
    cursor = len(chunks[0])
    part_spans: list[tuple[int, int]] = []
    word_spans: dict[int, tuple[int, int]] = {}
    onsets: dict[int, int] = {}  # word index -> start of its stutter fragments
    previous: Part | None = None
    for part in plan.parts:
        gap = int(max(_gap_after(previous), _SOUND_GAP_S if isinstance(part, Sound) else 0.0) * rate)
        chunks.append(np.zeros(gap))
        cursor += gap
        if isinstance(part, Speech):
            audio, spans, onset = _speak(part, voice, rate)
            word_spans.update({i: (cursor + s, cursor + e) for i, (s, e) in spans.items()})
            if part.stutter:
                onsets[part.words[0][0]] = cursor + onset
        elif isinstance(part, Sound):
            audio = _SOUNDS[part.label](rate, voice.f0, rng).astype(np.float64)  # drawn when masked too
            if job.masked:
                audio = room_tone(len(audio))
        else:
            audio = np.zeros(int(part.seconds * rate))
        part_spans.append((cursor, cursor + len(audio)))
        chunks.append(audio)
        cursor += len(audio)
        previous = part
    chunks.append(np.zeros(int(_TAIL_S * rate)))
    mix = np.concatenate(chunks)
    peak = float(np.max(np.abs(mix))) if len(mix) else 0.0
    if peak > _PEAK:
        mix *= _PEAK / peak
    pcm = to_pcm16(resample(mix, rate, SAMPLE_RATE))
    seconds = 1.0 / rate
    words = tuple(
        Span(w.text, word_spans[i][0] * seconds, word_spans[i][1] * seconds) for i, w in enumerate(script.words)
    )
    tags = tuple(
        Span(cue.label, *(t * seconds for t in _cue_span(cue, part, part_spans, word_spans, onsets, cursor, job.masked)))
        for cue, part in zip(script.cues, plan.cue_parts)
    )
    return Clip(pcm=pcm, sample_rate=SAMPLE_RATE, voice=voice.spec, tags=tags, words=words)


def _cue_span(
    cue: Cue,
    part: int,
    part_spans: list[tuple[int, int]],
    word_spans: dict[int, tuple[int, int]],
    onsets: dict[int, int],
    end: int,
    masked: bool = False,
) -> tuple[int, int]:
    """Sample span of a cue: its sound (room tone when masked) or silence, then the words it governs
    (stutter included); a masked ``[pause]`` is an empty span where it would have been."""
    at = part_spans[part][0] if part < len(part_spans) else end
    if masked and cue.label == "pause":
        at = word_spans[cue.words.start][0] if cue.words.start in word_spans else end
        return at, at
    if cue.label in _SOUNDS or cue.label == "pause":
        at, end = part_spans[part]
    else:
        end = at
    if cue.words:
        first, last = cue.words[0], cue.words[-1]
        if cue.label not in _SOUNDS:
            at = onsets.get(first, word_spans[first][0])
        end = word_spans[last][1]
    return at, end


def room_tone(n: int) -> np.ndarray:
    """``n`` samples of the clip's background, the level of its lead-in and of every gap: digital
    silence in this renderer (what a masked track puts in place of a non-verbal sound)."""
    return np.zeros(n)


def _gap_after(part: Part | None) -> float:
    """Pause after a part, seconds: longer after a sentence end than after a comma or mid-sentence."""
    if isinstance(part, Sound):
        return _SOUND_GAP_S
    if not isinstance(part, Speech):
        return 0.0
    tail = part.text.rstrip().rstrip("\"'”’)")
    if tail.endswith((".", "!", "?", "…")):
        return 0.32
    if tail.endswith((",", ";", ":", "—", "–", "-")):
        return 0.16
    return 0.05


def _speak(part: Speech, voice: Voice, rate: int) -> tuple[np.ndarray, dict[int, tuple[int, int]], int]:
    """Render a speech part: samples, word index -> (start, end) sample, start of the stutter."""
    style = part.style
    open_end = part.text.rstrip()[-1:].isalnum()  # mid-sentence: a comma keeps the pitch from falling
    speech = espeak.render(
        part.text.rstrip() + "," if open_end else part.text,
        voice=voice.whisper_name if style.whisper else voice.name,
        rate=round(_BASE_WPM * style.rate),
        pitch=int(np.clip(voice.pitch + style.pitch, 0, 99)),
        pitch_range=style.pitch_range,
        volume=style.volume,
        word_gap=style.word_gap,
    )
    x = speech.samples.astype(np.float64) / 32768.0
    starts = _word_starts(part, speech.words, len(x))
    lo, hi = _trim(x)
    x = apply_effects(x[lo:hi], rate, style)
    spans = _word_spans(x, [min(max(s - lo, 0), len(x)) for s in starts], rate)
    onset = 0
    if part.stutter:
        onset, first_end = spans[0]
        size = min(int(0.15 * rate), max(int(0.05 * rate), (first_end - onset) // 2))
        fragment = x[onset : onset + size] * np.linspace(1.0, 0.0, len(x[onset : onset + size])) ** 0.5
        prefix = np.concatenate([fragment, np.zeros(int(0.12 * rate))] * part.stutter)
        x = np.concatenate([x[:onset], prefix, x[onset:]])
        spans = [(s + len(prefix), e + len(prefix)) for s, e in spans]
        if part.written_stutter:
            spans[0] = (onset, spans[0][1])
    return x, {index: span for (index, _, _), span in zip(part.words, spans)}, onset


def _word_starts(part: Speech, events: Sequence[espeak.WordEvent], n: int) -> list[int]:
    """Start sample of each word of ``part``: its first word event, else interpolated by characters."""
    starts: list[int | None] = [None] * len(part.words)
    for event in events:
        for k, (_, start, end) in enumerate(part.words):
            if start <= event.position < end and starts[k] is None:
                starts[k] = event.sample
    chars = [0] + [part.words[k][1] for k, s in enumerate(starts) if s is not None] + [len(part.text)]
    samples = [0] + [s for s in starts if s is not None] + [n]
    filled = [s if s is not None else int(np.interp(part.words[k][1], chars, samples)) for k, s in enumerate(starts)]
    return [int(v) for v in np.maximum.accumulate(filled)] if filled else []


def _trim(x: np.ndarray, threshold: float = 0.01) -> tuple[int, int]:
    """Bounds of the audible part of ``x`` (espeak-ng pads its output with silence)."""
    loud = np.flatnonzero(np.abs(x) > threshold)
    if len(loud) == 0:
        return 0, len(x)
    return int(loud[0]), int(loud[-1]) + 1


def _word_spans(x: np.ndarray, starts: list[int], rate: int) -> list[tuple[int, int]]:
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


if __name__ == "__main__":
    job, seed = pickle.load(sys.stdin.buffer)
    sys.stdout.buffer.write(pickle.dumps(render_clip(job, seed)))
