"""Ctrl-C during a parallel ``compare`` (issue 25 item 25): a real worker pool, a real SIGINT sent
to the whole process group as a terminal does, several times at different moments. Every
interrupted run ends with exit 130, one line on standard error, no output, no traceback."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TRIALS = 5
ROWS = 3000
RUN = (
    # Ctrl-C as in a terminal: a job started in the background by a non-interactive shell (CI's
    # runner, `cmd &`) inherits SIGINT ignored, and Python then never raises KeyboardInterrupt
    "import signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "import sys; from evoxtral_bench.scoring import core; core.PARALLEL_MIN_ROWS = 0; "  # the worker pool from the first utterance
    "from evoxtral_bench.cli import run; sys.argv[0] = 'evoxtral-bench'; run()"
)


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _files(tmp_path: Path) -> tuple[Path, Path, Path]:
    rng = random.Random(0)
    words = "we never said that it was fine and then the rain came down hard".split()
    refs, a, b = [], [], []
    for i in range(ROWS):
        text = " ".join(rng.choice(words) for _ in range(12))
        refs.append({"id": f"u{i}", "tagged_text": f"[sighs] {text}"})
        a.append({"id": f"u{i}", "prediction": text})
        b.append({"id": f"u{i}", "prediction": f"[laughs] {text}"})
    paths = tmp_path / "refs.jsonl", tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    for path, rows in zip(paths, (refs, a, b)):
        path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return paths


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="finds the worker processes in /proc (Linux)")
def test_ctrl_c_during_a_parallel_compare_always_ends_with_130_and_no_output(tmp_path):
    refs, a, b = _files(tmp_path)
    env = {k: v for k, v in os.environ.items() if k != "EVOXTRAL_BENCH_DEBUG"} | {"PYTHONPATH": str(ROOT)}
    rng = random.Random(1)
    interrupted = 0
    for trial in range(TRIALS):
        out = tmp_path / f"out{trial}.json"
        command = [sys.executable, "-c", RUN, "compare", a, b, "--references", refs, "--jobs", "2", "--bootstrap", "30000"]  # seconds of work: the signal lands during it
        process = subprocess.Popen(
            [*map(str, command), "--output", str(out)], cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True
        )
        deadline = time.monotonic() + 120
        while not _children(process.pid) and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        assert _children(process.pid), "the worker pool never started"
        time.sleep(rng.uniform(0.0, 0.4))  # somewhere while the worker counts, or just after
        os.killpg(process.pid, signal.SIGINT)  # as Ctrl-C in a terminal: the run and its workers
        stdout, stderr = process.communicate(timeout=120)
        text = stderr.decode()
        if process.returncode == 0:  # finished before the signal: a complete run, nothing to check
            assert out.is_file()
            continue
        if process.returncode == -signal.SIGINT and text == f"wrote {out}\n":
            # the output was complete (written atomically) and the signal came while the
            # interpreter was exiting, after its handlers were gone: a finished run too
            json.loads(out.read_text(encoding="utf-8"))
            continue
        interrupted += 1
        assert process.returncode == 130, text
        assert stdout == b"" and not out.exists(), "an interrupted run wrote its output"
        assert text == "evoxtral-bench: interrupted\n", text  # no worker traceback
        assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary file left
    assert interrupted >= TRIALS - 1
