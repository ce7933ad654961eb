"""``leaderboard new``: a new entry's folder with its predictions and a commented meta.yaml."""

from __future__ import annotations

from pathlib import Path

from evoxtral_bench.errors import InputError
from evoxtral_bench.files import write_bytes, write_text
from evoxtral_bench.leaderboard.entries import META, PREDICTIONS, SLUG_RE
from evoxtral_bench.leaderboard.meta import PLACEHOLDER
from evoxtral_bench.scoring.options import TRACK_CHOICES
from evoxtral_bench.tracks import TEXT_ONLY

META_TEMPLATE = """\
# {slug}: a verified entry, re-scored from predictions.jsonl on the shipped test split.
# Replace every {placeholder} value, then run `evoxtral-bench leaderboard check`.
# Fields and their rules: submissions/README.md.
name: "{placeholder} display name of the system"
organization: "{placeholder} who made it"
url: null                      # an http(s) page about the system, or null
base_model: "{placeholder} e.g. mistralai/Voxtral-Mini-3B-2507"
params_b: null                 # parameters in billions (e.g. 4.8), or null when unknown
license: "{placeholder} e.g. Apache-2.0"
date: {date}                 # YYYY-MM-DD, YYYY-MM or YYYY
kind: verified
in_distribution: false         # true if trained or tuned on this benchmark's train (or validation) split
track: {track}                 # the audio track the predictions were made on: {tracks}
{reference}
# command: how the predictions were made (a command line others can re-run)
# notes: >-
#   Free text; blank lines part paragraphs, `backticks` mark code.
"""
REFERENCE_LINE = "# reference: true              # only for baselines built from the references (oracles): never ranked"


def meta_template(slug: str, date: str, track: str) -> str:
    """The commented meta.yaml that ``leaderboard new`` writes (valid as written)."""
    reference = REFERENCE_LINE.lstrip("# ") if track == TEXT_ONLY else REFERENCE_LINE  # made without audio: a reference row
    return META_TEMPLATE.format(
        slug=slug, date=date, track=track, reference=reference, placeholder=PLACEHOLDER, tracks=" | ".join(TRACK_CHOICES)
    )


def scaffold(root: str | Path, slug: str, predictions: str | Path, date: str, track: str) -> Path:
    """Create ``root/slug/`` with a copy of ``predictions`` and the meta.yaml template.

    Raises :class:`InputError` for an invalid slug or track, an existing folder or a missing file.
    """
    if track not in TRACK_CHOICES:
        raise InputError(f"unknown track {track!r}; expected one of {', '.join(TRACK_CHOICES)}")
    if not SLUG_RE.fullmatch(slug):
        raise InputError(f"{slug!r} is not a valid slug: 1-64 characters of a-z, 0-9 and '-', not starting with '-'")
    source = Path(predictions)
    if not source.is_file():
        raise InputError(f"{source}: no such file (--predictions is the JSONL of your system's predictions)")
    folder = Path(root) / slug
    if folder.exists() or folder.is_symlink():
        raise InputError(f"{folder} already exists; choose another slug or edit that entry")
    write_bytes(folder / PREDICTIONS, source.read_bytes())
    write_text(folder / META, meta_template(slug, date, track))
    return folder
