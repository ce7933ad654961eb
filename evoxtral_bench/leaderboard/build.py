"""``leaderboard build``: score (cached, in parallel), rank, and write the static site.

The output folder holds ``index.html``, ``leaderboard.json``, ``leaderboard.csv``,
``assets/``, ``plots/<track>/*.svg``, ``entries/<slug>/`` (``index.html``, and for verified entries
``results.json`` and ``predictions.jsonl``) and ``.cache/``: one JSON document per scored
entry (its results, sample ids and per-utterance headline counts, checked before use), keyed
by the sha256 of the predictions, the references, the scoring signature (which names the
entry's audio track) and the scorer's source code (:func:`.cache.scorer_fingerprint`). Ranks
come from those counts on every build (all pairs within each track, :mod:`.ranking`): cheap, so
they are never cached. The folder's manifest and lock
(:mod:`.output`) decide what a build may replace or delete: only what a build wrote.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

from threadpoolctl import threadpool_limits
from tqdm import tqdm

from evoxtral_bench.files import write_bytes
from evoxtral_bench.leaderboard import downloads, plots, ranking, samples, site, standings
from evoxtral_bench.leaderboard.cache import Cache, cache_key, scorer_fingerprint
from evoxtral_bench.leaderboard.entries import MASKED, OPTIONS, PREDICTIONS, Entry
from evoxtral_bench.leaderboard.output import OutputDir
from evoxtral_bench.reporters import to_json
from evoxtral_bench.scoring.core import ReferenceSet, System, score_tables
from evoxtral_bench.scoring.results import Results

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


def score_entry(system: System, refs: ReferenceSet, masked: System | None = None, track: str = OPTIONS.track) -> dict:
    """The results document on ``track`` (with its grounding section when the entry has
    masked-track predictions), the sample utterances (picked by the ranking metric from the
    per-utterance headline counts) and those counts."""
    options = replace(OPTIONS, track=track)
    results, table = score_tables(system, masked, refs, options)
    counts = ranking.headline_counts(table)
    return {"results": results.to_dict(), "samples": samples.pick(system, refs, counts), "counts": counts}


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


def _cached(
    cache: Cache,
    output: OutputDir | None,
    keys: list[str],
    fn: Callable,
    jobs: list[tuple],
    valid: Callable[[int, dict], bool],
    run: tuple,
) -> tuple[list, int]:
    """Documents for ``keys``: from the cache when ``valid(i, doc)``, or computed by ``fn(*job)``
    and stored (claimed in ``output`` first, when the cache lives in a build's folder)."""
    found = [cache.get(key, lambda doc, i=i: valid(i, doc)) for i, key in enumerate(keys)]
    todo = [i for i, doc in enumerate(found) if doc is None]
    if output is not None:
        output.claim(_cache_relative(cache, keys[i]) for i in todo)
    for i, doc in zip(todo, _run(fn, [jobs[i] for i in todo], *run)):
        cache.put(keys[i], doc)
        found[i] = doc
    return found, len(todo)


def _cache_relative(cache: Cache, key: str) -> str:
    return f"{CACHE_DIR}/{cache.path(key).name}"


def _valid_score(entry: Entry, refs: ReferenceSet, signature: str, doc: dict) -> bool:
    """A cached score document is that of ``entry`` under ``signature``, in the right shape."""
    results, picked, counts = doc["results"], doc["samples"], doc["counts"]
    ids = {r.id for r in refs.rows}
    return (
        set(doc) == {"results", "samples", "counts"}
        and Results.from_dict(results).to_dict() == results
        and results["submission"]["sha256"] == entry.system.sha256
        and results["signature"] == signature
        and ("grounding" in results) == (entry.masked is not None)
        and isinstance(picked, dict)
        and set(picked) == {"worst", "best"}
        and all(isinstance(v, list) and all(isinstance(s, dict) and s["id"] in ids for s in v) for v in picked.values())
        and isinstance(counts, list)
        and len(counts) == len(refs.rows)
        and all(isinstance(row, list) and len(row) == len(ranking.COLUMNS) and all(type(x) is int and x >= 0 for x in row) for row in counts)
    )


def _write(path: Path, data: bytes) -> bool:
    """Write unless the file already holds exactly ``data`` (keeps rebuilds cheap)."""
    if path.is_file() and not path.is_symlink() and path.read_bytes() == data:
        return False
    write_bytes(path, data)
    return True


@dataclass(frozen=True)
class Board:
    """Every entry, one table per audio track (ranked within it), and what it took."""

    tables: list[standings.TrackTable]
    scored: int
    cached: int

    @property
    def verified(self) -> list[standings.Standing]:
        """Every verified row once (a reference row made from text is in every table)."""
        return _once(s for t in self.tables for s in t.ranked.verified)

    @property
    def reported(self) -> list[standings.Standing]:
        return _once(s for t in self.tables for s in t.reported)

    @property
    def compared(self) -> int:
        return sum(len(t.ranked.pairs) for t in self.tables)


def _once(rows: Iterable[standings.Standing]) -> list[standings.Standing]:
    seen: dict[str, standings.Standing] = {}
    for standing in rows:
        seen.setdefault(standing.slug, standing)
    return list(seen.values())


def rank_entries(
    refs: ReferenceSet, entries: list[Entry], cache: Cache, *, workers: int = 1, progress: bool = False, output: OutputDir | None = None
) -> Board:
    """Score the verified ``entries`` (through ``cache``), each on its track, and rank them
    within their track; order the reported ones."""
    verified = [e for e in entries if e.verified]
    sigs = [refs.signature(e.options).format() for e in verified]
    base = (scorer_fingerprint(), refs.sha256)
    keys = [cache_key("score:v4", *base, sig, e.track, e.system.sha256, e.system.path, *_masked_key(e)) for e, sig in zip(verified, sigs)]
    jobs = [(e.system, refs, e.masked, e.track) for e in verified]
    valid = lambda i, doc: _valid_score(verified[i], refs, sigs[i], doc)  # noqa: E731
    docs, scored = _cached(cache, output, keys, score_entry, jobs, valid, (workers, "scoring", progress))
    by_slug = dict(zip((e.slug for e in verified), docs))
    return Board(standings.by_track(entries, by_slug), scored, len(docs) - scored)


def _plots(board: standings.Ranked, cache: Cache, fingerprint: str) -> dict[str, bytes]:
    """The figures, drawn only when what they show (:func:`.plots.inputs`), the code that draws
    them or the scorer changed; otherwise their SVGs come from the cache (checked by sha256), so
    a warm rebuild does not even import matplotlib, and a damaged file in the output is rewritten."""
    key = cache_key("plots:v1", fingerprint, plots.code_version(), plots.inputs(board))
    valid = lambda doc: set(doc) == set(plots.PLOTS) and all(isinstance(v, str) for v in doc.values())  # noqa: E731
    stored = cache.get(key, valid)
    if stored is not None:
        return {name: svg.encode("utf-8") for name, svg in stored.items()}
    drawn = plots.render(board)
    cache.put(key, {name: svg.decode("utf-8") for name, svg in drawn.items()})
    return drawn


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
    board = rank_entries(refs, entries, cache, workers=workers, progress=progress, output=output)
    context = site.Context(refs.sha256, fingerprint, refs.split, len(refs.rows))

    files: dict[str, bytes] = {}
    for standing in board.verified:
        files[f"entries/{standing.slug}/results.json"] = to_json(standing.results).encode("utf-8")
        files[f"entries/{standing.slug}/predictions.jsonl"] = (standing.entry.folder / PREDICTIONS).read_bytes()
        if standing.entry.masked is not None:
            files[f"entries/{standing.slug}/{MASKED}"] = (standing.entry.folder / MASKED).read_bytes()
    signatures = {t.track: refs.signature(replace(OPTIONS, track=t.track)).format() for t in board.tables}
    files["leaderboard.json"] = downloads.leaderboard_json(refs.info(OPTIONS).to_dict(), signatures, fingerprint, board.tables).encode("utf-8")
    files["leaderboard.csv"] = downloads.leaderboard_csv(board.verified, board.reported).encode("utf-8")
    for table in board.tables:
        files.update({f"plots/{table.track}/{name}": svg for name, svg in _plots(table.ranked, cache, fingerprint).items()})
    files.update(site.render(board.tables, signatures, refs, context))

    output.claim(files)
    written = sum(_write(out / relative, data) for relative, data in sorted(files.items()))
    output.finish(set(files) | {_cache_relative(cache, key) for key in cache.used})
    return BuildReport(len(board.verified), len(board.reported), board.scored, board.cached, board.compared, written)
