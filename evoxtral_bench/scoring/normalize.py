"""Text normalizers for WER and CER (docs/spec.md §2).

Every normalizer maps tag-free text (tags already replaced by spaces, see
:attr:`evoxtral_bench.scoring.tags.Transcript.text`) to a string of space-separated words.
Its name is part of the results signature.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

from evoxtral_bench.errors import InputError

Normalizer = Callable[[str], str]

_ELLIPSIS_RE = re.compile(r"\.{2,}")
_LONE_APOSTROPHE_RE = re.compile(r"(?<![^\W\d_])'|'(?![^\W\d_])")
_CURLY = "\u2018\u2019\u201a\u201b\u2032\u02bc\u201c\u201d\u201e\u201f\u2033"


class _BasicTable(dict):
    """``str.translate`` table built lazily, one character at a time: curly quotes -> ``'``,
    dashes and the ellipsis character -> space, other punctuation (P*) and symbols (S*) ->
    removed, everything else kept."""

    def __missing__(self, cp: int) -> str | None:
        ch = chr(cp)
        category = unicodedata.category(ch)
        if ch in _CURLY:
            out: str | None = "'"
        elif category == "Pd" or ch in "\u2026\u2212":
            out = " "
        elif category[0] in "PS" and ch != "'":
            out = None
        else:
            out = ch
        self[cp] = out
        return out


_TABLE = _BasicTable()
_SPACES_RE = re.compile(r"\s+")


def basic(text: str) -> str:
    """docs/spec.md §2 ``basic``: NFKC, ASCII apostrophes, lowercase, dashes/ellipses to spaces, other
    punctuation and symbols removed except an apostrophe between two letters, spaces collapsed."""
    if not text.isascii():  # NFKC leaves ASCII unchanged
        text = unicodedata.normalize("NFKC", text)
    text = text.lower()
    if ".." in text:
        text = _ELLIPSIS_RE.sub(" ", text)
    text = text.translate(_TABLE)
    if "'" in text:
        text = _ascii_apostrophes(text) if text.isascii() else _LONE_APOSTROPHE_RE.sub("", text)
    return " ".join(text.split())


def _ascii_apostrophes(text: str) -> str:
    """``_LONE_APOSTROPHE_RE.sub("", text)`` for ASCII text (letters are then ``str.isalpha``),
    about three times faster: an apostrophe stays only between two letters."""
    parts = text.split("'")
    out = [parts[0]]
    for before, after in zip(parts, parts[1:]):
        if before and after and before[-1].isalpha() and after[0].isalpha():
            out.append("'")
        out.append(after)
    return "".join(out)


def none(text: str) -> str:
    """docs/spec.md §2 ``none``: whitespace collapsed and trimmed only (tags are already removed)."""
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


def names() -> list[str]:
    """The registered normalizer names (the CLI's ``--normalizer`` choices)."""
    return list(NORMALIZERS)


def is_chunkwise(normalizer: Normalizer) -> bool:
    """True when normalizing the text between tags piece by piece yields exactly the words of
    the normalized whole (``basic`` and ``none``: tags become spaces and no rule spans them)."""
    return normalizer in (basic, none)


def get(name: str) -> Normalizer:
    """The normalizer called ``name``; :class:`InputError` for an unknown name."""
    if name not in NORMALIZERS:
        raise InputError(f"unknown normalizer {name!r}; choose one of {', '.join(NORMALIZERS)}")
    return NORMALIZERS[name]()
