"""How the offline backend delivers each style tag and CAPS emphasis: espeak-ng prosody plus numpy effects.

Every style moves rate, pitch, pitch range and loudness its own way, so that the clauses can be
told apart by ear and by simple measurements; nervous, scared and crying add tremolo and vibrato,
angry adds saturation, frustrated spaces its words, confused ends on a rising question contour.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np


@dataclass(frozen=True)
class Style:
    """Delivery of a clause. espeak-ng units: ``pitch`` is added to the voice's base pitch (0-99
    scale), ``pitch_range`` 0-99, ``volume`` 0-200, ``word_gap`` in 10 ms units; ``rate`` multiplies
    the base words per minute; ``gain`` multiplies the samples; ``tremolo``/``vibrato`` are
    (Hz, depth) with depth a fraction of the amplitude/pitch; ``drive`` is tanh saturation."""

    rate: float = 1.0
    pitch: int = 0
    pitch_range: int = 50
    volume: int = 100
    word_gap: int = 0
    whisper: bool = False
    gain: float = 1.0
    tremolo: tuple[float, float] = (0.0, 0.0)
    vibrato: tuple[float, float] = (0.0, 0.0)
    drive: float = 0.0
    question: bool = False


NEUTRAL = Style()
STYLES: dict[str, Style] = {
    "whispers": Style(rate=0.9, whisper=True, gain=0.4),
    "shouts": Style(rate=1.05, pitch=32, pitch_range=90, volume=180, drive=1.5, gain=1.2),
    "angry": Style(rate=1.2, pitch=6, pitch_range=85, volume=125, drive=2.0, gain=0.85),
    "excited": Style(rate=1.3, pitch=22, pitch_range=99, volume=125),
    "sad": Style(rate=0.72, pitch=-18, pitch_range=12, volume=65),
    "calm": Style(rate=0.82, pitch=-8, pitch_range=30, volume=80),
    "nervous": Style(rate=1.22, pitch=10, pitch_range=40, volume=85, tremolo=(6.0, 0.35), vibrato=(6.0, 0.03)),
    "scared": Style(rate=1.12, pitch=28, pitch_range=70, volume=80, tremolo=(9.0, 0.45), vibrato=(9.0, 0.05)),
    "frustrated": Style(rate=0.95, pitch=-10, pitch_range=75, volume=135, word_gap=4),
    "confused": Style(rate=0.82, pitch=10, pitch_range=80, volume=90, question=True),
    "crying": Style(rate=0.75, pitch=14, pitch_range=25, volume=75, tremolo=(5.0, 0.45), vibrato=(7.0, 0.06)),
}


def stacked(first: Style, second: Style) -> Style:
    """Two styles on one clause (``[whispers] [scared]``): rates and gains multiply, pitch offsets add,
    volumes scale, the pitch range furthest from neutral and the stronger effects win."""
    return Style(
        rate=first.rate * second.rate,
        pitch=first.pitch + second.pitch,
        pitch_range=max(first.pitch_range, second.pitch_range, key=lambda r: abs(r - NEUTRAL.pitch_range)),
        volume=min(200, round(first.volume * second.volume / 100)),
        word_gap=max(first.word_gap, second.word_gap),
        whisper=first.whisper or second.whisper,
        gain=first.gain * second.gain,
        tremolo=max(first.tremolo, second.tremolo, key=lambda t: t[1]),
        vibrato=max(first.vibrato, second.vibrato, key=lambda v: v[1]),
        drive=max(first.drive, second.drive),
        question=first.question or second.question,
    )


def emphasized(style: Style) -> Style:
    """The style of a CAPS word inside ``style``: slower, higher, wider and louder."""
    return replace(
        style,
        rate=style.rate * 0.78,
        pitch=style.pitch + 25,
        pitch_range=min(99, style.pitch_range + 25),
        volume=min(200, int(style.volume * 1.6)),
    )


def apply_effects(x: np.ndarray, sample_rate: int, style: Style) -> np.ndarray:
    """The numpy part of a style: vibrato, tremolo, saturation and gain on float samples."""
    t = np.arange(len(x)) / sample_rate
    hz, depth = style.vibrato
    if depth:
        warp = t + depth / (2 * np.pi * hz) * np.sin(2 * np.pi * hz * t)
        x = np.interp(np.clip(warp, 0, t[-1]), t, x)
    hz, depth = style.tremolo
    if depth:
        x = x * (1 - depth / 2 + depth / 2 * np.sin(2 * np.pi * hz * t))
    if style.drive:
        x = np.tanh(style.drive * x) / np.tanh(style.drive)
    return x * style.gain
