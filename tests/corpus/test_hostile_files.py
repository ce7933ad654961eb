"""Hostile corpus-tool inputs (issue 10 items 7 and 14): FIFOs, devices and deep nesting."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEEP = "[" * 100_000


def _run_python(code: str, timeout: float = 20) -> subprocess.CompletedProcess:
    """Run ``code`` with at most 1 GiB of memory, so a failing version cannot eat the machine."""
    import resource

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))

    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-c", code], env=env, timeout=timeout, capture_output=True, text=True, preexec_fn=limit)


CALLS = {
    "scripts": "from evoxtral_bench.corpus.paper_import import import_legacy as f; f(Path({path!r}))",
    "manifest": "from evoxtral_bench.corpus.export import _read_manifest as f; f(Path({path!r}))",
}


def _outcome(call: str, path: Path | str) -> str:
    code = (
        "from pathlib import Path\nfrom evoxtral_bench.errors import InputError\n"
        f"try:\n    {CALLS[call].format(path=str(path))}\nexcept InputError as e:\n    print('InputError:', e)\n"
    )
    try:
        done = _run_python(code)
    except subprocess.TimeoutExpired:
        return "hung"
    return done.stdout + done.stderr


@pytest.mark.parametrize("call", sorted(CALLS))
def test_a_fifo_is_refused_without_blocking(tmp_path, call):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    assert "InputError:" in _outcome(call, fifo) and "not a regular file" in _outcome(call, fifo)


def test_dev_zero_is_refused_not_read():
    out = _outcome("scripts", "/dev/zero")
    assert "InputError:" in out and "not a regular file" in out


@pytest.mark.parametrize("call", sorted(CALLS))
def test_deep_nesting_is_an_input_error(tmp_path, call):
    path = tmp_path / "deep.json"
    path.write_text(DEEP + "\n")
    out = _outcome(call, path)
    assert "InputError:" in out and "nested too deeply" in out, out


def test_deep_nesting_in_a_corpus_file_is_reported_with_other_problems(cli, tmp_path):
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text(DEEP + "\n" + '{"id": 3}\n', encoding="utf-8")
    code, _, err = cli("score", corpus, "--references", corpus)
    assert code == 2 and "nested too deeply" in err and ":2: id: expected a string" in err and "bug" not in err
