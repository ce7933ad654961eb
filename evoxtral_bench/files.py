"""Small shared file helpers: atomic writes, JSONL, sha256 (each exists only here)."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path


def write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never half."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text(path: str | os.PathLike, text: str) -> None:
    """UTF-8 text version of :func:`write_bytes` (newlines written as ``\\n``)."""
    write_bytes(path, text.encode("utf-8"))


def jsonl_text(rows: Iterable[object], *, default: Callable[[object], object] | None = None) -> str:
    """Rows as JSONL: one ``json.dumps(row, ensure_ascii=False)`` per line, each ending in a newline
    (``default`` as in :func:`json.dumps`, for values JSON cannot hold)."""
    return "".join(json.dumps(row, ensure_ascii=False, default=default) + "\n" for row in rows)


def write_jsonl(path: str | os.PathLike, rows: Iterable[object]) -> None:
    """Write rows as JSONL atomically (see :func:`jsonl_text`)."""
    write_text(path, jsonl_text(rows))


def sha256_bytes(data: bytes) -> str:
    """Hex sha256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: str | os.PathLike) -> str:
    """Hex sha256 of a file's bytes, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def json_text(document: object) -> str:
    """Stable JSON: insertion order, 2-space indent, UTF-8 (not escaped), no NaN, trailing newline."""
    return json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
