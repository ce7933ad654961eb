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
from evoxtral_bench.corpus.synth.audio import SAMPLE_RATE
from evoxtral_bench.corpus.synth.clip import Clip, Job
from evoxtral_bench.corpus.synth.mix import add_stutter, assemble, finish, trim, word_spans
from evoxtral_bench.corpus.synth.plan import Speech, make_plan
from evoxtral_bench.corpus.synth.pool import completed
from evoxtral_bench.corpus.synth.script import Script, read_script
from evoxtral_bench.corpus.synth.styles import apply_effects
from evoxtral_bench.corpus.synth.voices import pick_voice, stable_int
from evoxtral_bench.errors import InputError
from evoxtral_bench.tracks import ESPEAK_VOICES

DEFAULT_VOICES = ESPEAK_VOICES

_BASE_WPM = 165
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
        script.require_rendered(self.name)

    def voice_for(self, clip_id: str, seed: int, pool: Sequence[str] | None = None) -> str:
        return resolve_voice(pick_voice(pool or self.pool, clip_id, seed), clip_id, seed).spec

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
    speaker = _Espeak(voice, espeak.sample_rate())
    mixed = assemble(job, script, plan, speaker, rng)
    return Clip(pcm=finish(mixed.samples, speaker.rate), sample_rate=SAMPLE_RATE, voice=voice.spec, tags=mixed.tags, words=mixed.words)


@dataclass(frozen=True)
class _Espeak:
    """The offline :class:`~evoxtral_bench.corpus.synth.mix.Speaker`: espeak-ng speech, numpy sounds."""

    voice: Voice
    rate: int

    def speak(self, part: Speech) -> tuple[np.ndarray, dict[int, tuple[int, int]], int]:
        return _speak(part, self.voice, self.rate)

    def sound(self, label: str, rng: np.random.Generator) -> np.ndarray:
        return _SOUNDS[label](self.rate, self.voice.f0, rng)


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
    lo, hi = trim(x)
    x = apply_effects(x[lo:hi], rate, style)
    spans = word_spans(x, [min(max(s - lo, 0), len(x)) for s in starts], rate)
    x, spans, onset = add_stutter(x, spans, rate, part)
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


if __name__ == "__main__":
    job, seed = pickle.load(sys.stdin.buffer)
    sys.stdout.buffer.write(pickle.dumps(render_clip(job, seed)))
