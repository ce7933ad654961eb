"""``evoxtral-bench run`` with the ``python:`` backend: the files it writes, resuming after
Ctrl-C and kill -9, the path into the leaderboard, and the exit-2 errors."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

import evoxtral_bench
from evoxtral_bench.cli import main
from evoxtral_bench.corpus.synth.audio import wav_bytes
from evoxtral_bench.files import sha256_bytes
from evoxtral_bench.leaderboard.build import score_entry
from evoxtral_bench.leaderboard.entries import References, load_entries
from evoxtral_bench.runner.audio import read_wav, split_rows
from evoxtral_bench.scoring.submission import Problems
from evoxtral_bench.tracks import get_track

from .conftest import CLIPS

V1 = get_track("espeak-v1")

ROOT = Path(__file__).resolve().parents[2]

MODULE = '''
import os, time
from pathlib import Path

def transcribe(audio, rate):
    """A deterministic "model": a tag, then the clip's length and a checksum of its samples."""
    CALLS = Path(os.environ["EVX_CALLS"]) if os.environ.get("EVX_CALLS") else None
    if CALLS is not None:
        with open(CALLS, "a") as fh:
            fh.write("call\\n")
    if os.environ.get("EVX_STOP_AFTER") and CALLS and len(CALLS.read_text().splitlines()) > int(os.environ["EVX_STOP_AFTER"]):
        raise KeyboardInterrupt
    time.sleep(float(os.environ.get("EVX_SLEEP", "0")))
    return f"[laughs] Hello THERE {len(audio)} samples at {rate} Hz, sum {round(float(abs(audio).sum()), 3)} ["

def by_path(path, rate):
    return "heard " + Path(path).name
'''


@pytest.fixture
def user_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A module of the user's (``python:NAME:transcribe``), importable from the current folder."""
    name = f"evx_user_{tmp_path.name.replace('-', '_')}"
    (tmp_path / f"{name}.py").write_text(MODULE, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return name


def run(audio_root: Path, out: Path, model: str, *extra: str) -> int:
    argv = ["run", "--model", model, "--track", "espeak-v1", "--out", str(out), "--audio", str(audio_root), "--limit", str(CLIPS), "--no-progress"]
    return main([*argv, *extra])


def same_scores(a: Path, b: Path) -> bool:
    """Whether two runs' results documents hold the same numbers (they name their own files)."""
    first, second = (json.loads((x / "results.json").read_text(encoding="utf-8")) for x in (a, b))
    for document in (first, second):
        document.pop("submission")
        document["grounding"].pop("masked_submission")
    return first == second


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_python_callable_writes_every_file_and_scores_like_score(
    audio_root: Path, user_module: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "out"
    monkeypatch.setenv("EVX_SLEEP", "0.05")  # inference seconds well above the rounding of run.json
    assert run(audio_root, out, f"python:{user_module}:transcribe") == 0
    table = capsys.readouterr().out
    ids = [row["id"] for row in split_rows(V1, "test", CLIPS)]
    for name, track in (("predictions.jsonl", "espeak-v1"), ("predictions.masked.jsonl", "espeak-v1-masked")):
        rows = lines(out / name)
        assert [r["id"] for r in rows] == ids
        for row in rows:  # the callable got the clip's samples at 16 kHz, and the stray "[" was repaired
            audio = read_wav(audio_root / track / "test" / "audio" / f"{row['id']}.wav")
            text = f"[laughs] Hello THERE {len(audio)} samples at 16000 Hz, sum {round(float(abs(audio).sum()), 3)}"
            assert row == {"id": row["id"], "prediction": text, "raw": text + " ["}
    # the results document is `score` on the two files, restricted to the clips run
    refs = [{"id": r["id"], "tagged_text": r["tagged_text"], "split": list(r["splits"]), "domain": r["domain"], "slice": r["slice"]} for r in split_rows(V1, "test", CLIPS)]
    expected = evoxtral_bench.score(predictions=out / "predictions.jsonl", masked=out / "predictions.masked.jsonl", references=refs, split="test", track="espeak-v1")
    assert (out / "results.json").read_text(encoding="utf-8") == expected.to_json()
    assert "Grounding (full track espeak-v1 vs masked track espeak-v1-masked" in table
    record = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert record["model"]["backend"] == "python" and record["model"]["options"] == {"input": "array", "deterministic": True}
    assert record["model"]["module_sha256"] == sha256_bytes(MODULE.encode("utf-8"))
    assert record["track"] == {
        "name": "espeak-v1", "recipe": get_track("espeak-v1").recipe_hash, "masked_twin": "espeak-v1-masked",
        "masked_recipe": get_track("espeak-v1-masked").recipe_hash, "split": "test", "clips": CLIPS, "limit": CLIPS,
    }
    full = record["tracks"]["espeak-v1"]
    durations = [json.loads(x)["duration"] for x in (audio_root / "espeak-v1" / "test" / "manifest.jsonl").read_text().splitlines()]
    assert full["predictions"] == CLIPS and full["repaired"] == CLIPS and full["resumed"] == 0
    assert full["audio_seconds"] == pytest.approx(sum(durations), abs=0.01)
    assert full["inference_seconds"] >= 0.05 * CLIPS and full["wall_seconds"] >= full["inference_seconds"]
    assert full["rtfx"] == pytest.approx(full["audio_seconds"] / full["inference_seconds"], rel=0.02)
    assert record["command"].startswith("evoxtral-bench run --model python:") and record["results"] == "results.json"
    assert record["environment"]["cpu"] and "numpy" in record["environment"]["libraries"]
    assert not list(out.glob("*.partial.jsonl"))


def test_input_path_option_passes_the_wav_path(audio_root: Path, user_module: str, tmp_path: Path) -> None:
    assert run(audio_root, tmp_path / "out", f"python:{user_module}:by_path", "-o", "input=path") == 0
    assert [r["prediction"] for r in lines(tmp_path / "out" / "predictions.jsonl")] == [f"heard {r['id']}.wav" for r in split_rows(V1, "test", CLIPS)]


def test_ctrl_c_keeps_complete_lines_and_the_rerun_finishes_with_the_same_bytes(
    audio_root: Path, user_module: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    assert run(audio_root, tmp_path / "straight", f"python:{user_module}:transcribe") == 0
    calls = tmp_path / "calls.txt"
    monkeypatch.setenv("EVX_CALLS", str(calls))
    monkeypatch.setenv("EVX_STOP_AFTER", "1")  # Ctrl-C while transcribing the second clip
    out = tmp_path / "stopped"
    assert run(audio_root, out, f"python:{user_module}:transcribe") == 130
    assert "run the same command to resume" in capsys.readouterr().err
    assert len(lines(out / "predictions.partial.jsonl")) == 1 and not (out / "predictions.jsonl").exists()
    monkeypatch.delenv("EVX_STOP_AFTER")
    calls.write_text("")
    assert run(audio_root, out, f"python:{user_module}:transcribe") == 0
    assert len(calls.read_text().splitlines()) == 2 * CLIPS - 1  # the finished clip was not transcribed again
    for name in ("predictions.jsonl", "predictions.masked.jsonl"):
        assert (out / name).read_bytes() == (tmp_path / "straight" / name).read_bytes()
    assert same_scores(out, tmp_path / "straight")
    assert json.loads((out / "run.json").read_text())["tracks"]["espeak-v1"]["resumed"] == 1


def test_kill_9_then_rerun_gives_the_bytes_of_an_uninterrupted_run(audio_root: Path, user_module: str, tmp_path: Path) -> None:
    env = os.environ | {"PYTHONPATH": os.pathsep.join([str(ROOT), str(tmp_path)]), "EVX_SLEEP": "0.5"}
    argv = [sys.executable, "-m", "evoxtral_bench", "run", "--model", f"python:{user_module}:transcribe", "--track", "espeak-v1",
            "--audio", str(audio_root), "--limit", str(CLIPS), "--no-progress"]
    straight = subprocess.run([*argv, "--out", str(tmp_path / "straight")], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert straight.returncode == 0, straight.stderr
    out = tmp_path / "killed"
    process = subprocess.Popen([*argv, "--out", str(out)], env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    partial = out / "predictions.partial.jsonl"
    deadline = time.monotonic() + 60
    while not (partial.is_file() and partial.read_text()) and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert partial.read_text() and not (out / "predictions.jsonl").exists()
    with open(partial, "a", encoding="utf-8") as fh:  # what a kill in the middle of a write leaves
        fh.write('{"id": "evx-9999", "predic')
    again = subprocess.run([*argv, "--out", str(out)], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    for name in ("predictions.jsonl", "predictions.masked.jsonl"):
        assert (out / name).read_bytes() == (tmp_path / "straight" / name).read_bytes()
    assert same_scores(out, tmp_path / "straight")


@pytest.fixture(scope="module")
def full_split_audio(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A complete rendered folder of the whole test split for both tracks, as `data synthesize
    --track` lays it out (manifest with the recipe hash and each WAV's sha256), holding 0.1 s of
    silence per clip: the python: model below does not listen, and rendering 2 × 128 clips
    would take minutes."""
    root = tmp_path_factory.mktemp("full")
    for name in ("espeak-v1", "espeak-v1-masked"):
        track, folder = get_track(name), root / name / "test"
        (folder / "audio").mkdir(parents=True)
        entries = []
        for row in split_rows(V1, "test"):
            data = wav_bytes(bytes(3200), 16000)
            (folder / "audio" / f"{row['id']}.wav").write_bytes(data)
            entries.append({"id": row["id"], "file": f"audio/{row['id']}.wav", "duration": 0.1, "sha256": sha256_bytes(data), "track": name, "recipe": track.recipe_hash})
        (folder / "manifest.jsonl").write_text("".join(json.dumps(e) + "\n" for e in entries))
    return root


def test_run_then_leaderboard_new_then_check_passes_and_scores_like_score(
    full_split_audio: Path, user_module: str, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    out, subs = tmp_path / "run", tmp_path / "submissions"
    argv = ["run", "--model", f"python:{user_module}:transcribe", "--track", "espeak-v1", "--out", str(out), "--audio", str(full_split_audio), "--no-progress"]
    assert main(argv) == 0
    assert main(["leaderboard", "new", "my-model", "--run", str(out), "--submissions", str(subs), "--date", "2026-12-07"]) == 0
    meta = (subs / "my-model" / "meta.yaml").read_text(encoding="utf-8")
    assert "track: espeak-v1" in meta and f'command: "evoxtral-bench run --model python:{user_module}:transcribe' in meta
    env = json.loads((out / "run.json").read_text(encoding="utf-8"))["environment"]
    (machine,) = (yaml.safe_load(line)["machine"] for line in meta.splitlines() if line.startswith("machine: "))
    assert machine.startswith(f"{env['cpu']} ({env['usable_cpus']} usable CPUs), GPU none; ")
    assert f"Python {env['python']}" in machine and f"numpy {env['libraries']['numpy']}" in machine and len(machine) <= 500
    edited = re.sub(r"(?m)^name: .*$", "name: My model", re.sub(r"(?m)^organization: .*$", "organization: Me", meta))
    assert len(edited.splitlines()) == len(meta.splitlines()) and sum(a != b for a, b in zip(edited.splitlines(), meta.splitlines())) == 2
    meta = edited
    (subs / "my-model" / "meta.yaml").write_text(meta, encoding="utf-8")
    capsys.readouterr()
    assert main(["leaderboard", "check", "--submissions", str(subs)]) == 0
    assert "OK, 1 entry (1 verified" in capsys.readouterr().out
    for name in ("predictions.jsonl", "predictions.masked.jsonl"):
        assert (subs / "my-model" / name).read_bytes() == (out / name).read_bytes()
    # the entry scores as `score` scores the files, and as run's results.json says
    problems = Problems()
    (entry,) = load_entries(subs, References(problems), problems)
    scored = score_entry(entry.system, entry.refs, entry.masked, entry.meta.track)["results"]
    assert main(["score", str(out / "predictions.jsonl"), "--masked", str(out / "predictions.masked.jsonl"), "--track", "espeak-v1", "--format", "json"]) == 0
    by_score = json.loads(capsys.readouterr().out)
    by_run = json.loads((out / "results.json").read_text(encoding="utf-8"))
    for document in (scored, by_run, by_score):  # each names the files by its own path; their sha256 stay
        assert document.pop("submission")["sha256"] == sha256_bytes((out / "predictions.jsonl").read_bytes())
        assert document["grounding"].pop("masked_submission")["sha256"] == sha256_bytes((out / "predictions.masked.jsonl").read_bytes())
    assert scored == by_score and by_run == by_score


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--model", "whisper:tiny"], "unknown backend 'whisper'"),
        (["--model", "ct2:"], "nothing after 'ct2:'"),
        (["--model", "python:no_such_module_here:f"], "cannot import 'no_such_module_here'"),
        (["--model", "python:json:no_such_function"], "json has no function 'no_such_function'"),
        (["--model", "python:json:dumps", "-o", "speed=fast"], "has no option 'speed'"),
        (["--model", "python:json:dumps", "-o", "input=tape"], "expected one of array, path"),
        (["--model", "ct2:/nonexistent/model"], "is not a CTranslate2 model folder"),
        (["--model", "openai:localhost:8000"], "expected an http(s) URL"),
        (["--model", "python:json:dumps", "--limit", "0"], "--limit: expected at least 1"),
    ],
)
def test_bad_input_is_exit_2_with_a_message(argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    code = main(["run", "--track", "espeak-v1", "--out", str(tmp_path / "out"), "--no-progress", *argv])
    err = capsys.readouterr().err
    assert code == 2 and message in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()  # nothing written


def test_elevenlabs_without_a_key_is_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    pytest.importorskip("elevenlabs")
    monkeypatch.delenv("ELEVENLABS_API_KEY", raising=False)
    assert main(["run", "--model", "elevenlabs:scribe_v1", "--track", "espeak-v1", "--out", str(tmp_path / "o")]) == 2
    assert "export ELEVENLABS_API_KEY=" in capsys.readouterr().err


def test_a_track_without_audio_and_without_its_renderer_is_exit_2(
    user_module: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setitem(sys.modules, "piper", None)  # Python's own "not installed", whether or not [neural] is
    argv = ["run", "--model", f"python:{user_module}:transcribe", "--track", "neural-v1", "--out", str(tmp_path / "o"), "--audio", str(tmp_path / "none"), "--limit", "1", "--no-progress"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "no complete neural-v1 audio there, and it cannot be rendered here" in err and '".[neural]"' in err and "--audio DIR" in err
    monkeypatch.delenv("ELEVENLABS_API_KEY", raising=False)  # elevenlabs-v3: rendering needs a key
    argv[argv.index("neural-v1")] = "elevenlabs-v3"
    assert main(argv) == 2
    assert "needs an API key" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()  # nothing written


def test_another_run_in_the_same_out_is_refused(audio_root: Path, user_module: str, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "out"
    assert run(audio_root, out, f"python:{user_module}:transcribe") == 0
    before = (out / "predictions.jsonl").read_bytes()
    assert run(audio_root, out, f"python:{user_module}:by_path") == 2
    assert "holds a run with other settings" in capsys.readouterr().err
    assert (out / "predictions.jsonl").read_bytes() == before


def test_masked_track_name_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["run", "--model", "python:json:dumps", "--track", "espeak-v1-masked", "--out", str(tmp_path / "o")]) == 2
    assert "invalid choice: 'espeak-v1-masked'" in capsys.readouterr().err


def test_leaderboard_new_refuses_a_limited_or_unfinished_run(audio_root: Path, user_module: str, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "out"
    assert run(audio_root, out, f"python:{user_module}:transcribe") == 0
    assert main(["leaderboard", "new", "x", "--run", str(out), "--submissions", str(tmp_path / "subs")]) == 2
    assert "covers part of the split; run it without --limit" in capsys.readouterr().err
    assert main(["leaderboard", "new", "x", "--run", str(tmp_path / "nothing"), "--submissions", str(tmp_path / "subs")]) == 2
    assert "--run is the --out folder of `evoxtral-bench run`" in capsys.readouterr().err
    assert not (tmp_path / "subs").exists()


def test_a_limited_run_of_a_rendered_track_resamples_a_scripts_renderings_together(tmp_path: Path) -> None:
    """``--limit`` scores the clips run against their rows; on a track that renders each test
    script twice (neural-v2) those rows keep their script, so the bootstrap resamples scripts,
    as the whole split's score does (no audio needed: the scoring step on prediction files)."""
    from evoxtral_bench.runner.run import _score

    track = get_track("neural-v2")
    rows = split_rows(track, "test", 6)
    assert [r["group"] for r in rows] == [rows[0]["group"]] * 2 + [rows[2]["group"]] * 2 + [rows[4]["group"]] * 2
    preds = tmp_path / "p.jsonl"
    preds.write_text("".join(json.dumps({"id": r["id"], "prediction": r["tagged_text"].lower()}) + "\n" for r in rows), encoding="utf-8")
    results = _score(preds, preds, track, "test", rows)
    assert results.signature.groups == 3 and results.benchmark.n == 6
    whole = evoxtral_bench.load_references(split="test", track="neural-v2")
    assert whole.n_groups == len(whole.rows) // 2  # the same unit as a full run's
