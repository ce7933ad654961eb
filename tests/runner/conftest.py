"""Rendered benchmark audio shared by the ``run`` tests: the first clips of the test split on
espeak-v1 and its masked twin (espeak-ng, a few seconds)."""

from __future__ import annotations

from pathlib import Path

import pytest

CLIPS = 2
"""Clips of the test split the tests run on (``--limit``)."""


@pytest.fixture(scope="session")
def audio_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``ROOT/TRACK/test`` for espeak-v1 and espeak-v1-masked, :data:`CLIPS` clips each."""
    import ctypes.util

    if ctypes.util.find_library("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed")
    from evoxtral_bench.runner.audio import split_rows, track_audio
    from evoxtral_bench.tracks import get_track

    root = tmp_path_factory.mktemp("audio")
    for name in ("espeak-v1", "espeak-v1-masked"):
        track_audio(get_track(name), split_rows(get_track(name), "test", CLIPS), root / name / "test", progress=False)
    return root
