"""The tagger's configuration: three small dataclass sections, read from YAML and overridden.

``training/configs/tagger.yaml`` holds the values the committed checkpoint was trained with.
Values are converted with the reference training's rules (:mod:`training.config`): a key is
``section.field``; unknown keys and values of the wrong type are an InputError.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evoxtral_bench import InputError
from training.config import CONFIG_DIR, apply, described

DEFAULT_CONFIG = CONFIG_DIR / "tagger.yaml"


@dataclass
class ModelConfig:
    """The network; its output rate is 100 / 4 = 25 frames/s (two stride-2 convolutions)."""

    n_mels: int = described(80, "log-mel bins of the input (WhisperFeatureExtractor feature_size)")
    channels: int = described(128, "channels of the two conv1d layers")
    kernel: int = described(5, "conv1d kernel width (input frames)")
    hidden: int = described(96, "GRU hidden units per direction")
    layers: int = described(1, "stacked bidirectional GRU layers")
    dropout: float = described(0.1, "dropout after the convolutions and before the output layer")


@dataclass
class TrainConfig:
    epochs: int = described(30, "passes over the training clips")
    batch_size: int = described(16, "clips per optimizer step (batches are drawn from clips of similar length)")
    learning_rate: float = described(2e-3, "peak AdamW learning rate (one-cycle schedule)")
    weight_decay: float = described(1e-2, "AdamW weight decay")
    max_grad_norm: float = described(1.0, "gradient clipping norm")
    seed: int = described(0, "seed of initialization, batch order and dropout")
    threads: int = described(2, "torch CPU threads (training and inference)")
    min_span_s: float = described(0.1, "a zero-length tag span is labelled over this many seconds after its start")
    progress: bool = described(True, "show progress bars")


@dataclass
class DecodeConfig:
    """Candidates for each tag's decoding rule, tuned per tag on validation (seconds are rounded
    to 40 ms frames)."""

    thresholds: list[float] = described([round(0.05 * i, 2) for i in range(1, 20)], "candidate probability thresholds (also for emphasis)")
    merge_gaps_s: list[float] = described([0.12, 0.24, 0.4, 0.8], "candidate gaps (seconds): runs above threshold this close are one event")
    min_lengths_s: list[float] = described([0.04, 0.08, 0.16, 0.24, 0.32, 0.48, 0.64, 0.8, 1.0], "candidate minimum event lengths (seconds)")


@dataclass
class TaggerConfig:
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    decode: DecodeConfig = field(default_factory=DecodeConfig)


SECTIONS: dict[str, type] = {f.name: f.default_factory for f in dataclasses.fields(TaggerConfig)}  # type: ignore[misc]


def load(path: str | Path | None = DEFAULT_CONFIG, overrides: list[tuple[str, Any]] = ()) -> TaggerConfig:
    """The dataclass defaults, then the YAML file ``path``, then ``overrides`` (key, value)."""
    config = apply(TaggerConfig(), path, list(overrides), what="tagger config")
    if config.train.epochs < 1 or config.train.batch_size < 1 or config.train.threads < 1:
        raise InputError("train.epochs, train.batch_size and train.threads must be at least 1")
    return config


def from_dict(data: dict[str, dict[str, Any]]) -> TaggerConfig:
    """The configuration saved in a checkpoint (:func:`dataclasses.asdict` of one)."""
    return load(None, [(f"{section}.{name}", value) for section, values in data.items() for name, value in values.items()])
