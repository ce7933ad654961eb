"""Whisper (``WhisperForConditionalGeneration``), e.g. tiny.en converted by ``python -m training convert``.

The audio encoder is frozen (paper §3.1), so its output for a clip never changes: it is computed
once per clip of a split and stored (:class:`EncoderCache`), then every epoch of SFT and RAFT,
RAFT's sampling, the evaluation and ``predict`` read it instead of running the encoder. LoRA
goes on the decoder only: self- and cross-attention projections and the MLP (``fc1``, ``fc2``).

A target is decoded after Whisper's prompt ``<|startoftranscript|><|notimestamps|>`` (English-only
model: no language or task token) with a leading space, as Whisper writes text, and ends with
``<|endoftext|>``; the loss covers the target and the end token.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm
from transformers import GenerationConfig, GenerationMixin, WhisperForConditionalGeneration, WhisperProcessor
from transformers.modeling_outputs import BaseModelOutput

from evoxtral_bench import InputError, write_text
from evoxtral_bench.runner import generation_config as brackets_allowed

from ..collator import IGNORE_INDEX
from ..config import Config, LoraSettings, ModelConfig
from ..data import SAMPLING_RATE, ClipDataset, Utterance
from ..generate import LocalTranscriber, Sampling

TASK_TYPE = None
"""peft task type: none, the plain PeftModel passes every keyword to Whisper's forward."""

CACHE_SUFFIX = ".encoder-cache"
"""The cache of ``artifacts/dataset`` is ``artifacts/dataset.encoder-cache/``."""


def load_processor(cfg: ModelConfig) -> WhisperProcessor:
    return WhisperProcessor.from_pretrained(cfg.base)


def load_model(cfg: ModelConfig, dtype: torch.dtype) -> WhisperForConditionalGeneration:
    return WhisperForConditionalGeneration.from_pretrained(cfg.base, dtype=dtype, attn_implementation=cfg.attn_implementation)


def freeze_encoder(model: torch.nn.Module) -> None:
    model.model.encoder.requires_grad_(False)


def lora_target_pattern(lora: LoraSettings) -> str:
    """The decoder's attention (self and cross) and MLP projections named in ``text_modules``."""
    if lora.projector_modules or lora.audio_encoder_qkv:
        raise InputError("lora: Whisper has no projector and its encoder stays frozen (its outputs are cached); "
                         "set lora.projector_modules to [] and lora.audio_encoder_qkv to false")
    if not lora.text_modules:
        raise InputError("lora: no target modules (text_modules is empty)")
    names = "|".join(re.escape(n) for n in lora.text_modules)
    return rf"model\.decoder\.layers\.\d+\.((self_attn|encoder_attn)\.)?({names})"


def _base(model: torch.nn.Module) -> WhisperForConditionalGeneration:
    """The Whisper model under a peft wrapper (its modules carry the LoRA layers)."""
    return model.get_base_model() if hasattr(model, "get_base_model") else model


def prefix_ids(processor: WhisperProcessor) -> list[int]:
    """``<|startoftranscript|><|notimestamps|>``."""
    return processor.tokenizer.convert_tokens_to_ids(["<|startoftranscript|>", "<|notimestamps|>"])


def encoder_fingerprint(model: torch.nn.Module) -> str:
    """sha256 of the encoder's weights: a cache is reused only for the same encoder."""
    digest = hashlib.sha256()
    for name, tensor in sorted(_base(model).model.encoder.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().to(torch.float32).contiguous().numpy().tobytes())
    return digest.hexdigest()[:16]


class EncoderCache:
    """The frozen encoder's output (float16, ``frames × d_model``) for every clip of a split.

    Stored as ``DATASET.encoder-cache/FINGERPRINT/SPLIT-IDSHASH.npy`` with its ``.ids.json``;
    built once (``build``), then memory-mapped.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        ids = json.loads(path.with_name(path.stem + ".ids.json").read_text(encoding="utf-8"))
        self.index = {rid: i for i, rid in enumerate(ids)}
        self.states = np.load(path, mmap_mode="r")

    def __getitem__(self, ids: Sequence[str]) -> torch.Tensor:
        missing = [rid for rid in ids if rid not in self.index]
        if missing:
            raise InputError(f"{self.path}: no encoder output for {missing[0]}; delete the cache to rebuild it")
        return torch.from_numpy(np.stack([self.states[self.index[rid]] for rid in ids]))

    @staticmethod
    def folder(model: torch.nn.Module, dataset: ClipDataset) -> Path:
        """``DATASET.encoder-cache/FINGERPRINT``."""
        return Path(str(dataset.path).rstrip("/") + CACHE_SUFFIX) / encoder_fingerprint(model)

    @classmethod
    def build(cls, model: torch.nn.Module, processor: WhisperProcessor, dataset: ClipDataset, *, batch_size: int = 8, progress: bool = True) -> EncoderCache:
        """A cache holding every clip of ``dataset``: an existing one of its split that does,
        else one computed now for exactly its clips (``SPLIT-IDSHASH.npy``)."""
        folder = cls.folder(model, dataset)
        for ids_file in sorted(folder.glob(f"{dataset.split}-*.ids.json")):
            path = ids_file.with_name(ids_file.name.removesuffix(".ids.json") + ".npy")
            if path.is_file() and set(dataset.ids) <= set(json.loads(ids_file.read_text(encoding="utf-8"))):
                return cls(path)
        key = hashlib.sha256("\n".join(dataset.ids).encode("utf-8")).hexdigest()[:8]
        path = folder / f"{dataset.split}-{key}.npy"
        encoder = _base(model).model.encoder
        dtype = next(encoder.parameters()).dtype
        d_model, frames = encoder.config.d_model, encoder.config.max_source_positions
        folder.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f"{path.stem}.partial-{os.getpid()}.npy")  # concurrent builders do not collide
        states = np.lib.format.open_memmap(partial, mode="w+", dtype=np.float16, shape=(len(dataset), frames, d_model))
        with torch.inference_mode(), tqdm(total=len(dataset), desc=f"encoding {dataset.name}", unit="clip", disable=not progress) as bar:
            for start in range(0, len(dataset), batch_size):
                clips = [dataset[i] for i in range(start, min(start + batch_size, len(dataset)))]
                features = processor.feature_extractor([u.audio for u in clips], sampling_rate=SAMPLING_RATE, return_tensors="pt").input_features
                hidden = encoder(features.to(dtype)).last_hidden_state
                states[start : start + len(clips)] = hidden.to(torch.float16).numpy()
                bar.update(len(clips))
        states.flush()
        del states
        write_text(path.with_name(path.stem + ".ids.json"), json.dumps(dataset.ids) + "\n")
        os.replace(partial, path)
        print(f"cached the encoder outputs of {dataset.name} in {path}", file=sys.stderr)
        return cls(path)


class WhisperCollator:
    """Training batches: cached encoder states, decoder inputs (prompt + target) and labels."""

    def __init__(self, processor: WhisperProcessor, cache: EncoderCache, *, max_target_tokens: int, dtype: torch.dtype) -> None:
        self.tokenizer = processor.tokenizer
        self.cache = cache
        self.max_target_tokens = max_target_tokens
        self.dtype = dtype
        self.prefix = prefix_ids(processor)
        self.eos_id = self.tokenizer.eos_token_id

    def target_ids(self, text: str) -> list[int]:
        ids = self.tokenizer.encode(" " + text.strip(), add_special_tokens=False)
        return list(ids[: self.max_target_tokens]) + [self.eos_id]

    def __call__(self, utterances: Sequence[Utterance]) -> dict:
        sequences = [self.prefix + self.target_ids(u.target) for u in utterances]
        width = max(len(s) for s in sequences) - 1
        inputs = torch.full((len(sequences), width), self.eos_id, dtype=torch.long)
        mask = torch.zeros((len(sequences), width), dtype=torch.long)
        labels = torch.full((len(sequences), width), IGNORE_INDEX, dtype=torch.long)
        for i, seq in enumerate(sequences):
            n = len(seq) - 1
            inputs[i, :n] = torch.tensor(seq[:-1])
            mask[i, :n] = 1
            labels[i, len(self.prefix) - 1 : n] = torch.tensor(seq[len(self.prefix) :])
        states = self.cache[[u.id for u in utterances]].to(self.dtype)
        return {"encoder_outputs": (states,), "decoder_input_ids": inputs, "decoder_attention_mask": mask, "labels": labels}


def generation_config(model: WhisperForConditionalGeneration, processor: WhisperProcessor) -> GenerationConfig:
    """The model's generation config with the bracket tokens no longer suppressed (tags need
    them): the same rule as ``evoxtral-bench run --model transformers:…``."""
    return brackets_allowed(model, processor.tokenizer)


class WhisperTranscriber(LocalTranscriber):
    """Greedy or sampled transcripts decoded from the cached encoder states (Whisper's
    ``suppress_tokens`` but the brackets, and ``begin_suppress_tokens``; no timestamps)."""

    def __init__(self, model: torch.nn.Module, processor: WhisperProcessor, cache: EncoderCache, *, max_new_tokens: int, sampling: Sampling | None) -> None:
        super().__init__(model, processor, language=None, model_id="", max_new_tokens=max_new_tokens, sampling=sampling)
        self.cache = cache

    @torch.inference_mode()
    def __call__(self, utterances: Sequence[Utterance]) -> list[list[str]]:
        was_training = self.model.training
        self.model.eval()
        base = _base(self.model)
        dtype = next(p for p in base.parameters() if p.is_floating_point()).dtype
        states = self.cache[[u.id for u in utterances]].to(self.device, dtype=dtype)
        prompt = torch.tensor([prefix_ids(self.processor)] * len(utterances), device=self.device)
        config = generation_config(base, self.processor)
        config.update(**self.generate_kwargs(utterances[0].id))
        # The plain generation loop (Whisper's own generate adds long-form and timestamp logic).
        output = GenerationMixin.generate(
            base, encoder_outputs=BaseModelOutput(last_hidden_state=states), decoder_input_ids=prompt, generation_config=config
        )
        texts = self.processor.batch_decode(output[:, prompt.shape[1] :], skip_special_tokens=True)
        self.model.train(was_training)
        per = len(texts) // len(utterances)
        return [[t.strip() for t in texts[i * per : (i + 1) * per]] for i in range(len(utterances))]


def collator(model: torch.nn.Module, processor: WhisperProcessor, cfg: Config, dataset: ClipDataset, *, progress: bool) -> WhisperCollator:
    """Training batches for ``dataset`` (its encoder cache is built first if need be)."""
    cache = EncoderCache.build(model, processor, dataset, progress=progress)
    dtype = next(p for p in model.parameters() if p.is_floating_point()).dtype
    return WhisperCollator(processor, cache, max_target_tokens=cfg.data.max_target_tokens, dtype=dtype)


def transcriber(
    model: torch.nn.Module,
    processor: WhisperProcessor,
    cfg: Config,
    dataset: ClipDataset,
    *,
    max_new_tokens: int,
    sampling: Sampling | None = None,
    progress: bool = True,
) -> WhisperTranscriber:
    """Transcripts of utterances of ``dataset`` (its encoder cache is built first if need be)."""
    cache = EncoderCache.build(model, processor, dataset, progress=progress)
    return WhisperTranscriber(model, processor, cache, max_new_tokens=max_new_tokens, sampling=sampling)
