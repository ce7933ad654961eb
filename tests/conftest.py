"""Fixtures: run the CLI in-process (factories live in tests/helpers.py)."""

from __future__ import annotations

import pytest

from evoxtral_bench.cli.app import main


@pytest.fixture
def cli(capsys):
    """Run ``evoxtral-bench ARGS`` in-process; returns (exit code, stdout, stderr)."""

    def run(*args: str) -> tuple[int, str, str]:
        code = main([str(a) for a in args])
        out = capsys.readouterr()
        return code, out.out, out.err

    return run
