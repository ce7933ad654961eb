"""Folders written by ``evoxtral-bench data synthesize``: the manifest's clips and their audio.

Each manifest line describes one clip (``id``, ``file``, ``duration``, ``tags``, ``words``;
spans in seconds). Audio is read with :func:`training.data.decode_wav` (mono float32, 16 kHz).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from evoxtral_bench import SYNTHESIS_MANIFEST as MANIFEST
from evoxtral_bench import InputError
from training.data import decode_wav


@dataclass(frozen=True)
class Span:
    """A tag label or a word, from ``start`` to ``end`` seconds into the clip."""

    label: str
    start: float
    end: float


@dataclass(frozen=True)
class Clip:
    """One synthesized clip: its WAV file and the rendered spans of its tags and words."""

    id: str
    path: Path
    duration: float
    tags: tuple[Span, ...]
    words: tuple[Span, ...]

    def audio(self) -> np.ndarray:
        """Mono float32 samples at 16 kHz."""
        try:
            data = self.path.read_bytes()
        except OSError as err:
            raise InputError(f"{self.path}: cannot read the audio of {self.id}: {err.strerror or err}") from err
        return decode_wav(data, f"{self.path} ({self.id})")


def _spans(items: list[dict] | None, key: str) -> tuple[Span, ...]:
    """Spans with known times (the ElevenLabs backend may leave them unknown)."""
    return tuple(
        Span(item[key], float(item["start"]), float(item["end"]))
        for item in items or ()
        if item["start"] is not None and item["end"] is not None
    )


def read_clips(audio_dir: str | Path) -> list[Clip]:
    """The clips of ``audio_dir/manifest.jsonl``, in manifest (id) order."""
    folder = Path(audio_dir)
    manifest = folder / MANIFEST
    try:
        lines = manifest.read_text(encoding="utf-8").splitlines()
    except OSError as err:
        raise InputError(
            f"{manifest}: cannot read the manifest ({err.strerror or err}); "
            "render the audio with `evoxtral-bench data synthesize --split SPLIT --out DIR`"
        ) from err
    clips = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            clips.append(
                Clip(
                    id=row["id"],
                    path=folder / row["file"],
                    duration=float(row["duration"]),
                    tags=_spans(row["tags"], "label"),
                    words=_spans(row["words"], "word"),
                )
            )
        except (ValueError, KeyError, TypeError) as err:
            raise InputError(f"{manifest}:{number}: not a manifest entry ({type(err).__name__}: {err})") from None
    if not clips:
        raise InputError(f"{manifest}: no clips")
    return clips
