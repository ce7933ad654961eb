"""Helpers for the leaderboard tests: entries on disk and synthetic predictions (no tests here)."""

from __future__ import annotations

import itertools
import json
import random
import shutil
from functools import lru_cache
from pathlib import Path

import yaml

from evoxtral_bench.leaderboard.entries import shipped_test_references
from evoxtral_bench.leaderboard.oracle import corrupt
from evoxtral_bench.scoring.submission import Problems

ROOT = Path(__file__).resolve().parents[2]
SUBMISSIONS = ROOT / "submissions"
ARTIFACTS = ROOT / "artifacts"

VERIFIED_META = {
    "name": "Test system",
    "organization": "Test lab",
    "url": "https://example.org/model",
    "base_model": "test/base",
    "params_b": 3,
    "license": "MIT",
    "date": "2026-01-02",
    "kind": "verified",
    "in_distribution": False,
    "track": "espeak-v1",
}
REPORTED_META = {
    **{k: v for k, v in VERIFIED_META.items() if k not in ("kind", "in_distribution")},
    "kind": "reported",
    "source": "A paper, Table 2",
    "reported_metrics": {
        "wer": 0.05,
        "cer": 0.02,
        "tag_precision": 0.6,
        "tag_recall": 0.7,
        "tag_f1": 0.65,
        "tag_hallucination_rate": 0.2,
        "emphasis_f1": None,
    },
}

# Script injection: each sets window.__pwned if it ever runs.
PAYLOAD = "</script><script>window.__pwned=1</script><img src=x onerror=window.__pwned=2>\"'"
INJECTION_TEXT_FIELDS = ("name", "organization", "base_model", "license", "source", "averaging", "command", "notes")
INJECTION_URL = 'https://example.org/"><script>window.__pwned=3</script>'
INJECTION_PREDICTION = "<script>window.__pwned=4</script> [<img src=x onerror=window.__pwned=5>] '\"&amp;"


@lru_cache(maxsize=1)
def reference_rows() -> tuple[tuple[str, str], ...]:
    """(id, tagged_text) of the shipped test split."""
    refs = shipped_test_references(Problems())
    return tuple((r.id, r.tagged_text) for r in refs.rows)


def synthetic_predictions(seed: int, *, tag_drop: float) -> list[dict]:
    rng = random.Random(seed)
    return [{"id": i, "prediction": corrupt(t, rng, tag_drop=tag_drop)} for i, t in reference_rows()]


def write_entry(root: Path, slug: str, meta: dict | str, predictions: list[dict] | str | None = None) -> Path:
    """``root/slug/meta.yaml`` (a dict is dumped as YAML, a string written as is) and predictions."""
    folder = root / slug
    folder.mkdir(parents=True, exist_ok=True)
    text = meta if isinstance(meta, str) else yaml.safe_dump(meta, sort_keys=False, allow_unicode=True)
    (folder / "meta.yaml").write_text(text, encoding="utf-8")
    if predictions is not None:
        lines = predictions if isinstance(predictions, str) else "".join(json.dumps(p) + "\n" for p in predictions)
        (folder / "predictions.jsonl").write_text(lines, encoding="utf-8")
    return folder


def verified_entry(root: Path, slug: str, seed: int, *, tag_drop: float, **meta: object) -> Path:
    return write_entry(root, slug, {**VERIFIED_META, "name": f"System {slug}", **meta}, synthetic_predictions(seed, tag_drop=tag_drop))


# slug -> (seed, tag drop rate, params_b): close rates tie, distant ones separate
SYNTHETIC = {
    "sys-small": (1, 0.30, 0.5),
    "sys-mid": (2, 0.31, 3),
    "sys-mid-b": (3, 0.34, 7),
    "sys-large": (4, 0.55, 24),
    "sys-unsized": (5, 0.57, None),
}


def injection_entries(root: Path) -> None:
    """A verified and a reported entry with script-injection payloads in every text field."""
    hostile = {field: f"{field} {PAYLOAD}" for field in INJECTION_TEXT_FIELDS}
    hostile["organization"] = "=1+1 " + PAYLOAD  # a spreadsheet formula, too
    rows = [{"id": i, "prediction": INJECTION_PREDICTION if n < 3 else t} for n, (i, t) in enumerate(reference_rows())]
    write_entry(root, "hostile", {**VERIFIED_META, **hostile, "url": INJECTION_URL}, rows)
    write_entry(root, "hostile-reported", {**REPORTED_META, **hostile, "url": INJECTION_URL})


FIXTURE_SLUGS = ("oracle-plain", "paper-base-voxtral", "paper-evoxtral-sft", "paper-evoxtral-rl")
"""Repository entries the site tests build on (a fixed set, so new entries change no test)."""


def repository_kinds() -> dict[str, str]:
    """slug -> kind of every entry in the repository's submissions/."""
    return {
        p.parent.name: yaml.safe_load(p.read_text(encoding="utf-8"))["kind"] for p in sorted(SUBMISSIONS.glob("*/meta.yaml"))
    }


def make_submissions(root: Path, *, injection: bool = True) -> Path:
    """Four of the repository's entries, the synthetic ones and (optionally) the hostile ones."""
    root.mkdir(parents=True)
    for slug in FIXTURE_SLUGS:
        shutil.copytree(SUBMISSIONS / slug, root / slug)
    for slug, (seed, tag_drop, params_b) in SYNTHETIC.items():
        verified_entry(root, slug, seed, tag_drop=tag_drop, params_b=params_b)
    if injection:
        injection_entries(root)
    return root


def site_files(folder: Path) -> dict[str, bytes]:
    """Relative path -> bytes of every file under ``folder``."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def holm_by_closed_testing(p_values: list[float], alpha: float) -> list[bool]:
    """Holm's procedure by its definition as closed testing with Bonferroni local tests:
    H_i is rejected when every subset S of hypotheses holding i has min p over S <= alpha/|S|
    (exponential: for a handful of hypotheses only)."""
    m = len(p_values)
    out = []
    for i in range(m):
        others = [j for j in range(m) if j != i]
        out.append(
            all(
                min(p_values[j] for j in (i, *subset)) <= alpha / (len(subset) + 1)
                for r in range(m)
                for subset in itertools.combinations(others, r)
            )
        )
    return out


def track_table(board: dict, track: str = "espeak-v1") -> dict:
    """The table of ``track`` in a leaderboard.json document."""
    return next(t for t in board["tracks"] if t["track"] == track)


def all_rows(board: dict, kind: str) -> dict[str, dict]:
    """slug -> row of every table's ``kind`` rows (verified, reference or reported) of a leaderboard.json."""
    return {r["slug"]: r for t in board["tracks"] for r in t[kind]}
