"""``leaderboard new``: a new entry's folder with its predictions and a commented meta.yaml."""

from __future__ import annotations

from pathlib import Path

from evoxtral_bench.errors import InputError
from evoxtral_bench.files import write_bytes, write_text
from evoxtral_bench.leaderboard.entries import META, PREDICTIONS, SLUG_RE
from evoxtral_bench.leaderboard.meta import AUDIO_TRACKS, PLACEHOLDER

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
audio: offline                 # {audio}: which audio the predictions come from
# reference: true              # only for baselines built from the references (oracles): never ranked
# command: how the predictions were made (a command line others can re-run)
# notes: >-
#   Free text; blank lines part paragraphs, `backticks` mark code.
"""


def meta_template(slug: str, date: str) -> str:
    """The commented meta.yaml that ``leaderboard new`` writes (valid as written)."""
    return META_TEMPLATE.format(slug=slug, date=date, placeholder=PLACEHOLDER, audio=" | ".join(AUDIO_TRACKS))


def scaffold(root: str | Path, slug: str, predictions: str | Path, date: str) -> Path:
    """Create ``root/slug/`` with a copy of ``predictions`` and the meta.yaml template.

    Raises :class:`InputError` for an invalid slug, an existing folder or a missing file.
    """
    if not SLUG_RE.fullmatch(slug):
        raise InputError(f"{slug!r} is not a valid slug: 1-64 characters of a-z, 0-9 and '-', not starting with '-'")
    source = Path(predictions)
    if not source.is_file():
        raise InputError(f"{source}: no such file (--predictions is the JSONL of your system's predictions)")
    folder = Path(root) / slug
    if folder.exists() or folder.is_symlink():
        raise InputError(f"{folder} already exists; choose another slug or edit that entry")
    write_bytes(folder / PREDICTIONS, source.read_bytes())
    write_text(folder / META, meta_template(slug, date))
    return folder
