"""Shared helpers: write JSONL files and run the CLI in-process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evoxtral_bench.cli.app import main

DATA = Path(__file__).parent / "data"
SMALL_REFS = DATA / "refs_small.jsonl"


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def refs_rows(path: Path = SMALL_REFS) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture
def cli(capsys):
    """Run ``evoxtral-bench ARGS`` in-process; returns (exit code, stdout, stderr)."""

    def run(*args: str) -> tuple[int, str, str]:
        code = main([str(a) for a in args])
        out = capsys.readouterr()
        return code, out.out, out.err

    return run
