"""The Evoxtral-Bench corpus: the shipped scripts, their constraints and statistics.

The corpus (``data/corpus.jsonl``) holds one script per line with a stable id, the tagged
text, its domain, slice and a fixed split label. Split labels are stored, never recomputed
at run time; :func:`assign_splits` is the procedure that produced them.
"""

from __future__ import annotations

import math
import random
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import NamedTuple

from evoxtral_bench.errors import InputError
from evoxtral_bench.files import sha256_file
from evoxtral_bench.scoring import normalize
from evoxtral_bench.scoring.submission import Problems, Reference, read_records, read_references
from evoxtral_bench.scoring.tags import emphasis_tokens, parse, tag_table
from evoxtral_bench.tracks import REFERENCE_SETS, Track, rendering_id

DOMAINS = ("conversation", "monologue", "podcast", "presentation", "argument", "storytelling", "interview", "voicemail")
SLICE_TAGS = {"plain": (0, 0), "light": (1, 2), "moderate": (3, 4), "dense": (5, 8), "edge": (1, 8)}
SLICE_SHARE = {"plain": 0.25, "light": 0.25, "moderate": 0.25, "dense": 0.15, "edge": 0.10}
SPLIT_SHARE = {"train": 0.80, "validation": 0.10, "test": 0.10}
MIN_SUPPORT = {"test": 15, "validation": 8}
MIN_TAG_COUNT = 60
MIN_SCRIPTS = 1200
MIN_EMPHASIS_SHARE = 0.40
WORDS_RANGE = (12, 80)
MAX_JACCARD = 0.5
MAX_NEAR_DUPLICATES = 100  # near-duplicate pairs listed by validate
MAX_CANDIDATE_PAIRS = 5_000_000  # pairs of scripts the near-duplicate check compares at most
SHARE_TOLERANCE = 0.02  # slices and splits: absolute deviation from the target share
SPREAD_TOLERANCE = 0.05  # a slice or domain's share inside a split vs in the whole corpus
ID_RE = re.compile(r"^evx-\d{5}$")
V2_MIN_SCRIPTS = 768
V2_MIN_SUPPORT = 80
V2_MIN_EMPHASIS_WORDS = 600
"""The v2 test set (docs/spec.md §6.9): at least 768 scripts, every canonical tag's support at
least 80, at least 600 CAPS emphasis words."""


def data_path(name: str) -> Path:
    """A file shipped in ``evoxtral_bench/corpus/data``."""
    return Path(str(resources.files("evoxtral_bench.corpus.data").joinpath(name)))


def corpus_path() -> Path:
    return data_path("corpus.jsonl")


def v2_path() -> Path:
    """The v2 test references (v1's 128 test scripts and the new ones), docs/spec.md §6.9."""
    return data_path(REFERENCE_SETS["v2"].file)


def recorded_sha256(name: str = "corpus") -> str:
    """The checksum recorded beside a shipped file (``data/corpus.sha256``, ``data/test-v2.sha256``)."""
    return resources.files("evoxtral_bench.corpus.data").joinpath(f"{name}.sha256").read_text("utf-8").split()[0]


def file_sha256(path: Path) -> str:
    return sha256_file(path)


def load(path: Path | None = None) -> list[Reference]:
    """Read the corpus; :class:`InputError` listing every problem if it is not well-formed."""
    path = path or corpus_path()
    problems = Problems()
    rows = read_references(read_records(path, problems, text_field="tagged_text", label=str(path)), problems)
    if problems.errors:
        raise InputError(problems=problems.errors)
    return rows


def words(text: str) -> list[str]:
    """The normalized words of a tagged transcript (the unit of WER and of the word limits)."""
    return normalize.basic(parse(text).text).split()


def emphasis_words(text: str) -> list[str]:
    return [w for token in emphasis_tokens(parse(text).text) for w in normalize.basic(token).split()]


def _trigrams(text: str) -> set[tuple[str, ...]]:
    w = words(text)
    return {tuple(w[i : i + 3]) for i in range(len(w) - 2)}


class NearDuplicates(NamedTuple):
    """What :func:`near_duplicates` found: ``(earlier id, later id, Jaccard)`` pairs, and whether
    the search was complete (False: it stopped at a bound, more pairs may exist)."""

    pairs: list[tuple[str, str, float]]
    complete: bool


def near_duplicates(
    rows: list[Reference],
    threshold: float = MAX_JACCARD,
    *,
    limit: int = MAX_NEAR_DUPLICATES,
    max_candidates: int = MAX_CANDIDATE_PAIRS,
) -> NearDuplicates:
    """Pairs of scripts whose word 3-gram sets have Jaccard similarity above ``threshold``, by
    the later row, then the earlier; at most ``limit`` of them.

    Exact and bounded (prefix filtering, Bayardo et al. 2007): with each row's 3-grams ordered
    rarest first (corpus frequency, then the 3-gram), two rows whose Jaccard exceeds ``t`` share a
    3-gram among the first ``n - ceil(t n) + 1`` of each (``n`` the row's count), so only pairs
    sharing such a 3-gram are compared; 3-grams that many rows share come last and are rarely
    compared on. Time and memory are linear in the corpus plus the pairs compared, which stop at
    ``max_candidates`` (then ``complete`` is False).
    """
    grams = [_trigrams(r.tagged_text) for r in rows]
    frequency = Counter(gram for g in grams for gram in g)
    rank = {gram: n for n, gram in enumerate(sorted(frequency, key=lambda gram: (frequency[gram], gram)))}
    index: dict[int, list[int]] = defaultdict(list)  # 3-gram rank -> rows with it in their prefix
    pairs: list[tuple[str, str, float]] = []
    compared = 0
    for i, g in enumerate(grams):
        ordered = sorted(rank[gram] for gram in g)
        prefix = ordered[: len(ordered) - math.ceil(threshold * len(ordered)) + 1]
        candidates = sorted({j for gram in prefix for j in index.get(gram, ())})
        compared += len(candidates)
        if compared > max_candidates:
            return NearDuplicates(pairs, False)
        for j in candidates:
            shared = len(g & grams[j])
            jaccard = shared / (len(g) + len(grams[j]) - shared)
            if jaccard > threshold:
                if len(pairs) == limit:
                    return NearDuplicates(pairs, False)
                pairs.append((rows[j].id, rows[i].id, jaccard))
        for gram in prefix:
            index[gram].append(i)
    return NearDuplicates(pairs, True)


def near_duplicate_problems(rows: list[Reference]) -> list[str]:
    """The near-duplicate pairs of ``rows`` as validation messages, and one more if the check stopped at a bound."""
    found = near_duplicates(rows)
    out = [f"near-duplicates: {a} and {b} share {j:.0%} of their word 3-grams" for a, b, j in found.pairs]
    if not found.complete:
        out.append(
            f"near-duplicates: the check stopped after {len(found.pairs)} pairs listed (at most {MAX_NEAR_DUPLICATES}) "
            f"or {MAX_CANDIDATE_PAIRS:,} pairs compared; too many scripts share word 3-grams"
        )
    return out


def _split_of(row: Reference) -> str:
    return row.splits[0] if row.splits else ""


def _row_problems(r: Reference, where: str) -> list[str]:
    """A script's own constraints: domain, slice, canonical tags, length, tags for its slice."""
    out = []
    if r.domain not in DOMAINS:
        out.append(f"{where}: domain {r.domain!r} is not one of {', '.join(DOMAINS)}")
    if r.slice not in SLICE_TAGS:
        out.append(f"{where}: slice {r.slice!r} is not one of {', '.join(SLICE_TAGS)}")
    parsed = parse(r.tagged_text)
    oov = [t.raw for t in parsed.tags if t.oov or t.raw != t.label]
    if oov:
        out.append(f"{where}: tags must be written as canonical labels: {', '.join(oov)}")
    n_words = len(words(r.tagged_text))
    if not WORDS_RANGE[0] <= n_words <= WORDS_RANGE[1]:
        out.append(f"{where}: {n_words} words; scripts have {WORDS_RANGE[0]}-{WORDS_RANGE[1]}")
    if r.slice in SLICE_TAGS:
        lo, hi = SLICE_TAGS[r.slice]
        if not lo <= len(parsed.tags) <= hi:
            out.append(f"{where}: slice {r.slice} needs {lo}-{hi} tags, has {len(parsed.tags)}")
    return out


def track_rows(track: Track, rows: list[Reference]) -> list[Reference]:
    """The shipped rows a track renders: the corpus's train and validation rows, and the test
    scripts of the track's reference set, each rendering a row of its own (id
    :func:`.tracks.rendering_id`, ``group`` the script id). v1 tracks: ``rows`` unchanged."""
    if track.references == "v1" and track.renderings == 1:
        return rows
    spec = REFERENCE_SETS[track.references]
    test = load(data_path(spec.file))
    expanded = [
        r._replace(id=rendering_id(r.id, k, track.renderings), group=r.id)
        for r in test
        if spec.split in r.splits
        for k in range(1, track.renderings + 1)
    ]
    return [r for r in rows if "test" not in r.splits] + expanded


def validate_v2(rows: list[Reference], corpus_rows: list[Reference], path: Path | None = None) -> list[str]:
    """Every violated constraint of the v2 test set (docs/spec.md §6.9) as a message.

    Its first rows are v1's test scripts exactly as in the corpus; the new ones continue the
    corpus's ids; each row is a valid script with split ``test``; at least
    :data:`V2_MIN_SCRIPTS` scripts, every canonical tag's support at least
    :data:`V2_MIN_SUPPORT`, at least :data:`V2_MIN_EMPHASIS_WORDS` CAPS words, the slice shares
    of the corpus, every domain equally often, and no near-duplicate among the corpus and the
    new scripts."""
    out: list[str] = []
    label = path or "test-v2"
    v1 = [r for r in corpus_rows if _split_of(r) == "test"]
    head = [(r.id, r.tagged_text, r.domain, r.slice) for r in rows[: len(v1)]]
    if head != [(r.id, r.tagged_text, r.domain, r.slice) for r in v1]:
        out.append(f"{label}: the first {len(v1)} rows must be v1's test scripts, as in the corpus and in its order")
    new = rows[len(v1) :]
    for n, r in enumerate(new, start=len(corpus_rows) + 1):
        where = f"{label}:{r.line}: {r.id}"
        if r.id != f"evx-{n:05d}":
            out.append(f"{where}: id should be evx-{n:05d} (new ids continue the corpus's)")
        out += _row_problems(r, where)
    for r in rows:
        if r.splits != ("test",):
            out.append(f"{label}:{r.line}: {r.id}: split should be 'test', got {r.splits!r}")
    if len(rows) < V2_MIN_SCRIPTS:
        out.append(f"{label}: {len(rows)} scripts; at least {V2_MIN_SCRIPTS} are required")
    support = Counter(t for r in rows for t in parse(r.tagged_text).labels)
    for tag in tag_table().canonical:
        if support[tag] < V2_MIN_SUPPORT:
            out.append(f"{label}: [{tag}] has support {support[tag]}; at least {V2_MIN_SUPPORT} are required")
    caps = sum(len(emphasis_words(r.tagged_text)) for r in rows)
    if caps < V2_MIN_EMPHASIS_WORDS:
        out.append(f"{label}: {caps} CAPS emphasis words; at least {V2_MIN_EMPHASIS_WORDS} are required")
    if rows:
        slices = Counter(r.slice for r in rows)
        for name, share in SLICE_SHARE.items():
            if abs(slices[name] / len(rows) - share) > SHARE_TOLERANCE:
                out.append(f"{label}: slice {name} is {slices[name] / len(rows):.1%} of the set; target {share:.0%}")
        domains = Counter(r.domain for r in rows)
        if len(set(domains.values())) > 1:
            out.append(f"{label}: domains should be equally frequent, got {dict(sorted(domains.items()))}")
    out += near_duplicate_problems([*corpus_rows, *new])
    return out


def validate(rows: list[Reference], path: Path | None = None) -> list[str]:
    """Every violated corpus constraint as a message; empty when the corpus is valid."""
    table = tag_table()
    out: list[str] = []
    where = lambda r: f"{path or 'corpus'}:{r.line}: {r.id}"  # noqa: E731
    if len(rows) < MIN_SCRIPTS:
        out.append(f"{len(rows)} scripts; at least {MIN_SCRIPTS} are required")
    for n, r in enumerate(rows, start=1):
        if not ID_RE.match(r.id) or r.id != f"evx-{n:05d}":
            out.append(f"{where(r)}: id should be evx-{n:05d} (ids are sequential)")
        if len(r.splits) != 1 or r.splits[0] not in SPLIT_SHARE:
            out.append(f"{where(r)}: split {r.splits!r} should be one of {', '.join(SPLIT_SHARE)}")
        out += _row_problems(r, where(r))
    if not rows:
        return out
    n = len(rows)
    emphasis = sum(1 for r in rows if emphasis_words(r.tagged_text)) / n
    if emphasis < MIN_EMPHASIS_SHARE:
        out.append(f"{emphasis:.1%} of scripts have emphasis; at least {MIN_EMPHASIS_SHARE:.0%} are required")
    slices = Counter(r.slice for r in rows)
    for name, share in SLICE_SHARE.items():
        if abs(slices[name] / n - share) > SHARE_TOLERANCE:
            out.append(f"slice {name} is {slices[name] / n:.1%} of the corpus; target {share:.0%}")
    tags = Counter(label for r in rows for label in parse(r.tagged_text).labels)
    for label in table.canonical:
        if tags[label] < MIN_TAG_COUNT:
            out.append(f"[{label}] occurs {tags[label]} times; at least {MIN_TAG_COUNT} are required")
    out += near_duplicate_problems(rows)
    out += _validate_splits(rows)
    return out


def _validate_splits(rows: list[Reference]) -> list[str]:
    out = []
    n = len(rows)
    by_split: dict[str, list[Reference]] = defaultdict(list)
    for r in rows:
        by_split[_split_of(r)].append(r)
    for split, share in SPLIT_SHARE.items():
        part = by_split.get(split, [])
        if abs(len(part) / n - share) > SHARE_TOLERANCE:
            out.append(f"split {split} has {len(part)} scripts ({len(part) / n:.1%}); target {share:.0%}")
        support = Counter(label for r in part for label in parse(r.tagged_text).labels)
        for label in tag_table().canonical:
            if support[label] < MIN_SUPPORT.get(split, 0):
                out.append(f"split {split}: [{label}] has support {support[label]}; at least {MIN_SUPPORT[split]}")
        for key in ("slice", "domain"):
            whole = Counter(getattr(r, key) for r in rows)
            local = Counter(getattr(r, key) for r in part)
            for value, count in whole.items():
                if part and abs(local[value] / len(part) - count / n) > SPREAD_TOLERANCE:
                    out.append(
                        f"split {split}: {key} {value} is {local[value] / len(part):.1%} of the split but {count / n:.1%} of the corpus"
                    )
    return out


@dataclass(frozen=True)
class SplitStats:
    utterances: int
    words: int
    emphasis_words: int
    tags: dict[str, int]
    slices: dict[str, int]
    domains: dict[str, int]


def statistics(rows: list[Reference]) -> dict[str, SplitStats]:
    """Per split (and ``all``): utterances, words, tag counts per tag, emphasis words, slices, domains."""
    groups: dict[str, list[Reference]] = {s: [] for s in SPLIT_SHARE}
    for r in rows:
        groups.setdefault(_split_of(r), []).append(r)
    groups["all"] = list(rows)
    out = {}
    for split, part in groups.items():
        tags = Counter(label for r in part for label in parse(r.tagged_text).labels)
        out[split] = SplitStats(
            utterances=len(part),
            words=sum(len(words(r.tagged_text)) for r in part),
            emphasis_words=sum(len(emphasis_words(r.tagged_text)) for r in part),
            tags={label: tags[label] for label in tag_table().canonical},
            slices={s: sum(1 for r in part if r.slice == s) for s in SLICE_TAGS},
            domains={d: sum(1 for r in part if r.domain == d) for d in DOMAINS},
        )
    return out


def statistics_markdown(stats: dict[str, SplitStats]) -> str:
    """The statistics as Markdown tables (the form used in the dataset card)."""
    splits = list(stats)
    head = "| | " + " | ".join(splits) + " |\n|---|" + "---:|" * len(splits) + "\n"
    row = lambda name, values: f"| {name} | " + " | ".join(str(v) for v in values) + " |\n"  # noqa: E731
    overview = head
    overview += row("utterances", [stats[s].utterances for s in splits])
    overview += row("words", [stats[s].words for s in splits])
    overview += row("tags", [sum(stats[s].tags.values()) for s in splits])
    overview += row("emphasis words", [stats[s].emphasis_words for s in splits])
    tags = head + "".join(row(f"[{label}]", [stats[s].tags[label] for s in splits]) for label in tag_table().canonical)
    slices = head + "".join(row(name, [stats[s].slices[name] for s in splits]) for name in SLICE_TAGS)
    domains = head + "".join(row(name, [stats[s].domains[name] for s in splits]) for name in DOMAINS)
    return (
        "### Overview\n\n" + overview + "\n### Tag occurrences per split\n\n" + tags
        + "\n### Slices\n\n" + slices + "\n### Domains\n\n" + domains
    )


def assign_splits(rows: list[dict], seed: int = 0, max_rounds: int = 20000) -> list[str]:
    """Split labels for ``rows`` (dicts with tagged_text, domain, slice): stratified by
    (domain, slice) at 80/10/10, then repaired by swaps inside a stratum until every canonical
    tag has support >= 15 in test and >= 8 in validation. Deterministic for a seed."""
    rng = random.Random(seed)
    strata: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, r in enumerate(rows):
        strata[(r["domain"], r["slice"])].append(i)
    labels = ["train"] * len(rows)
    tag_counts = [Counter(parse(r["tagged_text"]).labels) for r in rows]
    for split in ("test", "validation"):
        for key in sorted(strata):
            members = [i for i in strata[key] if labels[i] == "train"]
            rng.shuffle(members)
            k = round(SPLIT_SHARE[split] * len(strata[key]))
            for i in members[:k]:
                labels[i] = split
        _repair(labels, split, strata, tag_counts, rng, max_rounds)
    return labels


def _deficit(labels: list[str], split: str, tag_counts: list[Counter[str]]) -> int:
    support: Counter[str] = Counter()
    for i, label in enumerate(labels):
        if label == split:
            support.update(tag_counts[i])
    return sum(max(0, MIN_SUPPORT[split] - support[t]) for t in tag_table().canonical)


def _repair(labels, split, strata, tag_counts, rng, max_rounds) -> None:
    deficit = _deficit(labels, split, tag_counts)
    keys = sorted(strata)
    for _ in range(max_rounds):
        if deficit == 0:
            return
        members = strata[keys[rng.randrange(len(keys))]]
        inside = [i for i in members if labels[i] == split]
        outside = [i for i in members if labels[i] == "train"]
        if not inside or not outside:
            continue
        a, b = rng.choice(inside), rng.choice(outside)
        labels[a], labels[b] = "train", split
        new = _deficit(labels, split, tag_counts)
        if new <= deficit:
            deficit = new
        else:
            labels[a], labels[b] = split, "train"
    raise InputError(f"could not give every tag its minimum support in {split} (short by {deficit})")
