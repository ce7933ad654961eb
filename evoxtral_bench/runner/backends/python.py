"""``python:MODULE:FUNCTION``: a function of yours, ``FUNCTION(audio, sample_rate) -> str``.

``audio`` is the clip as mono float32 samples in [-1, 1] (a numpy array) at ``sample_rate``
= 16000, or with ``-o input=path`` the path of its 16 kHz WAV file. ``MODULE`` is imported as
Python imports it (the current folder is on the path), so ``python:my_model:transcribe`` finds
``./my_model.py``. The function is called once per clip, in id order.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence
from pathlib import Path

from evoxtral_bench.errors import InputError
from evoxtral_bench.runner.audio import SAMPLE_RATE, Clip
from evoxtral_bench.runner.backends import Option
from evoxtral_bench.runner.provenance import folder_sha256

OPTIONS = {
    "input": Option(str, "array", "what the function gets: the samples or the WAV's path", ("array", "path")),
    "deterministic": Option(bool, True, "the function gives the same text for the same clip (run.json records it)"),
}


class PythonBackend:
    batch_size = 1

    def __init__(self, target: str, options: dict) -> None:
        module_name, sep, name = target.rpartition(":")
        if not sep or not module_name or not name:
            raise InputError(f"python:{target}: expected python:MODULE:FUNCTION, e.g. python:my_model:transcribe")
        if "" not in sys.path and str(Path.cwd()) not in sys.path:
            sys.path.insert(0, str(Path.cwd()))
        try:
            module = importlib.import_module(module_name)
        except ImportError as err:
            raise InputError(f"python:{target}: cannot import {module_name!r} ({err})") from None
        function = getattr(module, name, None)
        if not callable(function):
            raise InputError(f"python:{target}: {module_name} has no function {name!r}")
        self.target, self.options, self.function = target, options, function
        self.file = getattr(module, "__file__", None)
        self.deterministic = options["deterministic"]

    def transcribe(self, clips: Sequence[Clip]) -> list[str]:
        texts = []
        for clip in clips:
            text = self.function(str(clip.path) if self.options["input"] == "path" else clip.audio(), SAMPLE_RATE)
            if not isinstance(text, str):
                raise InputError(f"python:{self.target} returned {type(text).__name__} for {clip.id}, not a string")
            texts.append(text)
        return texts

    def provenance(self) -> dict:
        return {
            "model": self.target,
            "module_file": self.file,
            "module_sha256": folder_sha256(self.file) if self.file else None,
            "options": self.options,
        }


def load(target: str, options: dict) -> PythonBackend:
    return PythonBackend(target, options)
