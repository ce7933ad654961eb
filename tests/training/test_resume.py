"""Every long stage resumes: SFT killed (SIGKILL) mid-run and run again ends with the adapter of
an uninterrupted run, passing over a checkpoint cut short while it was written; the Whisper
encoder cache continues a stopped build (tests/training/test_whisper_base.py)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.helpers import need

need("torch", "transformers", "peft", "soundfile", "mistral_common", "safetensors")

import torch  # noqa: E402
from safetensors.torch import load_file  # noqa: E402

from tests.training.test_training import ROOT, Tiny, tiny, tiny_settings  # noqa: E402, F401
from training.__main__ import main  # noqa: E402
from training.fit import last_checkpoint  # noqa: E402

STEPS = 12


def _settings(tiny: Tiny, out: Path) -> list[str]:
    extra = {"eval.split": "null", "sft.max_steps": STEPS, "sft.save_steps": 2, "sft.save_total_limit": 3, "sft.seed": 3}
    return [*tiny_settings(tiny, out), *[a for k, v in extra.items() for a in ("--set", f"{k}={v}")]]


def test_sft_killed_mid_run_resumes_to_the_uninterrupted_adapter(tiny: Tiny, tmp_path: Path) -> None:
    assert main(["sft", *_settings(tiny, tmp_path / "straight")]) == 0
    reference = load_file(tmp_path / "straight" / "sft" / "adapter" / "adapter_model.safetensors")

    run = tmp_path / "killed" / "sft"
    env = os.environ | {"PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "training", "sft", *_settings(tiny, tmp_path / "killed")], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 600
    while last_checkpoint(run) is None and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    stderr = process.communicate()[1].decode()
    assert process.returncode == -signal.SIGKILL, f"the run ended before it was killed: {stderr[-2000:]}"
    assert not (run / "adapter").exists() and not (run / "train_metrics.json").exists()
    killed_at = last_checkpoint(run)
    assert killed_at is not None and int(killed_at.rsplit("-", 1)[1]) < STEPS
    # a newer checkpoint cut short while it was written (no trainer_state.json) is passed over
    torn = run / f"checkpoint-{STEPS + 2}"
    shutil.copytree(killed_at, torn)
    (torn / "trainer_state.json").unlink()

    assert main(["sft", *_settings(tiny, tmp_path / "killed")]) == 0
    metrics = json.loads((run / "train_metrics.json").read_text())
    assert metrics["global_step"] == STEPS and Path(metrics["resumed_from"]).name.startswith("checkpoint-")
    assert metrics["resumed_from"] != str(torn)
    resumed = load_file(run / "adapter" / "adapter_model.safetensors")
    assert resumed.keys() == reference.keys()
    for name, weight in reference.items():
        assert torch.allclose(resumed[name], weight, atol=1e-6), name
