"""The reference training (``python -m training``) on a tiny random Voxtral, on the CPU.

The tiny model has Voxtral's real front end (128 mel bins, 30 s chunks, 375 audio tokens per
chunk) with a 1-layer audio encoder and a 2-layer language model; its tokenizer is a tekken
file derived from the one mistral-common ships (its first 924 entries, Voxtral's audio section and
special tokens). Both are saved to a folder and loaded through ``from_pretrained``, the path
the real model takes.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path

from tests.helpers import need  # noqa: E402

need("torch", "transformers", "peft", "soundfile", "mistral_common")

import numpy as np
import pytest
import soundfile as sf
import torch

ROOT = Path(__file__).resolve().parents[2]

import evoxtral_bench  # noqa: E402
from evoxtral_bench.cli.app import main as bench_main  # noqa: E402
from evoxtral_bench.corpus.export import export_dataset  # noqa: E402
from evoxtral_bench.runner.markup import scoreable  # noqa: E402
from evoxtral_bench.scoring.core import MetricValue  # noqa: E402
from evoxtral_bench.scoring.tags import bracket_problems  # noqa: E402
from training import config as config_mod  # noqa: E402
from training.__main__ import STAGES, main  # noqa: E402
from training.collator import IGNORE_INDEX, TranscriptionCollator  # noqa: E402
from training.data import ClipDataset, Utterance  # noqa: E402
from training.model_card import render  # noqa: E402
from training.raft import select  # noqa: E402
from training.reward import Weights, rewards  # noqa: E402

RATE = 16_000
AUDIO_TOKEN, BEGIN_AUDIO, TRANSCRIBE = 24, 25, 34
N_SPECIAL, N_MERGES = 100, 924

CORPUS = [
    ("t-1", "train", "[sighs] I NEVER said that."),
    ("t-2", "train", "Well [laughs] okay, fine."),
    ("t-3", "train", "No tags here, just WORDS."),
    ("t-4", "train", "[whispers] it's over [pause] now"),
    ("v-1", "validation", "[gasps] Oh no."),
    ("v-2", "validation", "Sure, why not."),
    ("s-1", "test", "[excited] WE WON!"),
    ("s-2", "test", "[sad] Maybe next time."),
]


@dataclass(frozen=True)
class Tiny:
    model: Path
    dataset: Path
    references: Path  # the corpus rows as a references JSONL (with split labels)


def _tekken(path: Path) -> None:
    """A reduced tekken.json with Voxtral's special tokens and audio section."""
    import mistral_common
    from mistral_common.tokens.tokenizers.tekken import Tekkenizer

    shipped = json.loads((Path(mistral_common.__file__).parent / "data" / "tekken_240911.json").read_text())
    names = {t["rank"]: str(t["token_str"]) for t in Tekkenizer.DEPRECATED_SPECIAL_TOKENS}
    names |= {AUDIO_TOKEN: "[AUDIO]", BEGIN_AUDIO: "[BEGIN_AUDIO]", TRANSCRIBE: "[TRANSCRIBE]"}
    special = [{"rank": i, "token_str": names.get(i, f"<SPECIAL_{i}>"), "is_control": True} for i in range(N_SPECIAL)]
    config = shipped["config"] | {
        "num_vocab_tokens": N_MERGES,
        "default_vocab_size": N_SPECIAL + N_MERGES,
        "default_num_special_tokens": N_SPECIAL,
        "version": "v7",
    }
    audio = {
        "sampling_rate": RATE,
        "frame_rate": 12.5,
        "audio_encoding_config": {"num_mel_bins": 128, "hop_length": 160, "window_size": 400},
        "chunk_length_s": 30.0,
    }
    tekken = {"config": config, "vocab": shipped["vocab"][:N_MERGES], "special_tokens": special, "audio": audio}
    path.write_text(json.dumps(tekken), encoding="utf-8")


def build_tiny_voxtral(folder: Path) -> Path:
    from transformers import VoxtralConfig, VoxtralForConditionalGeneration, VoxtralProcessor, WhisperFeatureExtractor
    from transformers.tokenization_mistral_common import MistralCommonBackend

    folder.mkdir(parents=True)
    _tekken(folder / "tekken.json")
    processor = VoxtralProcessor(
        feature_extractor=WhisperFeatureExtractor(feature_size=128, sampling_rate=RATE, hop_length=160, chunk_length=30, n_fft=400),
        tokenizer=MistralCommonBackend(tokenizer_path=str(folder / "tekken.json")),
    )
    processor.save_pretrained(folder)
    config = VoxtralConfig(
        audio_config={
            "hidden_size": 16,
            "intermediate_size": 64,  # 4 x hidden: the projector takes 4 encoder frames at a time
            "num_hidden_layers": 1,
            "num_attention_heads": 2,
            "num_mel_bins": 128,
            "max_source_positions": 1500,
        },
        text_config={
            "vocab_size": N_SPECIAL + N_MERGES,
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_hidden_layers": 2,
            "num_attention_heads": 4,
            "num_key_value_heads": 2,
            "head_dim": 8,
            "max_position_embeddings": 2048,
            "initializer_range": 0.2,  # logits wide enough for a few steps to move the loss
        },
        audio_token_id=AUDIO_TOKEN,
    )
    torch.manual_seed(0)
    VoxtralForConditionalGeneration(config).save_pretrained(folder)
    return folder


def _clip(i: int, seconds: float) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    rng = np.random.default_rng(i)
    return (0.3 * np.sin(2 * np.pi * (220 + 110 * i) * t) + 0.05 * rng.standard_normal(t.size)).astype(np.float32)


def build_dataset(root: Path) -> tuple[Path, Path]:
    """The export of CORPUS with one short tone clip each (t-3 recorded at 8 kHz)."""
    audio = root / "synth" / "audio"
    audio.mkdir(parents=True)
    manifest = []
    for i, (rid, _, _) in enumerate(CORPUS):
        rate = 8_000 if rid == "t-3" else RATE
        samples = _clip(i, 0.5 + 0.25 * i)
        if rate != RATE:
            samples = samples[:: RATE // rate]
        sf.write(audio / f"{rid}.wav", samples, rate, subtype="PCM_16")
        digest = hashlib.sha256((audio / f"{rid}.wav").read_bytes()).hexdigest()  # export checks each clip against its manifest
        manifest.append({"id": rid, "file": f"audio/{rid}.wav", "duration": len(samples) / rate, "sample_rate": rate, "voice": "tone", "sha256": digest})
    (root / "synth" / "manifest.jsonl").write_text("".join(json.dumps(m) + "\n" for m in manifest), encoding="utf-8")
    rows = [{"id": rid, "tagged_text": text, "split": split, "domain": "d", "slice": "core"} for rid, split, text in CORPUS]
    export_dataset(corpus_rows=rows, manifests=[root / "synth" / "manifest.jsonl"], out_dir=root / "dataset")
    references = root / "references.jsonl"
    references.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return root / "dataset", references


@pytest.fixture(scope="session")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Tiny:
    root = tmp_path_factory.mktemp("tiny")
    dataset, references = build_dataset(root)
    return Tiny(model=build_tiny_voxtral(root / "model"), dataset=dataset, references=references)


def tiny_settings(tiny: Tiny, out: Path) -> list[str]:
    """--set arguments that point every stage at the tiny model, data and ``out``."""
    values = {
        "model.base": tiny.model,
        "model.dtype": "float32",
        "lora.r": 4,
        "lora.alpha": 8,
        "data.dataset": tiny.dataset,
        "eval.batch_size": 2,
        "eval.max_new_tokens": 6,
        "sft.output_dir": out / "sft",
        "sft.learning_rate": 1e-2,
        "sft.max_steps": 8,
        "sft.gradient_accumulation_steps": 1,
        "sft.save_steps": 4,
        "sft.logging_steps": 1,
        "sft.progress": "false",
        "raft.output_dir": out / "raft",
        "raft.adapter": out / "sft" / "adapter",
        "raft.samples_per_utterance": 3,
        "raft.max_new_tokens": 6,
        "raft.generation_batch_size": 2,
        "raft.drop_fraction": 0.25,
        "raft.max_steps": 2,
        "raft.gradient_accumulation_steps": 1,
        "raft.progress": "false",
        "predict.max_new_tokens": 6,
        "predict.batch_size": 2,
        "predict.progress": "false",
    }
    return [arg for key, value in values.items() for arg in ("--set", f"{key}={value}")]


def _batch_loss(model: torch.nn.Module, batch: dict) -> float:
    model.eval()
    with torch.no_grad():
        return float(model(**batch).loss)


@pytest.fixture(scope="session")
def sft_run(tiny: Tiny, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """One SFT run on the tiny setup; the loss of the whole training split before and after."""
    from training import sft
    from training.modeling import load_model, load_processor

    out = tmp_path_factory.mktemp("runs")
    argv = ["sft", *tiny_settings(tiny, out)]
    from training.__main__ import build_parser, resolve

    cfg = resolve(build_parser().parse_args(argv))
    train = ClipDataset(tiny.dataset, "train")
    collator = TranscriptionCollator(load_processor(cfg.model), language="en", model_id=str(tiny.model), max_target_tokens=64)
    batch = collator([train[i] for i in range(len(train))])
    before = _batch_loss(load_model(cfg.model), batch)
    model = sft.run(cfg)
    return {"out": out, "argv": argv, "cfg": cfg, "model": model, "batch": batch, "before": before, "after": _batch_loss(model, batch)}


# --- configuration and command line -------------------------------------------------------


def test_paper_yaml_holds_the_dataclass_defaults() -> None:
    cfg = config_mod.load(config_mod.DEFAULT_CONFIG)
    assert cfg == config_mod.Config()
    assert (cfg.lora.r, cfg.lora.alpha, cfg.lora.dropout) == (64, 128, 0.05)
    assert (cfg.sft.learning_rate, cfg.sft.lr_scheduler_type, cfg.sft.num_train_epochs) == (2e-4, "cosine", 3)
    assert (cfg.sft.per_device_train_batch_size, cfg.sft.gradient_accumulation_steps, cfg.sft.neftune_noise_alpha) == (2, 8, 5.0)
    assert (cfg.raft.samples_per_utterance, cfg.raft.temperature, cfg.raft.top_p, cfg.raft.drop_fraction) == (4, 0.7, 0.9, 0.1)
    assert (cfg.raft.reward_wer, cfg.raft.reward_tag_f1, cfg.raft.reward_hallucination) == (0.4, 0.4, 0.2)
    assert (cfg.raft.learning_rate, cfg.raft.num_train_epochs) == (5e-5, 1)
    assert cfg.model.base == "mistralai/Voxtral-Mini-3B-2507"


def test_overrides_file_then_set_then_flags(tmp_path: Path) -> None:
    from training.__main__ import build_parser, resolve

    (tmp_path / "c.yaml").write_text("sft:\n  learning_rate: 3e-4\n  seed: 7\nlora:\n  text_modules: [q_proj]\n")
    args = build_parser().parse_args(
        ["sft", "--config", str(tmp_path / "c.yaml"), "--set", "sft.seed=8", "--set", "sft.neftune_noise_alpha=null", "--seed", "9", "--lora.r", "16"]
    )
    cfg = resolve(args)
    assert cfg.sft.learning_rate == 3e-4 and isinstance(cfg.sft.learning_rate, float)
    assert cfg.sft.seed == 9 and cfg.lora.r == 16 and cfg.sft.neftune_noise_alpha is None
    assert cfg.lora.text_modules == ["q_proj"] and cfg.lora.alpha == 128
    saved = config_mod.claim(cfg, tmp_path / "run" / "config.yaml", ("sft",))
    assert config_mod.load(saved) == cfg


@pytest.mark.parametrize(
    "argv, message",
    [
        (["predict", "--set", "sft.no_such_field=1"], "unknown config key 'sft.no_such_field'"),
        (["predict", "--set", "learning_rate"], "--set expects KEY=VALUE"),
        (["sft", "--learning-rate", "fast"], "sft.learning_rate: expected a number"),
        (["raft", "--stop-after", "never"], "raft.stop_after"),
        (["predict", "--data.dataset", "/nonexistent/dataset"], "not a dataset saved by"),
    ],
)
def test_bad_input_exits_2_without_traceback(argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    code = main([*argv, "--set", f"predict.output={tmp_path / 'p.jsonl'}"])
    err = capsys.readouterr().err
    assert code == 2 and message in err and "Traceback" not in err


def test_help_documents_every_option(capsys: pytest.CaptureFixture) -> None:
    for command, (own, others, _) in STAGES.items():
        assert main([command, "--help"]) == 0
        text = " ".join(capsys.readouterr().out.split())
        for section in (own, *others):
            for f in config_mod.section_fields(section):
                dashed = f.name.replace("_", "-")
                flag = f"--{dashed}" if section == own else f"--{section}.{dashed}"
                assert flag in text, (command, flag)
                assert " ".join(f.metadata["help"].split())[:30] in text, (command, flag)


def test_a_run_folder_refuses_another_configuration(tmp_path: Path) -> None:
    cfg = config_mod.Config()
    config_mod.claim(cfg, tmp_path / "config.yaml", ("sft",))
    cfg.predict.batch_size = 3  # another stage's section: resuming is fine
    config_mod.claim(cfg, tmp_path / "config.yaml", ("sft",))
    cfg.sft.learning_rate = 1e-3
    with pytest.raises(config_mod.InputError, match="sft.learning_rate"):
        config_mod.claim(cfg, tmp_path / "config.yaml", ("sft",))


# --- reward, selection, markup -------------------------------------------------------------


def test_reward_is_the_paper_formula_with_documented_conventions() -> None:
    cases = [
        ("[sighs] I NEVER said that.", "[sighs] I NEVER said that.", 1.0),
        ("", "", 1.0),  # WER undefined, both empty -> 0; tag F1 undefined -> 1; no predicted tags -> 0
        ("hello there", "", 0.6),  # WER undefined, prediction has words -> 1
        ("[laughs]", "", 0.4),  # a tag is not a word; the tag is hallucinated
        ("a b c d e f", "x", 0.6),  # WER 6 clipped to 1
        ("[sad] hello", "hello", 0.4),  # tag F1 0, hallucination 1
        ("[sighs] [laughs] hi", "[sighs] hi", 0.4 + 0.4 * (2 / 3) + 0.2 * 0.5),
    ]
    got = rewards([p for p, _, _ in cases], [r for _, r, _ in cases])
    for (p, r, expected), g in zip(cases, got):
        assert math.isclose(g.reward, expected, abs_tol=1e-12), (p, r, g)
    weighted = rewards(["hello"], ["hello there"], Weights(wer=1.0, tag_f1=0.0, hallucination=0.0))[0]
    assert math.isclose(weighted.reward, 0.5)


def test_reward_calls_the_benchmark_metric_code(monkeypatch: pytest.MonkeyPatch) -> None:
    before = rewards(["[sighs] hello"], ["[sighs] hello"])[0].reward
    calls = []

    def fake(*, predictions: list[str], references: list[str], normalizer: str = "basic"):
        calls.append(predictions)
        v = MetricValue
        metrics = {"wer": v(0.5, True), "tag_f1": v(0.25, True), "tag_hallucination_rate": v(1.0, True)}
        return [evoxtral_bench.UtteranceScore(metrics, {}) for _ in predictions]

    monkeypatch.setattr(evoxtral_bench, "utterance_metrics", fake)
    after = rewards(["[sighs] hello"], ["[sighs] hello"])[0].reward
    assert calls == [["[sighs] hello"]]
    assert before == 1.0 and math.isclose(after, 0.4 * 0.5 + 0.4 * 0.25 + 0.2 * 0.0)


def _scored(best_rewards: list[float], samples: int = 2) -> list[dict]:
    rows = []
    for i, best in enumerate(best_rewards):
        for k in range(samples):
            reward = best if k == samples - 1 else best - 0.1 * (samples - k)
            rows.append({"id": f"u{i}", "sample": k, "text": f"u{i}/{k}", "reward": reward})
    return rows


def test_selection_keeps_the_best_sample_and_drops_the_bottom_fraction() -> None:
    best = [0.9, 0.5, 0.99, 0.7, 0.5, 0.95, 0.8, 0.6, 0.85, 0.75]
    selection, summary = select(_scored(best), 0.1)
    assert [row["id"] for row in selection] == [f"u{i}" for i in range(10)]
    assert all(row["sample"] == 1 and row["reward"] == best[i] for i, row in enumerate(selection))
    # one of ten dropped: the lowest; u1 and u4 tie at 0.5 and the later one goes
    assert [row["id"] for row in selection if not row["kept"]] == ["u4"]
    assert summary["kept"] == 9 and summary["dropped"] == 1 and summary["threshold"] == 0.5
    assert math.isclose(summary["mean_kept_reward"], (sum(best) - 0.5) / 9)
    # ties between samples: the earlier sample wins
    tie = [{"id": "a", "sample": 0, "text": "x", "reward": 0.8}, {"id": "a", "sample": 1, "text": "y", "reward": 0.8}]
    assert select(tie, 0.0)[0][0]["sample"] == 0
    # the paper's counts: 808 utterances, bottom 10% dropped -> 727 kept
    assert select(_scored([i / 808 for i in range(808)]), 0.1)[1]["kept"] == 727
    assert select(_scored([0.5] * 30), 0.1)[1]["dropped"] == 3


def test_scoreable_output_passes_the_validator() -> None:
    cases = {
        "[laughs] fine": "[laughs] fine",
        "a [b": "a b",
        "] x [ ] [sighs]": "x [sighs]",
        "[[laughs]]": "[laughs]",
        "x\x01y [\nz] w": "xy z w",
        "[" + "a" * 41 + "] ok": "a" * 41 + " ok",
        "  spaced\n out ": "spaced out",
    }
    for raw, expected in cases.items():
        assert scoreable(raw) == expected
        assert not bracket_problems(scoreable(raw))


def test_model_card_is_filled_from_config_and_results() -> None:
    cfg = config_mod.Config()
    metrics = {name: {"value": 0.1, "ci_low": 0.05, "ci_high": 0.2, "defined": True} for name in (
        "wer", "cer", "tag_f1", "tag_precision", "tag_recall", "tag_hallucination_rate", "emphasis_f1")}
    results = {"benchmark": {"split": "validation", "n": 128}, "metrics": metrics, "signature": "evoxtral-bench:1|x"}
    card = render(cfg, "raft", trainable=(124_780_544, 4_800_000_000), precision="bfloat16", metrics={"training_loss": 0.021, "train_runtime": 420, "global_step": 46},
                  results=results, selection={"samples_per_utterance": 4, "utterances": 808, "dropped": 81, "kept": 727, "threshold": 0.954, "mean_kept_reward": 0.98})
    for text in ("base_model: mistralai/Voxtral-Mini-3B-2507", "r 64, alpha 128, dropout 0.05", "124.8 M / 4.80 B (2.6%)", "[`mistralai/Voxtral-Mini-3B-2507`](https://huggingface.co/mistralai/Voxtral-Mini-3B-2507)", "5e-05, cosine",
                 "4 per utterance, temperature 0.7, top-p 0.9", "727 kept", "| Tag F1 ↑ | 10.0 | [5.0, 20.0] |",
                 "evoxtral-bench:1|x", "0.0210", "7.0 min, 46 optimizer steps"):
        assert text in card, text
    assert "Not evaluated" in render(cfg, "sft", trainable=(1, 2), precision="float32", metrics={}, results=None)


# --- data and collator ---------------------------------------------------------------------


def test_dataset_reads_the_export_and_resamples(tiny: Tiny) -> None:
    train = ClipDataset(tiny.dataset, "train")
    assert train.ids == ["t-1", "t-2", "t-3", "t-4"] and train.targets[0] == "[sighs] I NEVER said that."
    clip = train[2]  # written at 8 kHz
    assert clip.audio.dtype == np.float32 and abs(clip.seconds - 1.0) < 0.01
    chosen = ClipDataset(tiny.dataset, "train", targets={"t-4": "[pause] now", "t-1": "x"})
    assert chosen.ids == ["t-1", "t-4"] and chosen.targets == ["x", "[pause] now"]
    with pytest.raises(config_mod.InputError, match="no split 'dev'"):
        ClipDataset(tiny.dataset, "dev")


def test_collator_builds_the_transcription_request_and_masks_the_prompt(tiny: Tiny) -> None:
    from training.modeling import load_processor

    processor = load_processor(config_mod.ModelConfig(base=str(tiny.model)))
    collator = TranscriptionCollator(processor, language="en", model_id="m", max_target_tokens=64)
    long = Utterance("long", _clip(1, 31.0), "[sighs] two chunks")
    short = Utterance("short", _clip(2, 1.0), "hi")
    batch = collator([short, long])
    assert batch["input_features"].shape == (3, 128, 3000)  # 1 + 2 chunks of 30 s
    request = processor.apply_transcription_request(audio=[short.audio], format=["wav"], sampling_rate=RATE, model_id="m", language="en")
    prompt = request["input_ids"][0].tolist()
    assert prompt[-1] == TRANSCRIBE and prompt.count(AUDIO_TOKEN) == 375
    target = processor.tokenizer.encode("hi", add_special_tokens=False) + [processor.tokenizer.eos_token_id]
    ids, labels, mask = batch["input_ids"][0], batch["labels"][0], batch["attention_mask"][0]
    n = len(prompt) + len(target)
    assert ids[:n].tolist() == prompt + target and mask[:n].all() and not mask[n:].any()
    assert (labels[: len(prompt)] == IGNORE_INDEX).all() and labels[len(prompt) : n].tolist() == target
    assert (labels[n:] == IGNORE_INDEX).all() and (ids[n:] == processor.tokenizer.pad_token_id).all()
    assert batch["input_ids"][1].tolist().count(AUDIO_TOKEN) == 750


# --- the stages ----------------------------------------------------------------------------


def test_sft_lowers_the_loss_and_writes_a_resumable_run(sft_run: dict) -> None:
    assert sft_run["after"] < sft_run["before"] - 0.5, (sft_run["before"], sft_run["after"])
    run = sft_run["out"] / "sft"
    assert sorted(p.name for p in run.glob("checkpoint-*")) == ["checkpoint-4", "checkpoint-8"]
    assert config_mod.load(run / "config.yaml") == sft_run["cfg"]
    trainable = [n for n, p in sft_run["model"].named_parameters() if p.requires_grad]
    assert trainable and all("lora_" in n and "audio_tower" not in n for n in trainable)
    assert any("multi_modal_projector" in n for n in trainable)
    card = (run / "adapter" / "README.md").read_text()
    assert "r 4, alpha 8" in card and "Signature: `evoxtral-bench:1|" in card and "split `validation` (n = 2)" in card
    results = json.loads((run / "eval" / "results.json").read_text())
    assert results["benchmark"]["n"] == 2 and set(results["metrics"]) >= {"wer", "tag_f1"}


def test_adapter_reloads_with_peft_and_gives_the_same_logits(sft_run: dict, tiny: Tiny) -> None:
    from peft import PeftModel
    from transformers import VoxtralForConditionalGeneration

    reloaded = PeftModel.from_pretrained(VoxtralForConditionalGeneration.from_pretrained(tiny.model), sft_run["out"] / "sft" / "adapter")
    reloaded.eval()
    sft_run["model"].eval()
    with torch.no_grad():
        a = sft_run["model"](**sft_run["batch"]).logits
        b = reloaded(**sft_run["batch"]).logits
    assert torch.allclose(a, b, atol=1e-5)
    base = VoxtralForConditionalGeneration.from_pretrained(tiny.model).eval()
    with torch.no_grad():
        assert not torch.allclose(base(**sft_run["batch"]).logits, b, atol=1e-3)


def test_sft_rerun_reuses_the_finished_adapter(sft_run: dict, capsys: pytest.CaptureFixture) -> None:
    assert main(sft_run["argv"]) == 0
    assert "already trained" in capsys.readouterr().err


def test_raft_generates_selects_and_trains(sft_run: dict, tiny: Tiny, monkeypatch: pytest.MonkeyPatch) -> None:
    from training.generate import LocalTranscriber

    out = sft_run["out"]
    run = out / "raft"
    argv = ["raft", *tiny_settings(tiny, out)]
    assert main([*argv, "--stop-after", "generate"]) == 0
    samples = [json.loads(line) for line in (run / "samples.jsonl").read_text().splitlines()]
    assert [s["id"] for s in samples] == ["t-1", "t-2", "t-3", "t-4"] and all(len(s["samples"]) == 3 for s in samples)

    # An interrupted generation: two rows done, the third torn mid-write.
    (run / "samples.jsonl").unlink()
    partial = run / "samples.partial.jsonl"
    partial.write_text("".join(json.dumps(s) + "\n" for s in samples[:2]) + '{"id": "t-3", "sam')
    seen: list[str] = []
    original = LocalTranscriber.__call__
    monkeypatch.setattr(LocalTranscriber, "__call__", lambda self, batch: seen.extend(u.id for u in batch) or original(self, batch))
    assert main([*argv, "--stop-after", "generate"]) == 0
    assert seen == ["t-3", "t-4"] and not partial.exists()
    resumed = [json.loads(line) for line in (run / "samples.jsonl").read_text().splitlines()]
    assert resumed[:2] == samples[:2] and [s["id"] for s in resumed] == ["t-1", "t-2", "t-3", "t-4"]

    assert main(argv) == 0
    scored = [json.loads(line) for line in (run / "rewards.jsonl").read_text().splitlines()]
    assert len(scored) == 12
    expected = rewards([r["text"] for r in scored], [dict((i, t) for i, _, t in CORPUS)[r["id"]] for r in scored])
    assert [r["reward"] for r in scored] == [e.reward for e in expected]
    selection = [json.loads(line) for line in (run / "selection.jsonl").read_text().splitlines()]
    for row in selection:
        mine = [r for r in scored if r["id"] == row["id"]]
        assert row["reward"] == max(r["reward"] for r in mine)
        assert row["sample"] == next(r["sample"] for r in mine if r["reward"] == row["reward"])
    dropped = [row for row in selection if not row["kept"]]
    assert len(dropped) == 1 and dropped[0]["reward"] == min(row["reward"] for row in selection)
    summary = json.loads((run / "selection.json").read_text())
    assert summary["kept"] == 3 and summary["utterances"] == 4
    assert (run / "adapter" / "adapter_model.safetensors").is_file()
    card = (run / "adapter" / "README.md").read_text()
    assert "Evoxtral RAFT" in card and "3 kept" in card and "3 per utterance, temperature 0.7, top-p 0.9" in card


def _validate(preds: Path, references: Path, capsys: pytest.CaptureFixture) -> tuple[int, str]:
    code = bench_main(["validate", str(preds), "--references", str(references), "--split", "test", "--strict"])
    return code, capsys.readouterr().err


def test_predict_writes_a_valid_resumable_submission(sft_run: dict, tiny: Tiny, tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    from training.generate import LocalTranscriber

    preds = tmp_path / "preds.jsonl"
    argv = ["predict", *tiny_settings(tiny, sft_run["out"]), "--adapter", str(sft_run["out"] / "sft" / "adapter"), "--output", str(preds)]
    assert main(argv) == 0
    assert "RTFx" in capsys.readouterr().err
    lines = [json.loads(line) for line in preds.read_text().splitlines()]
    assert [line["id"] for line in lines] == ["s-1", "s-2"]
    assert _validate(preds, tiny.references, capsys)[0] == 0
    run = json.loads((tmp_path / "preds.run.json").read_text())
    assert run["predictions"] == 2 and run["rtfx"] > 0 and run["audio_seconds"] == pytest.approx(2.0 + 2.25, abs=0.01)
    assert config_mod.load(tmp_path / "preds.config.yaml").predict.adapter == str(sft_run["out"] / "sft" / "adapter")

    # Interrupted after the first utterance: the rerun transcribes only the second.
    preds.unlink()
    (tmp_path / "preds.partial.jsonl").write_text(json.dumps(lines[0] | {"audio_s": 2.0}) + "\n")
    seen: list[str] = []
    original = LocalTranscriber.__call__
    monkeypatch.setattr(LocalTranscriber, "__call__", lambda self, batch: seen.extend(u.id for u in batch) or original(self, batch))
    assert main(argv) == 0
    assert seen == ["s-2"] and [json.loads(line) for line in preds.read_text().splitlines()] == lines
    assert json.loads((tmp_path / "preds.run.json").read_text())["resumed"] == 1


# --- resuming ---------------------------------------------------------------------------

RESUME_STEPS = 12


def _resume_settings(tiny: Tiny, out: Path) -> list[str]:
    extra = {"eval.split": "null", "sft.max_steps": RESUME_STEPS, "sft.save_steps": 2, "sft.save_total_limit": 3, "sft.seed": 3}
    return [*tiny_settings(tiny, out), *[a for k, v in extra.items() for a in ("--set", f"{k}={v}")]]


def test_sft_killed_mid_run_resumes_to_the_uninterrupted_adapter(tiny: Tiny, tmp_path: Path) -> None:
    """SIGKILL after the first complete checkpoint, then the same command: it resumes from the
    newest complete checkpoint (passing over one cut short mid-write) and ends with the adapter
    of an uninterrupted run."""
    import os
    import shutil
    import signal
    import subprocess
    import sys
    import time

    from safetensors.torch import load_file

    from training.fit import last_checkpoint

    assert main(["sft", *_resume_settings(tiny, tmp_path / "straight")]) == 0
    reference = load_file(tmp_path / "straight" / "sft" / "adapter" / "adapter_model.safetensors")

    run = tmp_path / "killed" / "sft"
    env = os.environ | {"PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "training", "sft", *_resume_settings(tiny, tmp_path / "killed")], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 600
    while last_checkpoint(run) is None and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    stderr = process.communicate()[1].decode()
    assert process.returncode == -signal.SIGKILL, f"the run ended before it was killed: {stderr[-2000:]}"
    assert not (run / "adapter").exists() and not (run / "train_metrics.json").exists()
    killed_at = last_checkpoint(run)
    assert killed_at is not None and int(killed_at.rsplit("-", 1)[1]) < RESUME_STEPS
    # a newer checkpoint cut short while it was written (no trainer_state.json) is passed over
    torn = run / f"checkpoint-{RESUME_STEPS + 2}"
    shutil.copytree(killed_at, torn)
    (torn / "trainer_state.json").unlink()

    assert main(["sft", *_resume_settings(tiny, tmp_path / "killed")]) == 0
    metrics = json.loads((run / "train_metrics.json").read_text())
    assert metrics["global_step"] == RESUME_STEPS and Path(metrics["resumed_from"]).name.startswith("checkpoint-")
    assert metrics["resumed_from"] != str(torn)
    resumed = load_file(run / "adapter" / "adapter_model.safetensors")
    assert resumed.keys() == reference.keys()
    for name, weight in reference.items():
        assert torch.allclose(resumed[name], weight, atol=1e-6), name
