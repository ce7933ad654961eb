"""Voxtral (``VoxtralForConditionalGeneration``): the paper's model.

Batches are the processor's transcription request plus the target (:mod:`training.collator`);
generation is :class:`training.generate.LocalTranscriber`. The encoder runs in every forward
pass (its LoRA option needs that), so there is nothing to cache.
"""

from __future__ import annotations

import re

import torch
from transformers import AutoProcessor, ProcessorMixin, VoxtralForConditionalGeneration

from evoxtral_bench import InputError

from ..collator import TranscriptionCollator
from ..config import Config, LoraSettings, ModelConfig
from ..data import ClipDataset
from ..generate import LocalTranscriber, Sampling

TASK_TYPE = "CAUSAL_LM"
"""peft task type of the LoRA model."""


def load_processor(cfg: ModelConfig) -> ProcessorMixin:
    return AutoProcessor.from_pretrained(cfg.base)


def load_model(cfg: ModelConfig, dtype: torch.dtype) -> VoxtralForConditionalGeneration:
    return VoxtralForConditionalGeneration.from_pretrained(cfg.base, dtype=dtype, attn_implementation=cfg.attn_implementation)


def freeze_encoder(model: torch.nn.Module) -> None:
    model.model.audio_tower.requires_grad_(False)


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


def collator(model: torch.nn.Module, processor: ProcessorMixin, cfg: Config, dataset: ClipDataset, *, progress: bool) -> TranscriptionCollator:
    """Training batches for ``dataset``."""
    return TranscriptionCollator(processor, language=cfg.model.language, model_id=cfg.model.base, max_target_tokens=cfg.data.max_target_tokens)


def transcriber(
    model: torch.nn.Module,
    processor: ProcessorMixin,
    cfg: Config,
    dataset: ClipDataset,
    *,
    max_new_tokens: int,
    sampling: Sampling | None = None,
    progress: bool = True,
) -> LocalTranscriber:
    """Greedy (or sampled, with ``sampling``) transcripts of utterances of ``dataset``."""
    return LocalTranscriber(model, processor, language=cfg.model.language, model_id=cfg.model.base, max_new_tokens=max_new_tokens, sampling=sampling)
