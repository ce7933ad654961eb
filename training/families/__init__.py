"""What differs between model families, one small module each: loading the model and its
processor, where LoRA goes, how a training batch is built and how to generate.

Every stage (``sft``, ``raft``, ``predict``) and the evaluation go through :func:`family`;
nothing else looks at the family. The family is the ``model_type`` of the base model's
``config.json`` (``voxtral``, ``whisper``). A third family is one more module here providing
``TASK_TYPE``, ``load_processor``, ``load_model``, ``freeze_encoder``, ``lora_target_pattern``,
``collator`` and ``transcriber`` (as :mod:`.voxtral` does in 76 lines), and its name in
:data:`FAMILIES`.
"""

from __future__ import annotations

from types import ModuleType

import torch

from evoxtral_bench import InputError

FAMILIES = ("voxtral", "whisper")
"""Supported ``model_type`` values, each with a module of this package."""


def model_type(base: str) -> str:
    """``model_type`` of ``base`` (a hub id or a local folder) from its ``config.json``."""
    from transformers import AutoConfig

    try:
        return AutoConfig.from_pretrained(base).model_type
    except (OSError, ValueError) as err:
        raise InputError(f"model.base {base!r}: cannot read its config.json ({err})") from err


def by_type(kind: str) -> ModuleType:
    """The module of the family whose ``model_type`` is ``kind``."""
    if kind not in FAMILIES:
        raise InputError(f"model_type {kind!r} is not supported; supported: {', '.join(FAMILIES)}")
    import importlib

    return importlib.import_module(f"{__name__}.{kind}")


def family(base: str) -> ModuleType:
    """The module of ``base``'s family (:mod:`.voxtral` or :mod:`.whisper`)."""
    return by_type(model_type(base))


def of(model: torch.nn.Module) -> ModuleType:
    """The module of a loaded model's family (a peft wrapper passes ``config`` through)."""
    return by_type(model.config.model_type)
