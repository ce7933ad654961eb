"""Scoring speed and memory against the usual practice (a naive bootstrap over jiwer).

    python benchmarks/score_speed.py            # full table (about two minutes on 2 cores)
    python benchmarks/score_speed.py --quick    # N = 150 and 1,000 only

For each N (150, 1,000, 100,000 synthetic utterances built from the shipped scripts, with
seeded word and tag errors) it times, in a fresh process each:
* ``ours``: full scoring (seven metrics, per-tag, extras, B resamples) from text, best of 3
  runs for N <= 10,000;
* ``naive``: the usual practice, ``jiwer.wer`` re-run on each resample (WER only); timed on a
  few resamples and scaled linearly to B, as its cost is linear in B;
and it reports peak resident memory and the wall time of ``evoxtral-bench score`` as a fresh
process on 150 utterances. It prints ratios; nothing is asserted here.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from evoxtral_bench.leaderboard.oracle import corrupt


def synthetic(n: int, seed: int = 0) -> tuple[list[dict], list[dict]]:
    """``n`` references cycled from the shipped corpus and their corrupted predictions."""
    from evoxtral_bench.corpus import scripts as corpus

    scripts = [r.tagged_text for r in corpus.load()]
    rng = random.Random(seed)
    refs, preds = [], []
    for i in range(n):
        text = scripts[i % len(scripts)]
        refs.append({"id": f"s{i:06d}", "tagged_text": text})
        preds.append({"id": f"s{i:06d}", "prediction": corrupt(text, rng)})
    return refs, preds


def _write(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def case(n: int, n_boot: int, naive_resamples: int) -> dict:
    """Run in a child process: time both methods for one N, report peak memory."""
    from evoxtral_bench.scoring import normalize
    from evoxtral_bench.scoring.core import Options, ReferenceSet, build_table, summarize
    from evoxtral_bench.scoring.submission import Reference
    from evoxtral_bench.scoring.tags import parse

    refs, preds = synthetic(n)
    rows = [Reference(r["id"], r["tagged_text"], (), None, None, i + 1) for i, r in enumerate(refs)]
    ref_set = ReferenceSet("synthetic", "0" * 64, "all", rows, {r.id for r in rows})
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
    refs, preds = synthetic(n)
    with tempfile.TemporaryDirectory() as tmp:
        ref_path, pred_path = Path(tmp) / "refs.jsonl", Path(tmp) / "preds.jsonl"
        _write(ref_path, refs)
        _write(pred_path, preds)
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            subprocess.run(
                ["evoxtral-bench", "score", str(pred_path), "--references", str(ref_path)],
                check=True,
                stdout=subprocess.DEVNULL,
            )
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="skip N = 100,000")
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

    sizes = [(150, 50), (1000, 20)] + ([] if args.quick else [(100_000, 1)])
    print(f"B = {args.bootstrap} resamples; naive = jiwer.wer re-run per resample (timed on a few, scaled to B)\n")
    print(f"{'N':>8}  {'ours (s)':>9}  {'naive (s)':>10}  {'speed-up':>9}  {'peak RSS (MB)':>13}")
    for n, naive_resamples in sizes:
        run = subprocess.run(
            [sys.executable, __file__, "--case", str(n), "--bootstrap", str(args.bootstrap), "--naive-resamples", str(naive_resamples)],
            check=True,
            capture_output=True,
            text=True,
        )
        r = json.loads(run.stdout)
        ratio = f"{r['naive_s'] / r['ours_s']:.0f}x" if r["naive_s"] else "-"
        print(f"{n:>8,}  {r['ours_s']:>9.2f}  {r['naive_s']:>10.1f}  {ratio:>9}  {r['peak_mb']:>13.0f}")
    print(f"\nevoxtral-bench score, fresh process, N = 150, B = {args.bootstrap}: {cli_wall():.2f} s wall (median of 5)")


if __name__ == "__main__":
    main()
