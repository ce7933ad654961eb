"""``leaderboard build``: score (cached, in parallel), rank, and write the static site.

The output folder holds ``index.html``, ``leaderboard.json``, ``leaderboard.csv``,
``assets/``, ``plots/*.svg``, ``entries/<slug>/`` (``index.html``, and for verified entries
``results.json`` and ``predictions.jsonl``) and ``.cache/``: one JSON document per scored
entry and per neighbour comparison (checked before use), keyed by the sha256 of the predictions, the references,
the scoring signature and the scorer's source code (:func:`.cache.scorer_fingerprint`). The folder's
manifest and lock (:mod:`.output`) decide what a build may replace or delete: only what a
build wrote.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from threadpoolctl import threadpool_limits
from tqdm import tqdm

from evoxtral_bench.files import write_bytes
from evoxtral_bench.leaderboard import downloads, plots, samples, site, standings
from evoxtral_bench.leaderboard.cache import Cache, cache_key, scorer_fingerprint
from evoxtral_bench.leaderboard.entries import OPTIONS, PREDICTIONS, Entry
from evoxtral_bench.leaderboard.output import OutputDir
from evoxtral_bench.leaderboard.ties import TIE_METRIC, compare_neighbours
from evoxtral_bench.reporters import to_json
from evoxtral_bench.scoring.core import ReferenceSet, System, score
from evoxtral_bench.scoring.results import Delta, Results

CACHE_DIR = ".cache"


@dataclass(frozen=True)
class BuildReport:
    """What a build did: entries shown, and how many scorings and comparisons ran or were cached."""

    verified: int
    reported: int
    scored: int
    compared: int
    cached: int
    written: int


def score_entry(system: System, refs: ReferenceSet) -> dict:
    """The results document and the sample utterance ids of one verified entry."""
    return {"results": score(system, refs, OPTIONS).to_dict(), "samples": samples.pick(system, refs)}


def _one_blas_thread() -> None:
    """Worker initializer: scoring multiplies small matrices, where BLAS threads only add
    contention (2-3x slower on a busy 2-core machine)."""
    threadpool_limits(1, user_api="blas")


def _run(fn: Callable, jobs: list[tuple], workers: int, desc: str, progress: bool) -> list:
    """``fn(*job)`` for every job, in order; in ``workers`` processes when there are several jobs."""
    out = []
    with tqdm(total=len(jobs), desc=desc, unit="job", disable=not progress or not jobs, leave=False) as bar:
        if workers <= 1 or len(jobs) <= 1:
            with threadpool_limits(1, user_api="blas"):
                for job in jobs:
                    out.append(fn(*job))
                    bar.update()
        else:
            with ProcessPoolExecutor(max_workers=min(workers, len(jobs)), initializer=_one_blas_thread) as pool:
                for result in pool.map(fn, *zip(*jobs)):
                    out.append(result)
                    bar.update()
    return out


def _cached(
    cache: Cache, output: OutputDir, keys: list[str], fn: Callable, jobs: list[tuple], valid: Callable[[int, dict], bool], run: tuple
) -> tuple[list, int]:
    """Documents for ``keys``: from the cache when ``valid(i, doc)``, or computed by ``fn(*job)`` and stored."""
    found = [cache.get(key, lambda doc, i=i: valid(i, doc)) for i, key in enumerate(keys)]
    todo = [i for i, doc in enumerate(found) if doc is None]
    output.claim(_cache_relative(cache, keys[i]) for i in todo)
    for i, doc in zip(todo, _run(fn, [jobs[i] for i in todo], *run)):
        cache.put(keys[i], doc)
        found[i] = doc
    return found, len(todo)


def _cache_relative(cache: Cache, key: str) -> str:
    return f"{CACHE_DIR}/{cache.path(key).name}"


def _valid_score(system: System, refs: ReferenceSet, signature: str, doc: dict) -> bool:
    """A cached score document is that of ``system`` under ``signature``, in the right shape."""
    results = doc["results"]
    samples = doc["samples"]
    ids = {r.id for r in refs.rows}
    return (
        set(doc) == {"results", "samples"}
        and Results.from_dict(results).to_dict() == results
        and results["submission"]["sha256"] == system.sha256
        and results["signature"] == signature
        and isinstance(samples, dict)
        and set(samples) == {"worst", "best"}
        and all(isinstance(v, list) and all(isinstance(s, dict) and s["id"] in ids for s in v) for v in samples.values())
    )


def _valid_comparison(doc: dict) -> bool:
    p = doc["p_value"]
    return Delta.from_dict(doc).to_dict(TIE_METRIC) == doc and isinstance(p, float) and 0 <= p <= 1


def _write(path: Path, data: bytes) -> bool:
    """Write unless the file already holds exactly ``data`` (keeps rebuilds cheap)."""
    if path.is_file() and not path.is_symlink() and path.read_bytes() == data:
        return False
    write_bytes(path, data)
    return True


def build_site(
    refs: ReferenceSet,
    entries: list[Entry],
    out: str | Path,
    *,
    workers: int | None = None,
    progress: bool = True,
) -> BuildReport:
    """Score, rank and write the site for checked ``entries`` (see :func:`.entries.check`).

    ``out`` must be new, empty or an earlier build's output (see :mod:`.output`).
    """
    with OutputDir(out) as output:
        return _build(refs, entries, output, workers or os.cpu_count() or 1, progress)


def _build(refs: ReferenceSet, entries: list[Entry], output: OutputDir, workers: int, progress: bool) -> BuildReport:
    out = output.folder
    output.remove_temp_files()
    cache = Cache(out / CACHE_DIR, owned=lambda path: output.owns(path.relative_to(out).as_posix()))
    fingerprint = scorer_fingerprint()
    sig = refs.signature(OPTIONS).format()
    base = (fingerprint, refs.sha256, sig)

    verified = [e for e in entries if e.verified]
    keys = [cache_key("score", *base, e.system.sha256, e.system.path) for e in verified]
    docs, scored = _cached(
        cache, output, keys, score_entry, [(e.system, refs) for e in verified],
        lambda i, doc: _valid_score(verified[i].system, refs, sig, doc), (workers, "scoring", progress),
    )
    by_slug = dict(zip((e.slug for e in verified), docs))

    order = standings.verified_order(verified, by_slug)
    pairs = list(zip(order, order[1:]))
    keys = [cache_key("compare", *base, a.system.sha256, b.system.sha256) for a, b in pairs]
    comparisons, compared = _cached(
        cache, output, keys, compare_neighbours, [(a.system, b.system, refs) for a, b in pairs],
        lambda i, doc: _valid_comparison(doc), (workers, "ties", progress),
    )

    ranked = standings.verified(order, by_slug, comparisons)
    quoted = standings.reported_order([standings.reported(e) for e in entries if not e.verified])
    context = site.Context(sig, refs.sha256, fingerprint, refs.split, len(refs.rows))

    files: dict[str, bytes] = {}
    for standing in ranked:
        files[f"entries/{standing.slug}/results.json"] = to_json(standing.results).encode("utf-8")
        files[f"entries/{standing.slug}/predictions.jsonl"] = (standing.entry.folder / PREDICTIONS).read_bytes()
    files["leaderboard.json"] = downloads.leaderboard_json(refs.info().to_dict(), sig, fingerprint, ranked, quoted).encode("utf-8")
    files["leaderboard.csv"] = downloads.leaderboard_csv(ranked, quoted).encode("utf-8")
    files.update({f"plots/{name}": svg for name, svg in plots.render(ranked).items()})
    files.update(site.render(ranked, quoted, refs, context))

    output.claim(files)
    written = sum(_write(out / relative, data) for relative, data in sorted(files.items()))
    output.finish(set(files) | {_cache_relative(cache, key) for key in cache.used})
    return BuildReport(len(ranked), len(quoted), scored, compared, len(docs) + len(comparisons) - scored - compared, written)
