"""Making a model's raw output a prediction that ``evoxtral-bench validate`` accepts.

A sampled or half-trained model can emit what the validator rejects: a stray or unclosed
bracket, an empty or over-long ``[...]``, or a control character. ``evoxtral-bench run`` (and the recipe's ``raft``) write
:func:`scoreable` of the output as ``prediction`` and keeps the raw output under ``raw`` when
they differ, and counts those lines, so a broken output is visible rather than silently scored.
"""

from __future__ import annotations

import re
import unicodedata

_TAG = re.compile(r"\[([^\[\]\n]{1,40})\]")
"""A tag the validator accepts, provided its label is not blank."""


def _strip_control(text: str) -> str:
    return "".join(ch for ch in text if ch in "\t\n" or unicodedata.category(ch) not in ("Cc", "Cs"))


def scoreable(text: str) -> str:
    """``text`` with control characters and every bracket that forms no valid tag removed,
    whitespace collapsed; well-formed tags are kept as they are."""
    text = _strip_control(text)
    pieces, start = [], 0
    for m in _TAG.finditer(text):
        if not m.group(1).strip():
            continue  # "[ ]": its brackets are removed with the other strays below
        pieces.append(text[start : m.start()].replace("[", " ").replace("]", " "))
        pieces.append(m.group(0))
        start = m.end()
    pieces.append(text[start:].replace("[", " ").replace("]", " "))
    return " ".join("".join(pieces).split())
