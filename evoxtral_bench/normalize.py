"""Text normalizers for WER and CER (SPEC §2).

Every normalizer maps tag-free text (tags already replaced by spaces, see
:attr:`evoxtral_bench.tags.Transcript.text`) to a string of space-separated words.
Its name is part of the results signature.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from collections.abc import Callable
from functools import lru_cache

from .errors import InputError

Normalizer = Callable[[str], str]

_QUOTES = str.maketrans({c: "'" for c in "\u2018\u2019\u201a\u201b\u2032\u02bc\u201c\u201d\u201e\u201f\u2033"})
_DASHES_ELLIPSES_RE = re.compile(r"[\u2010-\u2015\u2212\-]|\.{2,}|\u2026")
_LONE_APOSTROPHE_RE = re.compile(r"(?<![^\W\d_])'|'(?![^\W\d_])")
_SPACES_RE = re.compile(r"\s+")


@lru_cache(maxsize=1)
def _punctuation_re() -> re.Pattern[str]:
    """Every Unicode punctuation (P*) and symbol (S*) character except the ASCII apostrophe."""
    ranges: list[str] = []
    start = prev = None
    for cp in range(sys.maxunicode + 1):
        if cp != 0x27 and unicodedata.category(chr(cp))[0] in "PS":
            if start is None:
                start = cp
            elif cp != prev + 1:
                ranges.append(_char_range(start, prev))
                start = cp
            prev = cp
    ranges.append(_char_range(start, prev))
    return re.compile("[" + "".join(ranges) + "]")


def _char_range(a: int, b: int) -> str:
    return re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}"


def basic(text: str) -> str:
    """SPEC §2 ``basic``: NFKC, ASCII apostrophes, lowercase, dashes/ellipses to spaces, other
    punctuation and symbols removed except an apostrophe between two letters, spaces collapsed."""
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES).lower()
    text = _DASHES_ELLIPSES_RE.sub(" ", text)
    text = _punctuation_re().sub("", text)
    text = _LONE_APOSTROPHE_RE.sub("", text)
    return _SPACES_RE.sub(" ", text).strip()


def none(text: str) -> str:
    """SPEC §2 ``none``: whitespace collapsed and trimmed only (tags are already removed)."""
    return _SPACES_RE.sub(" ", text).strip()


def _whisper() -> Normalizer:
    try:
        from transformers.models.whisper.english_normalizer import EnglishTextNormalizer
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise InputError(
            "--normalizer whisper needs transformers: pip install 'evoxtral-bench[train]'"
        ) from exc
    # The British->American spelling table ships with Whisper's tokenizer files on the hub;
    # we run without it (documented in the README), so spellings are compared as written.
    normalizer = EnglishTextNormalizer({})
    return lambda text: _SPACES_RE.sub(" ", normalizer(text)).strip()


NORMALIZERS: dict[str, Callable[[], Normalizer]] = {
    "basic": lambda: basic,
    "none": lambda: none,
    "whisper": _whisper,
}


def get(name: str) -> Normalizer:
    """The normalizer called ``name``; :class:`InputError` for an unknown name."""
    if name not in NORMALIZERS:
        raise InputError(f"unknown normalizer {name!r}; choose one of {', '.join(NORMALIZERS)}")
    return NORMALIZERS[name]()
