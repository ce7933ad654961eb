"""``leaderboard new``: a new entry's folder with its predictions and a commented meta.yaml."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import yaml

from evoxtral_bench.errors import InputError, shown
from evoxtral_bench.files import TMP_SUFFIX, _umask, write_text
from evoxtral_bench.leaderboard.entries import META, OPTIONS, PREDICTIONS, SLUG_RE, shipped_test_references
from evoxtral_bench.leaderboard.meta import PLACEHOLDER, check_date
from evoxtral_bench.scoring.core import load_system
from evoxtral_bench.scoring.options import TRACK_CHOICES
from evoxtral_bench.scoring.submission import Problems
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

    Everything is checked before anything is written: the track, the slug, the date, that the
    folder is free, the predictions (as ``leaderboard check`` reads them, against the shipped
    test split) and the rendered meta.yaml (read back: an option cannot add a field). The folder
    is then written under a temporary name beside it and renamed into place, so it appears
    whole or not at all. Raises :class:`InputError` (nothing written) for any problem.
    """
    if track not in TRACK_CHOICES:
        raise InputError(f"unknown track {shown(track, 40)}; expected one of {', '.join(TRACK_CHOICES)}")
    if not SLUG_RE.fullmatch(slug):
        raise InputError(f"{shown(slug, 80)} is not a valid slug: 1-64 characters of a-z, 0-9 and '-', not starting with '-'")
    check_date(date)
    root = Path(root)
    folder = root / slug
    if folder.exists() or folder.is_symlink():
        raise InputError(f"{folder} already exists; choose another slug or edit that entry")
    source = Path(predictions)
    if not source.is_file():
        raise InputError(f"{source}: no such file (--predictions is the JSONL of your system's predictions)")
    problems = Problems()
    refs = shipped_test_references(problems)
    if refs is not None:
        load_system(source, refs, OPTIONS, problems, label=str(source))
    if problems.errors:
        raise InputError(problems=problems.errors)
    text = meta_template(slug, date, track)
    _check_rendered(text, date, track)
    root.mkdir(parents=True, exist_ok=True)
    _write_folder(folder, {PREDICTIONS: source, META: text})
    return folder


def _check_rendered(text: str, date: str, track: str) -> None:
    """The template read back has exactly the fields it was written with (no option injected one)."""
    try:
        fields = yaml.safe_load(text)
    except yaml.YAMLError:
        fields = None
    expected = {"name", "organization", "url", "base_model", "params_b", "license", "date", "kind", "in_distribution", "track"}
    expected |= {"reference"} if track == TEXT_ONLY else set()
    if not isinstance(fields, dict) or set(fields) != expected or str(fields["date"]) != date or fields["track"] != track:
        raise InputError(f"--date {shown(date, 40)} / --track {shown(track, 40)} would change meta.yaml's fields; give plain values")


def _write_folder(folder: Path, files: dict[str, Path | str]) -> None:
    """Write ``files`` (a file to copy, or text) into ``folder``, which appears whole: they are
    written into a new temporary folder beside it, which is then renamed. The temporary folder
    is removed on any failure (it is this call's own)."""
    tmp = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}.", suffix=TMP_SUFFIX))
    try:
        os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes it 0o700; a folder gets the umask's mode
        for name, content in files.items():
            if isinstance(content, Path):
                shutil.copyfile(content, tmp / name)
            else:
                write_text(tmp / name, content)
        os.rename(tmp, folder)  # refuses a non-empty folder that appeared meanwhile
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise InputError(f"cannot write {folder}: {exc.strerror or exc}") from exc
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
