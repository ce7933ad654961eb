"""``scripts/recipe_table.py``: the recipe table from committed entries (espeak-v1's tiny.en
entries), its numbers those of the package's own score / compare."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

import evoxtral_bench

ROOT = Path(__file__).resolve().parents[2]
SUBMISSIONS = ROOT / "submissions"


def _script():
    spec = importlib.util.spec_from_file_location("recipe_table", ROOT / "scripts" / "recipe_table.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_table_holds_the_paired_comparisons_and_the_seed_summary(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "table.md"
    pair = ["--sft", "whisper-tiny-en-sft", "--raft", "whisper-tiny-en-raft"]
    assert _script().main(["--prior", "whisper-tiny-en-text-prior", "--base", "whisper-tiny-en", *pair, *pair, "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert out.read_text() == text
    preds = {slug: str(SUBMISSIONS / slug / "predictions.jsonl") for slug in ("whisper-tiny-en-sft", "whisper-tiny-en-raft", "whisper-tiny-en-text-prior")}
    delta = evoxtral_bench.compare(a=preds["whisper-tiny-en-raft"], b=preds["whisper-tiny-en-sft"], track="espeak-v1")["tag_f1_pos"]
    row = f"{100 * delta.delta:+.2f} [{100 * delta.ci_low:+.2f}, {100 * delta.ci_high:+.2f}], p = {delta.p_value:.3f}"
    assert f"| RAFT seed 1 − SFT seed 1 | {row} |" in text and f"| RAFT seed 2 − SFT seed 2 | {row} |" in text
    # two identical seeds: the mean is the per-seed Δ, the spread 0
    assert f"mean Δ {100 * delta.delta:+.2f} points (sd 0.00, min {100 * delta.delta:+.2f}" in text
    prior = evoxtral_bench.compare(a=preds["whisper-tiny-en-sft"], b=preds["whisper-tiny-en-text-prior"], track="espeak-v1")["tag_f1_pos"]
    assert f"| SFT seed 1 − text prior | {100 * prior.delta:+.2f} [" in text
    gap = evoxtral_bench.score(predictions=preds["whisper-tiny-en-text-prior"], masked=str(SUBMISSIONS / "whisper-tiny-en-text-prior" / "predictions.masked.jsonl"), track="espeak-v1")
    assert f"| {100 * gap.grounding['tag_f1'].gap.delta:+.2f} [" in text.split("`whisper-tiny-en-text-prior`")[1].splitlines()[0]


def test_a_raft_without_its_sft_seed_is_refused(capsys: pytest.CaptureFixture) -> None:
    assert _script().main(["--sft", "whisper-tiny-en-sft", "--raft", "whisper-tiny-en-raft", "--raft", "whisper-tiny-en-raft"]) == 2
    assert "one RAFT entry per SFT seed" in capsys.readouterr().err
