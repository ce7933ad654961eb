"""The user's environment and options (issue 10 items 11-15, 18 and the CLI part of "Also"):
exit 2 with the path and the OS's reason, never 1; a closed pipe keeps a failing exit code."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import SMALL_REFS, refs_rows, write_jsonl

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str, **kwargs) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "evoxtral_bench", *map(str, args)], env=env, timeout=60, **kwargs)


@pytest.fixture
def preds(tmp_path):
    rows = [{"id": r["id"], "prediction": r["tagged_text"]} for r in refs_rows()]
    return write_jsonl(tmp_path / "preds.jsonl", rows)


@pytest.mark.parametrize("where", ["dir", "under_file", "proc"])
def test_score_output_that_cannot_be_written_exits_2(cli, preds, tmp_path, where):
    (tmp_path / "file").write_text("x")
    output = {"dir": tmp_path, "under_file": tmp_path / "file" / "x", "proc": "/proc/self/x"}[where]
    code, out, err = cli("score", preds, "--references", SMALL_REFS, "--bootstrap", "0", "--output", output)
    assert code == 2 and f"cannot write {output}: " in err and "bug" not in err


def test_other_commands_out_that_cannot_be_written_exit_2(cli, tmp_path):
    (tmp_path / "file").write_text("x")
    scripts = tmp_path / "s.json"
    scripts.write_text("[]")
    for args in (
        ("leaderboard", "oracle", "plain", "--out", tmp_path),
        ("data", "stats", "--out", tmp_path / "file" / "y"),
        ("data", "synthesize", "--out", tmp_path / "file", "--no-progress"),
    ):
        code, _, err = cli(*args)
        assert code == 2 and "bug" not in err, (args, err)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_folder_exits_2(cli, preds, tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir(mode=0o555)
    code, _, err = cli("score", preds, "--references", SMALL_REFS, "--bootstrap", "0", "--output", folder / "r.json")
    assert code == 2 and "Permission denied" in err


def test_full_disk_and_closed_stdout_exit_2(preds):
    with open("/dev/full", "w") as full:
        done = _run("score", preds, "--references", SMALL_REFS, "--bootstrap", "0", stdout=full, stderr=subprocess.PIPE, text=True)
    assert done.returncode == 2 and "No space left on device" in done.stderr
    done = _run("tags", stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, pass_fds=(), close_fds=True,
                preexec_fn=lambda: os.close(1))
    assert done.returncode == 2 and "standard output" in done.stderr and "bug" not in done.stderr


def test_a_closed_pipe_does_not_turn_a_failure_into_success(tmp_path):
    bad = tmp_path / "subs"
    (bad / "x").mkdir(parents=True)  # an entry without meta.yaml: check fails
    read, write = os.pipe()
    os.close(read)  # the reader left before anything was written (`| head -0`)
    done = _run("leaderboard", "check", "--submissions", bad, "--format", "json", stdout=write, stderr=subprocess.PIPE, text=True)
    os.close(write)
    assert done.returncode == 2, done.stderr
    read, write = os.pipe()
    os.close(read)
    done = _run("tags", stdout=write, stderr=subprocess.PIPE, text=True)
    os.close(write)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--seed", "-1", "--seed must be 0 or more"),
        ("--bootstrap", "10000000", "--bootstrap must be between 0 and 1,000,000"),
        ("--bootstrap", "1" * 30, "(30 digits)"),
        ("--split", "", "--split needs a split label"),
    ],
)
@pytest.mark.parametrize("command", ["score", "compare"])
def test_out_of_range_options_exit_2(cli, preds, command, option, value, message):
    files = [preds] if command == "score" else [preds, preds]
    code, out, err = cli(command, *files, "--references", SMALL_REFS, option, value)
    assert code == 2 and message in err and out == ""


def test_resampled_values_are_bounded(preds, monkeypatch):
    import numpy as np

    from evoxtral_bench.errors import InputError
    from evoxtral_bench.scoring import bootstrap

    monkeypatch.setattr(bootstrap, "MAX_RESAMPLED_VALUES", 1000, raising=False)
    with pytest.raises(InputError, match="resampled values"):
        bootstrap.resample_sums(np.zeros((3, 11)), 100, 0)
    assert bootstrap.resample_sums(np.zeros((3, 10)), 100, 0).shape == (100, 10)


def test_signature_tells_close_ci_levels_apart(cli, preds):
    sigs = []
    for ci in ("0.95", "0.9500004"):
        code, out, _ = cli("score", preds, "--references", SMALL_REFS, "--bootstrap", "20", "--ci", ci, "--format", "json")
        sigs.append(json.loads(out)["signature"])
    assert "|ci:0.95|" in sigs[0] and "|ci:0.9500004|" in sigs[1]


def test_output_equal_to_an_input_is_refused(cli, preds, tmp_path):
    before = preds.read_bytes()
    link = tmp_path / "same.jsonl"
    link.symlink_to(preds)
    for output in (preds, link):
        code, _, err = cli("score", preds, "--references", SMALL_REFS, "--bootstrap", "0", "--output", output)
        assert code == 2 and "would be overwritten" in err
    code, _, err = cli("score", preds, "--references", SMALL_REFS, "--bootstrap", "0", "--output", SMALL_REFS)
    assert code == 2
    assert preds.read_bytes() == before
