"""A folder of JSON documents keyed by the sha256 of everything that can change them."""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from importlib import resources
from pathlib import Path

from evoxtral_bench._version import __version__
from evoxtral_bench.files import sha256_bytes, write_text
from evoxtral_bench.reporters import to_json


@lru_cache(maxsize=1)
def scorer_fingerprint() -> str:
    """The package version and the sha256 of every file in ``evoxtral_bench/scoring/``.

    ``scoring/`` holds everything that can change a number (code and tag table), so any edit
    there invalidates the cache, even without a version bump; edits anywhere else (the site,
    the corpus tooling, the CLI) do not re-score.
    """
    package = resources.files("evoxtral_bench.scoring")
    digest = hashlib.sha256()
    for item in sorted((p for p in package.iterdir() if p.name.endswith((".py", ".yaml"))), key=lambda p: p.name):
        digest.update(item.name.encode() + b"\0" + item.read_bytes() + b"\0")
    return f"{__version__}+{digest.hexdigest()[:16]}"


def cache_key(*parts: str) -> str:
    return sha256_bytes("\0".join(parts).encode("utf-8"))


class Cache:
    """``<folder>/<key>.json``. :meth:`prune` removes what this build did not use."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.used: set[str] = set()

    def _path(self, key: str) -> Path:
        return self.folder / f"{key}.json"

    def get(self, key: str) -> dict | None:
        self.used.add(key)
        try:
            return json.loads(self._path(key).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def put(self, key: str, document: dict) -> None:
        self.used.add(key)
        write_text(self._path(key), to_json(document))

    def prune(self) -> None:
        if self.folder.is_dir():
            for path in self.folder.glob("*.json"):
                if path.stem not in self.used:
                    path.unlink()
