"""``python -m training predict``: transcribe a split into a submission JSONL.

The transcripts come from a local base model (with or without a LoRA adapter; batched greedy
decoding) or from an OpenAI-compatible endpoint. The output has one ``{"id", "prediction"}``
line per utterance of the split, in split order, made scoreable by
:func:`training.markup.scoreable` (the raw output is kept under ``raw`` when that changed
more than whitespace). Beside it: ``NAME.config.yaml`` (the resolved configuration) and
``NAME.run.json`` with the real-time factor

    RTFx = audio seconds / inference seconds

of this invocation (inference = feature extraction + generation + decoding, or the HTTP
requests; model loading excluded). An interrupted run resumes from ``NAME.partial.jsonl``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from evoxtral_bench import write_text

from . import config as config_mod
from .config import Config
from .data import ClipDataset, Utterance
from .markup import scoreable
from .resumable import run_batches, write_rows

Transcriber = Callable[[Sequence[Utterance]], list[list[str]]]


def sidecar(output: Path, suffix: str) -> Path:
    """``preds.jsonl`` -> ``preds.<suffix>``."""
    return output.with_name(f"{output.stem}.{suffix}")


def prediction_row(utterance: Utterance, text: str) -> dict:
    prediction = scoreable(text)
    row = {"id": utterance.id, "prediction": prediction}
    if " ".join(text.split()) != prediction:
        row["raw"] = text
    return row


def transcribe_split(
    transcribe: Transcriber, dataset: ClipDataset, output: Path, *, batch_size: int, progress: bool, device: str
) -> dict:
    """Write ``output`` (all predictions) and ``NAME.run.json``; return the run summary."""

    def work(batch: list[Utterance]) -> list[dict]:
        rows = []
        for utterance, (text,) in zip(batch, transcribe(batch)):
            rows.append(prediction_row(utterance, text) | {"audio_s": utterance.seconds})
        return rows

    partial = sidecar(output, "partial.jsonl")
    done = run_batches(dataset, dataset.ids, work, partial, batch_size=batch_size, desc=f"transcribing {dataset.name}", progress=progress)
    by_id = {row["id"]: row for row in done.rows}
    lines = [{k: v for k, v in by_id[rid].items() if k != "audio_s"} for rid in dataset.ids]
    write_rows(output, lines)
    audio_s = sum(row["audio_s"] for row in done.rows[done.resumed :])
    summary = {
        "output": str(output),
        "dataset": dataset.name,
        "predictions": len(lines),
        "repaired": sum("raw" in line for line in lines),
        "resumed": done.resumed,
        "device": device,
        "audio_seconds": round(audio_s, 3),
        "inference_seconds": round(done.seconds, 3),
        "rtfx": round(audio_s / done.seconds, 2) if done.seconds > 0 else None,
    }
    write_text(sidecar(output, "run.json"), json.dumps(summary, indent=2) + "\n")
    partial.unlink()
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
    if pc.endpoint:
        from .endpoint import EndpointTranscriber

        transcribe: Transcriber = EndpointTranscriber(
            pc.endpoint,
            model=pc.endpoint_model or cfg.model.base,
            language=cfg.model.language,
            timeout_s=pc.timeout_s,
            api_key_env=pc.api_key_env,
        )
        device = f"endpoint {pc.endpoint}"
    else:
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
