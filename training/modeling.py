"""Loading Voxtral and its processor, and putting LoRA on it (peft).

Everything goes through ``from_pretrained``: a hub id or a local folder (the tests save a tiny
random Voxtral and load it the same way).
"""

from __future__ import annotations

import re
from pathlib import Path

import torch
from peft import LoraConfig, PeftModel, get_peft_model
from transformers import AutoProcessor, ProcessorMixin, VoxtralForConditionalGeneration

from evoxtral_bench import InputError

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
    return AutoProcessor.from_pretrained(cfg.base)


def load_model(cfg: ModelConfig) -> VoxtralForConditionalGeneration:
    """The base model in ``cfg.dtype``, on the CPU (the Trainer or the caller places it)."""
    return VoxtralForConditionalGeneration.from_pretrained(
        cfg.base, dtype=resolve_dtype(cfg.dtype), attn_implementation=cfg.attn_implementation
    )


def lora_target_pattern(lora: LoraSettings) -> str:
    """Regular expression (peft full-matches module names) for the LoRA targets.

    Anchored to the language model and the projector so that the Whisper encoder's own
    ``q/k/v_proj`` are left out, unless ``audio_encoder_qkv`` asks for them.
    """

    def alternatives(names: list[str]) -> str:
        return "|".join(re.escape(n) for n in names)

    parts = []
    if lora.text_modules:
        parts.append(rf"model\.language_model\.layers\.\d+\.(self_attn|mlp)\.({alternatives(lora.text_modules)})")
    if lora.projector_modules:
        parts.append(rf"model\.multi_modal_projector\.({alternatives(lora.projector_modules)})")
    if lora.audio_encoder_qkv:
        parts.append(r"model\.audio_tower\.layers\.\d+\.self_attn\.(q_proj|k_proj|v_proj)")
    if not parts:
        raise InputError("lora: no target modules (text_modules and projector_modules are both empty)")
    return "|".join(parts)


def add_lora(model: VoxtralForConditionalGeneration, lora: LoraSettings) -> PeftModel:
    """A fresh LoRA adapter; every base weight, the audio encoder's included, is frozen."""
    model.model.audio_tower.requires_grad_(False)
    config = LoraConfig(
        r=lora.r,
        lora_alpha=lora.alpha,
        lora_dropout=lora.dropout,
        target_modules=lora_target_pattern(lora),
        bias="none",
        task_type="CAUSAL_LM",
    )
    return get_peft_model(model, config)


def load_adapter(model: VoxtralForConditionalGeneration, adapter: str | Path, *, trainable: bool) -> PeftModel:
    path = Path(adapter)
    if not (path / "adapter_config.json").is_file():
        raise InputError(f"{path}: not a LoRA adapter folder (no adapter_config.json)")
    return PeftModel.from_pretrained(model, str(path), is_trainable=trainable)


def lora_parameters(model: torch.nn.Module) -> tuple[int, int]:
    """(LoRA, all) parameter counts; the LoRA weights are the trainable ones."""
    lora = sum(p.numel() for name, p in model.named_parameters() if "lora_" in name)
    return lora, sum(p.numel() for p in model.parameters())
