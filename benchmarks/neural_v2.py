"""Measurements of the neural-v2 renderer (docs/spec.md §12.7): render speed, voices, masking leak.

    python benchmarks/neural_v2.py speed  [--scripts 6]    # clip seconds per wall second, per engine
    python benchmarks/neural_v2.py voices                  # median F0 and speaking rate of every voice
    python benchmarks/neural_v2.py leak   [--scripts 60]   # gaps where masked sounds were vs other word gaps

Scripts are the first N validation scripts of the shipped corpus. ``speed`` renders each with the
test split's event generators on one voice per engine with 1 and with 2 worker processes (one ONNX
thread each, as ``synthesize`` runs them; wall time, and the workers' CPU time, which a busy
machine inflates less), then the first N scripts of the v2 test set, both
renderings, through ``synthesize`` with ``concurrency=2`` (what ``data synthesize`` does). ``leak`` renders the scripts that hold a sound with Piper joe (exact word
alignment), masked as neural-v1-masked does (room tone of the sound's length) and as neural-v2-masked
does (spliced), and compares the silence between the words around each removed sound with every
other word gap of the same clips (all gaps, and gaps after the same punctuation). Nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context

import numpy as np
from scipy import stats

from evoxtral_bench.corpus import scripts as corpus
from evoxtral_bench.corpus.synth import synthesize
from evoxtral_bench.corpus.synth.clip import Job, Span
from evoxtral_bench.corpus.synth.neural import render_clip
from evoxtral_bench.corpus.synth.pool import completed
from evoxtral_bench.corpus.synth.script import SOUND_TAGS, read_script
from evoxtral_bench.tracks import TRACKS

V2 = TRACKS["neural-v2"]
ENGINES = {"piper": "piper:en_US-joe-medium", "hibari": "hibari:heart", "kokoro": "kokoro:jf_nezumi"}
PLAIN = (
    "The museum opens at nine, and the tickets are cheaper before noon.",
    "We drove along the coast for hours without seeing another car.",
    "Please send me the report by Friday so I can read it over the weekend.",
)


def _validation(n: int) -> list:
    return [r for r in corpus.load() if "validation" in r.splits][:n]


def speed(n: int) -> None:
    rows = _validation(n)
    for engine, voice in ENGINES.items():
        jobs = [Job(r.id, r.tagged_text, voice, events="voiced-v2") for r in rows]
        render_clip(Job("warm", "Warm up.", voice, events="voiced-v2"), V2.seed)  # loads the model before forking
        for workers in (1, 2):
            wall, cpu = time.perf_counter(), _cpu()
            executor = ProcessPoolExecutor(max_workers=workers, mp_context=get_context("fork"))
            audio = sum(len(clip.pcm) / clip.sample_rate for _, clip in completed(executor, render_clip, jobs, V2.seed))
            wall, cpu = time.perf_counter() - wall, _cpu() - cpu
            print(f"{engine:7s} {workers} worker(s): {audio:6.1f} s of clips in {wall:6.1f} s = {audio / wall:5.2f} clip s per wall s; "
                  f"{cpu:6.1f} CPU s = {audio / cpu:5.2f} clip s per CPU s", flush=True)
    rows_v2 = corpus.track_rows(V2, corpus.load())
    test = [r._asdict() for r in rows_v2 if "test" in r.splits][: 2 * n]
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        manifest = synthesize(rows=test, out_dir=out, track="neural-v2", concurrency=2, progress=False)
        wall = time.perf_counter() - start
        entries = [json.loads(line) for line in manifest.read_text("utf-8").splitlines()]
    audio = sum(e["duration"] for e in entries)
    print(f"neural-v2 test split, first {n} v2 scripts x 2 renderings, 2 workers: {audio:.1f} s of clips in {wall:.1f} s "
          f"= {audio / wall:.2f} clip s per wall s")


def _cpu() -> float:
    """CPU seconds used by this process's finished child processes (the workers), user + system."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _f0(x: np.ndarray, sr: int = 16000) -> list[float]:
    """F0 (Hz) of each voiced 40 ms frame: the autocorrelation peak at a 60-400 Hz lag, kept above 0.5."""
    size, out = int(0.04 * sr), []
    frames = [x[i : i + size] for i in range(0, len(x) - size, size // 2)]
    loud = max(float(np.sqrt(np.mean(f**2))) for f in frames)
    for f in frames:
        if np.sqrt(np.mean(f**2)) < 0.1 * loud:
            continue
        f = f - f.mean()
        ac = np.fft.irfft(np.abs(np.fft.rfft(f, 2 * size)) ** 2)[:size]
        lo, hi = sr // 400, sr // 60
        k = lo + int(np.argmax(ac[lo:hi]))
        if ac[k] / ac[0] > 0.5:
            out.append(sr / k)
    return out


def voices() -> None:
    pools = {"train": V2.voices["train"], "test": V2.voices["test"]}
    for split, pool in pools.items():
        for voice in pool:
            f0s, rates = [], []
            for k, text in enumerate(PLAIN):
                clip = render_clip(Job(f"voice-{k}", text, voice), V2.seed)
                x = clip.pcm.astype(np.float64) / 32767.0
                f0s += _f0(x)
                words = clip.words
                rates.append(len(words) / (words[-1].end - words[0].start))
            lo, hi = np.percentile(f0s, [25, 75])
            print(f"{split:5s} {voice:34s} median F0 {np.median(f0s):6.1f} Hz (IQR {lo:5.1f}-{hi:5.1f}), "
                  f"{np.mean(rates):4.2f} words/s (sd {np.std(rates):.2f})", flush=True)


def _gaps(words, tags) -> tuple[list[float], list[float], list[str], list[str]]:
    """Gaps (s) between consecutive words: at a removed sound, and elsewhere; each with the
    punctuation ending the word before it."""
    at = {t.start for t in tags if t.label in SOUND_TAGS}
    event, other, event_punct, other_punct = [], [], [], []
    for a, b in zip(words, words[1:]):
        gap = b.start - a.end
        punct = "sentence" if a.label.rstrip("\"'”)").endswith((".", "!", "?")) else "comma" if a.label.endswith((",", ";", ":")) else "none"
        near = any(a.end - 1e-3 <= t <= b.start + 1e-3 for t in at)
        (event if near else other).append(gap)
        (event_punct if near else other_punct).append(punct)
    return event, other, event_punct, other_punct


def leak(n: int) -> None:
    rows = [r for r in corpus.load() if "validation" in r.splits and any(c.label in SOUND_TAGS for c in read_script(r.tagged_text).cues)][:n]
    voice = ENGINES["piper"]
    for name, splice in (("neural-v1-masked (room tone)", False), ("neural-v2-masked (spliced)", True)):
        event, other, ep, op = [], [], [], []
        for row in rows:
            clip = render_clip(Job(row.id, row.tagged_text, voice, masked=True, splice=splice, events="voiced-v2" if splice else "rule-v1"), V2.seed)
            written = read_script(row.tagged_text).words
            labelled = [Span(p.text + _after(row.tagged_text, p.end), w.start, w.end) for w, p in zip(clip.words, written)]
            e, o, a, b = _gaps(labelled, clip.tags)
            event += e
            other += o
            ep += a
            op += b
        print(f"{name}: {len(event)} gaps at removed sounds, {len(other)} other word gaps ({len(rows)} scripts)")
        _compare("all gaps", event, other)
        for punct in ("sentence", "comma", "none"):
            _compare(f"after {punct:8s}", [g for g, p in zip(event, ep) if p == punct], [g for g, p in zip(other, op) if p == punct])


def _after(text: str, end: int) -> str:
    """The punctuation right after a word (the script's words carry none)."""
    tail = ""
    while end < len(text) and text[end] in ",;:.!?\"'”)":
        tail += text[end]
        end += 1
    return tail


def _compare(what: str, event: list[float], other: list[float]) -> None:
    if len(event) < 2 or len(other) < 2:
        print(f"  {what}: too few gaps ({len(event)} at sounds, {len(other)} other)")
        return
    rng = np.random.default_rng(0)
    diffs = [np.median(rng.choice(event, len(event))) - np.median(rng.choice(other, len(other))) for _ in range(2000)]
    lo, hi = np.percentile(diffs, [2.5, 97.5])
    p = stats.mannwhitneyu(event, other).pvalue
    print(f"  {what}: median gap at sounds {np.median(event):.3f} s (n={len(event)}) vs other {np.median(other):.3f} s "
          f"(n={len(other)}); difference {np.median(event) - np.median(other):+.3f} s [95% CI {lo:+.3f}, {hi:+.3f}], "
          f"Mann-Whitney p = {p:.3g}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=("speed", "voices", "leak"))
    parser.add_argument("--scripts", type=int, default=None)
    args = parser.parse_args()
    {"speed": lambda: speed(args.scripts or 6), "voices": voices, "leak": lambda: leak(args.scripts or 60)}[args.what]()


if __name__ == "__main__":
    main()
