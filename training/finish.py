"""The end of a training stage: score the adapter with the benchmark, write its model card."""

from __future__ import annotations

import json
from pathlib import Path

from peft import PeftModel
from transformers import ProcessorMixin

from . import families, model_card
from .config import Config
from .data import ClipDataset
from .evaluate import evaluate
from .fit import TRAIN_METRICS
from .modeling import device, lora_parameters, model_dtype


def finish(model: PeftModel, processor: ProcessorMixin, cfg: Config, stage: str, adapter_dir: Path, selection: dict | None = None) -> dict | None:
    """Score the adapter on ``eval.split`` (if set) and write its model card; returns the results."""
    tc = cfg.sft if stage == "sft" else cfg.raft
    run_dir = Path(tc.output_dir)
    results = None
    if cfg.eval.split:
        model.to(device())
        split = ClipDataset(cfg.data.dataset, cfg.eval.split)
        transcriber = families.of(model).transcriber(model, processor, cfg, split, max_new_tokens=cfg.eval.max_new_tokens, progress=tc.progress)
        results = evaluate(transcriber, cfg, run_dir / "eval", device=str(device()), progress=tc.progress)
    metrics_path = run_dir / TRAIN_METRICS
    metrics = json.loads(metrics_path.read_text(encoding="utf-8")) if metrics_path.is_file() else {}
    precision = str(model_dtype(model)).removeprefix("torch.")
    card = model_card.render(
        cfg, stage, trainable=lora_parameters(model), precision=precision, metrics=metrics, results=results, selection=selection
    )
    model_card.write(adapter_dir, card)
    return results
