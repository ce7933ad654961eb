"""The exported corpus (``evoxtral-bench data export``) as training and inference examples.

The export is a ``datasets.DatasetDict`` saved with ``save_to_disk`` whose ``audio`` column
holds WAV bytes. Decoding through ``datasets`` would need torchcodec, so the column is read
with ``Audio(decode=False)`` and the bytes are decoded with soundfile, as mono float32 at
16 kHz (other rates are resampled with soxr, which ``mistral-common[audio]`` installs).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from evoxtral_bench import InputError

SAMPLING_RATE = 16_000
"""Rate Voxtral's feature extractor expects (Hz)."""


@dataclass(frozen=True)
class Utterance:
    """One example: ``audio`` is mono float32 at 16 kHz; ``target`` the text to learn."""

    id: str
    audio: np.ndarray
    target: str

    @property
    def seconds(self) -> float:
        return len(self.audio) / SAMPLING_RATE


def decode_wav(data: bytes, where: str) -> np.ndarray:
    """Mono float32 samples at 16 kHz from audio file bytes."""
    import soundfile as sf

    try:
        samples, rate = sf.read(io.BytesIO(data), dtype="float32", always_2d=True)
    except RuntimeError as err:  # soundfile's LibsndfileError
        raise InputError(f"{where}: audio is not readable: {err}") from err
    mono = samples.mean(axis=1)
    if rate != SAMPLING_RATE:
        import soxr

        mono = soxr.resample(mono, rate, SAMPLING_RATE, quality="HQ").astype(np.float32)
    return mono


class ClipDataset(torch.utils.data.Dataset):
    """One split of the export; audio is decoded when an item is read.

    ``targets`` (id -> text) replaces the reference transcripts, e.g. by RAFT's selected
    samples; the split is then restricted to those ids, in split order. ``limit`` keeps that
    many of the rows, evenly spaced in split order (all of them when there are fewer).
    """

    def __init__(self, dataset_dir: str | Path, split: str, targets: dict[str, str] | None = None, *, limit: int | None = None) -> None:
        import datasets

        path = Path(dataset_dir)
        if not (path / "dataset_dict.json").is_file():
            raise InputError(f"{path}: not a dataset saved by `evoxtral-bench data export` (no dataset_dict.json)")
        splits = datasets.load_from_disk(str(path))
        if split not in splits:
            raise InputError(f"{path}: no split {split!r}; splits: {', '.join(splits)}")
        table = splits[split].cast_column("audio", datasets.Audio(decode=False))
        self.name = f"{path}[{split}]"
        self.path = path
        self.split = split
        self._table = table
        ids = list(table["id"])
        texts = list(table["tagged_text"])
        if targets is not None:
            unknown = sorted(set(targets) - set(ids))
            if unknown:
                raise InputError(f"{self.name}: {len(unknown)} selected ids are not in the split (first: {unknown[0]})")
        self._rows = [i for i, rid in enumerate(ids) if targets is None or rid in targets]
        if limit is not None:
            if limit < 1:
                raise InputError(f"data.train_utterances: expected at least 1, got {limit}")
            n = len(self._rows)
            self._rows = [self._rows[i * n // limit] for i in range(min(limit, n))]
        self.ids = [ids[i] for i in self._rows]
        self.targets = [targets[ids[i]] if targets is not None else texts[i] for i in self._rows]
        self.references = [texts[i] for i in self._rows]  # the corpus transcripts, in row order

    def __len__(self) -> int:
        return len(self._rows)

    def reference_rows(self) -> list[dict]:
        """The rows as benchmark references (id, tagged_text, split, domain, slice)."""
        columns = self._table.select_columns(["id", "tagged_text", "split", "domain", "slice"])
        return [columns[i] for i in self._rows]

    def __getitem__(self, index: int) -> Utterance:
        row = self._table[self._rows[index]]
        audio = decode_wav(row["audio"]["bytes"], f"{self.name} id {row['id']}")
        return Utterance(id=row["id"], audio=audio, target=self.targets[index])
