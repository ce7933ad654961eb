"""The leaderboard cache's scorer fingerprint covers ``scoring/`` and nothing else."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import evoxtral_bench

PACKAGE = Path(evoxtral_bench.__file__).resolve().parent


def _fingerprint(root: Path) -> str:
    """The fingerprint computed by a fresh interpreter that imports the copy under ``root``."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    code = "import evoxtral_bench; from evoxtral_bench.leaderboard.cache import scorer_fingerprint as f; print(evoxtral_bench.__file__); print(f())"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=root, check=True)
    where, value = done.stdout.split()
    assert where.startswith(str(root))  # the copy, not the installed package
    return value


def _touch(path: Path) -> None:
    path.write_text(path.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")


def test_editing_outside_scoring_keeps_the_cache_and_editing_scoring_invalidates_it(tmp_path):
    copy = tmp_path / "evoxtral_bench"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__", "assets"))
    (copy / "leaderboard" / "assets").mkdir()
    (copy / "leaderboard" / "assets" / "__init__.py").write_text("")
    before = _fingerprint(tmp_path)
    for outside in ("cli/app.py", "leaderboard/site.py", "corpus/scripts.py", "reporters.py", "files.py"):
        _touch(copy / outside)
    assert _fingerprint(tmp_path) == before
    _touch(copy / "scoring" / "metrics.py")
    after_code = _fingerprint(tmp_path)
    assert after_code != before
    table = copy / "scoring" / "tags.toml"
    table.write_text(table.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    assert _fingerprint(tmp_path) not in (before, after_code)


def test_a_stored_document_is_read_back_and_any_damage_is_refused(tmp_path):
    from evoxtral_bench.leaderboard.cache import Cache, cache_key

    cache = Cache(tmp_path)
    key, other = cache_key("a"), cache_key("b")
    document = {"x": [1, 2.5, "é\n\"q\""], "nested": {"t": True, "n": None}}
    cache.put(key, document)
    assert Cache(tmp_path).get(key) == document
    path = cache.path(key)
    stored = path.read_bytes()
    assert json.loads(stored)["document"] == document  # the file is plain JSON a reader can check by hand
    damaged = [
        stored.replace(b"2.5", b"3.5"),  # same length, other number: the sha256 no longer matches
        stored.replace(b'"x"', b'"y"'),
        stored.replace(key.encode(), other.encode()),  # filed under another key
        stored[:-1],  # cut
        json.dumps(json.loads(stored), indent=1).encode() + b"\n",  # the same JSON, written otherwise
    ]
    for data in damaged:
        path.write_bytes(data)
        assert Cache(tmp_path).get(key) is None, data
    path.write_bytes(stored)
    assert Cache(tmp_path).get(key, lambda doc: False) is None  # not valid for the caller
    assert Cache(tmp_path).get(key) == document
