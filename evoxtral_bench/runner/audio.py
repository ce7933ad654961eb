"""The benchmark audio a run transcribes: one track's clips of one split, found or rendered.

A folder of audio is the output of ``evoxtral-bench data synthesize --track NAME`` (its
``manifest.jsonl`` and ``audio/``). :func:`track_audio` takes the folder as it is when every
clip of the split is there, rendered by the track's current recipe (the recipe hash of each
manifest entry) and with the sha256 its manifest records; otherwise it renders what is missing
through :func:`evoxtral_bench.corpus.synth.synthesize` (resumable, the same bytes as a fresh
render), which needs the track's renderer. The default folder is a per-user cache,
``$EVOXTRAL_BENCH_CACHE/audio/TRACK/SPLIT`` (``~/.cache/evoxtral-bench`` when unset).
"""

from __future__ import annotations

import os
import wave
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from evoxtral_bench.corpus import scripts as corpus
from evoxtral_bench.corpus.synth import MANIFEST
from evoxtral_bench.errors import InputError
from evoxtral_bench.files import json_loads, sha256_file
from evoxtral_bench.tracks import Track

SAMPLE_RATE = 16_000
"""Rate of every clip handed to a backend (Hz); the renderers write 16 kHz mono PCM16."""
CACHE_ENV = "EVOXTRAL_BENCH_CACHE"


@dataclass(frozen=True)
class Clip:
    """One clip of benchmark audio: its id, WAV file and length in seconds."""

    id: str
    path: Path
    seconds: float

    def audio(self) -> np.ndarray:
        """The samples as mono float32 in [-1, 1] at :data:`SAMPLE_RATE`."""
        return read_wav(self.path)


def read_wav(path: Path) -> np.ndarray:
    """Mono float32 samples of a 16 kHz 16-bit PCM WAV (the renderers' format)."""
    try:
        with wave.open(str(path), "rb") as wav:
            if wav.getnchannels() != 1 or wav.getsampwidth() != 2 or wav.getframerate() != SAMPLE_RATE:
                raise InputError(f"{path}: expected mono 16-bit PCM at {SAMPLE_RATE} Hz; render it again with `evoxtral-bench data synthesize`")
            data = wav.readframes(wav.getnframes())
    except (wave.Error, EOFError) as err:
        raise InputError(f"{path}: not a readable WAV file ({err}); delete it and run again to render it anew") from None
    return np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768.0


def cache_root() -> Path:
    """``$EVOXTRAL_BENCH_CACHE`` or ``~/.cache/evoxtral-bench``."""
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "evoxtral-bench")


def split_rows(track: Track, split: str, limit: int | None = None) -> list[dict]:
    """The shipped rows ``track`` renders in ``split`` (:func:`evoxtral_bench.corpus.scripts.track_rows`:
    the test scripts of its reference set), sorted by id; the first ``limit`` of them when given."""
    rows = sorted((r._asdict() for r in corpus.track_rows(track, corpus.load()) if split in r.splits), key=lambda r: r["id"])
    if not rows:
        raise InputError(f"the shipped corpus has no rows in split {split!r}; use train, validation or test")
    return rows[:limit] if limit is not None else rows


def reference_records(rows: Sequence[dict]) -> list[dict]:
    """Rows of :func:`split_rows` as reference records (``--references`` JSONL lines); a
    rendering keeps its script as ``group``, so a script's renderings resample together."""
    return [
        {"id": r["id"], "tagged_text": r["tagged_text"], "split": list(r["splits"]), "domain": r["domain"], "slice": r["slice"]}
        | ({"group": r["group"]} if r.get("group") else {})
        for r in rows
    ]


def _complete(folder: Path, track: Track, ids: Sequence[str]) -> list[Clip] | None:
    """The clips of ``ids`` in ``folder`` if every one is there, by ``track``'s recipe, intact."""
    try:
        lines = (folder / MANIFEST).read_text(encoding="utf-8").splitlines()
        entries = {e["id"]: e for e in map(json_loads, lines) if isinstance(e, dict) and "id" in e}
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    clips = []
    for rid in ids:
        entry = entries.get(rid)
        if not entry or entry.get("track") != track.name or entry.get("recipe") != track.recipe_hash:
            return None
        path = folder / str(entry.get("file"))
        try:
            if sha256_file(path) != entry.get("sha256"):
                return None
        except OSError:
            return None
        clips.append(Clip(rid, path, float(entry["duration"])))
    return clips


def track_audio(track: Track, rows: Sequence[dict], folder: Path, *, progress: bool) -> list[Clip]:
    """The clips of ``rows`` in ``folder`` (in row order), rendered there first when need be."""
    ids = [row["id"] for row in rows]
    clips = _complete(folder, track, ids)
    if clips is not None:
        return clips
    from evoxtral_bench.corpus.synth import synthesize

    try:
        manifest = synthesize(rows=rows, out_dir=folder, track=track.name, progress=progress)
    except InputError as err:  # the renderer is not installed, or needs a key
        raise InputError(
            f"{folder}: no complete {track.name} audio there, and it cannot be rendered here: {err}; "
            "or pass --audio DIR, a folder holding TRACK/SPLIT as rendered by `data synthesize --track`"
        ) from None
    entries = {e["id"]: e for e in map(json_loads, manifest.read_text(encoding="utf-8").splitlines())}
    return [Clip(rid, folder / entries[rid]["file"], float(entries[rid]["duration"])) for rid in ids]
