"""Sample-rate conversion and 16-bit PCM WAV encoding."""

from __future__ import annotations

import io
import wave

import numpy as np

SAMPLE_RATE = 16000
"""Sample rate of every clip the backends write, Hz."""


def resample(x: np.ndarray, rate_in: int, rate_out: int) -> np.ndarray:
    """Band-limited resampling of a whole clip in the frequency domain (float in, float64 out)."""
    if rate_in == rate_out or len(x) == 0:
        return np.asarray(x, dtype=np.float64)
    n_out = int(round(len(x) * rate_out / rate_in))
    spectrum = np.fft.rfft(x)[: n_out // 2 + 1]
    return np.fft.irfft(spectrum, n_out) * (n_out / len(x))


def to_pcm16(x: np.ndarray) -> np.ndarray:
    """Float samples in [-1, 1] to int16 (clipped, rounded)."""
    return np.round(np.clip(x, -1.0, 1.0) * 32767.0).astype("<i2")


def wav_bytes(pcm: np.ndarray | bytes, sample_rate: int) -> bytes:
    """A mono 16-bit PCM WAV file holding ``pcm`` (int16 samples or little-endian bytes)."""
    data = pcm if isinstance(pcm, bytes) else np.asarray(pcm, dtype="<i2").tobytes()
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(sample_rate)
        out.writeframes(data)
    return buffer.getvalue()
