"""``benchmarks/train_speed.py --tiny``: the GPU benchmark's code path, on the CPU."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _benchmark():
    spec = importlib.util.spec_from_file_location("train_speed", ROOT / "benchmarks" / "train_speed.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_train_speed_tiny_smoke(tmp_path: Path, capsys) -> None:
    out = tmp_path / "speed.json"
    result = _benchmark().main(["--tiny", "--steps", "1", "--warmup", "1", "--accum", "2", "--json", str(out)])
    printed = capsys.readouterr().out
    assert "projected: 3 epochs over 808 utterances = 606 steps" in printed
    assert json.loads(out.read_text()) == result
    assert result["sequence_tokens"] == 384 + 49 + 1 and result["measured_steps"] == 1
    assert 0 < result["trainable_parameters"] < result["parameters"] and result["step_seconds"] > 0
    assert result["projection"]["optimizer_steps"] == 606  # ceil(ceil(808 / 2) / 2) x 3
