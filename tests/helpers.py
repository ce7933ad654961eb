"""Shared test factories: JSONL files, reference rows, and in-memory scoring through the API."""

from __future__ import annotations

import json
from pathlib import Path

import evoxtral_bench

DATA = Path(__file__).parent / "data"
SMALL_REFS = DATA / "refs_small.jsonl"


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def refs_rows(path: Path = SMALL_REFS) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def reference_set(refs: list[str]) -> evoxtral_bench.ReferenceSet:
    """References ``u0``, ``u1``, … in memory, loaded through the public API."""
    return evoxtral_bench.load_references([{"id": f"u{i}", "tagged_text": r} for i, r in enumerate(refs)])


def score_texts(preds: list[str], refs: list[str], **options) -> dict:
    """Score ``preds`` against ``refs`` in memory (no bootstrap unless asked); the results document."""
    options.setdefault("bootstrap", 0)
    predictions = {f"u{i}": p for i, p in enumerate(preds)}
    return evoxtral_bench.score(predictions=predictions, references=reference_set(refs), **options).to_dict()
