"""Offline synthesis (espeak-ng + numpy sounds): audio format, audible tags, spans, determinism, resume."""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.helpers import need, read_clip, read_manifest  # noqa: E402

need("soundfile", libraries=("espeak-ng",))

import numpy as np
import pytest
import soundfile as sf

from evoxtral_bench.corpus.synth import synthesize
from evoxtral_bench.corpus.synth.script import RENDERED_TAGS, read_script
from evoxtral_bench.errors import InputError

SCRIPTS = {
    "a-sounds": (
        "[sighs] Another Monday again. [laughs] That was funny, honestly. [gasps] Oh no, the milk! "
        "[clears throat] Right then, where was I? [crying] [calm] Let us move on."
    ),
    "b-voices": (
        "This is how I normally talk to people. [whispers] This is how I whisper to people. "
        "[shouts] This is how I shout at people! And we are back to normal speech. [whispers] [scared] He is outside."
    ),
    "c-moods": (
        "[angry] I told you a hundred times already. [excited] We won the whole thing! [sad] Nobody came. "
        "[nervous] I hope they like me. [scared] Somebody is in the house. [frustrated] Why does this never work. "
        "[confused] Wait, which way is north?"
    ),
    "d-misc": "[crying] He is gone forever. I will wait [pause] right here. [stammers] But I NEVER said that. T-thirty, maybe.",
}
ROWS = [{"id": key, "tagged_text": text} for key, text in SCRIPTS.items()]
SOUND_TAGS = ("sighs", "laughs", "gasps", "clears throat", "crying")




def _segment(samples: np.ndarray, span: dict) -> np.ndarray:
    return samples[int(span["start"] * 16000) : int(span["end"] * 16000)]


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(x**2)))


def _voicing(x: np.ndarray) -> float:
    """Median peak of the normalized autocorrelation at pitch lags (2.5-12.5 ms) over audible 40 ms frames."""
    peaks = []
    for i in range(0, len(x) - 640, 320):
        frame = x[i : i + 640] - np.mean(x[i : i + 640])
        if _rms(frame) > 0.01:
            ac = np.correlate(frame, frame, "full")[639:]
            peaks.append(ac[40:200].max() / ac[0])
    return float(np.median(peaks))


def _pitch(x: np.ndarray, percentile: float = 50) -> float:
    """A percentile of F0 (Hz) over clearly voiced 40 ms frames (autocorrelation)."""
    values = []
    for i in range(0, len(x) - 640, 320):
        frame = x[i : i + 640] - np.mean(x[i : i + 640])
        if _rms(frame) > 0.02:
            ac = np.correlate(frame, frame, "full")[639:]
            lag = 40 + int(np.argmax(ac[40:200]))
            if ac[lag] > 0.5 * ac[0]:
                values.append(16000 / lag)
    return float(np.percentile(values, percentile)) if values else 0.0


def _centroid(x: np.ndarray) -> float:
    power = np.abs(np.fft.rfft(x)) ** 2
    return float(np.sum(power * np.fft.rfftfreq(len(x), 1 / 16000)) / np.sum(power))


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("offline")
    synthesize(rows=ROWS, out_dir=out, seed=0, progress=False)
    return out


def test_the_scripts_use_every_canonical_tag():
    used = {cue.label for text in SCRIPTS.values() for cue in read_script(text).cues}
    assert used == RENDERED_TAGS and len(used) == 17


def test_every_clip_is_16khz_mono_pcm16_with_a_sane_duration_and_its_sha256(rendered):
    manifest = read_manifest(rendered)
    assert list(manifest) == sorted(SCRIPTS)
    for entry in manifest.values():
        info = sf.info(rendered / entry["file"])
        assert (info.samplerate, info.channels, info.subtype) == (16000, 1, "PCM_16")
        assert 2.0 <= info.duration <= 40.0
        assert entry["duration"] == pytest.approx(info.duration, abs=1e-3)
        assert entry["sample_rate"] == 16000 and entry["backend"] == "offline" and entry["seed"] == 0
        assert entry["sha256"] == hashlib.sha256((rendered / entry["file"]).read_bytes()).hexdigest()
        assert np.max(np.abs(read_clip(rendered, entry))) > 0.3


def test_tag_spans_follow_the_transcript_and_fit_the_clip(rendered):
    for clip_id, entry in read_manifest(rendered).items():
        labels = [cue.label for cue in read_script(SCRIPTS[clip_id]).cues]
        assert [t["label"] for t in entry["tags"]] == labels
        starts = [t["start"] for t in entry["tags"]]
        assert starts == sorted(starts)
        for tag in entry["tags"]:
            assert 0 <= tag["start"] <= tag["end"] <= entry["duration"]
            assert tag["end"] - tag["start"] > 0.2, (clip_id, tag)


def test_word_spans_cover_every_spoken_word_in_order(rendered):
    for clip_id, entry in read_manifest(rendered).items():
        samples = read_clip(rendered, entry)
        expected = [w.text for w in read_script(SCRIPTS[clip_id]).words]
        assert [w["word"] for w in entry["words"]] == expected
        ends = 0.0
        for word in entry["words"]:
            assert ends - 1e-3 <= word["start"] < word["end"] <= entry["duration"]
            assert _rms(_segment(samples, word)) > 0.005, (clip_id, word)
            ends = word["end"]


def test_pause_is_silence_between_audible_words(rendered):
    entry = read_manifest(rendered)["d-misc"]
    samples = read_clip(rendered, entry)
    pause = next(t for t in entry["tags"] if t["label"] == "pause")
    assert pause["end"] - pause["start"] >= 0.5
    inside = {"start": pause["start"] + 0.01, "end": pause["end"] - 0.01}
    assert np.max(np.abs(_segment(samples, inside))) < 1e-3
    around = [w for w in entry["words"] if w["word"] in ("wait", "right")]
    assert all(_rms(_segment(samples, w)) > 0.03 for w in around)


def test_whisper_is_quiet_and_unvoiced_and_shout_loud_and_high(rendered):
    entry = read_manifest(rendered)["b-voices"]
    samples = read_clip(rendered, entry)
    words = entry["words"]
    neutral = samples[int(words[0]["start"] * 16000) : int(words[7]["end"] * 16000)]
    whisper, shout, stacked, scared = (_segment(samples, t) for t in entry["tags"])
    for quiet in (whisper, stacked):
        assert _rms(quiet) < 0.5 * _rms(neutral)
        assert _voicing(quiet) < _voicing(neutral) - 0.25
        assert _centroid(quiet) > 1.5 * _centroid(neutral)
    assert _rms(shout) > 1.8 * _rms(neutral)
    assert _pitch(shout) > 1.25 * _pitch(neutral)


def test_stacked_style_tags_govern_the_same_clause(rendered):
    whispers, scared = read_manifest(rendered)["b-voices"]["tags"][2:]
    assert (whispers["label"], scared["label"]) == ("whispers", "scared")
    assert (whispers["start"], whispers["end"]) == (scared["start"], scared["end"])


def test_each_style_changes_the_delivery_of_the_same_words_in_its_own_way(tmp_path):
    styles = [None, "whispers", "shouts", "angry", "excited", "sad", "calm", "nervous", "scared", "frustrated",
              "confused", "crying"]  # fmt: skip
    sentence = "I am telling you about the weather today."
    rows = [{"id": f"s{i:02d}", "tagged_text": (f"[{s}] " if s else "") + sentence} for i, s in enumerate(styles)]
    out = tmp_path / "styles"
    synthesize(rows=rows, out_dir=out, voices=["en-us@50"], progress=False)
    features = {}
    for style, entry in zip(styles, read_manifest(out).values()):
        words = entry["words"]
        clause = read_clip(out, entry)[int(words[0]["start"] * 16000) : int(words[-1]["end"] * 16000)]
        features[style] = np.array([words[-1]["end"] - words[0]["start"], _rms(clause), _pitch(clause)])
    for a, b in itertools.combinations(styles, 2):
        relative = np.abs(features[a] - features[b]) / np.maximum(np.maximum(features[a], features[b]), 1e-9)
        assert relative.max() > 0.1, f"{a} and {b} sound alike: duration, rms, pitch {features[a]} vs {features[b]}"


def test_non_verbal_sounds_are_audible_and_distinct(rendered):
    entry = read_manifest(rendered)["a-sounds"]
    samples = read_clip(rendered, entry)
    features = {}
    for tag in entry["tags"]:
        if tag["label"] in SOUND_TAGS:
            sound = _segment(samples, tag)
            assert _rms(sound) > 0.03, tag
            features[tag["label"]] = np.array([len(sound) / 16000, _centroid(sound), _voicing(sound)])
    assert set(features) == set(SOUND_TAGS)
    for a, b in itertools.combinations(SOUND_TAGS, 2):
        relative = np.abs(features[a] - features[b]) / np.maximum(features[a], features[b])
        assert relative.max() > 0.25, f"{a} and {b}: duration, centroid, voicing {features[a]} vs {features[b]}"


def test_stammer_repeats_the_onset_of_the_word(rendered):
    entry = read_manifest(rendered)["d-misc"]
    samples = read_clip(rendered, entry)
    words = {w["word"]: w for w in entry["words"]}
    stammer = next(t for t in entry["tags"] if t["label"] == "stammers")
    assert stammer["end"] == words["But"]["end"]
    assert words["But"]["start"] - stammer["start"] > 0.3  # two onsets and their gaps come first
    onsets = _segment(samples, {"start": stammer["start"], "end": words["But"]["start"]})
    assert _rms(onsets) > 0.02
    assert words["T-thirty"]["end"] - words["T-thirty"]["start"] > words["maybe"]["end"] - words["maybe"]["start"]


def test_caps_emphasis_is_louder_higher_and_slower_than_the_plain_word(tmp_path):
    rows = [{"id": "plain", "tagged_text": "But I never said that."}, {"id": "stressed", "tagged_text": "But I NEVER said that."}]
    synthesize(rows=rows, out_dir=tmp_path, voices=["en-us+f2@50"], progress=False)
    measured = {}
    for clip_id, entry in read_manifest(tmp_path).items():
        word = entry["words"][2]
        sound = _segment(read_clip(tmp_path, entry), word)
        measured[clip_id] = np.array([_rms(sound), _pitch(sound, 90), word["end"] - word["start"]])
    louder, higher, longer = measured["stressed"] / measured["plain"]
    assert louder > 1.4 and higher > 1.1 and longer > 1.15, measured


def test_same_seed_same_bytes_other_seed_other_audio(rendered, tmp_path):
    again = tmp_path / "again"
    synthesize(rows=list(reversed(ROWS)), out_dir=again, seed=0, concurrency=1, progress=False)
    assert (again / "manifest.jsonl").read_bytes() == (rendered / "manifest.jsonl").read_bytes()
    for entry in read_manifest(rendered).values():
        assert (again / entry["file"]).read_bytes() == (rendered / entry["file"]).read_bytes()
    other = tmp_path / "other"
    synthesize(rows=ROWS[:2], out_dir=other, seed=1, progress=False)
    first = read_manifest(rendered)
    assert all(e["sha256"] != first[e["id"]]["sha256"] for e in read_manifest(other).values())


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"backend": "festival"}, "unknown synthesis backend 'festival'"),
        ({"rows": [{"id": "x", "tagged_text": "[hiccups] oh"}]}, "row 1 (id 'x'): tag(s) 'hiccups' are not canonical"),
        ({"rows": [{"id": "../x", "tagged_text": "hi there"}]}, "row 1: 'id' must be"),
        ({"rows": [{"id": "x", "tagged_text": "a b"}, {"id": "x", "tagged_text": "c d"}]}, "row 2 (id 'x'): duplicate id"),
        ({"rows": [{"id": "x"}]}, "'tagged_text' must be a non-empty string"),
        ({"voices": ["en-zz+f9"]}, "espeak-ng has no voice 'en-zz+f9'"),
        ({"seed": -1}, "seed must be a non-negative integer"),
    ],
)
def test_input_errors_are_clear(tmp_path, kwargs, message):
    arguments = {"rows": ROWS[:1], "out_dir": tmp_path / "x", "progress": False} | kwargs
    with pytest.raises(InputError, match=re.escape(message)):
        synthesize(**arguments)
    assert not (tmp_path / "x" / "manifest.jsonl").exists()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("word " * 150_000, "'tagged_text' has 750,000 characters; one clip renders at most 2,000"),
        ("so " * 201, "'tagged_text' has 201 words; one clip renders at most 200"),
        ("[sighs] so " * 33, "'tagged_text' has 33 tags; one clip renders at most 32"),
    ],
    ids=["characters", "words", "tags"],  # short ids: pytest puts the id in PYTEST_CURRENT_TEST, which the child inherits
)
def test_a_row_larger_than_a_clip_is_refused_before_rendering(tmp_path, text, message):
    """Issue 25 item 22: a 150,000-word row ended in a numpy allocation error (exit 1), and memory
    grew with the row (1,000 words: 1.65 GB). Run with 1 GiB of memory and 60 s."""
    import resource

    row = {"id": "evx-00001", "split": "test", "domain": "podcast", "slice": "plain", "tagged_text": text}
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text(json.dumps(row) + "\n")
    command = [sys.executable, "-m", "evoxtral_bench", "data", "synthesize", "--corpus", str(corpus), "--out", str(tmp_path / "out"), "--no-progress"]
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2]))

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))

    done = subprocess.run(command, env=env, timeout=60, capture_output=True, text=True, preexec_fn=limit)
    assert done.returncode == 2 and f"row 1 (id 'evx-00001'): {message}: split it into several rows" in done.stderr, done.stderr[-2000:]
    assert not (tmp_path / "out").exists()


RESUME_ROWS = [
    {"id": f"r{i}", "tagged_text": text}
    for i, text in enumerate(
        [
            "[sighs] I waited all morning for the bus.",
            "[laughs] You should have seen his face.",
            "[whispers] Do not tell anyone about this.",
            "We need to talk [pause] about the money.",
            "[shouts] Get out of my kitchen right now!",
            "[stammers] But I never even touched it.",
            "[nervous] Is the interview still at noon?",
            "[gasps] The cake is on fire again!",
        ]
    )
]


def _start(out: Path) -> subprocess.Popen:
    code = (
        "import json, sys; from evoxtral_bench.corpus.synth import synthesize; "
        "synthesize(rows=json.loads(sys.argv[1]), out_dir=sys.argv[2], concurrency=1, progress=False)"
    )
    return subprocess.Popen([sys.executable, "-c", code, json.dumps(RESUME_ROWS), str(out)])


def _kill_after(process: subprocess.Popen, out: Path, records: int) -> None:
    deadline = time.monotonic() + 60
    while len(list((out / "records").glob("*.json"))) < records:
        assert process.poll() is None and time.monotonic() < deadline
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait()


def _snapshot(out: Path) -> dict[str, tuple[int, int]]:
    return {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in (out / "audio").glob("*.wav")}


def test_killed_run_resumes_to_the_same_bytes_without_redoing_finished_clips(tmp_path):
    reference = tmp_path / "reference"
    synthesize(rows=RESUME_ROWS, out_dir=reference, progress=False)
    out = tmp_path / "resumed"
    for records in (2, 5):
        _kill_after(_start(out), out, records)
        assert not (out / "manifest.jsonl").exists()
    finished = {f"{p.stem}.wav" for p in (out / "records").glob("*.json")}
    before = _snapshot(out)
    synthesize(rows=RESUME_ROWS, out_dir=out, progress=False)
    after = _snapshot(out)
    assert all(after[name] == before[name] for name in finished)  # not rewritten
    assert (out / "manifest.jsonl").read_bytes() == (reference / "manifest.jsonl").read_bytes()
    assert sorted(os.listdir(out / "audio")) == sorted(os.listdir(reference / "audio"))
    for name in os.listdir(reference / "audio"):
        assert (out / "audio" / name).read_bytes() == (reference / "audio" / name).read_bytes()


def test_an_output_path_that_is_a_file_is_refused_before_any_rendering(tmp_path):
    target = tmp_path / "afile"
    target.write_text("mine", encoding="utf-8")
    with pytest.raises(InputError, match="exists and is not a folder"):
        synthesize(rows=RESUME_ROWS[:1], out_dir=target, progress=False)
    assert target.read_text(encoding="utf-8") == "mine"
    out = tmp_path / "out"
    synthesize(rows=RESUME_ROWS[:1], out_dir=out, progress=False)
    shutil.rmtree(out / "audio")
    (out / "audio").write_text("x", encoding="utf-8")
    (out / "records" / f"{RESUME_ROWS[0]['id']}.json").unlink()
    with pytest.raises(InputError, match="audio: exists and is not a folder"):
        synthesize(rows=RESUME_ROWS[:1], out_dir=out, progress=False)
    assert list((out / "records").iterdir()) == []


def test_synthesis_replaces_only_what_it_wrote(tmp_path, cli):
    """Issue 25 item 17: a user's ``.draft.tmp`` and ``audio/.take1.tmp`` were deleted (every
    ``.*.tmp``) and a user's ``manifest.jsonl`` replaced, with rc 0; ``--out ''`` rendered into the
    current folder. Synthesis owns its folder as ``leaderboard build`` does (docs/spec.md §8.7)."""
    out = tmp_path / "mine"
    (out / "audio").mkdir(parents=True)
    (out / "manifest.jsonl").write_text("my notes\n")
    with pytest.raises(InputError, match=r"mine is not empty \(audio, manifest.jsonl\) and holds no \.evoxtral-synthesize\.json"):
        synthesize(rows=RESUME_ROWS[:1], out_dir=out, progress=False)
    assert sorted(p.name for p in out.rglob("*")) == ["audio", "manifest.jsonl"]  # no lock left either
    assert (out / "manifest.jsonl").read_text() == "my notes\n"

    out = tmp_path / "synth"
    synthesize(rows=RESUME_ROWS[:1], out_dir=out, progress=False)
    clip_id = RESUME_ROWS[0]["id"]
    mine = {".draft.tmp": "a", "audio/.take1.tmp": "b", f"audio/.{clip_id}.wav.tmp": "c", "audio/notes.txt": "d"}
    leftover = f"audio/.{clip_id}.wav.abcd1234.tmp"  # a temp file of a killed run, next to a claimed clip
    for relative, text in [*mine.items(), (leftover, "x")]:
        (out / relative).write_text(text)
    synthesize(rows=RESUME_ROWS[:2], out_dir=out, progress=False)
    assert {relative: (out / relative).read_text() for relative in mine} == mine
    assert not (out / leftover).exists()
    assert len(read_manifest(out)) == 2



def test_synthesis_refuses_an_empty_out_and_an_input_among_its_outputs(tmp_path, cli, monkeypatch):
    """Issue 25 items 27 and 23: ``--out ''`` rendered into the current folder, and
    ``--corpus D/manifest.jsonl --out D`` overwrote the corpus it read."""
    row = {"id": "evx-00001", "split": "test", "domain": "podcast", "slice": "plain", "tagged_text": "Hello there."}
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text(json.dumps(row) + "\n")
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here)
    code, _, err = cli("data", "synthesize", "--corpus", corpus, "--out", "", "--no-progress")
    assert code == 2 and "--out needs a folder; got an empty name" in err, err
    assert list(here.iterdir()) == []

    out = tmp_path / "D"
    assert cli("data", "synthesize", "--corpus", corpus, "--out", out, "--no-progress")[0] == 0
    (out / "manifest.jsonl").write_text(json.dumps(row) + "\n")  # the user keeps a corpus there
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    code, _, err = cli("data", "synthesize", "--corpus", out / "manifest.jsonl", "--out", out, "--no-progress")
    assert code == 2 and f"--out {out}/manifest.jsonl is the input file {out}/manifest.jsonl; it would be overwritten" in err, err
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
