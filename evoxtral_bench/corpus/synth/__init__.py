"""Audio synthesis for the corpus: tagged transcripts to 16 kHz mono WAVs plus a manifest.

    from evoxtral_bench.corpus.synth import synthesize
    manifest = synthesize(rows=rows, out_dir="audio/test", backend="offline", seed=0)

Backends: ``offline`` (espeak-ng with audible tags, no key), ``neural`` (Piper and hibari-tts
voices with audible tags, no key; the ``[neural]`` extra) and ``elevenlabs`` (``eleven_v3``,
needs ``ELEVENLABS_API_KEY``). Named recipes over them are the audio tracks (:mod:`evoxtral_bench.tracks`). See :mod:`evoxtral_bench.corpus.synth.run` for the output layout.
The renderers are imported on first use, so that the CLI starts fast.
"""

from __future__ import annotations

import importlib

BACKENDS = ("offline", "neural", "elevenlabs")
"""The registered backends (the ``data synthesize --backend`` choices)."""
RULE_BASED = ("offline", "neural")
"""Backends that render every tag by rule, so they can also render a masked twin."""
MANIFEST = "manifest.jsonl"
"""The manifest's file name inside a synthesis output folder."""

_LAZY = {"ElevenLabsError": "evoxtral_bench.corpus.synth.elevenlabs", "synthesize": "evoxtral_bench.corpus.synth.run"}

__all__ = ["BACKENDS", "MANIFEST", "RULE_BASED", "ElevenLabsError", "synthesize"]


def __getattr__(name: str) -> object:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
