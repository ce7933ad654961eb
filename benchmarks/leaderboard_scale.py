"""Leaderboard build time at 100, 300 and 1,000 synthetic verified entries on one track.

    python benchmarks/leaderboard_scale.py [--sizes 100 300 1000] [--jobs N]

Each entry is the shipped test split run through ``corrupt()`` (evoxtral_bench/leaderboard/oracle.py)
with its own seed (benchmarks/leaderboard_build.py's entries). For each size: the cold build
(empty output folder), the rebuild with nothing changed, and the rebuild after adding one entry,
each with the pairs it tested. Targets on a 2-core machine: 1,000 entries cold < 120 s, unchanged
rebuild < 3 s, one added entry < 10 s. Nothing is asserted here.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from leaderboard_build import make_entries  # noqa: E402

from evoxtral_bench.cli.app import main  # noqa: E402

TARGETS = {"cold": 120.0, "unchanged": 3.0, "one added": 10.0}
"""Seconds, for 1,000 entries."""


def timed_build(submissions: Path, out: Path, jobs: int | None) -> tuple[float, str]:
    """Seconds of one ``leaderboard build`` (in this process) and what it did about the pairs."""
    args = ["leaderboard", "build", "--submissions", str(submissions), "--out", str(out), "--no-progress"]
    if jobs:
        args += ["--jobs", str(jobs)]
    buffer = io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stdout(buffer):
        code = main(args)
    elapsed = time.perf_counter() - start
    if code:
        raise SystemExit(code)
    if "up to date" in buffer.getvalue():
        return elapsed, "up to date: nothing read"
    tested = re.search(r"\((\d+) tested", buffer.getvalue())
    return elapsed, f"{tested.group(1) if tested else '?'} pairs tested"


def main_() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 300, 1000])
    parser.add_argument("--jobs", type=int, default=None, help="leaderboard build --jobs (default: its own)")
    args = parser.parse_args()
    print("| entries | pairs | cold build | unchanged rebuild | one entry added |")
    print("|---|---|---|---|---|")
    for n in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            submissions, out = Path(tmp) / "submissions", Path(tmp) / "site"
            make_entries(submissions, n + 1)
            extra = submissions / f"sys-{n:02d}"
            extra.rename(Path(tmp) / "extra")  # the entry added last
            cold, cold_tested = timed_build(submissions, out, args.jobs)
            warm, warm_tested = timed_build(submissions, out, args.jobs)
            (Path(tmp) / "extra").rename(extra)
            added, added_tested = timed_build(submissions, out, args.jobs)
        pairs = n * (n - 1) // 2
        print(
            f"| {n} | {pairs:,} | {cold:.1f} s ({cold_tested}) | {warm:.2f} s ({warm_tested}) "
            f"| {added:.2f} s ({added_tested}) |",
            flush=True,
        )
        if n == 1000:
            for name, value in zip(TARGETS, (cold, warm, added)):
                print(f"  1000 entries, {name}: {value:.2f} s, target < {TARGETS[name]:g} s: {'met' if value < TARGETS[name] else 'NOT met'}")


if __name__ == "__main__":
    main_()
