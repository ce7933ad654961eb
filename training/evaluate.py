"""Scoring a freshly trained adapter on a split with the benchmark itself (for the model card).

The split is transcribed (greedy, resumable) into ``FOLDER/preds.jsonl`` and scored against
the split's rows with :func:`evoxtral_bench.score` and the default options, exactly as
``evoxtral-bench score --references ... --format json`` would; the document is saved as
``FOLDER/results.json``.
"""

from __future__ import annotations

import json
from pathlib import Path

import evoxtral_bench

from .config import Config
from .data import ClipDataset
from .predict import Transcriber, transcribe_split


def score_file(predictions: Path, references: list[dict], split: str, folder: Path) -> dict:
    """The benchmark's results document for ``predictions`` against the ``references`` rows
    of ``split``."""
    rows = [{k: v for k, v in row.items() if v is not None} for row in references]
    results = evoxtral_bench.score(predictions=predictions, references=rows, split=split)
    evoxtral_bench.write_text(folder / "results.json", results.to_json())
    return results.to_dict()


def evaluate(transcribe: Transcriber, cfg: Config, folder: Path, *, device: str, progress: bool) -> dict:
    """Transcribe ``eval.split`` into ``folder`` and score it (reuses a finished score)."""
    results_path = folder / "results.json"
    if results_path.is_file():
        return json.loads(results_path.read_text(encoding="utf-8"))
    dataset = ClipDataset(cfg.data.dataset, cfg.eval.split)
    preds = folder / "preds.jsonl"
    if not preds.is_file():
        transcribe_split(
            transcribe, dataset, preds, batch_size=cfg.eval.batch_size, progress=progress, device=device
        )
    return score_file(preds, dataset.reference_rows(), cfg.eval.split, folder)
