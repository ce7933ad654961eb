"""Training speed of the reference recipe on one GPU, with nothing to download.

    python benchmarks/train_speed.py            # Voxtral-Mini-3B-2507's shapes, bf16, one CUDA GPU
    python benchmarks/train_speed.py --tiny --steps 1 --accum 2   # tiny model on the CPU (smoke test)

A randomly initialised ``VoxtralForConditionalGeneration`` with the real model's dimensions
(below) gets the recipe's LoRA (``training.modeling.add_lora``) and is trained by
``transformers.Trainer`` with the SFT stage's arguments (``training.fit.training_arguments``:
bf16, NEFTune 5, batch 2 x gradient accumulation 8, cosine) on synthetic batches of the
paper's shape: a transcription request for one 30 s chunk (``<s>[INST][BEGIN_AUDIO]`` + 375
``[AUDIO]`` + ``[/INST]lang:en[TRANSCRIBE]`` = 384 tokens, 128 x 3000 log-mel frames) followed
by a tagged target of ``--target-tokens`` tokens + EOS. Every clip of 5-30 s is padded to one
30 s chunk, so this is the shape of every training example; the corpus' tagged transcripts
average 49 tokens (measured with the tekken vocabulary mistral-common ships).

It prints the step time (one optimizer step = batch x accumulation utterances), tokens per
second, peak GPU memory, and the projected time of the paper's 3 epochs over 808 utterances
(the paper: about 25 minutes on one A10G). Weights are random, so the loss means nothing.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from pathlib import Path

import torch
from transformers import Trainer, TrainerCallback, VoxtralConfig, VoxtralForConditionalGeneration

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `training/` is run from the repository

from training.collator import IGNORE_INDEX  # noqa: E402
from training.config import LoraSettings, TrainConfig  # noqa: E402
from training.fit import training_arguments  # noqa: E402
from training.model_card import format_count  # noqa: E402
from training.modeling import add_lora, lora_parameters  # noqa: E402

# mistralai/Voxtral-Mini-3B-2507 config.json: Whisper-large-v3 encoder, Llama-style 3B decoder.
REAL_AUDIO = {
    "hidden_size": 1280,
    "intermediate_size": 5120,  # 4 x 1280: the projector takes 4 encoder frames at a time
    "num_hidden_layers": 32,
    "num_attention_heads": 20,
    "num_mel_bins": 128,
    "max_source_positions": 1500,
    "vocab_size": 51866,
}
REAL_TEXT = {
    "vocab_size": 131072,
    "hidden_size": 3072,
    "intermediate_size": 8192,
    "num_hidden_layers": 30,
    "num_attention_heads": 32,
    "num_key_value_heads": 8,
    "head_dim": 128,
    "max_position_embeddings": 131072,
    "rms_norm_eps": 1e-5,
    "rope_theta": 100_000_000.0,
}
TINY_AUDIO = REAL_AUDIO | {"hidden_size": 16, "intermediate_size": 64, "num_hidden_layers": 1, "num_attention_heads": 2}
TINY_TEXT = REAL_TEXT | {
    "vocab_size": 1024,
    "hidden_size": 32,
    "intermediate_size": 64,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "head_dim": 8,
    "max_position_embeddings": 2048,
}
AUDIO_TOKEN, BOS, INST, END_INST, BEGIN_AUDIO, TRANSCRIBE, EOS = 24, 1, 3, 4, 25, 34, 2
AUDIO_TOKENS_PER_CHUNK = 375  # 3000 mel frames -> conv stride 2 -> 1500 -> 4 frames per token
LANG_EN = [1000, 1001, 1002, 1003]  # stand-ins for the 4 tokens of "lang:en"


def prompt_ids() -> list[int]:
    return [BOS, INST, BEGIN_AUDIO] + [AUDIO_TOKEN] * AUDIO_TOKENS_PER_CHUNK + [END_INST] + LANG_EN + [TRANSCRIBE]


class SyntheticClips(torch.utils.data.Dataset):
    """``n`` examples of the paper's shape: one 30 s chunk and a ``target_tokens`` target."""

    def __init__(self, n: int, target_tokens: int, vocab_size: int) -> None:
        self.n = n
        prompt = prompt_ids()
        generator = torch.Generator().manual_seed(0)
        target = torch.randint(100, vocab_size, (target_tokens,), generator=generator).tolist() + [EOS]
        self.input_ids = torch.tensor(prompt + target)
        self.labels = torch.tensor([IGNORE_INDEX] * len(prompt) + target)
        self.features = torch.randn(128, 3000, generator=generator)

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        return {"input_ids": self.input_ids, "labels": self.labels, "input_features": self.features}


def collate(rows: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    batch = {key: torch.stack([row[key] for row in rows]) for key in rows[0]}
    batch["attention_mask"] = torch.ones_like(batch["input_ids"])
    return batch


class StepTimer(TrainerCallback):
    """Wall time of every optimizer step (synchronised with the GPU)."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self._start = 0.0

    def _sync(self) -> None:
        if torch.cuda.is_available():
            torch.cuda.synchronize()

    def on_step_begin(self, args, state, control, **kwargs):  # noqa: ANN001
        self._sync()
        self._start = time.perf_counter()

    def on_step_end(self, args, state, control, **kwargs):  # noqa: ANN001
        self._sync()
        self.times.append(time.perf_counter() - self._start)


def build_model(tiny: bool, dtype: torch.dtype, device: torch.device) -> VoxtralForConditionalGeneration:
    config = VoxtralConfig(
        audio_config=TINY_AUDIO if tiny else REAL_AUDIO,
        text_config=TINY_TEXT if tiny else REAL_TEXT,
        audio_token_id=AUDIO_TOKEN,
        projector_hidden_act="gelu",
    )
    with torch.device(device):
        model = VoxtralForConditionalGeneration._from_config(config, dtype=dtype, attn_implementation="sdpa")
    return model


def run(args: argparse.Namespace) -> dict:
    if not args.tiny and not torch.cuda.is_available():
        raise SystemExit("no CUDA GPU: run with --tiny for the CPU smoke test")
    device = torch.device("cpu" if args.tiny else "cuda")
    dtype = torch.float32 if args.tiny else torch.bfloat16
    torch.manual_seed(0)
    began = time.perf_counter()
    model = build_model(args.tiny, dtype, device)
    lora = LoraSettings(audio_encoder_qkv=args.lora_audio_encoder_qkv)
    if args.tiny:
        lora = LoraSettings(r=4, alpha=8)
    model = add_lora(model, lora)
    build_s = time.perf_counter() - began
    trainable, total = lora_parameters(model)

    per_step = args.batch * args.accum
    steps = args.warmup + args.steps
    vocab = model.config.text_config.vocab_size
    dataset = SyntheticClips(per_step * steps, args.target_tokens, vocab)
    with tempfile.TemporaryDirectory() as tmp:
        tc = TrainConfig(
            output_dir=tmp,
            max_steps=steps,
            per_device_train_batch_size=args.batch,
            gradient_accumulation_steps=args.accum,
            gradient_checkpointing=args.gradient_checkpointing,
            logging_steps=10**9,
            save_steps=10**9,
            progress=False,
        )
        timer = StepTimer()
        trainer = Trainer(model=model, args=training_arguments(tc, dtype), train_dataset=dataset, data_collator=collate, callbacks=[timer])
        trainer.args.save_strategy = "no"  # nothing to keep from a benchmark
        if torch.cuda.is_available():
            torch.cuda.reset_peak_memory_stats()
        trainer.train()

    measured = timer.times[args.warmup :]
    step_s = sum(measured) / len(measured)
    seq_len = len(dataset.input_ids)
    steps_per_epoch = math.ceil(math.ceil(args.utterances / args.batch) / args.accum)
    projected_s = steps_per_epoch * args.epochs * step_s
    return {
        "device": torch.cuda.get_device_name() if torch.cuda.is_available() and not args.tiny else "cpu",
        "model": "tiny" if args.tiny else "Voxtral-Mini-3B-2507 shapes (random weights)",
        "dtype": str(dtype).removeprefix("torch."),
        "torch": torch.__version__,
        "parameters": total,
        "trainable_parameters": trainable,
        "lora_audio_encoder_qkv": lora.audio_encoder_qkv,
        "gradient_checkpointing": args.gradient_checkpointing,
        "sequence_tokens": seq_len,
        "target_tokens": args.target_tokens,
        "batch": args.batch,
        "gradient_accumulation": args.accum,
        "measured_steps": len(measured),
        "step_seconds": round(step_s, 3),
        "step_seconds_all": [round(t, 3) for t in timer.times],
        "tokens_per_second": round(per_step * seq_len / step_s, 1),
        "utterances_per_second": round(per_step / step_s, 2),
        "peak_memory_gib": round(torch.cuda.max_memory_allocated() / 2**30, 2) if torch.cuda.is_available() else None,
        "model_build_seconds": round(build_s, 1),
        "projection": {
            "utterances": args.utterances,
            "epochs": args.epochs,
            "optimizer_steps": steps_per_epoch * args.epochs,
            "minutes": round(projected_s / 60, 1),
        },
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tiny", action="store_true", help="tiny model on the CPU (smoke test)")
    parser.add_argument("--steps", type=int, default=5, help="measured optimizer steps (default 5)")
    parser.add_argument("--warmup", type=int, default=1, help="optimizer steps run before measuring (default 1)")
    parser.add_argument("--batch", type=int, default=2, help="per-device batch (default 2, the paper's)")
    parser.add_argument("--accum", type=int, default=8, help="gradient accumulation (default 8, the paper's)")
    parser.add_argument("--target-tokens", type=int, default=49, help="target length in tokens before EOS (default 49, the corpus mean)")
    parser.add_argument("--utterances", type=int, default=808, help="training utterances for the projection (default 808, the paper's)")
    parser.add_argument("--epochs", type=float, default=3, help="epochs for the projection (default 3, the paper's)")
    parser.add_argument("--gradient-checkpointing", action="store_true", help="recompute activations in the backward pass")
    parser.add_argument("--lora-audio-encoder-qkv", action="store_true", help="also LoRA on the encoder's q/k/v (the paper's 124.8 M)")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = parser.parse_args(argv)
    result = run(args)
    p = result["projection"]
    print(f"device: {result['device']} ({result['dtype']}, torch {result['torch']}); model: {result['model']}")
    print(f"LoRA trainable parameters: {format_count(result['trainable_parameters'])} of {format_count(result['parameters'])}")
    print(f"sequence: {result['sequence_tokens']} tokens (384 prompt incl. 375 audio + {result['target_tokens']} target + EOS)")
    print(
        f"step ({result['batch']} x {result['gradient_accumulation']} utterances): {result['step_seconds']:.3f} s "
        f"(mean of {result['measured_steps']}); {result['tokens_per_second']:,.0f} tokens/s; "
        f"{result['utterances_per_second']} utterances/s"
    )
    if result["peak_memory_gib"] is not None:
        print(f"peak GPU memory: {result['peak_memory_gib']} GiB")
    print(f"projected: {p['epochs']:g} epochs over {p['utterances']} utterances = {p['optimizer_steps']} steps = {p['minutes']} min")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return result


if __name__ == "__main__":
    main()
