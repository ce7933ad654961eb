"""``leaderboard build``: score (cached, in parallel), rank, and write the static site.

The output folder holds ``index.html``, ``leaderboard.json``, ``leaderboard.csv``,
``assets/``, ``plots/<track>/*.svg``, ``entries/<slug>/`` (``index.html``, and for verified entries
``results.json`` and ``predictions.jsonl``) and ``.cache/``: one JSON document per scored
entry (its results, sample ids and per-utterance headline counts, checked before use), keyed
by the sha256 of the predictions, the references, the scoring signature (which names the
entry's audio track) and the scorer's source code (:func:`.cache.scorer_fingerprint`). Ranks
come from those counts (all pairs within each track, :mod:`.ranking`); each pair's test is cached
by the two entries' keys (:class:`PairMemo`), so adding one entry to m tests m new pairs and a
rebuild with nothing changed tests none, and each track's rank intervals are cached by the keys
of all its ranked entries. The folder's manifest and lock
(:mod:`evoxtral_bench.output`) decide what a build may replace or delete: only what a build wrote.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits
from tqdm import tqdm

from evoxtral_bench.errors import InputError
from evoxtral_bench.files import sha256_bytes
from evoxtral_bench.leaderboard import downloads, plots, ranking, samples, site, standings
from evoxtral_bench.leaderboard.cache import Cache, cache_key, scorer_fingerprint
from evoxtral_bench.leaderboard.entries import MASKED, OPTIONS, PREDICTIONS, Entry, References, track_options
from evoxtral_bench.output import BUILD, OutputDir
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
    tested: int = 0  # pairs tested in this build (the rest of ``compared`` came from the cache)


def score_entry(system: System, refs: ReferenceSet, masked: System | None = None, track: str = OPTIONS.track) -> dict:
    """The results document on ``track`` against ``refs`` (its references; with its grounding
    section when the entry has masked-track predictions), the sample utterances (picked by the
    ranking metric of the track's benchmark version from the per-utterance counts it is a ratio
    of) and those counts."""
    options = track_options(track)
    metric = ranking.rank_metric(options.version)
    results, table = score_tables(system, masked, refs, options)
    counts = ranking.headline_counts(table, metric)
    return {"results": results.to_dict(), "samples": samples.pick(system, refs, counts, metric), "counts": counts}


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
    width = len(ranking.columns(ranking.rank_metric(entry.options.version)))
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
        and all(isinstance(row, list) and len(row) == width and all(type(x) is int and x >= 0 for x in row) for row in counts)
    )


@dataclass(frozen=True)
class Board:
    """Every entry, one table per audio track (ranked within it), and what it took."""

    tables: list[standings.TrackTable]
    scored: int
    cached: int
    keys: dict[str, str] = dataclasses.field(default_factory=dict)  # slug -> score key of each verified entry: what its results are made of

    @property
    def verified(self) -> list[standings.Standing]:
        """Every verified row once (a reference row made from text is in every table on its references)."""
        return _once(s for t in self.tables for s in t.ranked.verified)

    @property
    def reported(self) -> list[standings.Standing]:
        return _once(s for t in self.tables for s in t.reported)

    @property
    def compared(self) -> int:
        return sum(len(t.ranked.pairs) for t in self.tables)

    @property
    def tested(self) -> int:
        return sum(len(t.ranked.computed) for t in self.tables)


def _once(rows: Iterable[standings.Standing]) -> list[standings.Standing]:
    seen: dict[str, standings.Standing] = {}
    for standing in rows:
        seen.setdefault(standing.slug, standing)
    return list(seen.values())


def groups_digest(groups: Sequence[int] | None) -> str:
    """What the resampling units are, for cache keys (``none``: each utterance its own unit)."""
    return "none" if groups is None else sha256_bytes(",".join(str(int(g)) for g in groups).encode("ascii"))


class PairMemo:
    """The pair tests and rank intervals of earlier builds, in ``cache``.

    Each ranked entry has one pair document (key: :data:`.ranking.TEST_VERSION`, the entry's score
    key, the units) holding Δ = entry − other and se for the others it was tested against, each
    named by the first 32 hex digits of its score key; a pair is found in either entry's document.
    Each track's rank intervals are one document keyed by every ranked entry's score key, in order.
    """

    def __init__(self, cache: Cache, keys: dict[str, str], groups: Sequence[int] | None, output: OutputDir | None = None) -> None:
        self.cache, self.keys, self.output = cache, keys, output
        self.units = groups_digest(groups)
        self.docs: dict[str, dict[str, tuple[float, float]]] = {}

    def _doc_key(self, slug: str) -> str:
        return cache_key(ranking.TEST_VERSION, self.keys[slug], self.units)

    def _doc(self, slug: str) -> dict[str, tuple[float, float]]:
        if slug not in self.docs:
            doc = self.cache.get(self._doc_key(slug), _valid_pairs)
            self.docs[slug] = {} if doc is None else dict(zip(doc["others"], zip(doc["delta"], doc["se"])))
        return self.docs[slug]

    def pairs(self, slugs: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
        """(n, n) arrays of Δ = row − column and se of ``slugs`` from their documents (NaN: not stored)."""
        n = len(slugs)
        index = {self.keys[slug][:32]: i for i, slug in enumerate(slugs)}
        delta, se = np.full((n, n), np.nan), np.full((n, n), np.nan)
        for i, slug in enumerate(slugs if n > 1 else ()):  # one entry has no pair: no document read (nor kept)
            stored = self._doc(slug)
            if not stored:
                continue
            at = np.array([index.get(other, -1) for other in stored])
            values = np.array(list(stored.values()), dtype=np.float64)
            keep = np.flatnonzero(at >= 0)
            j = at[keep]
            delta[i, j], se[i, j] = values[keep, 0], values[keep, 1]
            delta[j, i], se[j, i] = -values[keep, 0], values[keep, 1]
        return delta, se

    def _intervals_key(self, slugs: tuple[str, ...]) -> str:
        return cache_key("ranks:v1", ranking.TEST_VERSION, self.units, str(ranking.RANK_BOOT), str(OPTIONS.seed), repr(ranking.RANK_CI), *(self.keys[s] for s in slugs))

    def intervals(self, slugs: tuple[str, ...]) -> tuple[list[int], list[int]] | None:
        valid = lambda d: set(d) == {"low", "high"} and all(len(d[k]) == len(slugs) and all(type(x) is int for x in d[k]) for k in d)  # noqa: E731
        doc = self.cache.get(self._intervals_key(slugs), valid)
        return None if doc is None else (doc["low"], doc["high"])

    def store(self, ranked: standings.Ranked) -> None:
        """Keep what ``ranked`` computed: each new pair in the document of whichever of its two
        entries has more new pairs (ties: the first), each document pruned to the track's entries."""
        new: dict[str, list[tuple[str, str, float, float]]] = {}
        for a, b, delta, se in ranked.computed:
            new.setdefault(a, []).append((a, b, delta, se))
            new.setdefault(b, []).append((a, b, delta, se))
        owner: dict[str, dict[str, tuple[float, float]]] = {}
        for a, b, delta, se in ranked.computed:
            mine = a if len(new[a]) >= len(new[b]) else b
            other, signed = (b, delta) if mine == a else (a, -delta)
            owner.setdefault(mine, {})[self.keys[other][:32]] = (signed, se)
        present = {self.keys[s][:32] for s in ranked.compared}
        writes = {}
        for slug, found in owner.items():
            merged = {k: v for k, v in self._doc(slug).items() if k in present} | found
            self.docs[slug] = merged
            writes[self._doc_key(slug)] = {"others": list(merged), "delta": [v[0] for v in merged.values()], "se": [v[1] for v in merged.values()]}
        if ranked.intervals_computed:
            low, high = zip(*(s.rank_interval for s in _by_compared(ranked))) if ranked.compared else ((), ())
            writes[self._intervals_key(ranked.compared)] = {"low": list(low), "high": list(high)}
        if self.output is not None:
            self.output.claim(_cache_relative(self.cache, key) for key in writes)
        for key, doc in writes.items():
            self.cache.put(key, doc)

    def memo(self) -> standings.Memo:
        return standings.Memo(self.pairs, self.intervals)


def _by_compared(ranked: standings.Ranked) -> list[standings.Standing]:
    """The ranked rows in the order of ``ranked.compared``."""
    by_slug = {s.slug: s for s in ranked.ranked}
    return [by_slug[slug] for slug in ranked.compared]


def _valid_pairs(doc: dict) -> bool:
    """A pair document: three lists of one length, 32-hex keys, finite Δ and se ≥ 0."""
    others, delta, se = doc["others"], doc["delta"], doc["se"]
    return (
        set(doc) == {"others", "delta", "se"}
        and len(others) == len(delta) == len(se)
        and all(isinstance(k, str) and len(k) == 32 for k in others)
        and all(type(x) is float for x in delta)
        and all(type(x) is float and x >= 0 for x in se)
    )


def rank_entries(
    shelf: References,
    entries: list[Entry],
    cache: Cache,
    *,
    workers: int = 1,
    progress: bool = False,
    output: OutputDir | None = None,
) -> Board:
    """Score the verified ``entries`` (through ``cache``), each on its track against its track's
    references (:attr:`.entries.Entry.refs`), and rank them within their track on the headline of
    the track's benchmark version (pair tests and rank intervals through the cache too; the units
    are each table's resampling groups, ``refs.groups``: each script's renderings together);
    order the reported ones."""
    verified = [e for e in entries if e.verified]
    sigs = [e.refs.signature(e.options).format() for e in verified]
    keys = [
        cache_key("score:v4", scorer_fingerprint(), e.refs.sha256, sig, e.track, e.system.sha256, e.system.path, *_masked_key(e))
        for e, sig in zip(verified, sigs)
    ]
    jobs = [(e.system, e.refs, e.masked, e.track) for e in verified]
    valid = lambda i, doc: _valid_score(verified[i], verified[i].refs, sigs[i], doc)  # noqa: E731
    docs, scored = _cached(cache, output, keys, score_entry, jobs, valid, (workers, "scoring", progress))
    by_slug = dict(zip((e.slug for e in verified), docs))
    slug_keys = dict(zip((e.slug for e in verified), keys))
    memos: dict[str, PairMemo] = {}

    def memo(groups: Sequence[int] | None) -> standings.Memo:
        return memos.setdefault(groups_digest(groups), PairMemo(cache, slug_keys, groups, output)).memo()

    tables = standings.by_track(entries, by_slug, shelf.of, memo=memo)
    for table in tables:
        memos[groups_digest(None if table.refs is None else table.refs.groups)].store(table.ranked)
    return Board(tables, scored, len(docs) - scored, slug_keys)


def _plots(table: standings.TrackTable, cache: Cache, fingerprint: str) -> dict[str, bytes]:
    """The figures, drawn only when what they show (:func:`.plots.inputs`), the code that draws
    them or the scorer changed; otherwise their SVGs come from the cache (checked by sha256), so
    a warm rebuild does not even import matplotlib, and a damaged file in the output is rewritten."""
    key = cache_key("plots:v1", fingerprint, plots.code_version(), plots.inputs(table.ranked, table.metric))
    valid = lambda doc: set(doc) == set(plots.FILES) and all(isinstance(v, str) for v in doc.values())  # noqa: E731
    stored = cache.get(key, valid)
    if stored is not None:
        return {name: svg.encode("utf-8") for name, svg in stored.items()}
    drawn = plots.render(table.ranked, table.metric)
    cache.put(key, {name: svg.decode("utf-8") for name, svg in drawn.items()})
    return drawn


def _remembered(cache: Cache) -> site.Remember:
    """The site's ``remember``: texts kept in ``cache`` (an entry page's body, :func:`.site.entry_body`)."""

    def remember(key: str, make: Callable[[], str]) -> str:
        stored = cache.get(cache_key("text:v1", key), lambda doc: set(doc) == {"text"} and isinstance(doc["text"], str))
        if stored is not None:
            return stored["text"]
        text = make()
        cache.put(cache_key("text:v1", key), {"text": text})
        return text

    return remember


def inputs_digest(submissions: str | Path) -> str:
    """sha256 of everything a build reads: every file under ``submissions`` (path and bytes; a
    link by its target), the package's code and data and the site's templates and assets, and the
    versions of the libraries that compute or draw a number. Equal digests, equal sites."""
    import numpy
    import rapidfuzz

    from evoxtral_bench._version import __version__

    digest = hashlib.sha256(f"evoxtral-bench build inputs v1\0{__version__}\0numpy {numpy.__version__}\0rapidfuzz {rapidfuzz.__version__}\0".encode())
    digest.update(f"matplotlib {metadata.version('matplotlib')}\0".encode())
    package = Path(__file__).resolve().parents[1]
    for label, root in (("package", package), ("assets", site.ASSETS), ("submissions", Path(submissions))):
        for folder, dirs, names in os.walk(root):
            dirs[:] = sorted(d for d in dirs if d != "__pycache__")
            for name in sorted(names):
                path = Path(folder) / name
                if label != "submissions" and path.suffix in (".pyc", ".tmp"):
                    continue
                relative = path.relative_to(root).as_posix()
                content = ("link:" + os.readlink(path)).encode() if path.is_symlink() else path.read_bytes()
                digest.update(f"{label}\0{relative}\0{len(content)}\0".encode() + content)
    return digest.hexdigest()


def up_to_date(out: str | Path, inputs: str) -> dict | None:
    """The stamp of the build in ``out`` when it was made from ``inputs`` and its files are intact
    (:meth:`.output.OutputDir.up_to_date`); None otherwise, or when ``out`` is not a build's folder."""
    if not Path(out).is_dir():
        return None
    try:
        with OutputDir(out) as output:
            return output.up_to_date(inputs)
    except InputError:
        return None


def build_site(
    shelf: References,
    entries: list[Entry],
    out: str | Path,
    *,
    workers: int | None = None,
    progress: bool = True,
    inputs: str | None = None,
    warnings: str = "",
) -> BuildReport:
    """Score, rank and write the site for checked ``entries`` (see :func:`.entries.check`, which
    gives ``shelf``, the references of every track).

    ``out`` must be new, empty or an earlier build's output (see :mod:`.output`). With ``inputs``
    (:func:`inputs_digest`), the manifest records it with the check's ``warnings`` and each
    file's sha256, so that the next build from the same inputs can stop at :func:`up_to_date`.
    """
    with OutputDir(out, BUILD) as output:
        return _build(shelf, entries, output, workers or os.cpu_count() or 1, progress, inputs, warnings)


def references_info(table: standings.TrackTable) -> dict:
    """What a table is scored on: the benchmark info of its references (path, sha256, split,
    utterances ``n``, benchmark ``version``), its ``scripts`` (resampling units) and ``renderings``."""
    options = track_options(table.track)
    refs = table.refs
    return refs.info(options).to_dict() | {"scripts": refs.n_groups or len(refs.rows), "renderings": options.renderings}


def _build(
    shelf: References, entries: list[Entry], output: OutputDir, workers: int, progress: bool, inputs: str | None = None, warnings: str = ""
) -> BuildReport:
    out = output.folder
    output.remove_temp_files()
    cache = Cache(out / CACHE_DIR, owned=lambda path: output.owns(path.relative_to(out).as_posix()))
    fingerprint = scorer_fingerprint()
    board = rank_entries(shelf, entries, cache, workers=workers, progress=progress, output=output)
    context = site.Context(tuple(dict.fromkeys(t.refs.sha256 for t in board.tables)), fingerprint)

    files: dict[str, bytes] = {}
    remember = _remembered(cache)
    for standing in board.verified:
        text = remember(f"results-json:{board.keys[standing.slug]}", lambda results=standing.results: to_json(results))
        files[f"entries/{standing.slug}/results.json"] = text.encode("utf-8")
        files[f"entries/{standing.slug}/predictions.jsonl"] = (standing.entry.folder / PREDICTIONS).read_bytes()
        if standing.entry.masked is not None:
            files[f"entries/{standing.slug}/{MASKED}"] = (standing.entry.folder / MASKED).read_bytes()
    signatures = {t.track: t.refs.signature(track_options(t.track)).format() for t in board.tables}
    references = {t.track: references_info(t) for t in board.tables}
    files["leaderboard.json"] = downloads.leaderboard_json(references, signatures, fingerprint, board.tables).encode("utf-8")
    files["leaderboard.csv"] = downloads.leaderboard_csv(board.tables).encode("utf-8")
    for table in board.tables:
        files.update({f"plots/{table.track}/{name}": svg for name, svg in _plots(table, cache, fingerprint).items()})
    files.update(site.render(board.tables, signatures, references, context, remember, board.keys))

    output.claim(files)
    written = sum(output.write(relative, data, durable=False) for relative, data in sorted(files.items()))  # the stamp's sha256 finds a lost file
    stamp = None if inputs is None else {"inputs": inputs, "warnings": warnings, "sha256": {k: sha256_bytes(v) for k, v in sorted(files.items())}}
    output.finish(set(files) | {_cache_relative(cache, key) for key in cache.used}, stamp)
    return BuildReport(len(board.verified), len(board.reported), board.scored, board.cached, board.compared, written, board.tested)
