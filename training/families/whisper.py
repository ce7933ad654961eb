"""Whisper (``WhisperForConditionalGeneration``), e.g. tiny.en or base converted by ``python -m training convert``.

The audio encoder is frozen (paper §3.1), so its output for a clip never changes: it is computed
once per clip of a split and stored (:class:`EncoderCache`), then every epoch of SFT and RAFT,
RAFT's sampling, the evaluation and ``predict`` read it instead of running the encoder. LoRA
goes on the decoder only: self- and cross-attention projections and the MLP (``fc1``, ``fc2``).

A target is decoded after Whisper's prompt, the tokenizer's ``prefix_tokens``:
``<|startoftranscript|><|notimestamps|>`` for an English-only model,
``<|startoftranscript|><|en|><|transcribe|><|notimestamps|>`` for a multilingual one (its
language and task are set at conversion), with a leading space, as Whisper writes text, and
ends with ``<|endoftext|>``; the loss covers the target and the end token.
"""

from __future__ import annotations

import fcntl
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
from ..generate import LocalTranscriber, Sampling, batch_seed

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
    """The prompt: start of transcript, the language and task tokens of a multilingual model, no timestamps."""
    return list(processor.tokenizer.prefix_tokens)


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
    def find(cls, folder: Path, dataset: ClipDataset) -> EncoderCache | None:
        """A finished cache of ``dataset``'s split in ``folder`` that holds all its clips."""
        for ids_file in sorted(folder.glob(f"{dataset.split}-*.ids.json")):
            path = ids_file.with_name(ids_file.name.removesuffix(".ids.json") + ".npy")
            if path.is_file() and set(dataset.ids) <= set(json.loads(ids_file.read_text(encoding="utf-8"))):
                return cls(path)
        return None

    @classmethod
    def build(cls, model: torch.nn.Module, processor: WhisperProcessor, dataset: ClipDataset, *, batch_size: int = 8, progress: bool = True) -> EncoderCache:
        """A cache holding every clip of ``dataset``: an existing one of its split that does,
        else one computed now for exactly its clips (``SPLIT-IDSHASH.npy``).

        Resumable: the states are written into ``SPLIT-IDSHASH.partial.npy`` and the count of
        clips done into ``SPLIT-IDSHASH.partial.json`` after every batch, so a build that was
        stopped continues from there. A lock file keeps a second builder of the same cache
        (another process) waiting until the first is done."""
        folder = cls.folder(model, dataset)
        found = cls.find(folder, dataset)
        if found is not None:
            return found
        key = hashlib.sha256("\n".join(dataset.ids).encode("utf-8")).hexdigest()[:8]
        path = folder / f"{dataset.split}-{key}.npy"
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / f"{path.stem}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, also if the process dies
            found = cls.find(folder, dataset)  # built by the process we waited for
            return found if found is not None else cls._compute(model, processor, dataset, path, batch_size=batch_size, progress=progress)

    @classmethod
    def _compute(cls, model: torch.nn.Module, processor: WhisperProcessor, dataset: ClipDataset, path: Path, *, batch_size: int, progress: bool) -> EncoderCache:
        encoder = _base(model).model.encoder
        dtype = next(encoder.parameters()).dtype
        shape = (len(dataset), encoder.config.max_source_positions, encoder.config.d_model)
        partial, done_file = path.with_name(f"{path.stem}.partial.npy"), path.with_name(f"{path.stem}.partial.json")
        done = json.loads(done_file.read_text(encoding="utf-8"))["done"] if done_file.is_file() and partial.is_file() else 0
        states = np.lib.format.open_memmap(partial, mode="r+" if done else "w+", dtype=np.float16, shape=shape)
        if states.shape != shape:
            raise InputError(f"{partial}: holds {states.shape}, expected {shape}; delete it and its .partial.json to start over")
        with torch.inference_mode(), tqdm(total=len(dataset), initial=done, desc=f"encoding {dataset.name}", unit="clip", disable=not progress) as bar:
            for start in range(done, len(dataset), batch_size):
                clips = [dataset[i] for i in range(start, min(start + batch_size, len(dataset)))]
                features = processor.feature_extractor([u.audio for u in clips], sampling_rate=SAMPLING_RATE, return_tensors="pt").input_features
                hidden = encoder(features.to(dtype)).last_hidden_state
                states[start : start + len(clips)] = hidden.to(torch.float16).numpy()
                states.flush()
                write_text(done_file, json.dumps({"done": start + len(clips)}) + "\n")
                bar.update(len(clips))
        del states
        write_text(path.with_name(path.stem + ".ids.json"), json.dumps(dataset.ids) + "\n")
        os.replace(partial, path)
        done_file.unlink()
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


NUCLEUS_CANDIDATES = 64
"""Tokens looked at first for the top-p nucleus; a row whose nucleus is larger is sorted whole."""


def nucleus(logits: torch.Tensor, temperature: float, top_p: float, *, candidates: int = NUCLEUS_CANDIDATES) -> tuple[torch.Tensor, torch.Tensor]:
    """Temperature then top-p, as transformers' ``TemperatureLogitsWarper`` and
    ``TopPLogitsWarper`` (``top_k`` 0): per row, ``(weights, token ids)`` where the weights are the
    probabilities of the nucleus (the most probable tokens whose mass above each is below
    ``top_p``, at least one) and 0 elsewhere; sample with ``torch.multinomial(weights, 1)``.

    Exact without sorting the vocabulary: the nucleus lies within the ``candidates`` most
    probable tokens whenever their mass reaches ``top_p``; the other rows are sorted whole.
    """
    probs = torch.softmax(logits.float() / temperature, dim=-1)
    top, ids = probs.topk(min(candidates, probs.shape[-1]), dim=-1)
    short = top.sum(-1) < top_p
    if bool(short.any()):  # the nucleus is wider than the candidates: sort those rows whole
        whole, whole_ids = probs[short].sort(dim=-1, descending=True)
        width = max(int((whole.cumsum(-1) - whole < top_p).sum(-1).max()), top.shape[-1])
        top = torch.cat([top, top.new_zeros(len(top), width - top.shape[-1])], dim=-1)
        ids = torch.cat([ids, ids.new_zeros(len(ids), width - ids.shape[-1])], dim=-1)
        top[short], ids[short] = whole[:, :width], whole_ids[:, :width]
    keep = top.cumsum(-1) - top < top_p
    keep[:, 0] = True
    return top * keep, ids


def _split_heads(x: torch.Tensor, heads: int) -> torch.Tensor:
    """``(batch, length, d_model)`` -> ``(batch, heads, length, d_model / heads)``."""
    return x.view(*x.shape[:2], heads, -1).transpose(1, 2)


class _Merged:
    """A linear layer with its LoRA update folded into one weight (``W + scale · B A``, peft's
    ``get_delta_weight``), for inference: one matrix product instead of three."""

    def __init__(self, module: torch.nn.Module) -> None:
        if hasattr(module, "base_layer"):  # a peft LoRA layer
            self.weight = module.base_layer.weight.detach().clone()
            for name in module.active_adapters:
                if name in module.lora_A:
                    self.weight += module.get_delta_weight(name).to(self.weight.dtype)
            self.bias = module.base_layer.bias
        else:
            self.weight, self.bias = module.weight, module.bias

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.linear(x, self.weight, self.bias)


class _SampleDecoder:
    """Whisper's decoder layers (their LoRA folded in, :class:`_Merged`), run step by step for
    ``samples`` rows per utterance: the cross-attention keys and values are computed once per
    utterance and shared by its rows (the rows of an utterance are its queries), the
    self-attention keys and values of each row are kept in preallocated tensors. The same
    arithmetic as transformers' ``WhisperDecoderLayer`` (pre-norm; queries scaled before the
    product)."""

    def __init__(self, model: WhisperForConditionalGeneration, states: torch.Tensor, samples: int, length: int) -> None:
        self.decoder = model.model.decoder
        self.layers = list(self.decoder.layers)
        self.heads = self.layers[0].self_attn.num_heads
        self.samples = samples
        names = ("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.out_proj", "encoder_attn.q_proj", "encoder_attn.out_proj", "fc1", "fc2")
        self.linear = [{name: _Merged(layer.get_submodule(name)) for name in names} for layer in self.layers]
        cross = [(_Merged(layer.encoder_attn.k_proj)(states), _Merged(layer.encoder_attn.v_proj)(states)) for layer in self.layers]
        self.cross = [(_split_heads(k, self.heads).contiguous(), _split_heads(v, self.heads).contiguous()) for k, v in cross]
        rows, d = states.shape[0] * samples, states.shape[-1]
        shape = (rows, self.heads, length, d // self.heads)
        self.keys = [states.new_empty(shape) for _ in self.layers]
        self.values = [states.new_empty(shape) for _ in self.layers]
        self.length = 0

    def keep(self, utterances: torch.Tensor) -> None:
        """Keep only these utterances (indices into the current ones) and their rows."""
        rows = (utterances[:, None] * self.samples + torch.arange(self.samples, device=utterances.device)).reshape(-1)
        self.cross = [(k[utterances], v[utterances]) for k, v in self.cross]
        self.keys = [k[rows] for k in self.keys]
        self.values = [v[rows] for v in self.values]

    def __call__(self, ids: torch.Tensor) -> torch.Tensor:
        """Hidden states after the final layer norm for ``ids`` (rows × new tokens) appended to
        every row."""
        rows, new = ids.shape
        start, self.length = self.length, self.length + new
        h = self.decoder.embed_tokens(ids) + self.decoder.embed_positions.weight[start : self.length]
        for i, layer in enumerate(self.layers):
            linear = self.linear[i]
            x = layer.self_attn_layer_norm(h)
            q = _split_heads(linear["self_attn.q_proj"](x) * layer.self_attn.scaling, self.heads)
            self.keys[i][:, :, start : self.length] = _split_heads(linear["self_attn.k_proj"](x), self.heads)
            self.values[i][:, :, start : self.length] = _split_heads(linear["self_attn.v_proj"](x), self.heads)
            out = torch.nn.functional.scaled_dot_product_attention(
                q, self.keys[i][:, :, : self.length], self.values[i][:, :, : self.length], is_causal=new > 1, scale=1.0
            )
            h = h + linear["self_attn.out_proj"](out.transpose(1, 2).reshape(rows, new, -1))
            x = layer.encoder_attn_layer_norm(h)
            # the rows of one utterance attend to its encoder states together, as its queries
            q = linear["encoder_attn.q_proj"](x) * layer.encoder_attn.scaling
            q = _split_heads(q.reshape(rows // self.samples, self.samples * new, -1), self.heads)
            out = torch.nn.functional.scaled_dot_product_attention(q, *self.cross[i], scale=1.0)
            h = h + linear["encoder_attn.out_proj"](out.transpose(1, 2).reshape(rows, new, -1))
            x = layer.final_layer_norm(h)
            h = h + linear["fc2"](layer.activation_fn(linear["fc1"](x)))
        return self.decoder.layer_norm(h)


@torch.inference_mode()
def sample_tokens(
    model: torch.nn.Module,
    states: torch.Tensor,
    prompt: list[int],
    *,
    num_samples: int,
    temperature: float,
    top_p: float,
    max_new_tokens: int,
    suppress: list[int],
    begin_suppress: list[int],
    eos_id: int,
    generator: torch.Generator,
) -> list[list[int]]:
    """``num_samples`` sampled token sequences (without the prompt and the end token) per row of
    ``states`` (cached encoder outputs), ``num_samples`` consecutive lists per utterance.

    All samples of all utterances are decoded together (:class:`_SampleDecoder`); the output
    projection and the sampling run for the unfinished samples only, and the utterances whose
    samples have all ended leave the batch once they are a quarter of it (each compaction copies
    the cross-attention states). ``temperature`` 0 is greedy decoding. ``suppress``
    tokens are never written, ``begin_suppress`` not as the first token (Whisper's
    ``suppress_tokens`` and ``begin_suppress_tokens``).
    """
    base = _base(model)
    n, device = states.shape[0], states.device
    decoder = _SampleDecoder(base, states, num_samples, len(prompt) + max_new_tokens)
    mask = torch.zeros(base.proj_out.out_features, device=device)
    mask[suppress] = float("-inf")
    first = mask.clone()
    first[begin_suppress] = float("-inf")
    utterances = torch.arange(n, device=device)  # the utterances in the batch
    live = torch.ones(n * num_samples, dtype=torch.bool, device=device)  # per row of the batch
    ids = torch.tensor([prompt] * (n * num_samples), device=device)
    tokens: list[list[int]] = [[] for _ in range(n * num_samples)]
    for step in range(max_new_tokens):
        hidden = decoder(ids)[:, -1]
        rows = live.nonzero().squeeze(-1)
        logits = base.proj_out(hidden[rows]).float() + (first if step == 0 else mask)
        if temperature == 0:
            chosen = logits.argmax(-1)
        else:
            weights, candidates = nucleus(logits, temperature, top_p)
            chosen = candidates.gather(-1, torch.multinomial(weights, 1, generator=generator)).squeeze(-1)
        samples = (utterances[:, None] * num_samples + torch.arange(num_samples, device=device)).reshape(-1)[rows]
        for sample, token in zip(samples.tolist(), chosen.tolist()):
            if token != eos_id:
                tokens[sample].append(token)
        live[rows[chosen == eos_id]] = False
        if not bool(live.any()):
            break
        ids = torch.full((len(live), 1), eos_id, device=device)
        ids[rows, 0] = chosen
        going = live.view(-1, num_samples).any(-1)
        if 4 * int((~going).sum()) >= len(going):  # a quarter of the utterances have ended: they leave the batch
            kept = going.nonzero().squeeze(-1)
            decoder.keep(kept)
            utterances = utterances[kept]
            live = live.view(-1, num_samples)[kept].reshape(-1)
            ids = ids.view(-1, num_samples)[kept].reshape(-1, 1)
    return tokens


class WhisperTranscriber(LocalTranscriber):
    """Greedy or sampled transcripts decoded from the cached encoder states (Whisper's
    ``suppress_tokens`` but the brackets, and ``begin_suppress_tokens``; no timestamps).

    Greedy decoding is transformers' generation loop; sampling is :func:`sample_tokens`, all
    samples of a batch's utterances in one batch."""

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
        config = generation_config(base, self.processor)
        if self.sampling is None:
            prompt = torch.tensor([prefix_ids(self.processor)] * len(utterances), device=self.device)
            config.update(**self.generate_kwargs(utterances[0].id))
            # The plain generation loop (Whisper's own generate adds long-form and timestamp logic).
            output = GenerationMixin.generate(
                base, encoder_outputs=BaseModelOutput(last_hidden_state=states), decoder_input_ids=prompt, generation_config=config
            )
            texts = self.processor.batch_decode(output[:, prompt.shape[1] :], skip_special_tokens=True)
        else:
            generator = torch.Generator(device=self.device).manual_seed(batch_seed(self.sampling.seed, utterances[0].id))
            sequences = sample_tokens(
                self.model,
                states,
                prefix_ids(self.processor),
                num_samples=self.sampling.num_samples,
                temperature=self.sampling.temperature,
                top_p=self.sampling.top_p,
                max_new_tokens=self.max_new_tokens,
                suppress=list(config.suppress_tokens or []),
                begin_suppress=list(config.begin_suppress_tokens or []),
                eos_id=self.processor.tokenizer.eos_token_id,
                generator=generator,
            )
            texts = self.processor.batch_decode(sequences, skip_special_tokens=True)
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
