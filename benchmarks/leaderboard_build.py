"""Leaderboard build time for 50 synthetic verified entries (target: a cold build under 10 s).

    python benchmarks/leaderboard_build.py

Each entry is the shipped test split run through ``corrupt()`` (evoxtral_bench/leaderboard/oracle.py)
with its own seed. Prints the cold build time, the rebuild time with nothing changed, and
how many files the rebuild wrote. Nothing is asserted here.
"""

from __future__ import annotations

import json
import random
import tempfile
import time
from pathlib import Path

import yaml

from evoxtral_bench.cli.app import main
from evoxtral_bench.corpus import scripts as corpus
from evoxtral_bench.leaderboard.oracle import corrupt

META = {"organization": "benchmark", "url": None, "base_model": "none", "params_b": 1, "license": "MIT", "date": "2026-01-01", "kind": "verified", "in_distribution": False, "track": "espeak-v1"}


def make_entries(root: Path, n: int) -> None:
    refs = [r for r in corpus.load() if "test" in r.splits]
    for i in range(n):
        folder = root / f"sys-{i:02d}"
        folder.mkdir(parents=True)
        rng = random.Random(i)
        rows = [{"id": r.id, "prediction": corrupt(r.tagged_text, rng)} for r in refs]
        (folder / "predictions.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
        (folder / "meta.yaml").write_text(yaml.safe_dump({"name": f"System {i}", **META}), encoding="utf-8")


def timed_build(submissions: Path, out: Path) -> float:
    start = time.perf_counter()
    code = main(["leaderboard", "build", "--submissions", str(submissions), "--out", str(out), "--no-progress"])
    if code:
        raise SystemExit(code)
    return time.perf_counter() - start


def main_() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        submissions, out = Path(tmp) / "submissions", Path(tmp) / "site"
        make_entries(submissions, 50)
        cold = timed_build(submissions, out)
        before = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}
        warm = timed_build(submissions, out)
        rewritten = sum(1 for p, t in before.items() if p.stat().st_mtime_ns != t)
    print(f"50 entries: cold build {cold:.1f} s ({cold / 10:.2f} of the 10 s target); rebuild {warm:.1f} s, {rewritten} files rewritten")


if __name__ == "__main__":
    main_()
