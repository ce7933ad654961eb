"""``python -m training sft``: stage 1, supervised fine-tuning with LoRA (paper §3.2).

Writes ``output_dir/config.yaml``, ``checkpoint-*`` (resumable), ``train_metrics.json``,
``adapter/`` (the LoRA adapter and its model card) and, with ``eval.split`` set,
``eval/`` (predictions, references and the benchmark's results for that split).
"""

from __future__ import annotations

import sys
from pathlib import Path

from peft import PeftModel
from transformers import set_seed

from . import config as config_mod
from . import modeling
from .config import CONFIG_FILE, Config
from .data import ClipDataset
from .finish import finish
from .fit import finished, fit


def run(cfg: Config) -> PeftModel | None:
    """Train (or resume, or reuse a finished adapter), evaluate and write the card.

    Returns the trained model on the main process; None on the other processes of a
    multi-GPU run (they only train).
    """
    run_dir = Path(cfg.sft.output_dir)
    config_mod.claim(cfg, run_dir / CONFIG_FILE, ("model", "lora", "data", "eval", "sft"))
    adapter_dir = run_dir / modeling.ADAPTER_DIR
    processor = modeling.load_processor(cfg.model)
    model = modeling.load_model(cfg.model)
    if finished(run_dir, adapter_dir):
        print(f"{adapter_dir} is already trained; evaluating it and writing its card", file=sys.stderr)
        model = modeling.load_adapter(model, adapter_dir, trainable=False)
    else:
        set_seed(cfg.sft.seed)  # the LoRA initialization is drawn here, before the Trainer seeds
        model = modeling.add_lora(model, cfg.lora)
        trainer = fit(model, processor, ClipDataset(cfg.data.dataset, cfg.data.train_split, limit=cfg.data.train_utterances), cfg, cfg.sft, adapter_dir)
        if not trainer.is_world_process_zero():
            return None
    finish(model, processor, cfg, "sft", adapter_dir)
    print(f"saved the SFT adapter and its model card in {adapter_dir}", file=sys.stderr)
    return model
