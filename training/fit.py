"""One training stage with transformers' Trainer: LoRA model + clips -> adapter.

Trainer owns the loop, mixed precision, NEFTune (``neftune_noise_alpha``), checkpoints and
multi-GPU data parallelism (launch with ``torchrun`` or ``accelerate launch``). A stage that is
run again resumes from the last complete ``checkpoint-*`` in its folder (one cut short by a kill
while it was being written is passed over).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import torch
from peft import PeftModel
from transformers import ProcessorMixin, Trainer, TrainingArguments

from evoxtral_bench import write_text

from . import families
from .config import Config, TrainConfig
from .data import ClipDataset, Utterance
from .modeling import model_dtype

TRAIN_METRICS = "train_metrics.json"


def training_arguments(tc: TrainConfig, dtype: torch.dtype) -> TrainingArguments:
    """TrainingArguments of a stage; precision follows the model's dtype."""
    checkpointing = {"gradient_checkpointing": True, "gradient_checkpointing_kwargs": {"use_reentrant": False}}
    return TrainingArguments(
        output_dir=tc.output_dir,
        learning_rate=tc.learning_rate,
        lr_scheduler_type=tc.lr_scheduler_type,
        warmup_steps=tc.warmup_steps,
        num_train_epochs=tc.num_train_epochs,
        max_steps=tc.max_steps,
        per_device_train_batch_size=tc.per_device_train_batch_size,
        gradient_accumulation_steps=tc.gradient_accumulation_steps,
        neftune_noise_alpha=tc.neftune_noise_alpha,
        weight_decay=tc.weight_decay,
        max_grad_norm=tc.max_grad_norm,
        bf16=dtype == torch.bfloat16,
        fp16=dtype == torch.float16,
        logging_steps=tc.logging_steps,
        logging_first_step=True,
        save_strategy="steps",
        save_steps=tc.save_steps,
        save_total_limit=tc.save_total_limit,
        seed=tc.seed,
        remove_unused_columns=False,  # the collator needs the raw utterances
        label_names=["labels"],
        dataloader_pin_memory=torch.cuda.is_available(),
        # without a GPU: CPU processes, data parallel over gloo under torchrun
        use_cpu=not torch.cuda.is_available(),
        ddp_backend="gloo" if not torch.cuda.is_available() and int(os.environ.get("WORLD_SIZE", "1")) > 1 else None,
        dataloader_num_workers=tc.dataloader_num_workers,
        disable_tqdm=not tc.progress,
        report_to="none",
        **(checkpointing if tc.gradient_checkpointing else {}),
    )


class RecordingCollator:
    """A collator that also records the ids of the utterances it batched, in order."""

    def __init__(self, collator: Callable[[Sequence[Utterance]], dict]) -> None:
        self.collator = collator
        self.ids: list[str] = []

    def __call__(self, utterances: Sequence[Utterance]) -> dict:
        self.ids.extend(u.id for u in utterances)
        return self.collator(utterances)


def lora_digest(model: torch.nn.Module) -> str:
    """sha256 of the LoRA weights (names and float32 values)."""
    digest = hashlib.sha256()
    for name, p in sorted(model.named_parameters()):
        if "lora_" in name:
            digest.update(name.encode())
            digest.update(p.detach().to(torch.float32).cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


def write_rank_record(run_dir: Path, rank: int, ids: list[str], model: torch.nn.Module) -> None:
    """``ranks/rank-N.json``: the utterances this process trained on (this invocation) and the
    digest of its final LoRA weights; in a data-parallel run the ids are disjoint across
    ranks and the digests equal."""
    record = {"rank": rank, "ids": ids, "lora_sha256": lora_digest(model)}
    write_text(run_dir / "ranks" / f"rank-{rank}.json", json.dumps(record) + "\n")


def last_checkpoint(output_dir: str | Path) -> str | None:
    """The newest complete ``checkpoint-N`` of ``output_dir``: Trainer writes its
    ``trainer_state.json`` last, so a checkpoint without one was cut short."""
    complete = [
        p for p in Path(output_dir).glob("checkpoint-*") if p.name.removeprefix("checkpoint-").isdigit() and (p / "trainer_state.json").is_file()
    ]
    return str(max(complete, key=lambda p: int(p.name.removeprefix("checkpoint-")))) if complete else None


def fit(model: PeftModel, processor: ProcessorMixin, dataset: ClipDataset, cfg: Config, tc: TrainConfig, adapter_dir: Path) -> Trainer:
    """Train ``model`` on ``dataset``, save the adapter to ``adapter_dir`` and the final
    training metrics (loss, runtime, steps) to ``output_dir/train_metrics.json``."""
    args = training_arguments(tc, model_dtype(model))
    with args.main_process_first(desc="building the batches' inputs"):  # e.g. an encoder cache, once
        collator = RecordingCollator(families.of(model).collator(model, processor, cfg, dataset, progress=tc.progress))
    trainer = Trainer(model=model, args=args, train_dataset=dataset, data_collator=collator)
    last = last_checkpoint(tc.output_dir)
    result = trainer.train(resume_from_checkpoint=last)
    trainer.save_model(str(adapter_dir))
    write_rank_record(Path(tc.output_dir), trainer.args.process_index, collator.ids, model)
    if trainer.is_world_process_zero():
        metrics = dict(result.metrics) | {"global_step": result.global_step, "training_loss": result.training_loss}
        metrics["resumed_from"] = last
        write_text(Path(tc.output_dir) / TRAIN_METRICS, json.dumps(metrics, indent=2) + "\n")
    return trainer


def finished(run_dir: Path, adapter_dir: Path) -> bool:
    """Whether the stage saved its adapter (the metrics file is written after the adapter)."""
    return (run_dir / TRAIN_METRICS).is_file() and (adapter_dir / "adapter_config.json").is_file()
