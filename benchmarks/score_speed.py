"""Scoring speed against the floor (the unavoidable work), and against the usual practice.

    python benchmarks/score_speed.py            # the floor table (about five minutes on 2 cores)
    python benchmarks/score_speed.py --quick    # N = 1,000 and 10,000 only
    python benchmarks/score_speed.py --naive    # the older table: ours vs jiwer re-run per resample
    python benchmarks/score_speed.py --cold     # only the cold-start ratio (target ≤ 1.5×)

The floor table times, each run a fresh process on the same synthetic files (references cycled
from the shipped corpus with their domain and slice, predictions with seeded word and tag errors):

* ``project``: ``python -m evoxtral_bench score PREDS --references REFS --format json`` (B = 1000);
* ``floor``: ``benchmarks/score_floor.py`` on the same files, only the unavoidable work;

project ÷ floor at N = 1,000, 10,000 and 100,000 (runs interleaved, best of several, both
measured in this run), the same at N = 100,000 with one competing busy process, ``compare`` ÷
``score`` at N = 100,000 (default ``--jobs``: the two systems in two processes when 2 CPUs are usable;
``--jobs 1`` too), the peak memory of ``score`` at N = 100,000 and the cold start
(fresh process, N = 150) beside Python + numpy + rapidfuzz alone. It prints the load
average with every figure; nothing is asserted here.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from evoxtral_bench.leaderboard.oracle import corrupt

ROOT = Path(__file__).resolve().parents[1]
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
ENV["PYTHONPATH"] = str(ROOT)  # the scorer of this checkout, whatever is installed
"""Bytecode is written and reused as in any installed environment (pip compiles a wheel's
modules); with PYTHONDONTWRITEBYTECODE=1 every process would compile the package's sources
again (about 60 ms of each cold start on this machine)."""


def synthetic(n: int, seed: int = 0) -> tuple[list[dict], list[dict]]:
    """``n`` references cycled from the shipped corpus (with domain and slice) and their
    corrupted predictions."""
    from evoxtral_bench.corpus import scripts as corpus

    rows = corpus.load()
    rng = random.Random(seed)
    refs, preds = [], []
    for i in range(n):
        row = rows[i % len(rows)]
        refs.append({"id": f"s{i:06d}", "tagged_text": row.tagged_text, "domain": row.domain, "slice": row.slice})
        preds.append({"id": f"s{i:06d}", "prediction": corrupt(row.tagged_text, rng)})
    return refs, preds


def _write(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def load() -> str:
    return " ".join(f"{x}" for x in Path("/proc/loadavg").read_text().split()[:3]) if Path("/proc/loadavg").exists() else "?"


def timed(argv: list[str]) -> tuple[float, float]:
    """(wall seconds, peak RSS in MB) of one fresh process."""
    wall, rss, _ = timed_cpu(argv)
    return wall, rss


def timed_cpu(argv: list[str]) -> tuple[float, float, float]:
    """(wall seconds, peak RSS in MB, CPU seconds: user + system) of one fresh process."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV, cwd=ROOT)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise RuntimeError(f"{' '.join(argv)} exited with {proc.returncode}")
    return wall, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime


@contextmanager
def busy():
    """One competing process spinning on a core."""
    proc = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.5)
        yield
    finally:
        proc.kill()
        proc.wait()


class Files:
    """Synthetic references and two prediction files of ``n`` utterances in ``folder``."""

    def __init__(self, folder: Path, n: int) -> None:
        refs, preds = synthetic(n)
        _, other = synthetic(n, seed=1)
        self.refs, self.preds, self.other = folder / f"refs{n}.jsonl", folder / f"preds{n}.jsonl", folder / f"other{n}.jsonl"
        _write(self.refs, refs)
        _write(self.preds, preds)
        _write(self.other, other)

    def score(self, n_boot: int) -> list[str]:
        return [sys.executable, "-m", "evoxtral_bench", "score", str(self.preds), "--references", str(self.refs),
                "--bootstrap", str(n_boot), "--format", "json", "--output", os.devnull]

    def compare(self, n_boot: int, jobs: int | None = None) -> list[str]:
        return [sys.executable, "-m", "evoxtral_bench", "compare", str(self.preds), str(self.other), "--references",
                str(self.refs), "--bootstrap", str(n_boot), "--format", "json", "--output", os.devnull,
                *([] if jobs is None else ["--jobs", str(jobs)])]

    def floor(self, n_boot: int) -> list[str]:
        return [sys.executable, str(ROOT / "benchmarks" / "score_floor.py"), str(self.refs), str(self.preds), "--bootstrap", str(n_boot)]


def _jobs() -> str:
    """What ``compare``'s default ``--jobs`` is here."""
    from evoxtral_bench.scoring.core import default_workers

    return "2 processes" if default_workers() == 2 else "1 process"


def best_pair(a: list[str], b: list[str], repeats: int) -> tuple[float, float, float]:
    """Best wall times of ``a`` and ``b`` run alternately, and the peak RSS (MB) of ``a``."""
    ta, tb, peak = [], [], 0.0
    for _ in range(repeats):
        wall, rss = timed(a)
        ta.append(wall)
        peak = max(peak, rss)
        tb.append(timed(b)[0])
    return min(ta), min(tb), peak


def floor_table(n_boot: int, quick: bool) -> None:
    sizes = [(1_000, 7), (10_000, 3)] + ([] if quick else [(100_000, 3)])
    print(f"B = {n_boot}; each run a fresh process; best of the repeats; load average (1, 5, 15 min) after each line\n")
    print(f"{'N':>8}  {'project (s)':>11}  {'floor (s)':>9}  {'project ÷ floor':>15}  {'peak RSS (MB)':>13}  load")
    with tempfile.TemporaryDirectory() as tmp:
        for n, repeats in sizes:
            files = Files(Path(tmp), n)
            project, floor, peak = best_pair(files.score(n_boot), files.floor(n_boot), repeats)
            print(f"{n:>8,}  {project:>11.2f}  {floor:>9.2f}  {project / floor:>14.2f}×  {peak:>13.0f}  {load()}", flush=True)
        n = sizes[-1][0]
        with busy():
            loaded, loaded_floor, _ = best_pair(files.score(n_boot), files.floor(n_boot), 2)
        print(f"\nN = {n:,} with one competing busy process: project {loaded:.2f} s = {loaded / project:.2f}× its quiet time; "
              f"floor {loaded_floor:.2f} s; project ÷ floor {loaded / loaded_floor:.2f}×  [load {load()}]", flush=True)
        compare, score, _ = best_pair(files.compare(n_boot), files.score(n_boot), 2)
        alone = min(timed(files.compare(n_boot, jobs=1))[0] for _ in range(2))
        print(f"N = {n:,}: compare {compare:.2f} s (default --jobs: {_jobs()}), score {score:.2f} s: compare ÷ score "
              f"{compare / score:.2f}×; compare --jobs 1 {alone:.2f} s = {alone / score:.2f}× score  [load {load()}]", flush=True)
    cold_start(n_boot)


COLD_TARGET = 1.5
"""``score`` on 150 utterances, B = 1000, within this factor of ``python -c "import numpy, rapidfuzz"``."""


def cold_start(n_boot: int, runs: int = 11) -> None:
    """The cold start: a fresh ``score`` process on 150 utterances beside Python + numpy +
    rapidfuzz alone, interleaved; prints both medians and their ratio against :data:`COLD_TARGET`, in
    wall time and in CPU time (which a busy machine disturbs less)."""
    with tempfile.TemporaryDirectory() as tmp:
        small = Files(Path(tmp), 150)
        subprocess.run(small.score(n_boot), check=True, env=ENV)  # bytecode written once, as after an install
        cold, bare = [], []
        for _ in range(runs):
            cold.append(timed_cpu(small.score(n_boot)))
            bare.append(timed_cpu([sys.executable, "-c", "import numpy, rapidfuzz"]))
    for what, index in (("wall", 0), ("CPU (user + system)", 2)):
        ours, base = statistics.median(c[index] for c in cold), statistics.median(b[index] for b in bare)
        ratio = ours / base
        print(f"cold start, N = 150, B = {n_boot}, {what}: {ours:.3f} s median of {runs} "
              f"(python -c 'import numpy, rapidfuzz': {base:.3f} s); ratio {ratio:.2f}×, "
              f"target ≤ {COLD_TARGET}×: {'met' if ratio <= COLD_TARGET else 'NOT met'}  [load {load()}]", flush=True)


def case(n: int, n_boot: int, naive_resamples: int) -> dict:
    """Run in a child process: time both methods for one N, report peak memory."""
    from evoxtral_bench.scoring import normalize
    from evoxtral_bench.scoring.core import Options, ReferenceSet, build_table, summarize
    from evoxtral_bench.scoring.submission import Reference
    from evoxtral_bench.scoring.tags import parse

    refs, preds = synthetic(n)
    rows = [Reference(r["id"], r["tagged_text"], (), None, None, i + 1) for i, r in enumerate(refs)]
    ref_set = ReferenceSet("synthetic", "0" * 64, "all", rows, {r.id: r.splits for r in rows})
    texts = [p["prediction"] for p in preds]
    options = Options(n_boot=n_boot)
    runs = []
    for _ in range(3 if n <= 10_000 else 1):  # best of 3 where that is cheap
        start = time.perf_counter()
        table, _ = build_table(texts, ref_set, options)
        summarize(table, options)
        runs.append(time.perf_counter() - start)
    ours = min(runs)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    naive = None
    if naive_resamples:
        import jiwer
        import numpy as np

        norm_refs = [normalize.basic(parse(r["tagged_text"]).text) for r in refs]
        norm_preds = [normalize.basic(parse(t).text) for t in texts]
        rng = np.random.default_rng(0)
        start = time.perf_counter()
        for _ in range(naive_resamples):
            idx = rng.integers(0, n, size=n)
            jiwer.wer([norm_refs[i] for i in idx], [norm_preds[i] for i in idx])
        naive = (time.perf_counter() - start) / naive_resamples * n_boot
    return {"n": n, "ours_s": ours, "naive_s": naive, "peak_mb": peak_mb}


def cli_wall(n: int = 150, repeats: int = 5) -> float:
    """Median wall time of ``evoxtral-bench score`` as a fresh process on ``n`` utterances."""
    with tempfile.TemporaryDirectory() as tmp:
        files = Files(Path(tmp), n)
        return statistics.median(timed(files.score(1000))[0] for _ in range(repeats))


def naive_table(n_boot: int, quick: bool) -> None:
    sizes = [(150, 50), (1000, 20)] + ([] if quick else [(100_000, 1)])
    print(f"B = {n_boot} resamples; naive = jiwer.wer re-run per resample (timed on a few, scaled to B)\n")
    print(f"{'N':>8}  {'ours (s)':>9}  {'naive (s)':>10}  {'speed-up':>9}  {'peak RSS (MB)':>13}")
    for n, naive_resamples in sizes:
        run = subprocess.run(
            [sys.executable, __file__, "--case", str(n), "--bootstrap", str(n_boot), "--naive-resamples", str(naive_resamples)],
            check=True,
            capture_output=True,
            text=True,
            env=ENV,
        )
        r = json.loads(run.stdout)
        ratio = f"{r['naive_s'] / r['ours_s']:.0f}x" if r["naive_s"] else "-"
        print(f"{n:>8,}  {r['ours_s']:>9.2f}  {r['naive_s']:>10.1f}  {ratio:>9}  {r['peak_mb']:>13.0f}")
    print(f"\nevoxtral-bench score, fresh process, N = 150, B = {n_boot}: {cli_wall():.2f} s wall (median of 5)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="skip N = 100,000")
    parser.add_argument("--naive", action="store_true", help="the older table: ours vs jiwer re-run per resample")
    parser.add_argument("--cold", action="store_true", help="only the cold-start ratio")
    parser.add_argument("--bootstrap", type=int, default=1000)
    parser.add_argument("--write-example", metavar="FILE", help="write corrupted predictions for the shipped test split and stop")
    parser.add_argument("--case", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--naive-resamples", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.write_example:
        from evoxtral_bench.corpus import scripts as corpus

        rng = random.Random(0)
        rows = [{"id": r.id, "prediction": corrupt(r.tagged_text, rng)} for r in corpus.load() if "test" in r.splits]
        _write(Path(args.write_example), rows)
        return
    if args.case:
        print(json.dumps(case(args.case, args.bootstrap, args.naive_resamples)))
        return
    if args.cold:
        cold_start(args.bootstrap)
    elif args.naive:
        naive_table(args.bootstrap, args.quick)
    else:
        floor_table(args.bootstrap, args.quick)


if __name__ == "__main__":
    main()
