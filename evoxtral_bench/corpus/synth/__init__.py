"""Audio synthesis for the corpus: tagged transcripts to 16 kHz mono WAVs plus a manifest.

    from evoxtral_bench.corpus.synth import synthesize
    manifest = synthesize(rows=rows, out_dir="audio/test", backend="offline", seed=0)

Backends: ``offline`` (espeak-ng with audible tags, no key) and ``elevenlabs`` (``eleven_v3``,
needs ``ELEVENLABS_API_KEY``). See :mod:`evoxtral_bench.corpus.synth.run` for the output layout.
"""

from evoxtral_bench.corpus.synth.elevenlabs import ElevenLabsError
from evoxtral_bench.corpus.synth.run import BACKENDS, MANIFEST, synthesize

__all__ = ["BACKENDS", "MANIFEST", "ElevenLabsError", "synthesize"]
