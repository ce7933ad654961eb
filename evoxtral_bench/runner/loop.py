"""The one loop that runs a model over benchmark audio: resumable, with a progress bar.

Rows are appended to ``NAME.partial.jsonl`` as batches finish (complete lines only: a line torn
by a kill is cut off on the next start; see :mod:`evoxtral_bench.runner.resumable`); when every
clip has its row the predictions file is written atomically, in the order of ``ids``, and the
partial file is removed. Each line is ``{"id", "prediction"}`` with the prediction made
scoreable (:func:`evoxtral_bench.runner.markup.scoreable`) and the model's own text under
``raw`` when that changed more than whitespace. ``evoxtral-bench run`` and the reference
recipe's ``predict`` and evaluation both go through :func:`transcribe_all`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

from evoxtral_bench.runner.backends import Output
from evoxtral_bench.runner.markup import scoreable
from evoxtral_bench.runner.resumable import run_batches, write_rows

T = TypeVar("T")


def sidecar(output: Path, suffix: str) -> Path:
    """``preds.jsonl`` -> ``preds.<suffix>``."""
    return output.with_name(f"{output.stem}.{suffix}")


def prediction_row(clip_id: str, text: str, raw: str | None = None) -> dict:
    """The predictions line of one transcript; ``raw`` (the model's own text, default ``text``)
    is kept when the prediction differs from it by more than whitespace."""
    prediction = scoreable(text)
    raw = text if raw is None else raw
    row = {"id": clip_id, "prediction": prediction}
    if " ".join(raw.split()) != prediction:
        row["raw"] = raw
    return row


def transcribe_all(
    transcribe: Callable[[list[T]], Sequence[str | Output]],
    items: Sequence[T],
    *,
    ids: Sequence[str],
    output: Path,
    batch_size: int,
    desc: str,
    progress: bool,
    words_output: Path | None = None,
) -> dict:
    """Transcribe ``items`` (each with ``id`` and ``seconds``; ``ids`` theirs, known without
    reading the items) ``batch_size`` at a time.

    Write ``output`` (and ``words_output`` when the transcripts carry words); return the
    summary of this invocation: counts, audio and inference seconds, RTFx, wall seconds."""
    began = time.perf_counter()

    def work(batch: list[T]) -> list[dict]:
        rows = []
        for item, result in zip(batch, transcribe(batch), strict=True):
            out = result if isinstance(result, Output) else Output(result)
            row = prediction_row(item.id, out.text, out.raw) | {"audio_s": item.seconds}
            if out.words is not None:
                row["words"] = out.words
            rows.append(row)
        return rows

    partial = sidecar(output, "partial.jsonl")
    done = run_batches(items, ids, work, partial, batch_size=batch_size, desc=desc, progress=progress)
    by_id = {row["id"]: row for row in done.rows}
    write_rows(output, [{k: v for k, v in by_id[rid].items() if k not in ("words", "audio_s")} for rid in ids])
    if words_output is not None and all("words" in by_id[rid] for rid in ids):
        write_rows(words_output, [{"id": rid, "words": by_id[rid]["words"]} for rid in ids])
    partial.unlink()
    audio_s = sum(row["audio_s"] for row in done.rows[done.resumed :])
    return {
        "predictions": len(ids),
        "repaired": sum("raw" in by_id[rid] for rid in ids),
        "resumed": done.resumed,
        "audio_seconds": round(audio_s, 3),
        "inference_seconds": round(done.seconds, 3),
        "wall_seconds": round(time.perf_counter() - began, 3),
        "rtfx": round(audio_s / done.seconds, 2) if done.seconds > 0 else None,
    }
