"""``leaderboard build``: score (cached, in parallel), rank, and write the static site.

The output folder holds ``index.html``, ``leaderboard.json``, ``leaderboard.csv``,
``assets/``, ``plots/*.svg``, ``entries/<slug>/`` (``index.html``, and for verified entries
``results.json`` and ``predictions.jsonl``) and ``.cache/``: one JSON document per scored
entry (its results, sample ids and per-utterance headline counts), keyed by the sha256 of the
predictions, the references, the scoring signature and the scorer's source code
(:func:`.cache.scorer_fingerprint`). Ranks come from those counts on every build (all pairs,
:mod:`.ranking`): cheap, so they are never cached.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

from threadpoolctl import threadpool_limits
from tqdm import tqdm

from evoxtral_bench.files import write_bytes
from evoxtral_bench.leaderboard import downloads, plots, ranking, samples, site, standings
from evoxtral_bench.leaderboard.cache import Cache, cache_key, scorer_fingerprint
from evoxtral_bench.leaderboard.entries import MASKED, OPTIONS, PREDICTIONS, Entry
from evoxtral_bench.reporters import to_json
from evoxtral_bench.scoring.core import ReferenceSet, System, build_table, grounding, results_of_table

CACHE_DIR = ".cache"


@dataclass(frozen=True)
class BuildReport:
    """What a build did: entries shown, scorings run or cached, pairs compared for the ranks."""

    verified: int
    reported: int
    scored: int
    cached: int
    compared: int
    written: int


def score_entry(system: System, refs: ReferenceSet, masked: System | None = None) -> dict:
    """The results document (with its grounding section when the entry has masked-track
    predictions), the sample utterance ids and the per-utterance headline counts."""
    table, oov = build_table(system.texts, refs, OPTIONS)
    results = results_of_table(system, refs, OPTIONS, table, oov)
    if masked is not None:
        results = replace(results, grounding=grounding(system, masked, refs, OPTIONS, full_results=results))
    return {"results": results.to_dict(), "samples": samples.pick(system, refs), "counts": ranking.headline_counts(table)}


def _masked_key(entry: Entry) -> tuple[str, ...]:
    """The masked predictions' part of an entry's cache key (nothing without them, so that the
    keys of entries without a masked file are unchanged)."""
    return () if entry.masked is None else ("masked", entry.masked.sha256, entry.masked.path)


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


def _cached(cache: Cache, keys: list[str], fn: Callable, jobs: list[tuple], workers: int, desc: str, progress: bool) -> tuple[list, int]:
    """Documents for ``keys``: from the cache, or computed by ``fn(*job)`` and stored."""
    found = [cache.get(key) for key in keys]
    todo = [i for i, doc in enumerate(found) if doc is None]
    for i, doc in zip(todo, _run(fn, [jobs[i] for i in todo], workers, desc, progress)):
        cache.put(keys[i], doc)
        found[i] = doc
    return found, len(todo)


def _write(path: Path, data: bytes) -> bool:
    """Write unless the file already holds exactly ``data`` (keeps rebuilds cheap)."""
    if path.is_file() and path.read_bytes() == data:
        return False
    write_bytes(path, data)
    return True


def _remove_stale_entries(out: Path, files: dict[str, bytes]) -> None:
    """Delete what earlier builds left under ``entries/`` that this build did not write."""
    folder = out / "entries"
    if not folder.is_dir():
        return
    for path in sorted(folder.rglob("*"), reverse=True):  # children before their folder
        if path.is_symlink() or path.is_file():
            if path.relative_to(out).as_posix() not in files:
                path.unlink()
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()


@dataclass(frozen=True)
class Board:
    """Every entry ranked: verified rows (ranked and reference), reported rows, and what it took."""

    ranked: standings.Ranked
    reported: list[standings.Standing]
    scored: int
    cached: int


def rank_entries(refs: ReferenceSet, entries: list[Entry], cache: Cache, *, workers: int = 1, progress: bool = False) -> Board:
    """Score the verified ``entries`` (through ``cache``) and rank them; order the reported ones."""
    base = (scorer_fingerprint(), refs.sha256, refs.signature(OPTIONS).format())
    verified = [e for e in entries if e.verified]
    keys = [cache_key("score:v2", *base, e.system.sha256, e.system.path, *_masked_key(e)) for e in verified]
    jobs = [(e.system, refs, e.masked) for e in verified]
    docs, scored = _cached(cache, keys, score_entry, jobs, workers, "scoring", progress)
    by_slug = dict(zip((e.slug for e in verified), docs))
    quoted = standings.reported_order([standings.reported(e) for e in entries if not e.verified])
    return Board(standings.verified(verified, by_slug), quoted, scored, len(docs) - scored)


def build_site(
    refs: ReferenceSet,
    entries: list[Entry],
    out: str | Path,
    *,
    workers: int | None = None,
    progress: bool = True,
) -> BuildReport:
    """Score, rank and write the site for checked ``entries`` (see :func:`.entries.check`)."""
    out = Path(out)
    cache = Cache(out / CACHE_DIR)
    fingerprint = scorer_fingerprint()
    sig = refs.signature(OPTIONS).format()
    ranked = rank_entries(refs, entries, cache, workers=workers or os.cpu_count() or 1, progress=progress)
    board, quoted = ranked.ranked, ranked.reported
    context = site.Context(sig, refs.sha256, fingerprint, refs.split, len(refs.rows))

    files: dict[str, bytes] = {}
    for standing in board.verified:
        files[f"entries/{standing.slug}/results.json"] = to_json(standing.results).encode("utf-8")
        files[f"entries/{standing.slug}/predictions.jsonl"] = (standing.entry.folder / PREDICTIONS).read_bytes()
        if standing.entry.masked is not None:
            files[f"entries/{standing.slug}/{MASKED}"] = (standing.entry.folder / MASKED).read_bytes()
    files["leaderboard.json"] = downloads.leaderboard_json(refs.info().to_dict(), sig, fingerprint, board, quoted).encode("utf-8")
    files["leaderboard.csv"] = downloads.leaderboard_csv(board, quoted).encode("utf-8")
    files.update({f"plots/{name}": svg for name, svg in plots.render(board).items()})
    files.update(site.render(board, quoted, refs, context))

    written = sum(_write(out / relative, data) for relative, data in sorted(files.items()))
    _remove_stale_entries(out, files)
    cache.prune()
    return BuildReport(len(board.verified), len(quoted), ranked.scored, ranked.cached, len(board.pairs), written)
