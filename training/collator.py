"""Batches for Voxtral: the transcription request built by the processor, plus the target.

The prompt is exactly what ``VoxtralProcessor.apply_transcription_request`` builds for
inference (``<s>[INST][BEGIN_AUDIO][AUDIO]×n[/INST]lang:en[TRANSCRIBE]``, 375 audio tokens per
30 s chunk, with the log-mel ``input_features``), so training sees the inference prompt. For
training, the tagged target and EOS follow the prompt, and the prompt and the padding are
masked out of the loss (labels -100).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from transformers import BatchFeature, ProcessorMixin

from .data import SAMPLING_RATE, Utterance

IGNORE_INDEX = -100
"""Label value that the loss skips."""


def transcription_prompts(processor: ProcessorMixin, utterances: Sequence[Utterance], *, language: str | None, model_id: str) -> BatchFeature:
    """Left-padded transcription requests: input_ids, attention_mask, input_features."""
    return processor.apply_transcription_request(
        audio=[u.audio for u in utterances],
        format=["wav"] * len(utterances),
        sampling_rate=SAMPLING_RATE,
        language=language,
        model_id=model_id,
    )


class TranscriptionCollator:
    """Training batches: prompt + target tokens + EOS, right-padded; loss on target and EOS only.

    ``max_target_tokens`` cuts longer targets (the EOS is kept).
    """

    def __init__(self, processor: ProcessorMixin, *, language: str | None, model_id: str, max_target_tokens: int) -> None:
        self.processor = processor
        self.language = language
        self.model_id = model_id
        self.max_target_tokens = max_target_tokens
        tokenizer = processor.tokenizer
        self.eos_id = tokenizer.eos_token_id
        self.pad_id = tokenizer.pad_token_id

    def target_ids(self, text: str) -> list[int]:
        ids = self.processor.tokenizer.encode(text, add_special_tokens=False)
        return list(ids[: self.max_target_tokens]) + [self.eos_id]

    def __call__(self, utterances: Sequence[Utterance]) -> dict[str, torch.Tensor]:
        prompts = transcription_prompts(self.processor, utterances, language=self.language, model_id=self.model_id)
        sequences, labels = [], []
        for row, mask, utterance in zip(prompts["input_ids"], prompts["attention_mask"], utterances):
            prompt = row[mask.bool()].tolist()  # drop the left padding
            target = self.target_ids(utterance.target)
            sequences.append(prompt + target)
            labels.append([IGNORE_INDEX] * len(prompt) + target)
        width = max(len(s) for s in sequences)
        input_ids = torch.full((len(sequences), width), self.pad_id, dtype=torch.long)
        attention_mask = torch.zeros((len(sequences), width), dtype=torch.long)
        label_ids = torch.full((len(sequences), width), IGNORE_INDEX, dtype=torch.long)
        for i, (seq, lab) in enumerate(zip(sequences, labels)):
            input_ids[i, : len(seq)] = torch.tensor(seq)
            attention_mask[i, : len(seq)] = 1
            label_ids[i, : len(lab)] = torch.tensor(lab)
        return {
            "input_ids": input_ids,
            "attention_mask": attention_mask,
            "labels": label_ids,
            "input_features": prompts["input_features"],
        }
