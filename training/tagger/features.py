"""Log-mel input frames: Whisper's front end (25 ms windows every 10 ms, i.e. 100 frames/s)."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from training.data import SAMPLING_RATE


@lru_cache(maxsize=2)
def _extractor(n_mels: int):
    from transformers import WhisperFeatureExtractor

    return WhisperFeatureExtractor(feature_size=n_mels, sampling_rate=SAMPLING_RATE)


def log_mel(audio: np.ndarray, n_mels: int) -> np.ndarray:
    """``(n_mels, frames)`` float32 log-mel of 16 kHz samples, the whole clip (no padding or cut)."""
    features = _extractor(n_mels)(
        audio, sampling_rate=SAMPLING_RATE, padding=False, truncation=False, return_tensors="np"
    )["input_features"][0]
    return np.ascontiguousarray(features, dtype=np.float32)
