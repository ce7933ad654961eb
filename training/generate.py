"""Batched transcription with a local Voxtral (optionally with a LoRA adapter).

Greedy decoding for ``predict`` and evaluation; temperature / top-p sampling with several
return sequences for RAFT. All prompts of a batch have the same length unless a clip is
longer than 30 s (375 audio tokens per started 30 s chunk); shorter ones are left-padded.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from transformers import ProcessorMixin

from .collator import transcription_prompts
from .data import Utterance
from .modeling import model_dtype


def batch_seed(seed: int, first_id: str) -> int:
    """The sampling seed of a batch, from its first utterance: a resumed run restarts at a batch
    boundary and draws the same samples."""
    return seed + zlib.crc32(first_id.encode("utf-8"))


@dataclass(frozen=True)
class Sampling:
    """Sampling settings; ``None`` in place of one means greedy decoding."""

    temperature: float
    top_p: float
    num_samples: int
    seed: int


class LocalTranscriber:
    """``__call__(utterances)`` -> for each utterance, its transcripts (one, or ``num_samples``)."""

    def __init__(
        self,
        model: torch.nn.Module,
        processor: ProcessorMixin,
        *,
        language: str | None,
        model_id: str,
        max_new_tokens: int,
        sampling: Sampling | None = None,
    ) -> None:
        self.model = model
        self.processor = processor
        self.language = language
        self.model_id = model_id
        self.max_new_tokens = max_new_tokens
        self.sampling = sampling

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    def generate_kwargs(self, first_id: str) -> dict:
        tokenizer = self.processor.tokenizer
        kwargs = {
            "max_new_tokens": self.max_new_tokens,
            "pad_token_id": tokenizer.pad_token_id,
            "eos_token_id": tokenizer.eos_token_id,
        }
        if self.sampling is None:
            return kwargs | {"do_sample": False}
        torch.manual_seed(batch_seed(self.sampling.seed, first_id))
        return kwargs | {
            "do_sample": True,
            "temperature": self.sampling.temperature,
            "top_p": self.sampling.top_p,
            "top_k": 0,  # nucleus sampling only
            "num_return_sequences": self.sampling.num_samples,
        }

    @torch.inference_mode()
    def __call__(self, utterances: Sequence[Utterance]) -> list[list[str]]:
        was_training = self.model.training
        self.model.eval()
        inputs = transcription_prompts(self.processor, utterances, language=self.language, model_id=self.model_id)
        inputs = inputs.to(self.device, dtype=model_dtype(self.model))
        output = self.model.generate(**inputs, **self.generate_kwargs(utterances[0].id))
        texts = self.processor.batch_decode(output[:, inputs["input_ids"].shape[1] :], skip_special_tokens=True)
        self.model.train(was_training)
        per = len(texts) // len(utterances)
        return [[t.strip() for t in texts[i * per : (i + 1) * per]] for i in range(len(utterances))]
