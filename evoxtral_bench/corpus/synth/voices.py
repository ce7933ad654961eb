"""Deterministic per-clip choices: a clip's random seed and its voice from a pool."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence


def stable_int(*parts: object) -> int:
    """A 64-bit integer from the parts' text, the same on every machine and Python version."""
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big")


def pick_voice(pool: Sequence[str], clip_id: str, seed: int) -> str:
    """The voice of clip ``clip_id``: a hash of id and seed indexes the pool."""
    return pool[stable_int("voice", clip_id, seed) % len(pool)]
