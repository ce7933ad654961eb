"""A minimal ctypes binding to libespeak-ng: plain text in, 22.05 kHz samples and word events out.

The library keeps global state between calls, so two renders of the same text in one process can
differ by a few samples. Callers that need byte-identical output render each clip in a fresh
process: there, the same sequence of calls gives the same samples.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from evoxtral_bench.errors import InputError

_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_DONT_EXIT = 0x8000
_POS_CHARACTER = 1
_CHARS_UTF8 = 0x1
_EVENT_LIST_TERMINATED = 0
_EVENT_WORD = 1
_RATE, _VOLUME, _PITCH, _RANGE, _WORD_GAP = 1, 2, 3, 4, 7  # espeak_PARAMETER


class _Event(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", ctypes.c_void_p),  # union: int number, const char *name, char string[8]
    ]


_Callback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event))


@dataclass(frozen=True)
class WordEvent:
    """One spoken word: ``position`` is the 0-based character offset in the text, ``sample`` its start."""

    position: int
    length: int
    sample: int


@dataclass(frozen=True)
class Speech:
    """Rendered text: int16 samples at ``sample_rate`` Hz and the word events in order."""

    samples: np.ndarray
    sample_rate: int
    words: tuple[WordEvent, ...]


class _Engine:
    def __init__(self, lib: ctypes.CDLL, sample_rate: int) -> None:
        self.lib = lib
        self.sample_rate = sample_rate
        self.chunks: list[np.ndarray] = []
        self.words: list[WordEvent] = []
        self.callback = _Callback(self._on_audio)  # kept alive as long as the engine
        lib.espeak_SetSynthCallback(self.callback)

    def _on_audio(self, wav, count, events) -> int:
        if count > 0:
            self.chunks.append(np.ctypeslib.as_array(wav, (count,)).copy())
        i = 0
        while events[i].type != _EVENT_LIST_TERMINATED:
            ev = events[i]
            if ev.type == _EVENT_WORD and ev.length > 0:
                self.words.append(WordEvent(ev.text_position - 1, ev.length, ev.sample))
            i += 1
        return 0


@lru_cache(maxsize=1)
def _library() -> _Engine:
    path = ctypes.util.find_library("espeak-ng") or "libespeak-ng.so.1"
    try:
        lib = ctypes.CDLL(path)
    except OSError as exc:
        raise InputError(
            "the offline backend needs the espeak-ng library (Debian/Ubuntu: apt-get install espeak-ng)"
        ) from exc
    lib.espeak_Synth.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int, ctypes.c_uint,
                                 ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p]
    lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
    sample_rate = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, None, _INITIALIZE_DONT_EXIT)
    if sample_rate <= 0:
        raise InputError("espeak-ng failed to initialize (is espeak-ng-data installed?)")
    return _Engine(lib, sample_rate)


def voice_exists(name: str) -> bool:
    """Whether espeak-ng accepts ``name`` (e.g. ``en-us+f3``) as a voice."""
    return _library().lib.espeak_SetVoiceByName(name.encode("utf-8")) == 0


def render(text: str, *, voice: str, rate: int, pitch: int, pitch_range: int, volume: int, word_gap: int = 0) -> Speech:
    """Speak plain ``text``: ``rate`` in words per minute, ``pitch`` and ``pitch_range`` 0-99,
    ``volume`` 0-200 (100 is normal), ``word_gap`` extra pause between words in units of 10 ms."""
    engine = _library()
    lib = engine.lib
    if lib.espeak_SetVoiceByName(voice.encode("utf-8")) != 0:
        raise InputError(f"espeak-ng has no voice {voice!r}")
    for parameter, value in ((_RATE, rate), (_PITCH, pitch), (_RANGE, pitch_range), (_VOLUME, volume), (_WORD_GAP, word_gap)):
        lib.espeak_SetParameter(parameter, value, 0)
    engine.chunks, engine.words = [], []
    data = text.encode("utf-8")
    status = lib.espeak_Synth(data, len(data) + 1, 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None)
    lib.espeak_Synchronize()
    if status != 0:
        raise RuntimeError(f"espeak-ng failed with status {status}")
    samples = np.concatenate(engine.chunks) if engine.chunks else np.zeros(0, np.int16)
    return Speech(samples, engine.sample_rate, tuple(engine.words))


def sample_rate() -> int:
    """espeak-ng's output sample rate, Hz (22050)."""
    return _library().sample_rate
