"""A folder of JSON documents keyed by the sha256 of everything that can change them, each
checked against its key and its own sha256 before use."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from functools import lru_cache
from importlib import resources
from pathlib import Path

from evoxtral_bench._version import __version__
from evoxtral_bench.errors import InputError
from evoxtral_bench.files import compact_json, sha256_bytes, write_bytes


@lru_cache(maxsize=1)
def scorer_fingerprint() -> str:
    """The package version and the sha256 of every file in ``evoxtral_bench/scoring/``.

    ``scoring/`` holds everything that can change a number (code and tag table), so any edit
    there invalidates the cache, even without a version bump; edits anywhere else (the site,
    the corpus tooling, the CLI) do not re-score.
    """
    package = resources.files("evoxtral_bench.scoring")
    digest = hashlib.sha256()
    for item in sorted((p for p in package.iterdir() if p.name.endswith((".py", ".toml"))), key=lambda p: p.name):
        digest.update(item.name.encode() + b"\0" + item.read_bytes() + b"\0")
    return f"{__version__}+{digest.hexdigest()[:16]}"


def cache_key(*parts: str) -> str:
    return sha256_bytes("\0".join(parts).encode("utf-8"))


class Cache:
    """``<folder>/<key>.json``, each ``{"key", "sha256", "document"}`` as one line of JSON.

    A stored file is used only when an earlier build recorded it (``owned``), its key and the
    sha256 of its document check out and ``valid(document)`` holds; anything else is
    re-computed. A document that cannot be stored is simply not cached.
    """

    def __init__(self, folder: Path, owned: Callable[[Path], bool] = lambda path: True) -> None:
        self.folder = folder
        self.owned = owned
        self.used: set[str] = set()
        self.stored: set[str] = set()

    def path(self, key: str) -> Path:
        return self.folder / f"{key}.json"

    def get(self, key: str, valid: Callable[[dict], bool] = lambda document: True) -> dict | None:
        path = self.path(key)
        if not self.owned(path) or path.is_symlink() or not path.is_file():
            return None
        try:
            document = _document(path.read_bytes(), key)
            ok = document is not None and valid(document)
        except (OSError, ValueError, RecursionError, KeyError, TypeError, AttributeError, IndexError, InputError):  # InputError: not a results document
            return None
        if not ok:
            return None
        self.used.add(key)
        return document

    def put(self, key: str, document: dict) -> None:
        try:
            document_text = compact_json({"key": key, "sha256": _digest(document), "document": document})
            write_bytes(self.path(key), document_text.encode("utf-8"), replace=True, durable=False)  # a link or FIFO in its place is replaced; a file a crash emptied fails its sha256
        except InputError:  # e.g. a folder where the file should be: the build goes on uncached
            return
        self.used.add(key)
        self.stored.add(key)


def _document(data: bytes, key: str) -> object | None:
    """The document of a stored file when its key is ``key`` and its bytes have their sha256.

    The file is ``compact_json({"key", "sha256", "document"})``; the document's own compact JSON
    is the text after ``"document":``, so it is checked as written (without parsing and writing
    it again) and then parsed once."""
    head = f'{{"key":{json.dumps(key)},"sha256":"'.encode()
    middle = b'","document":'
    start = len(head) + 64
    if not data.startswith(head) or data[start : start + len(middle)] != middle or not data.endswith(b"}\n"):
        return None
    body = data[start + len(middle) : -2]
    if sha256_bytes(body + b"\n") != data[len(head) : start].decode("ascii", "replace"):
        return None
    return json.loads(body)


def _digest(document: object) -> str:
    """sha256 of the document's stable one-line JSON (NaN or other non-JSON values raise ValueError)."""
    return sha256_bytes(compact_json(document).encode("utf-8"))
