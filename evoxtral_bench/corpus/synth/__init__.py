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
import re
from collections.abc import Mapping
from pathlib import Path

from evoxtral_bench.errors import InputError
from evoxtral_bench.files import inside, read_regular, sha256_bytes

BACKENDS = ("offline", "neural", "elevenlabs")
"""The registered backends (the ``data synthesize --backend`` choices)."""
RULE_BASED = ("offline", "neural")
"""Backends that render every tag by rule, so they can also render a masked twin."""
MANIFEST = "manifest.jsonl"
"""The manifest's file name inside a synthesis output folder."""
AUDIO_DIR = "audio"
"""The folder of the clips inside a synthesis output folder."""
MAX_CLIP_BYTES = 256 << 20
"""The largest clip read back from a synthesis folder (256 MiB, over two hours of 16 kHz PCM16)."""

_LAZY = {"ElevenLabsError": "evoxtral_bench.corpus.synth.elevenlabs", "synthesize": "evoxtral_bench.corpus.synth.run"}

__all__ = ["AUDIO_DIR", "BACKENDS", "MANIFEST", "MAX_CLIP_BYTES", "RULE_BASED", "ElevenLabsError", "read_clip", "synthesize"]
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def read_clip(folder: str | Path, entry: Mapping, where: str) -> bytes:
    """The bytes of the clip a manifest entry names, read only if they are what the entry says.

    ``entry["file"]`` (relative to ``folder``, the synthesis output folder) must be a regular file
    inside ``folder/audio`` once links are resolved (so never a path out of the folder, a FIFO or a
    device), of ``entry["bytes"]`` bytes when the entry gives its size (at most
    :data:`MAX_CLIP_BYTES` in any case; no more is read), with sha256 ``entry["sha256"]``. Used by
    ``data export`` and by a resumed ``data synthesize``. Raises :class:`InputError` starting with
    ``where: field '…'``.
    """
    relative, digest, size = entry.get("file"), entry.get("sha256"), entry.get("bytes")
    if not isinstance(relative, str) or not relative:
        raise InputError(f"{where}: field 'file': expected the clip's path relative to the folder")
    if not isinstance(digest, str) or not _SHA256.match(digest):
        raise InputError(f"{where}: field 'sha256': expected the clip's sha256 (64 hex digits), got {digest!r}")
    if size is not None and (isinstance(size, bool) or not isinstance(size, int) or not 0 < size <= MAX_CLIP_BYTES):
        raise InputError(f"{where}: field 'bytes': expected the clip's size (1 … {MAX_CLIP_BYTES:,} bytes), got {size!r}")
    path = Path(folder) / relative
    name = f"{where}: field 'file': {relative!r}"
    if "\0" in relative or not inside(Path(folder) / AUDIO_DIR, path):
        raise InputError(f"{name} is not a file inside {str(Path(folder) / AUDIO_DIR)!r} (links resolved)")
    data = read_regular(path, what="clip", limit=MAX_CLIP_BYTES if size is None else size, name=name)
    if size is not None and len(data) != size:
        raise InputError(f"{name} is {len(data):,} bytes, the manifest says {size:,}: render it again")
    if sha256_bytes(data) != digest:
        raise InputError(f"{name}: its sha256 differs from the manifest's (changed or swapped): render it again")
    return data


def __getattr__(name: str) -> object:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
