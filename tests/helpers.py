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


def need(*modules: str, libraries: tuple[str, ...] = ()) -> None:
    """Skip the calling test module when an optional extra's module or a Debian library is
    missing — or fail it when ``CI`` is set, where everything must be installed.

    Call at module level, before importing the optional modules.
    """
    import ctypes.util
    import importlib.util
    import os

    import pytest

    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    missing += [f"lib{lib} (Debian package {lib})" for lib in libraries if ctypes.util.find_library(lib) is None]
    if not missing:
        return
    message = f"not installed: {', '.join(missing)} (see the README's test command)"
    if os.environ.get("CI"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message, allow_module_level=True)


def read_manifest(out: Path) -> dict[str, dict]:
    """A synthesis output folder's manifest entries by clip id."""
    return {e["id"]: e for e in map(json.loads, (out / "manifest.jsonl").read_text("utf-8").splitlines())}


def read_clip(out: Path, entry: dict):
    """A manifest entry's samples (16 kHz mono, asserted)."""
    import soundfile

    samples, rate = soundfile.read(out / entry["file"])
    assert rate == 16000
    return samples
