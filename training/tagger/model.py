"""The event tagger network and its checkpoint (weights, configuration, tuned decoding)."""

from __future__ import annotations

import dataclasses
import io
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from evoxtral_bench import InputError, write_bytes

from .config import ModelConfig, TaggerConfig, from_dict
from .decode import Rule
from .labels import OUTPUTS

CHECKPOINT_FORMAT = 1


def output_frames(input_frames: torch.Tensor) -> torch.Tensor:
    """Output frames for ``input_frames`` log-mel frames: ceil(n / 4) (two stride-2 convolutions)."""
    return (input_frames + 3) // 4


class Tagger(nn.Module):
    """log-mel ``(batch, n_mels, frames)`` -> logits ``(batch, ceil(frames / 4), len(OUTPUTS))``."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        if cfg.kernel % 2 != 1:
            raise InputError(f"model.kernel: expected an odd width, got {cfg.kernel}")
        pad = cfg.kernel // 2
        self.conv1 = nn.Conv1d(cfg.n_mels, cfg.channels, cfg.kernel, stride=2, padding=pad)
        self.conv2 = nn.Conv1d(cfg.channels, cfg.channels, cfg.kernel, stride=2, padding=pad)
        self.dropout = nn.Dropout(cfg.dropout)
        self.gru = nn.GRU(
            cfg.channels,
            cfg.hidden,
            num_layers=cfg.layers,
            batch_first=True,
            bidirectional=True,
            dropout=cfg.dropout if cfg.layers > 1 else 0.0,
        )
        self.head = nn.Sequential(nn.Dropout(cfg.dropout), nn.Linear(2 * cfg.hidden, len(OUTPUTS)))

    def forward(self, features: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """``lengths``: valid input frames per clip (the rest is padding, which never reaches the
        valid outputs); logits past a clip's output length are padding."""
        x = nn.functional.gelu(self.conv1(features))
        half = (lengths + 1) // 2
        x = x * (torch.arange(x.shape[2]) < half[:, None]).unsqueeze(1)  # as if each clip were alone
        x = self.dropout(nn.functional.gelu(self.conv2(x))).transpose(1, 2)
        packed = pack_padded_sequence(x, output_frames(lengths).cpu(), batch_first=True, enforce_sorted=False)
        y, _ = self.gru(packed)
        y, _ = pad_packed_sequence(y, batch_first=True, total_length=x.shape[1])
        return self.head(y)


@dataclass
class Checkpoint:
    """A trained tagger with its tuned decoding: a rule per tag and the emphasis threshold."""

    model: Tagger
    config: TaggerConfig
    rules: dict[str, Rule]
    emphasis_threshold: float
    summary: dict

    @torch.no_grad()
    def probabilities(self, features: torch.Tensor) -> torch.Tensor:
        """``(frames / 4, len(OUTPUTS))`` probabilities of one clip's ``(n_mels, frames)`` log-mel."""
        self.model.eval()
        lengths = torch.tensor([features.shape[1]])
        return torch.sigmoid(self.model(features.unsqueeze(0), lengths)[0])

    def save(self, path: str | Path) -> None:
        """Write the checkpoint atomically (torch.save of plain tensors, numbers and strings)."""
        payload = {
            "format": CHECKPOINT_FORMAT,
            "outputs": list(OUTPUTS),
            "config": dataclasses.asdict(self.config),
            "state_dict": self.model.state_dict(),
            "rules": {label: dataclasses.asdict(rule) for label, rule in self.rules.items()},
            "emphasis_threshold": self.emphasis_threshold,
            "summary": self.summary,
        }
        buffer = io.BytesIO()
        torch.save(payload, buffer)
        write_bytes(path, buffer.getvalue())


def load_checkpoint(path: str | Path) -> Checkpoint:
    """A checkpoint written by :meth:`Checkpoint.save`, in eval mode on the CPU."""
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except (OSError, RuntimeError) as err:
        raise InputError(f"{path}: not a readable tagger checkpoint: {err}") from err
    if not isinstance(payload, dict) or payload.get("format") != CHECKPOINT_FORMAT or payload.get("outputs") != list(OUTPUTS):
        raise InputError(f"{path}: not a tagger checkpoint of format {CHECKPOINT_FORMAT} with outputs {', '.join(OUTPUTS)}")
    config = from_dict(payload["config"])
    model = Tagger(config.model)
    model.load_state_dict(payload["state_dict"])
    model.eval()
    rules = {label: Rule(**rule) for label, rule in payload["rules"].items()}
    return Checkpoint(model, config, rules, float(payload["emphasis_threshold"]), dict(payload["summary"]))
