"""Export of the synthesized corpus as a saved ``DatasetDict`` with embedded audio."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

from tests.helpers import need  # noqa: E402

need("datasets", "soundfile")

import datasets
import numpy as np
import pytest
import soundfile as sf

from evoxtral_bench.corpus.export import export_dataset
from evoxtral_bench.errors import InputError

RATE = 16_000

ROWS = [
    # id, tagged_text, split, expected plain_text, expected tags
    ("c-1", "[sighs] I NEVER said that.", "train", "I NEVER said that.", ["sighs"]),
    ("c-2", "Well [laughing]  okay [long pause] fine", "train", "Well okay fine", ["laughs", "pause"]),
    ("c-3", "No tags here, just WORDS.", "train", "No tags here, just WORDS.", []),
    (
        "c-4",
        "[Clearing  Throat] So... [whispers] it's [mumbles] over",  # alias, canonical, OOV
        "test",
        "So... it's over",
        ["clears throat", "whispers", "mumbles"],
    ),
    ("c-5", "a [stray bracket and [gasps]", "test", "a [stray bracket and", ["gasps"]),
    ("c-6", "[excited]  WE   WON!  ", "test", "WE WON!", ["excited"]),
    ("c-7", "[sad] this one has no audio", "test", None, None),
]


def _corpus() -> list[dict]:
    return [
        {"id": rid, "tagged_text": text, "split": split, "domain": f"dom-{i % 2}", "slice": "core" if i < 4 else "hard"}
        for i, (rid, text, split, _, _) in enumerate(ROWS)
    ]


def _clips(tmp_path: Path) -> tuple[Path, dict[str, np.ndarray]]:
    """Six WAV clips (16 kHz, 16-bit) of different lengths and a manifest for them."""
    audio_dir = tmp_path / "synth" / "audio"
    audio_dir.mkdir(parents=True)
    arrays: dict[str, np.ndarray] = {}
    lines = []
    rng = np.random.default_rng(0)
    for i, (rid, *_) in enumerate(ROWS[:6]):
        n = RATE // 10 * (i + 1)  # 0.1 s ... 0.6 s
        samples = (rng.uniform(-0.5, 0.5, n) * 32767).astype(np.int16)
        sf.write(audio_dir / f"{rid}.wav", samples, RATE, subtype="PCM_16")
        arrays[rid] = samples
        lines.append(json.dumps({"id": rid, "file": f"audio/{rid}.wav", "duration": n / RATE, "sample_rate": RATE}))
    lines.insert(2, "")  # blank lines are skipped
    lines.append(json.dumps({"id": "not-in-corpus", "file": "audio/c-1.wav", "sample_rate": RATE}))
    manifest = tmp_path / "synth" / "manifest.jsonl"
    manifest.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return manifest, arrays


def test_export_round_trip(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    manifest, arrays = _clips(tmp_path)
    out = tmp_path / "hf"
    with caplog.at_level(logging.WARNING, logger="evoxtral_bench.corpus.export"):
        built = export_dataset(corpus_rows=_corpus(), manifest=manifest, out_dir=out)
    assert "1 of 7 corpus rows have no audio" in caplog.text and "c-7" in caplog.text
    assert list(built) == ["train", "test"]

    # Self-contained: the clips can go away once exported.
    for wav in (tmp_path / "synth" / "audio").iterdir():
        wav.unlink()
    loaded = datasets.load_from_disk(str(out))
    assert list(loaded) == ["train", "test"]
    assert {name: loaded[name].num_rows for name in loaded} == {"train": 3, "test": 3}

    expected = {rid: (text, split, plain, tags) for rid, text, split, plain, tags in ROWS}
    corpus = {row["id"]: row for row in _corpus()}
    seen = []
    for name in loaded:
        split = loaded[name]
        assert split.features["audio"] == datasets.Audio(sampling_rate=RATE)
        assert split.features["tags"] == datasets.List(datasets.Value("string"))
        assert list(split.features) == ["id", "audio", "tagged_text", "plain_text", "tags", "split", "domain", "slice"]
        # Decoding through `datasets` needs torchcodec; read the embedded bytes with soundfile.
        raw = split.cast_column("audio", datasets.Audio(decode=False))
        for row in raw:
            rid = row["id"]
            text, split_name, plain, tags = expected[rid]
            assert (row["tagged_text"], row["split"], row["plain_text"], row["tags"]) == (text, name, plain, tags)
            assert split_name == name
            assert (row["domain"], row["slice"]) == (corpus[rid]["domain"], corpus[rid]["slice"])
            assert row["audio"]["path"] == f"{rid}.wav"
            samples, rate = sf.read(io.BytesIO(row["audio"]["bytes"]), dtype="int16")
            assert rate == RATE
            assert len(samples) == len(arrays[rid])
            np.testing.assert_array_equal(samples, arrays[rid])
            seen.append(rid)
    assert seen == ["c-1", "c-2", "c-3", "c-4", "c-5", "c-6"]  # corpus order, c-7 left out


def test_replaces_a_saved_dataset_only(tmp_path: Path) -> None:
    manifest, _ = _clips(tmp_path)
    out = tmp_path / "hf"
    export_dataset(corpus_rows=_corpus(), manifest=manifest, out_dir=out)
    only_train = [row for row in _corpus() if row["split"] == "train"]
    export_dataset(corpus_rows=only_train, manifest=manifest, out_dir=out)
    assert list(datasets.load_from_disk(str(out))) == ["train"]
    assert not (out / "test").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".hf.")]

    other = tmp_path / "other"
    other.mkdir()
    (other / "keep.txt").write_text("x")
    with pytest.raises(InputError, match="refusing to replace"):
        export_dataset(corpus_rows=_corpus(), manifest=manifest, out_dir=other)
    assert (other / "keep.txt").exists()


def test_bad_input(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    manifest, _ = _clips(tmp_path)
    out = tmp_path / "hf"

    bad_split = _corpus()
    bad_split[1]["split"] = "dev set"
    with pytest.raises(InputError, match="corpus row 1: field 'split'"):
        export_dataset(corpus_rows=bad_split, manifest=manifest, out_dir=out)

    dup = _corpus() + [_corpus()[0]]
    with pytest.raises(InputError, match="duplicate id 'c-1'"):
        export_dataset(corpus_rows=dup, manifest=manifest, out_dir=out)

    lines = manifest.read_text(encoding="utf-8").splitlines()
    broken = tmp_path / "synth" / "broken.jsonl"
    broken.write_text("\n".join(lines[:3] + ["{oops"]), encoding="utf-8")
    with pytest.raises(InputError, match=r"broken\.jsonl:4: not valid JSON"):
        export_dataset(corpus_rows=_corpus(), manifest=broken, out_dir=out)

    wrong_rate = tmp_path / "synth" / "rate.jsonl"
    wrong_rate.write_text(json.dumps({"id": "c-1", "file": "audio/c-1.wav", "sample_rate": 22050}), encoding="utf-8")
    with pytest.raises(InputError, match="22050 Hz, but .* is 16000 Hz"):
        export_dataset(corpus_rows=_corpus(), manifest=wrong_rate, out_dir=out)

    missing = tmp_path / "synth" / "missing.jsonl"
    missing.write_text(json.dumps({"id": "c-1", "file": "audio/nope.wav"}), encoding="utf-8")
    with pytest.raises(InputError, match=r"missing\.jsonl:1: field 'file': cannot read"):
        export_dataset(corpus_rows=_corpus(), manifest=missing, out_dir=out)

    empty = tmp_path / "synth" / "empty.jsonl"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(InputError, match="none of the 7 corpus rows has audio"):
        export_dataset(corpus_rows=_corpus(), manifest=empty, out_dir=out)

    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "no-hf-home"))
    monkeypatch.setattr("huggingface_hub.get_token", lambda: None)
    with pytest.raises(InputError, match="HF_TOKEN"):
        export_dataset(corpus_rows=_corpus(), manifest=manifest, out_dir=out, push_to_hub="someone/evoxtral-bench")
    assert not out.exists()
