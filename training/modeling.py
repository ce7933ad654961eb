"""Loading a base model and its processor, and putting LoRA on it (peft).

Everything goes through ``from_pretrained``: a hub id or a local folder (the tests save a tiny
random Voxtral, and convert Whisper tiny.en, and load them the same way); what differs between
model families is in :mod:`training.families`.
"""

from __future__ import annotations

from pathlib import Path

import torch
from peft import LoraConfig, PeftModel, get_peft_model
from transformers import ProcessorMixin

from evoxtral_bench import InputError

from . import families
from .config import LoraSettings, ModelConfig

ADAPTER_DIR = "adapter"
"""Sub-folder of a run folder that holds the final LoRA adapter and its model card."""


def device() -> torch.device:
    return torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")


def resolve_dtype(setting: str) -> torch.dtype:
    """``auto``: bfloat16 on a CUDA GPU that supports it, else float32."""
    if setting == "auto":
        return torch.bfloat16 if torch.cuda.is_available() and torch.cuda.is_bf16_supported() else torch.float32
    return getattr(torch, setting)


def model_dtype(model: torch.nn.Module) -> torch.dtype:
    """The dtype of the model's (base) weights; LoRA weights may be float32 beside them."""
    return next(p for p in model.parameters() if p.is_floating_point()).dtype


def load_processor(cfg: ModelConfig) -> ProcessorMixin:
    return families.family(cfg.base).load_processor(cfg)


def load_model(cfg: ModelConfig) -> torch.nn.Module:
    """The base model in ``cfg.dtype``, on the CPU (the Trainer or the caller places it)."""
    return families.family(cfg.base).load_model(cfg, resolve_dtype(cfg.dtype))


def add_lora(model: torch.nn.Module, lora: LoraSettings) -> PeftModel:
    """A fresh LoRA adapter on the targets of the model's family; every base weight, the audio
    encoder's included, is frozen."""
    kind = families.of(model)
    kind.freeze_encoder(model)
    config = LoraConfig(
        r=lora.r,
        lora_alpha=lora.alpha,
        lora_dropout=lora.dropout,
        target_modules=kind.lora_target_pattern(lora),
        bias="none",
        task_type=kind.TASK_TYPE,
    )
    return get_peft_model(model, config)


def load_adapter(model: torch.nn.Module, adapter: str | Path, *, trainable: bool) -> PeftModel:
    path = Path(adapter)
    if not (path / "adapter_config.json").is_file():
        raise InputError(f"{path}: not a LoRA adapter folder (no adapter_config.json)")
    return PeftModel.from_pretrained(model, str(path), is_trainable=trainable)


def lora_parameters(model: torch.nn.Module) -> tuple[int, int]:
    """(LoRA, all) parameter counts; the LoRA weights are the trainable ones."""
    lora = sum(p.numel() for name, p in model.named_parameters() if "lora_" in name)
    return lora, sum(p.numel() for p in model.parameters())
