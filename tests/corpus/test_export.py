"""Export of the synthesized corpus as a saved ``DatasetDict`` with embedded audio."""

from __future__ import annotations

import hashlib
import io
import json
import logging
import shutil
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
        data = (audio_dir / f"{rid}.wav").read_bytes()
        entry = {"id": rid, "file": f"audio/{rid}.wav", "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
        entry |= {"duration": n / RATE, "sample_rate": RATE, "voice": f"voice-{i % 2}"}
        lines.append(json.dumps(entry))
    lines.insert(2, "")  # blank lines are skipped
    lines.append(json.dumps({"id": "not-in-corpus", "file": "audio/c-1.wav", "sample_rate": RATE, "voice": "v"}))  # never read
    manifest = tmp_path / "synth" / "manifest.jsonl"
    manifest.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return manifest, arrays


def test_export_round_trip(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    manifest, arrays = _clips(tmp_path)
    out = tmp_path / "hf"
    with caplog.at_level(logging.WARNING, logger="evoxtral_bench.corpus.export"):
        built = export_dataset(corpus_rows=_corpus(), manifests=[manifest], out_dir=out)
    assert "1 of 7 corpus rows have no audio" in caplog.text and "c-7" in caplog.text
    assert list(built) == ["train", "test"]

    # Self-contained: the clips can go away once exported.
    for wav in (tmp_path / "synth" / "audio").iterdir():
        wav.unlink()
    loaded = datasets.load_from_disk(str(out))
    assert list(loaded) == ["train", "test"]
    assert {name: loaded[name].num_rows for name in loaded} == {"train": 3, "test": 3}
    assert all(loaded[name].info.license == "cc-by-4.0" for name in loaded)  # the corpus license, as the card says

    expected = {rid: (text, split, plain, tags) for rid, text, split, plain, tags in ROWS}
    corpus = {row["id"]: row for row in _corpus()}
    seen = []
    for name in loaded:
        split = loaded[name]
        assert split.features["audio"] == datasets.Audio(sampling_rate=RATE)
        assert split.features["tags"] == datasets.List(datasets.Value("string"))
        assert list(split.features) == ["id", "audio", "tagged_text", "plain_text", "tags", "split", "domain", "slice", "voice"]
        # Decoding through `datasets` needs torchcodec; read the embedded bytes with soundfile.
        raw = split.cast_column("audio", datasets.Audio(decode=False))
        for row in raw:
            rid = row["id"]
            text, split_name, plain, tags = expected[rid]
            assert (row["tagged_text"], row["split"], row["plain_text"], row["tags"]) == (text, name, plain, tags)
            assert split_name == name
            assert (row["domain"], row["slice"]) == (corpus[rid]["domain"], corpus[rid]["slice"])
            assert row["audio"]["path"] == f"{rid}.wav"
            assert row["voice"] == f"voice-{[r[0] for r in ROWS].index(rid) % 2}"
            samples, rate = sf.read(io.BytesIO(row["audio"]["bytes"]), dtype="int16")
            assert rate == RATE
            assert len(samples) == len(arrays[rid])
            np.testing.assert_array_equal(samples, arrays[rid])
            seen.append(rid)
    assert seen == ["c-1", "c-2", "c-3", "c-4", "c-5", "c-6"]  # corpus order, c-7 left out


def test_replaces_a_saved_dataset_only(tmp_path: Path) -> None:
    manifest, _ = _clips(tmp_path)
    out = tmp_path / "hf"
    export_dataset(corpus_rows=_corpus(), manifests=[manifest], out_dir=out)
    only_train = [row for row in _corpus() if row["split"] == "train"]
    # issue 25 item 19: files the user added to the saved folder were deleted with it
    (out / "notes.txt").write_text("mine")
    (out / "train" / "notes.txt").write_text("mine too")
    (out / "test" / "keep").mkdir()
    export_dataset(corpus_rows=only_train, manifests=[manifest], out_dir=out)
    assert list(datasets.load_from_disk(str(out))) == ["train"]
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if not p.name.startswith(".evoxtral-export.")) == [
        "dataset_dict.json", "notes.txt", "test", "test/keep", "train", "train/data-00000-of-00001.arrow",
        "train/dataset_info.json", "train/notes.txt", "train/state.json",
    ]  # the test split's files are gone (an export wrote them), the user's files and folder stay
    assert (out / "notes.txt").read_text() == "mine" and (out / "train" / "notes.txt").read_text() == "mine too"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".hf.")]

    other = tmp_path / "other"
    other.mkdir()
    (other / "keep.txt").write_text("x")
    (other / "dataset_dict.json").write_text("{}")
    with pytest.raises(InputError, match="is not empty .* holds no .evoxtral-export.json"):
        export_dataset(corpus_rows=_corpus(), manifests=[manifest], out_dir=other)
    assert sorted(p.name for p in other.iterdir()) == ["dataset_dict.json", "keep.txt"]  # no lock left either


def test_bad_input(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    manifest, _ = _clips(tmp_path)
    out = tmp_path / "hf"

    bad_split = _corpus()
    bad_split[1]["split"] = "dev set"
    with pytest.raises(InputError, match="corpus row 1: field 'split'"):
        export_dataset(corpus_rows=bad_split, manifests=[manifest], out_dir=out)

    dup = _corpus() + [_corpus()[0]]
    with pytest.raises(InputError, match="duplicate id 'c-1'"):
        export_dataset(corpus_rows=dup, manifests=[manifest], out_dir=out)

    lines = manifest.read_text(encoding="utf-8").splitlines()
    broken = tmp_path / "synth" / "broken.jsonl"
    broken.write_text("\n".join(lines[:3] + ["{oops"]), encoding="utf-8")
    with pytest.raises(InputError, match=r"broken\.jsonl:4: not valid JSON"):
        export_dataset(corpus_rows=_corpus(), manifests=[broken], out_dir=out)

    first = json.loads(lines[0])
    wrong_rate = tmp_path / "synth" / "rate.jsonl"
    wrong_rate.write_text(json.dumps(first | {"sample_rate": 22050}), encoding="utf-8")
    with pytest.raises(InputError, match="22050 Hz, but 'audio/c-1.wav' is 16000 Hz"):
        export_dataset(corpus_rows=_corpus(), manifests=[wrong_rate], out_dir=out)

    missing = tmp_path / "synth" / "missing.jsonl"
    missing.write_text(json.dumps(first | {"file": "audio/nope.wav"}), encoding="utf-8")
    with pytest.raises(InputError, match=r"missing\.jsonl:1: field 'file': 'audio/nope.wav': cannot read the clip"):
        export_dataset(corpus_rows=_corpus(), manifests=[missing], out_dir=out)

    no_hash = tmp_path / "synth" / "no-hash.jsonl"
    no_hash.write_text(json.dumps({k: v for k, v in first.items() if k != "sha256"}), encoding="utf-8")
    with pytest.raises(InputError, match=r"no-hash\.jsonl:1: field 'sha256': expected the clip's sha256"):
        export_dataset(corpus_rows=_corpus(), manifests=[no_hash], out_dir=out)

    empty = tmp_path / "synth" / "empty.jsonl"
    empty.write_text("", encoding="utf-8")
    no_voice = tmp_path / "synth" / "no-voice.jsonl"
    no_voice.write_text(json.dumps({"id": "c-1", "file": "audio/c-1.wav"}), encoding="utf-8")
    with pytest.raises(InputError, match=r"no-voice\.jsonl:1: field 'voice': expected a string"):
        export_dataset(corpus_rows=_corpus(), manifests=[no_voice], out_dir=out)

    with pytest.raises(InputError, match="unknown audio track 'espeak-v9'"):
        export_dataset(corpus_rows=_corpus(), manifests=[manifest], out_dir=out, track="espeak-v9")

    with pytest.raises(InputError, match="none of the 7 corpus rows has audio"):
        export_dataset(corpus_rows=_corpus(), manifests=[empty], out_dir=out)

    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "no-hf-home"))
    monkeypatch.setattr("huggingface_hub.get_token", lambda: None)
    with pytest.raises(InputError, match="HF_TOKEN"):
        export_dataset(corpus_rows=_corpus(), manifests=[manifest], out_dir=out, push_to_hub="someone/evoxtral-bench")
    assert not out.exists()


# A real instance: espeak-v1 rendered one folder per split, as `data synthesize --track` does.
TRACK_ROWS = [
    {"id": "t-1", "tagged_text": "[sighs] Fine.", "splits": ["train"]},
    {"id": "t-2", "tagged_text": "Yes, TODAY.", "splits": ["train"]},
    {"id": "t-3", "tagged_text": "[laughs] No.", "splits": ["test"]},
]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """``train`` and ``test`` folders of espeak-v1 and a ``masked`` (espeak-v1-masked) test folder."""
    need(libraries=("espeak-ng",))
    from evoxtral_bench.corpus.synth import synthesize

    root = tmp_path_factory.mktemp("tracks")
    folders = {}
    for name, split, track in (("train", "train", "espeak-v1"), ("test", "test", "espeak-v1"), ("masked", "test", "espeak-v1-masked")):
        rows = [r for r in TRACK_ROWS if r["splits"] == [split]]
        folders[name] = synthesize(rows=rows, out_dir=root / name, track=track, progress=False).parent
    return folders


def _track_corpus() -> list[dict]:
    return [{"id": r["id"], "tagged_text": r["tagged_text"], "split": r["splits"][0], "domain": "d", "slice": "plain"} for r in TRACK_ROWS]


def _entries(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / "manifest.jsonl").read_text(encoding="utf-8").splitlines()]


def test_export_of_a_track_merges_the_split_folders(rendered: dict[str, Path], tmp_path: Path) -> None:
    from evoxtral_bench.tracks import ESPEAK_VOICES, get_track

    out = tmp_path / "hf"
    manifests = [rendered["train"] / "manifest.jsonl", rendered["test"] / "manifest.jsonl"]
    export_dataset(corpus_rows=_track_corpus(), manifests=manifests, out_dir=out, track="espeak-v1")
    loaded = datasets.load_from_disk(str(out))
    assert {name: loaded[name]["id"] for name in loaded} == {"train": ["t-1", "t-2"], "test": ["t-3"]}
    assert loaded["test"].column_names[-1] == "voice"
    voices = {e["id"]: e["voice"] for folder in ("train", "test") for e in _entries(rendered[folder])}
    exported = {rid: voice for name in loaded for rid, voice in zip(loaded[name]["id"], loaded[name]["voice"])}
    assert exported == voices
    assert all(voice.split("@")[0] in ESPEAK_VOICES for voice in exported.values())
    assert {e["recipe"] for e in _entries(rendered["test"])} == {get_track("espeak-v1").recipe_hash}


def test_export_of_a_track_refuses_other_audio(rendered: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "hf"
    train = rendered["train"] / "manifest.jsonl"

    masked = rendered["masked"] / "manifest.jsonl"
    with pytest.raises(InputError, match=r"masked/manifest\.jsonl:1: field 'track': rendered for espeak-v1-masked, not espeak-v1"):
        export_dataset(corpus_rows=_track_corpus(), manifests=[train, masked], out_dir=out, track="espeak-v1")

    stale = tmp_path / "stale"
    shutil.copytree(rendered["test"], stale)
    entry = _entries(stale)[0]
    entry["recipe"] = "0123456789abcdef"
    (stale / "manifest.jsonl").write_text(json.dumps(entry) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"stale/manifest\.jsonl:1: field 'recipe': recipe '0123456789abcdef' differs from espeak-v1's current recipe '[0-9a-f]{16}': render again"):
        export_dataset(corpus_rows=_track_corpus(), manifests=[train, stale / "manifest.jsonl"], out_dir=out, track="espeak-v1")

    del entry["track"], entry["recipe"]  # a legacy render (no --track)
    (stale / "manifest.jsonl").write_text(json.dumps(entry) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match="field 'track': rendered without --track, not espeak-v1"):
        export_dataset(corpus_rows=_track_corpus(), manifests=[train, stale / "manifest.jsonl"], out_dir=out, track="espeak-v1")

    copy = tmp_path / "copy"
    shutil.copytree(rendered["train"], copy)
    with pytest.raises(InputError, match=r"copy/manifest\.jsonl:1: duplicate id 't-1' \(first in .*train/manifest\.jsonl:1\)"):
        export_dataset(corpus_rows=_track_corpus(), manifests=[train, copy / "manifest.jsonl"], out_dir=out, track="espeak-v1")
    assert not out.exists()


def test_export_of_a_v2_track_takes_its_own_test_scripts(tmp_path: Path, cli) -> None:
    """espeak-v2 renders the v2 test set (768 scripts; the corpus's test split holds its first
    128): a v2-only script rendered by `data synthesize` is exported with its v2 text."""
    need(libraries=("espeak-ng",))
    from evoxtral_bench.corpus import scripts as corpus
    from evoxtral_bench.corpus.synth import synthesize

    v1_test = {r.id for r in corpus.load() if "test" in r.splits}
    script = next(r for r in corpus.load(corpus.v2_path()) if r.id not in v1_test)
    folder = synthesize(rows=[{"id": script.id, "tagged_text": script.tagged_text, "splits": ["test"]}], out_dir=tmp_path / "test", track="espeak-v2", progress=False).parent
    code, _, err = cli("data", "export", "--track", "espeak-v2", "--audio", folder, "--out", tmp_path / "hf")
    assert code == 0, err
    loaded = datasets.load_from_disk(str(tmp_path / "hf"))
    assert list(loaded) == ["test"] and loaded["test"]["id"] == [script.id] and loaded["test"]["tagged_text"] == [script.tagged_text]
