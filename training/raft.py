"""``python -m training raft``: stage 2, rejection-sampling fine-tuning (paper §3.3).

1. generate: ``samples_per_utterance`` transcripts of every training utterance from the SFT
   adapter (temperature / top-p sampling) -> ``samples.jsonl`` (``{"id", "samples": [...]}``;
   resumable through ``samples.partial.jsonl``).
2. score and select: each sample, made scoreable like a submission, gets the reward of
   :mod:`training.reward` -> ``rewards.jsonl`` (one row per sample, with the three terms);
   the best sample of each utterance is kept (ties: the earlier sample), and the utterances
   whose best reward is lowest are dropped, ``ceil(drop_fraction × n)`` of them (ties: the
   later utterance in split order goes first) -> ``selection.jsonl`` (one row per utterance,
   ``kept`` true or false) and ``selection.json`` (counts, threshold, mean reward).
3. train: continue the SFT adapter on the kept samples (``fit``) -> ``adapter/`` + model card.

``stop_after`` ends the run after step 1 or 2. In a multi-GPU launch the samples must exist
already (generate them with a single process first: ``--stop-after select``).
"""

from __future__ import annotations

import json
import math
import os
import sys
from pathlib import Path

from peft import PeftModel

from evoxtral_bench import InputError, write_text
from evoxtral_bench.runner import read_rows, run_batches, scoreable, write_rows

from . import config as config_mod
from . import families, modeling
from .config import CONFIG_FILE, Config
from .data import ClipDataset, Utterance
from .finish import finish
from .fit import finished, fit
from .generate import LocalTranscriber, Sampling
from .reward import Weights, rewards


def generate_samples(transcribe: LocalTranscriber, dataset: ClipDataset, path: Path, *, batch_size: int, progress: bool) -> list[dict]:
    """Step 1: ``{"id", "samples"}`` per utterance, in split order, written to ``path``."""

    def work(batch: list[Utterance]) -> list[dict]:
        return [{"id": u.id, "samples": texts} for u, texts in zip(batch, transcribe(batch))]

    partial = path.with_name(f"{path.stem}.partial.jsonl")
    done = run_batches(dataset, dataset.ids, work, partial, batch_size=batch_size, desc="sampling", progress=progress)
    by_id = {row["id"]: row for row in done.rows}
    rows = [by_id[rid] for rid in dataset.ids]
    write_rows(path, rows)
    partial.unlink()
    return rows


def score_samples(samples: list[dict], references: dict[str, str], weights: Weights) -> list[dict]:
    """Step 2a: one row per sample with its scoreable text, reward and reward terms."""
    flat = [(row["id"], k, scoreable(text)) for row in samples for k, text in enumerate(row["samples"])]
    scored = rewards([text for _, _, text in flat], [references[rid] for rid, _, _ in flat], weights)
    return [
        {"id": rid, "sample": k, "text": text, "reward": r.reward, "wer": r.wer, "tag_f1": r.tag_f1, "hallucination": r.hallucination}
        for (rid, k, text), r in zip(flat, scored)
    ]


def select(scored: list[dict], drop_fraction: float) -> tuple[list[dict], dict]:
    """Step 2b: the best sample per utterance, then drop the lowest ``ceil(drop_fraction × n)``.

    ``scored`` is in split order (rows of one utterance together). Returns one row per
    utterance (``id, sample, text, reward, kept``) in that order, and a summary.
    """
    best: dict[str, dict] = {}
    for row in scored:
        if row["id"] not in best or row["reward"] > best[row["id"]]["reward"]:
            best[row["id"]] = row
    order = list(best)
    n_drop = math.ceil(round(len(order) * drop_fraction, 9))
    ranked = sorted(range(len(order)), key=lambda i: -best[order[i]]["reward"])  # stable: earlier first
    dropped = {order[i] for i in ranked[len(order) - n_drop :]} if n_drop else set()
    selection = [
        {"id": rid, "sample": best[rid]["sample"], "text": best[rid]["text"], "reward": best[rid]["reward"], "kept": rid not in dropped}
        for rid in order
    ]
    kept = [row["reward"] for row in selection if row["kept"]]
    summary = {
        "utterances": len(order),
        "samples_per_utterance": len(scored) // len(order) if order else 0,
        "dropped": len(dropped),
        "kept": len(kept),
        "threshold": min(kept) if kept else None,
        "mean_kept_reward": sum(kept) / len(kept) if kept else None,
        "mean_best_reward": sum(row["reward"] for row in selection) / len(selection) if selection else None,
    }
    return selection, summary


def _world_size() -> int:
    return int(os.environ.get("WORLD_SIZE", "1"))


def run(cfg: Config) -> PeftModel | None:
    """Generate, select and train as far as ``raft.stop_after``; returns the trained model
    (main process, after training) or None."""
    rc = cfg.raft
    run_dir = Path(rc.output_dir)
    config_mod.claim(cfg, run_dir / CONFIG_FILE, ("model", "data", "eval", "raft"))
    adapter_dir = run_dir / modeling.ADAPTER_DIR
    dataset = ClipDataset(cfg.data.dataset, cfg.data.train_split, limit=cfg.data.train_utterances)
    processor = modeling.load_processor(cfg.model)
    model = None

    samples_path = run_dir / "samples.jsonl"
    if samples_path.is_file():
        samples = read_rows(samples_path)
    else:
        if _world_size() > 1:
            raise InputError(
                f"{samples_path} does not exist yet; generate the samples in a single process first "
                "(python -m training raft --stop-after select ...), then launch the training on several GPUs"
            )
        model = modeling.load_adapter(modeling.load_model(cfg.model), rc.adapter, trainable=True).to(modeling.device())
        transcriber = families.of(model).transcriber(
            model,
            processor,
            cfg,
            dataset,
            max_new_tokens=rc.max_new_tokens,
            sampling=Sampling(rc.temperature, rc.top_p, rc.samples_per_utterance, rc.seed),
            progress=rc.progress,
        )
        samples = generate_samples(transcriber, dataset, samples_path, batch_size=rc.generation_batch_size, progress=rc.progress)
    if rc.stop_after == "generate":
        print(f"wrote {samples_path}", file=sys.stderr)
        return None

    scored = score_samples(samples, dict(zip(dataset.ids, dataset.references)), Weights.from_config(rc))
    selection, summary = select(scored, rc.drop_fraction)
    write_rows(run_dir / "rewards.jsonl", scored)
    write_rows(run_dir / "selection.jsonl", selection)
    write_text(run_dir / "selection.json", json.dumps(summary, indent=2) + "\n")
    print(
        f"selection: {summary['kept']} of {summary['utterances']} utterances kept "
        f"(reward >= {summary['threshold']}, mean {summary['mean_kept_reward']})",
        file=sys.stderr,
    )
    if rc.stop_after == "select":
        return None

    if finished(run_dir, adapter_dir):
        print(f"{adapter_dir} is already trained; evaluating it and writing its card", file=sys.stderr)
        model = modeling.load_adapter(modeling.load_model(cfg.model), adapter_dir, trainable=False)
    else:
        if model is None:
            model = modeling.load_adapter(modeling.load_model(cfg.model), rc.adapter, trainable=True)
        kept = ClipDataset(cfg.data.dataset, cfg.data.train_split, targets={r["id"]: r["text"] for r in selection if r["kept"]})
        trainer = fit(model, processor, kept, cfg, rc, adapter_dir)
        if not trainer.is_world_process_zero():
            return None
    finish(model, processor, cfg, "raft", adapter_dir, selection=summary)
    print(f"saved the RAFT adapter and its model card in {adapter_dir}", file=sys.stderr)
    return model
