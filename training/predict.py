"""``python -m training predict``: transcribe a split of the export with the recipe's model.

The transcripts come from the local base model with or without a LoRA adapter (batched greedy
decoding from the cached encoder states, :mod:`training.families`). The clips go through the
benchmark's one prediction loop, :func:`evoxtral_bench.runner.loop.transcribe_all` (resumable
from ``NAME.partial.jsonl``; one ``{"id", "prediction"[, "raw"]}`` line per utterance in split
order, made scoreable, the raw output kept under ``raw`` when that changed more than
whitespace). Beside it: ``NAME.config.yaml`` (the resolved configuration) and ``NAME.run.json``
with the real-time factor

    RTFx = audio seconds / inference seconds

of this invocation (inference = feature extraction + generation + decoding; model loading
excluded). A server or any other model is run with ``evoxtral-bench run`` instead.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from evoxtral_bench import write_text
from evoxtral_bench.runner import sidecar, transcribe_all

from . import config as config_mod
from .config import Config
from .data import ClipDataset, Utterance

Transcriber = Callable[[Sequence[Utterance]], list[list[str]]]


def transcribe_split(
    transcribe: Transcriber, dataset: ClipDataset, output: Path, *, batch_size: int, progress: bool, device: str
) -> dict:
    """Write ``output`` (all predictions) and ``NAME.run.json``; return the run summary."""
    summary = transcribe_all(
        lambda batch: [texts[0] for texts in transcribe(batch)],
        dataset,
        ids=dataset.ids,
        output=output,
        batch_size=batch_size,
        desc=f"transcribing {dataset.name}",
        progress=progress,
    )
    summary = {"output": str(output), "dataset": dataset.name, **summary, "device": device}
    write_text(sidecar(output, "run.json"), json.dumps(summary, indent=2) + "\n")
    return summary


def local_transcriber(cfg: Config, adapter: str | None, dataset: ClipDataset) -> tuple[Transcriber, str]:
    """Base model (+ adapter) on the GPU if there is one, greedy decoding."""
    from . import families, modeling

    model = modeling.load_model(cfg.model)
    if adapter:
        model = modeling.load_adapter(model, adapter, trainable=False)
    device = modeling.device()
    model.to(device)
    transcriber = families.of(model).transcriber(
        model, modeling.load_processor(cfg.model), cfg, dataset, max_new_tokens=cfg.predict.max_new_tokens, progress=cfg.predict.progress
    )
    return transcriber, str(device)


def run(cfg: Config) -> dict:
    pc = cfg.predict
    output = Path(pc.output)
    config_mod.claim(cfg, sidecar(output, "config.yaml"), ("model", "data", "predict"))
    if output.is_file() and not sidecar(output, "partial.jsonl").exists() and sidecar(output, "run.json").is_file():
        print(f"{output} is complete; nothing to do", file=sys.stderr)
        return json.loads(sidecar(output, "run.json").read_text(encoding="utf-8"))
    dataset = ClipDataset(cfg.data.dataset, pc.split)
    transcribe, device = local_transcriber(cfg, pc.adapter, dataset)
    summary = transcribe_split(transcribe, dataset, output, batch_size=pc.batch_size, progress=pc.progress, device=device)
    rtfx = f"RTFx {summary['rtfx']}" if summary["rtfx"] is not None else "RTFx n/a (nothing transcribed in this run)"
    print(
        f"wrote {output}: {summary['predictions']} predictions for {dataset.name}; {rtfx} "
        f"({summary['audio_seconds']} s of audio in {summary['inference_seconds']} s); "
        f"{summary['repaired']} outputs repaired to valid markup (kept under 'raw')",
        file=sys.stderr,
    )
    return summary
