"""Scoring a freshly trained adapter on a split with the benchmark itself (for the model card).

The split is transcribed (greedy, resumable) into ``FOLDER/preds.jsonl``; its rows are written
as ``FOLDER/references.jsonl`` and both go through :func:`evoxtral_bench.scoring.score` with
the default options, exactly as ``evoxtral-bench score --references ... --format json`` would;
the document is saved as ``FOLDER/results.json``.
"""

from __future__ import annotations

import json
from pathlib import Path

from evoxtral_bench import report, scoring
from evoxtral_bench.atomic import write_text
from evoxtral_bench.errors import InputError
from evoxtral_bench.submission import Problems

from .config import Config
from .data import ClipDataset
from .predict import Transcriber, transcribe_split
from .resumable import write_rows


def score_file(predictions: Path, references: list[dict], split: str, folder: Path) -> dict:
    """The benchmark's results document for ``predictions`` against the ``references`` rows
    of ``split``."""
    refs_path = folder / "references.jsonl"
    rows = [{k: v for k, v in row.items() if v is not None} for row in references]
    write_rows(refs_path, rows)
    problems = Problems()
    options = scoring.Options()
    refs = scoring.load_references(str(refs_path), split, problems)
    system = scoring.load_system(str(predictions), refs, options, problems) if refs else None
    if system is None or problems.errors:
        raise InputError("; ".join(str(p) for p in problems.errors))
    results = scoring.score(system, refs, options)
    write_text(folder / "results.json", report.to_json(results))
    return results


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
