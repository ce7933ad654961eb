"""The submissions folder: one ``<slug>/`` per entry, checked without reading outside it."""

from __future__ import annotations

import dataclasses
import os
import re
from dataclasses import dataclass
from pathlib import Path

from evoxtral_bench.errors import InputError
from evoxtral_bench.leaderboard.meta import Meta, read_meta
from evoxtral_bench.scoring.core import Options, ReferenceSet, System, load_references, load_system
from evoxtral_bench.scoring.options import masked_track
from evoxtral_bench.scoring.submission import Problem, Problems

SLUG_RE = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")
META, PREDICTIONS, MASKED = "meta.yaml", "predictions.jsonl", "predictions.masked.jsonl"
OPTIONS = Options()
"""The leaderboard scores with the defaults: 1000 resamples, seed 0, 95% intervals (each entry
on its own track: :attr:`Entry.options`)."""


@dataclass(frozen=True)
class Entry:
    """One checked entry; ``system`` holds the predictions of a verified one, ``masked`` its
    optional predictions on the masked track (for the grounding gap)."""

    folder: Path
    meta: Meta
    system: System | None
    masked: System | None = None
    refs: ReferenceSet | None = None
    """The references a verified entry is scored on: its track's (:meth:`References.of`)."""

    @property
    def slug(self) -> str:
        return self.folder.name

    @property
    def verified(self) -> bool:
        return self.meta.kind == "verified"

    @property
    def track(self) -> str:
        """The audio track of the predictions (a registered name, or ``none``: made from text)."""
        return self.meta.track

    @property
    def options(self) -> Options:
        """The leaderboard's :data:`OPTIONS` on this entry's track (its results and signature say it)."""
        return track_options(self.track)


def track_options(track: str) -> Options:
    """:data:`OPTIONS` on ``track``: its benchmark version, reference set and renderings are the
    track's (``none``, made from text: version 1, the v1 references; docs/spec.md §8)."""
    return dataclasses.replace(OPTIONS, track=track)


def shipped_test_references(problems: Problems) -> ReferenceSet | None:
    """The shipped corpus, split ``test`` (named by its package path, as every result names it):
    the v1 references."""
    return load_references(None, None, problems)


class References:
    """The shipped test references of each track (docs/spec.md §6.9), each (reference set,
    renderings) read once and shared by every entry scored on it."""

    def __init__(self, problems: Problems) -> None:
        self.problems = problems
        self.loaded: dict[tuple[str, int], ReferenceSet | None] = {}

    def of(self, options: Options) -> ReferenceSet | None:
        """The references of ``options`` (its track's set and renderings); None after recording problems."""
        key = (options.reference_set.name, options.renderings)
        if key not in self.loaded:
            self.loaded[key] = load_references(None, None, self.problems, reference_set=options.reference_set, renderings=options.renderings)
        return self.loaded[key]


def _plain_file(path: Path, display: str, problems: Problems) -> bool:
    """True for a regular file that is not a symbolic link; records why not otherwise."""
    if path.is_symlink():
        problems.error(display, None, None, "is a symbolic link; an entry holds plain files only (nothing outside its folder is read)")
        return False
    if not path.is_file():
        problems.error(display, None, None, "not a regular file")
        return False
    return True


def _entry_files(folder: Path, display: str, problems: Problems) -> set[str]:
    """Names of the entry's usable files; reports anything else in the folder."""
    names: set[str] = set()
    for item in sorted(os.scandir(folder), key=lambda d: d.name):
        where = f"{display}/{item.name}"
        if item.name not in (META, PREDICTIONS, MASKED):
            kind = "folder" if item.is_dir(follow_symlinks=False) else "file"
            problems.error(where, None, None, f"unexpected {kind}; an entry holds {META} and, when verified, {PREDICTIONS} (and optionally {MASKED})")
        elif _plain_file(Path(item.path), where, problems):
            names.add(item.name)
    return names


def _load_entry(folder: Path, display: str, shelf: References, problems: Problems) -> Entry | None:
    files = _entry_files(folder, display, problems)
    if META not in files:
        if not any(p.path.startswith(f"{display}/{META}") for p in problems.errors):
            problems.error(display, None, None, f"{META} is missing")
        return None
    meta = read_meta(folder / META, f"{display}/{META}", problems)
    if meta is None:
        return None
    predictions = f"{display}/{PREDICTIONS}"
    if meta.kind == "reported":
        for name in (PREDICTIONS, MASKED):
            if name in files:
                problems.error(f"{display}/{name}", None, None, "a reported entry carries no predictions; use kind: verified to have them scored")
        if PREDICTIONS in files or MASKED in files:
            return None
        return Entry(folder, meta, None)
    if PREDICTIONS not in files:
        if not any(p.path == predictions for p in problems.errors):
            problems.error(display, None, None, f"{PREDICTIONS} is missing (required for kind: verified)")
        return None
    if MASKED in files:
        try:
            masked_track(meta.track)
        except InputError as exc:
            problems.error(f"{display}/{MASKED}", None, None, f"track: {exc} (the masked predictions are for the track's masked twin)")
            return None
    options = track_options(meta.track)
    refs = shelf.of(options)
    if refs is None:
        return None
    start = len(problems.items)
    system = load_system(predictions, refs, OPTIONS, problems)
    masked = load_system(f"{display}/{MASKED}", refs, OPTIONS, problems) if MASKED in files else None
    if any(p.field == "id" and p.severity == "error" for p in problems.items[start:]):  # said first, before the ids it explains
        problems.items.insert(start, Problem(
            f"{display}/{META}", None, "track",
            f"track {meta.track} is scored on the benchmark-version-{options.version} references ({refs.path}, split {refs.split}, "
            f"{len(refs.rows)} utterances): predict their ids, or give the track the predictions were made on",
        ))
    if system is None or (MASKED in files and masked is None):
        return None
    if masked is not None:
        masked = dataclasses.replace(masked, path=f"{folder.name}/{MASKED}")
    return Entry(folder, meta, dataclasses.replace(system, path=f"{folder.name}/{PREDICTIONS}"), masked, refs)


def load_entries(root: str | Path, shelf: References, problems: Problems) -> list[Entry]:
    """Every valid entry under ``root``, by slug, each verified one with its track's references
    from ``shelf``; every problem of the others in ``problems``.

    Names starting with ``.`` and plain files beside the entries (a README) are skipped.
    """
    root = Path(root)
    if not root.is_dir():
        raise InputError(f"{root}: not a folder of submissions")
    entries: list[Entry] = []
    for item in sorted(os.scandir(root), key=lambda d: d.name):
        display = (root / item.name).as_posix()
        if item.name.startswith("."):
            continue
        if item.is_symlink():
            problems.error(display, None, None, "is a symbolic link; entries must be folders inside the submissions folder")
        elif not item.is_dir():
            continue
        elif not SLUG_RE.fullmatch(item.name):
            problems.error(display, None, None, "folder name is not a valid slug: 1-64 characters of a-z, 0-9 and '-', not starting with '-'")
        else:
            entry = _load_entry(Path(item.path), display, shelf, problems)
            if entry is not None:
                entries.append(entry)
    _one_floor_per_track(entries, root, problems)
    return entries


def _one_floor_per_track(entries: list[Entry], root: Path, problems: Problems) -> None:
    """At most one entry per track may be its floor (``baseline:``); each further one is an error."""
    first: dict[str, str] = {}
    for entry in entries:
        if entry.meta.baseline is None:
            continue
        if entry.track in first:
            problems.error(
                (root / entry.slug / META).as_posix(), None, "baseline",
                f"track {entry.track} already has its floor ({first[entry.track]}); one baseline: per track, drop this one",
            )
        else:
            first[entry.track] = entry.slug


def check(root: str | Path, problems: Problems) -> tuple[References | None, list[Entry]]:
    """The shipped test references (read as the entries need them) and every valid entry
    (problems of the rest recorded); None for the references when the v1 set cannot be read."""
    shelf = References(problems)
    if shelf.of(OPTIONS) is None:
        return None, []
    entries = load_entries(root, shelf, problems)
    return (None if None in shelf.loaded.values() else shelf), entries
