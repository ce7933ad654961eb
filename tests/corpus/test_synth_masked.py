"""The masked (counterfactual) offline track: same words and voices, no audible tag."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import need, read_clip, read_manifest

need("soundfile", libraries=("espeak-ng",))

import numpy as np
import pytest

from evoxtral_bench.cli.app import main
from evoxtral_bench.corpus.synth import synthesize
from evoxtral_bench.corpus.synth.plan import MASKED
from evoxtral_bench.errors import InputError

ROWS = [
    {
        "id": "m-sounds",
        "tagged_text": "[sighs] Another Monday again. [laughs] That was funny, honestly. [gasps] Oh no, the milk! "
        "[clears throat] Right then. [crying] He is gone.",
    },
    {
        "id": "m-misc",
        "tagged_text": "[whispers] Keep it down. I will wait [pause] right here. [stammers] But I NEVER said that. "
        "T-thirty, [shouts] maybe!",
    },
]
SOUNDS = ("sighs", "laughs", "gasps", "clears throat", "crying")




def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(x**2))) if len(x) else 0.0


def _span(x: np.ndarray, span: dict) -> np.ndarray:
    return x[int(span["start"] * 16000) : int(span["end"] * 16000)]


@pytest.fixture(scope="module")
def tracks(tmp_path_factory) -> tuple[Path, Path]:
    full, masked = tmp_path_factory.mktemp("full"), tmp_path_factory.mktemp("masked")
    synthesize(rows=ROWS, out_dir=full, seed=0, progress=False)
    synthesize(rows=ROWS, out_dir=masked, seed=0, progress=False, masked=True)
    return full, masked


def test_event_spans_hold_room_tone_in_the_masked_clip_and_sound_in_the_full_one(tracks):
    full, masked = tracks
    checked = 0
    for clip_id, entry in read_manifest(masked).items():
        full_entry = read_manifest(full)[clip_id]
        m, f = read_clip(masked, entry), read_clip(full, full_entry)
        room = _rms(m[: int(0.2 * 16000)])  # the lead-in: the clip's background level
        for span, full_span in zip(entry["tags"], full_entry["tags"]):
            assert span["label"] == full_span["label"]
            if span["label"] not in SOUNDS:
                continue
            sound_full = _span(f, {"start": full_span["start"], "end": full_span["start"] + 0.3})
            # the sound part alone: from its start for as long as the full clip's sound (no words)
            length = (full_span["end"] if span["label"] != "crying" else full_span["start"] + 0.5) - full_span["start"]
            tone = _span(m, {"start": span["start"], "end": span["start"] + length})
            assert _rms(sound_full) > 0.02, (clip_id, span)
            assert _rms(tone) <= room + 1e-4, (clip_id, span, _rms(tone), room)
            checked += 1
    assert checked == len(SOUNDS)


def test_masked_clip_has_the_same_words_voice_and_tag_list(tracks):
    full, masked = tracks
    for clip_id, entry in read_manifest(masked).items():
        full_entry = read_manifest(full)[clip_id]
        assert [w["word"] for w in entry["words"]] == [w["word"] for w in full_entry["words"]]
        assert len(entry["words"]) == len(full_entry["words"]) > 0
        assert entry["voice"] == full_entry["voice"] and entry["seed"] == full_entry["seed"]
        assert [t["label"] for t in entry["tags"]] == [t["label"] for t in full_entry["tags"]]
        assert entry["masked"] == list(MASKED) and "masked" not in full_entry
        assert entry["sha256"] != full_entry["sha256"]


def test_sound_room_tone_keeps_the_full_sound_length(tracks):
    full, masked = tracks
    for clip_id, entry in read_manifest(masked).items():
        full_entry = read_manifest(full)[clip_id]
        for span, full_span in zip(entry["tags"], full_entry["tags"]):
            if span["label"] in ("sighs", "laughs", "gasps", "clears throat"):
                assert span["end"] - span["start"] == pytest.approx(full_span["end"] - full_span["start"], abs=0.002)


def test_pause_stutter_and_styles_are_gone(tracks):
    full, masked = tracks
    f_entry, m_entry = read_manifest(full)["m-misc"], read_manifest(masked)["m-misc"]
    f, m = read_clip(full, f_entry), read_clip(masked, m_entry)
    pause = next(t for t in m_entry["tags"] if t["label"] == "pause")
    assert pause["start"] == pause["end"]
    gap = lambda e: words_of(e)["right"]["start"] - words_of(e)["wait"]["end"]  # noqa: E731
    assert gap(m_entry) < 0.3 < gap(f_entry)
    stammer = lambda e: next(t for t in e["tags"] if t["label"] == "stammers")  # noqa: E731
    # no repeated onsets: the stammer span is just the word "But"
    assert stammer(m_entry)["end"] - stammer(m_entry)["start"] < stammer(f_entry)["end"] - stammer(f_entry)["start"] - 0.2
    # whispered and shouted clauses are spoken at the neutral level: loudness ratio close to 1
    shout = lambda e, x: _rms(_span(x, {"start": words_of(e)["maybe"]["start"], "end": words_of(e)["maybe"]["end"]}))  # noqa: E731
    whisper = lambda e, x: _rms(_span(x, {"start": words_of(e)["Keep"]["start"], "end": words_of(e)["down"]["end"]}))  # noqa: E731
    assert shout(f_entry, f) / whisper(f_entry, f) > 2.5
    assert 0.5 < shout(m_entry, m) / whisper(m_entry, m) < 2.0


def words_of(entry: dict) -> dict[str, dict]:
    return {w["word"]: w for w in entry["words"]}


def test_same_seed_same_masked_bytes(tracks, tmp_path):
    _, masked = tracks
    synthesize(rows=ROWS[::-1], out_dir=tmp_path, seed=0, concurrency=1, progress=False, masked=True)
    assert (tmp_path / "manifest.jsonl").read_bytes() == (masked / "manifest.jsonl").read_bytes()


def test_masked_needs_a_backend_that_renders_tags_by_rule(tmp_path, capsys):
    with pytest.raises(InputError, match=r"renders tags by rule \(offline, neural\); got 'elevenlabs'"):
        synthesize(rows=ROWS, out_dir=tmp_path, backend="elevenlabs", masked=True, progress=False)
    assert main(["data", "synthesize", "--backend", "elevenlabs", "--masked", "--out", str(tmp_path)]) == 2
    assert "renders tags by rule" in capsys.readouterr().err


def test_cli_masked_synthesis_and_a_full_run_do_not_resume_into_each_other(tmp_path, capsys):
    row = {"id": "evx-00002", "split": "test", "domain": "voicemail", "slice": "moderate", "tagged_text": "Hi Sam. [sighs] Call me back. [pause] Please."}
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text(json.dumps(row) + "\n", encoding="utf-8")
    out = tmp_path / "audio"
    assert main(["data", "synthesize", "--corpus", str(corpus), "--out", str(out), "--masked", "--no-progress"]) == 0
    masked = read_manifest(out)["evx-00002"]
    assert masked["masked"] == list(MASKED)
    # the same folder rendered without --masked: the masked clip is not taken as finished
    assert main(["data", "synthesize", "--corpus", str(corpus), "--out", str(out), "--no-progress"]) == 0
    full = read_manifest(out)["evx-00002"]
    assert "masked" not in full and full["sha256"] != masked["sha256"] and full["duration"] > masked["duration"]
    capsys.readouterr()
