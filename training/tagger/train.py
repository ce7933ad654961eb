"""``python -m training tagger-train``: fit the tagger on the train split's offline audio, keep the
epoch with the lowest validation loss, tune the decoding on validation, save the checkpoint.

Features and frame labels of every clip are computed once and kept in memory. Batches hold
clips of similar length (sorted by length, cut into batches, batch order shuffled each epoch);
the loss is the binary cross-entropy of every output on every valid frame. Everything is
seeded and runs on ``train.threads`` CPU threads. Beside the checkpoint, ``NAME.train.json``
records the per-epoch losses, the validation scores and the wall time.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from evoxtral_bench import write_text
from evoxtral_bench.runner import sidecar

from .clips import Clip, read_clips
from .config import TaggerConfig
from .decode import tune
from .features import log_mel
from .labels import frame_labels
from .model import Checkpoint, Tagger, output_frames


@dataclass
class Example:
    """One clip's ``(n_mels, frames)`` log-mel and ``(frames / 4, outputs)`` targets."""

    clip: Clip
    features: torch.Tensor
    targets: torch.Tensor


def load_examples(clips: list[Clip], cfg: TaggerConfig, desc: str) -> list[Example]:
    """Every clip's log-mel and frame labels, computed once (a progress bar named ``desc``)."""
    examples = []
    for clip in tqdm(clips, desc=desc, unit="clip", disable=not cfg.train.progress):
        features = torch.from_numpy(log_mel(clip.audio(), cfg.model.n_mels))
        frames = int(output_frames(torch.tensor(features.shape[1])))
        examples.append(Example(clip, features, torch.from_numpy(frame_labels(clip, frames, cfg.train.min_span_s))))
    return examples


def collate(examples: list[Example]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Zero-padded features, input lengths, targets and the mask of valid output frames."""
    lengths = torch.tensor([e.features.shape[1] for e in examples])
    features = torch.zeros(len(examples), examples[0].features.shape[0], int(lengths.max()))
    frames = max(e.targets.shape[0] for e in examples)
    targets = torch.zeros(len(examples), frames, examples[0].targets.shape[1])
    mask = torch.zeros(len(examples), frames)
    for i, e in enumerate(examples):
        features[i, :, : e.features.shape[1]] = e.features
        targets[i, : e.targets.shape[0]] = e.targets
        mask[i, : e.targets.shape[0]] = 1.0
    return features, lengths, targets, mask


def batches(examples: list[Example], batch_size: int, rng: np.random.Generator) -> list[list[Example]]:
    """Batches of clips of similar length, in a random order."""
    order = sorted(range(len(examples)), key=lambda i: (examples[i].features.shape[1], examples[i].clip.id))
    chunks = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    return [[examples[i] for i in chunks[k]] for k in rng.permutation(len(chunks))]


def loss_of(model: Tagger, batch: list[Example]) -> torch.Tensor:
    """Mean binary cross-entropy over the valid frames and all outputs."""
    features, lengths, targets, mask = collate(batch)
    logits = model(features, lengths)
    losses = torch.nn.functional.binary_cross_entropy_with_logits(logits, targets, reduction="none").mean(dim=2)
    return (losses * mask).sum() / mask.sum()


@torch.no_grad()
def validation_loss(model: Tagger, examples: list[Example], batch_size: int) -> float:
    """Binary cross-entropy per valid frame over all ``examples``, in eval mode."""
    model.eval()
    chunks = batches(examples, batch_size, np.random.default_rng(0))
    total = sum(float(loss_of(model, chunk)) * sum(e.targets.shape[0] for e in chunk) for chunk in chunks)
    return total / sum(e.targets.shape[0] for e in examples)


def fit(train: list[Example], validation: list[Example], cfg: TaggerConfig) -> tuple[Tagger, list[dict]]:
    """Train for ``cfg.train.epochs``; return the model of the best validation epoch and the log."""
    tc = cfg.train
    torch.manual_seed(tc.seed)
    rng = np.random.default_rng(tc.seed)
    model = Tagger(cfg.model)
    optimizer = torch.optim.AdamW(model.parameters(), lr=tc.learning_rate, weight_decay=tc.weight_decay)
    steps_per_epoch = -(-len(train) // tc.batch_size)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=tc.learning_rate, total_steps=tc.epochs * steps_per_epoch)
    log: list[dict] = []
    best_state, best_loss = None, float("inf")
    bar = tqdm(range(1, tc.epochs + 1), desc="training", unit="epoch", disable=not tc.progress)
    for epoch in bar:
        model.train()
        total = 0.0
        for batch in batches(train, tc.batch_size, rng):
            optimizer.zero_grad()
            loss = loss_of(model, batch)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), tc.max_grad_norm)
            optimizer.step()
            schedule.step()
            total += loss.item()
        val = validation_loss(model, validation, tc.batch_size)
        log.append({"epoch": epoch, "train_loss": round(total / steps_per_epoch, 5), "validation_loss": round(val, 5)})
        bar.set_postfix(train_loss=log[-1]["train_loss"], validation_loss=log[-1]["validation_loss"])
        if val < best_loss:
            best_state, best_loss = copy.deepcopy(model.state_dict()), val
    model.load_state_dict(best_state)
    model.eval()
    return model, log


def train(audio_train: str, audio_validation: str, out: str | Path, cfg: TaggerConfig) -> dict:
    """The whole command; returns the summary written to ``NAME.train.json``."""
    began = time.perf_counter()
    torch.set_num_threads(cfg.train.threads)
    train_examples = load_examples(read_clips(audio_train), cfg, "log-mel (train)")
    validation = load_examples(read_clips(audio_validation), cfg, "log-mel (validation)")
    model, log = fit(train_examples, validation, cfg)
    checkpoint = Checkpoint(model, cfg, {}, 0.0, {})
    probs = [checkpoint.probabilities(e.features).numpy() for e in validation]
    checkpoint.rules, checkpoint.emphasis_threshold, report = tune(probs, [e.clip for e in validation], cfg.decode)
    best = min(log, key=lambda row: row["validation_loss"])
    checkpoint.summary = {
        "train_clips": len(train_examples),
        "validation_clips": len(validation),
        "parameters": sum(p.numel() for p in model.parameters()),
        "best_epoch": best["epoch"],
        "validation": report,
        "seconds": round(time.perf_counter() - began, 1),
    }
    checkpoint.save(out)
    summary = {
        **checkpoint.summary,
        "rules": {label: dataclasses.asdict(rule) for label, rule in checkpoint.rules.items()},
        "emphasis_threshold": checkpoint.emphasis_threshold,
        "epochs": log,
        "config": dataclasses.asdict(cfg),
    }
    write_text(sidecar(Path(out), "train.json"), json.dumps(summary, indent=2) + "\n")
    print(
        f"wrote {out}: {summary['parameters']} parameters, best epoch {best['epoch']}, validation tag F1 "
        f"{report['tag_f1']}, emphasis word F1 {report['emphasis_word_f1']}, {summary['seconds']} s",
        file=sys.stderr,
    )
    return summary
