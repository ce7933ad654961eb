"""Non-verbal sounds synthesized with numpy: laugh, sigh, gasp, sob (crying), throat clearing.

Every function takes the sample rate (Hz), the speaker's base pitch ``f0`` (Hz) and a numpy
``Generator`` and returns float32 samples in [-1, 1]; same generator state, same samples.
The sounds differ in what a listener (or a model) can hear:

* laugh: 4-6 short breathy voiced "ha" bursts, pitch stepping down;
* sigh: an audible exhale, about a second of "haa" noise whose spectrum falls, faint low voicing;
* gasp: a short, sharp inhale, noise whose spectrum rises, cut off abruptly;
* sob: 3-4 wavering high voiced wails, each after a catching "hic" inhale;
* throat clearing: two low, creaky, noisy rumbles ("uh-hm").
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

Formants = Sequence[tuple[float, float]]
"""(centre Hz, bandwidth Hz) pairs of a vocal-tract shape."""

_A: Formants = ((800, 160), (1200, 200), (2600, 300))  # "ah"
_H: Formants = ((600, 300), (1100, 350), (2400, 500))  # breathy "haa"
_U: Formants = ((450, 120), (1000, 200), (2600, 300))  # "uh"
_M: Formants = ((300, 150), (900, 250))  # closed-mouth "hm"


def laugh(sr: int, f0: float, rng: np.random.Generator) -> np.ndarray:
    """A laugh: 4-6 "ha" bursts of ~0.13 s, 0.08 s apart, each lower and quieter than the last."""
    parts = []
    for k in range(int(rng.integers(4, 7))):
        dur = rng.uniform(0.10, 0.15)
        pitch = f0 * (1.55 - 0.07 * k) * np.linspace(1.05, 0.95, _n(sr, dur))
        aspiration = _shape(rng.standard_normal(_n(sr, 0.045)), sr, _H) * _envelope(_n(sr, 0.045), 0.3, 0.3)
        vowel = 0.75 * _shape(_voice(pitch, sr, rng, jitter=0.02), sr, _A) + 0.25 * _shape(
            rng.standard_normal(len(pitch)), sr, _A
        )
        burst = np.concatenate([0.35 * aspiration, vowel * _envelope(len(vowel), 0.15, 0.45)])
        parts += [0.9**k * burst, np.zeros(_n(sr, rng.uniform(0.06, 0.10)))]
    return _normalize(np.concatenate(parts), 0.55)


def sigh(sr: int, f0: float, rng: np.random.Generator) -> np.ndarray:
    """A sigh: ~1.2 s exhale, breathy noise with a falling spectrum and envelope, faint falling voicing."""
    n = _n(sr, rng.uniform(1.0, 1.4))
    noise = _sweep(rng.standard_normal(n), sr, _H, 1.15, 0.7)
    pitch = f0 * np.linspace(0.85, 0.6, n)
    murmur = _shape(_voice(pitch, sr, rng, jitter=0.03), sr, _U)
    out = (noise + 0.18 * murmur) * _decay(n, attack=0.12, tau=0.45)
    return _normalize(out, 0.4)


def gasp(sr: int, f0: float, rng: np.random.Generator) -> np.ndarray:
    """A gasp: a ~0.35 s sharp inhale, noise whose spectrum rises, loudest at the end and cut off."""
    n = _n(sr, rng.uniform(0.3, 0.4))
    noise = _sweep(rng.standard_normal(n), sr, ((1000, 500), (2200, 700), (3600, 900)), 0.8, 1.5)
    rise = np.linspace(0.3, 1.0, n) ** 1.5 * _envelope(n, 0.04, 0.02)
    return _normalize(noise * rise, 0.6)


def sob(sr: int, f0: float, rng: np.random.Generator) -> np.ndarray:
    """Crying: 3-4 sobs, each a catching "hic" inhale then a ~0.45 s high wavering wail."""
    parts = []
    for k in range(int(rng.integers(3, 5))):
        hic = _sweep(rng.standard_normal(_n(sr, 0.1)), sr, ((1500, 600), (3000, 800)), 0.8, 1.3)
        n = _n(sr, rng.uniform(0.38, 0.55))
        t = np.arange(n) / sr
        wobble = 1 + 0.07 * np.sin(2 * np.pi * rng.uniform(6.0, 8.0) * t)
        pitch = f0 * (1.9 - 0.1 * k) * np.linspace(1.0, 0.8, n) * wobble
        wail = 0.7 * _shape(_voice(pitch, sr, rng, jitter=0.04), sr, _U) + 0.3 * _shape(rng.standard_normal(n), sr, _U)
        wail *= _envelope(n, 0.08, 0.5) * (1 - 0.35 * np.abs(np.sin(2 * np.pi * 5 * t)))
        parts += [0.4 * hic * _envelope(len(hic), 0.2, 0.2), np.zeros(_n(sr, 0.03)), wail, np.zeros(_n(sr, 0.12))]
    return _normalize(np.concatenate(parts), 0.5)


def throat_clear(sr: int, f0: float, rng: np.random.Generator) -> np.ndarray:
    """Throat clearing: a short and a longer low rumble, creaky (irregular) voicing plus low noise."""
    parts = []
    for dur, formants in ((0.17, _U), (0.3, _M)):
        n = _n(sr, dur * rng.uniform(0.9, 1.1))
        creak = _voice(np.full(n, f0 * 0.55), sr, rng, jitter=0.25)
        rumble = _shape(rng.standard_normal(n), sr, ((250, 200), (700, 300)))
        parts += [(0.6 * _shape(creak, sr, formants) + 0.6 * rumble) * _envelope(n, 0.08, 0.35), np.zeros(_n(sr, 0.12))]
    return _normalize(np.concatenate(parts[:-1]), 0.5)


def _n(sr: int, seconds: float) -> int:
    return max(1, int(round(sr * seconds)))


def _voice(pitch: np.ndarray, sr: int, rng: np.random.Generator, jitter: float) -> np.ndarray:
    """A glottal-like sawtooth following ``pitch`` (Hz per sample), with per-period pitch jitter."""
    periods = int(np.sum(pitch) / sr) + 2
    wobble = 1 + jitter * rng.standard_normal(periods)
    phase = np.cumsum(pitch / sr)
    local = pitch * wobble[np.minimum(phase.astype(int), periods - 1)]
    cycles = np.cumsum(local / sr)
    saw = 2 * (cycles - np.floor(cycles)) - 1
    return saw - np.mean(saw)


def _resonance(freqs: np.ndarray, formants: Formants) -> np.ndarray:
    gain = np.full_like(freqs, 0.02)
    for centre, width in formants:
        gain += 1 / (1 + ((freqs - centre) / (width / 2)) ** 2)
    return gain


def _shape(x: np.ndarray, sr: int, formants: Formants) -> np.ndarray:
    """Filter ``x`` through a fixed vocal-tract shape (FFT domain)."""
    freqs = np.fft.rfftfreq(len(x), 1 / sr)
    return np.fft.irfft(np.fft.rfft(x) * _resonance(freqs, formants), len(x))


def _sweep(x: np.ndarray, sr: int, formants: Formants, start: float, stop: float) -> np.ndarray:
    """Filter ``x`` through ``formants`` scaled from ``start`` to ``stop`` times over its length."""
    frame, hop = 1024, 256
    window = np.hanning(frame)
    padded = np.concatenate([np.zeros(frame), x, np.zeros(frame)])
    out = np.zeros_like(padded)
    norm = np.zeros_like(padded)
    freqs = np.fft.rfftfreq(frame, 1 / sr)
    starts = range(0, len(padded) - frame, hop)
    for s in starts:
        scale = start + (stop - start) * min(1.0, max(0.0, (s - frame / 2) / max(1, len(x))))
        shaped = [(c * scale, w * scale) for c, w in formants]
        spec = np.fft.rfft(padded[s : s + frame] * window) * _resonance(freqs, shaped)
        out[s : s + frame] += np.fft.irfft(spec, frame) * window
        norm[s : s + frame] += window**2
    return (out / np.maximum(norm, 1e-3))[frame : frame + len(x)]


def _envelope(n: int, attack: float, release: float) -> np.ndarray:
    """Raised-cosine fade in over ``attack`` and out over ``release`` (fractions of ``n``)."""
    env = np.ones(n)
    a, r = max(1, int(n * attack)), max(1, int(n * release))
    env[:a] *= 0.5 - 0.5 * np.cos(np.linspace(0, np.pi, a))
    env[n - r :] *= 0.5 + 0.5 * np.cos(np.linspace(0, np.pi, r))
    return env


def _decay(n: int, attack: float, tau: float) -> np.ndarray:
    """Quick rise over ``attack`` (fraction of ``n``), then exponential decay with time constant ``tau`` × n."""
    t = np.arange(n) / n
    return np.minimum(1.0, t / attack) * np.exp(-np.maximum(0.0, t - attack) / tau) * _envelope(n, 0.0, 0.1)


def _normalize(x: np.ndarray, peak: float) -> np.ndarray:
    return (x * (peak / max(np.max(np.abs(x)), 1e-9))).astype(np.float32)
