"""``leaderboard new``: a new entry's folder with its predictions and a commented meta.yaml.

With ``--run DIR`` (the ``--out`` of ``evoxtral-bench run``) the entry takes the run's
``predictions.jsonl`` and ``predictions.masked.jsonl``, and ``run.json`` fills ``track``,
``base_model``, ``command``, ``machine`` (hardware and library versions) and ``notes`` (backend,
decoding options, RTFx); ``license`` is ``unknown`` (a run cannot tell; replace it when you know
it): only name and organization are left to write.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import yaml

from evoxtral_bench.errors import InputError, shown
from evoxtral_bench.files import TMP_SUFFIX, _umask, write_text
from evoxtral_bench.leaderboard.entries import MASKED, META, OPTIONS, PREDICTIONS, SLUG_RE, References, track_options
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
base_model: {base_model}
params_b: null                 # parameters in billions (e.g. 4.8), or null when unknown
license: {license}
date: {date}                 # YYYY-MM-DD, YYYY-MM or YYYY
kind: verified
in_distribution: false         # true if trained or tuned on this benchmark's train (or validation) split
track: {track}                 # the audio track the predictions were made on: {tracks}
{reference}
{command_notes}"""
COMMAND_NOTES = """\
# command: how the predictions were made (a command line others can re-run)
# machine: the CPU/GPU and library versions the predictions were made with
# notes: >-
#   Free text; blank lines part paragraphs, `backticks` mark code.
"""
REFERENCE_LINE = "# reference: true              # only for baselines built from the references (oracles): never ranked"


def run_fields(run: dict) -> dict[str, str]:
    """``base_model``, ``command``, ``machine`` and ``notes`` of a meta.yaml from an ``evoxtral-bench run``'s run.json."""
    from evoxtral_bench.runner.provenance import machine_line  # the runner package is only needed here

    model, env = run["model"], run["environment"]
    decoding = {k: v for k, v in model.get("options", {}).items() if k not in ("prompt",)}
    rates = "; ".join(
        f"{name}: {t['predictions']} clips, RTFx {t['rtfx']} ({t['audio_seconds']} s of audio in {t['inference_seconds']} s)"
        for name, t in run["tracks"].items()
    )
    weights = model.get("model_sha256") or ", ".join(model.get("served_models", [])) or "not recorded"
    notes = (
        f"Made by `evoxtral-bench run` {env['evoxtral_bench']} with the {model['backend']} backend: model {model.get('model')} "
        f"(weights sha256 or served model: {weights}); options {json.dumps(decoding, sort_keys=True)}. "
        f"Track {run['track']['name']} (recipe {run['track']['recipe']}) and its masked twin {run['track']['masked_twin']}. {rates}."
    )
    base = str(model["spec"])
    return {
        "base_model": json.dumps(base if len(base) <= 120 else base[:117] + "..."),
        "command": json.dumps(run["command"] or model["spec"]),
        "machine": json.dumps(machine_line(env)),
        "notes": json.dumps(notes[:2000]),
    }


def meta_template(slug: str, date: str, track: str, run: dict | None = None) -> str:
    """The commented meta.yaml that ``leaderboard new`` writes (valid as written); ``run``: a
    run.json, whose facts fill the fields it knows."""
    reference = REFERENCE_LINE.lstrip("# ") if track == TEXT_ONLY else REFERENCE_LINE  # made without audio: a reference row
    base_model = f'"{PLACEHOLDER} e.g. mistralai/Voxtral-Mini-3B-2507"'
    license_ = f'"{PLACEHOLDER} e.g. Apache-2.0"'
    command_notes = COMMAND_NOTES
    if run is not None:
        fields = run_fields(run)
        base_model = fields["base_model"]
        license_ = '"unknown"               # the run cannot tell: write the model\'s license if you know it'
        command_notes = f"command: {fields['command']}\nmachine: {fields['machine']}\nnotes: {fields['notes']}\n"
    return META_TEMPLATE.format(
        slug=slug, date=date, track=track, reference=reference, placeholder=PLACEHOLDER, tracks=" | ".join(TRACK_CHOICES),
        base_model=base_model, command_notes=command_notes, license=license_,
    )


def read_run(folder: str | Path) -> dict:
    """The run.json in the ``--out`` folder of a finished ``evoxtral-bench run`` that may become an entry."""
    path = Path(folder) / "run.json"
    try:
        run = json.loads(path.read_text(encoding="utf-8"))
        track, limit, results = run["track"]["name"], run["track"]["limit"], run["results"]
        run["model"]["spec"], run["tracks"], run["environment"]["cpu"]
    except OSError as err:
        raise InputError(f"{path}: cannot read it ({err.strerror or err}); --run is the --out folder of `evoxtral-bench run`") from None
    except (ValueError, KeyError, TypeError) as err:
        raise InputError(f"{path}: not a run.json of `evoxtral-bench run` ({type(err).__name__}: {err}); run it again") from None
    if results is None:
        raise InputError(f"{path}: the run did not finish; rerun its command ({run.get('command')}) to complete it")
    if limit is not None:
        raise InputError(f"{path}: a run with --limit {limit} covers part of the split; run it without --limit for an entry")
    if track not in TRACK_CHOICES:
        raise InputError(f"{path}: unknown track {track!r}")
    return run


def scaffold(root: str | Path, slug: str, predictions: str | Path | None, date: str, track: str | None, run_dir: str | Path | None = None) -> Path:
    """Create ``root/slug/`` with a copy of ``predictions`` (or of a run's predictions, and its
    masked predictions) and the meta.yaml template.

    Everything is checked before anything is written: the track, the slug, the date, that the
    folder is free, the predictions (as ``leaderboard check`` reads them, against the shipped
    test split) and the rendered meta.yaml (read back: an option cannot add a field). The folder
    is then written under a temporary name beside it and renamed into place, so it appears
    whole or not at all. Raises :class:`InputError` (nothing written) for any problem.
    """
    run = None
    masked = None
    if run_dir is not None:
        if predictions is not None:
            raise InputError("--run takes the predictions from the run's folder; leave out --predictions")
        run = read_run(run_dir)
        if track is not None and track != run["track"]["name"]:
            raise InputError(f"--track {track}: the run in {run_dir} is on {run['track']['name']}; leave out --track")
        track = run["track"]["name"]
        predictions = Path(run_dir) / PREDICTIONS
        if (Path(run_dir) / MASKED).is_file():
            masked = Path(run_dir) / MASKED
    if predictions is None or track is None:
        raise InputError("give --predictions FILE and --track NAME, or --run DIR (the --out of `evoxtral-bench run`)")
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
    refs = References(problems).of(track_options(track))  # the track's references (track none: v1)
    if refs is not None:
        for path in (source, masked):
            if path is not None:
                load_system(path, refs, OPTIONS, problems, label=str(path))
    if problems.errors:
        raise InputError(problems=problems.errors)
    text = meta_template(slug, date, track, run)
    _check_rendered(text, date, track, from_run=run is not None)
    root.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path | str] = {PREDICTIONS: source, META: text}
    if masked is not None:
        files[MASKED] = masked
    _write_folder(folder, files)
    return folder


def _check_rendered(text: str, date: str, track: str, *, from_run: bool = False) -> None:
    """The template read back has exactly the fields it was written with (no option injected one)."""
    try:
        fields = yaml.safe_load(text)
    except yaml.YAMLError:
        fields = None
    expected = {"name", "organization", "url", "base_model", "params_b", "license", "date", "kind", "in_distribution", "track"}
    expected |= {"reference"} if track == TEXT_ONLY else set()
    expected |= {"command", "machine", "notes"} if from_run else set()
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
