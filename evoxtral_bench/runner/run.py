"""``evoxtral-bench run``: one model over one track's test audio and its masked twin, scored.

Writes into ``out``:

* ``predictions.jsonl`` (the track) and ``predictions.masked.jsonl`` (its masked twin, when
  the track has one), one ``{"id", "prediction"[, "raw"]}`` line per clip in id order;
* ``words.jsonl`` / ``words.masked.jsonl`` when the backend gives word times;
* ``results.json``: the results document of ``evoxtral-bench score predictions.jsonl --masked
  predictions.masked.jsonl --track TRACK`` (default options);
* ``run.json``: how the predictions were made (:func:`run_model` documents the keys);
* ``request.json``: the model, the options that can change a transcript, the track and the
  split, so that a rerun with the same ``out`` resumes the run and one with other settings is
  refused (operational options such as concurrency, retries or timeouts may change).

A run that stops (Ctrl-C, a crash, kill -9) is resumed by the same command: finished clips are
not transcribed again, and a deterministic backend gives the same bytes as an uninterrupted run.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

from evoxtral_bench import reporters as report
from evoxtral_bench.errors import InputError
from evoxtral_bench.files import json_text, write_text
from evoxtral_bench.runner import audio as audio_mod
from evoxtral_bench.runner import backends
from evoxtral_bench.runner.loop import transcribe_all
from evoxtral_bench.runner.provenance import environment
from evoxtral_bench.tracks import TRACKS, Track, get_track

PREDICTIONS, MASKED_PREDICTIONS = "predictions.jsonl", "predictions.masked.jsonl"
WORDS, MASKED_WORDS = "words.jsonl", "words.masked.jsonl"
RUN_JSON, RESULTS_JSON, REQUEST_JSON = "run.json", "results.json", "request.json"


@dataclass(frozen=True)
class RunSettings:
    """What decides a run's predictions (``request.json``)."""

    model: str
    options: dict
    track: str
    split: str
    limit: int | None

    def as_dict(self) -> dict:
        return {"model": self.model, "options": self.options, "track": self.track, "split": self.split, "limit": self.limit}


def twin(track: Track) -> Track | None:
    """The masked twin of a full track (None when it has none)."""
    return TRACKS.get(f"{track.name}-masked")


def _claim(out: Path, settings: RunSettings) -> None:
    """Record the settings in ``out``, or refuse an ``out`` holding a run with other settings."""
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out}: exists and is not a folder")
    request = out / REQUEST_JSON
    wanted = settings.as_dict()
    if request.is_file():
        try:
            found = json.loads(request.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError):
            found = None
        if found != wanted:
            raise InputError(
                f"--out {out}: holds a run with other settings ({REQUEST_JSON}: {json.dumps(found)[:300]}); "
                "choose another --out, or delete that folder to start over"
            )
        return
    write_text(request, json_text(wanted))


def run_model(
    *,
    model: str,
    track: str,
    out: str | Path,
    options: list[str] | tuple[str, ...] = (),
    split: str = "test",
    audio_root: str | Path | None = None,
    limit: int | None = None,
    progress: bool = True,
    command: str | None = None,
) -> dict:
    """Run ``model`` (``KIND:TARGET``, :mod:`evoxtral_bench.runner.backends`) with ``options``
    (``NAME=VALUE``) over ``track`` and its masked twin; write ``out``; return ``run.json``.

    ``run.json`` keys: ``command``; ``model`` (the spec, the backend, and the backend's
    provenance: path and content hash of the weights or the server's model, every option and
    decoding setting); ``deterministic``; ``track`` (name, recipe hash, split, clips, limit,
    masked twin and its recipe hash); ``tracks`` (per track: the predictions file, counts, audio
    seconds, inference and wall seconds of this invocation, RTFx = audio s / inference s);
    ``environment`` (evoxtral-bench, Python, OS, CPU, GPU, library versions); ``results``.
    ``limit`` keeps the first clips of the split (a quick try, scored on those clips only).
    """
    try:
        full = get_track(track)
    except KeyError as exc:
        raise InputError(str(exc.args[0])) from None
    if full.masked:
        raise InputError(f"--track {track}: name the full track ({full.full}); run transcribes its masked twin too")
    if limit is not None and limit < 1:
        raise InputError(f"--limit: expected at least 1, got {limit}")
    kind, _ = backends.split_spec(model)
    resolved = backends.resolve_options(kind, list(options))
    out = Path(out)
    rows = audio_mod.split_rows(full, split, limit)
    settings = RunSettings(model, backends.output_options(kind, resolved), full.name, split, limit)
    backend = backends.load(model, list(options))
    root = Path(audio_root) if audio_root else audio_mod.cache_root() / "audio"
    jobs = [(t, name, words) for t, name, words in ((full, PREDICTIONS, WORDS), (twin(full), MASKED_PREDICTIONS, MASKED_WORDS)) if t is not None]
    audio = {t.name: audio_mod.track_audio(t, rows, root / t.name / split, progress=progress) for t, _, _ in jobs}
    _claim(out, settings)  # only now: a model or audio that cannot be had leaves no trace in out
    previous = _previous(out)
    tracks: dict[str, dict] = {}
    files: dict[str, Path] = {}
    for current, name, words in jobs:
        output = out / name
        files[current.name] = output
        partial = output.with_name(f"{output.stem}.partial.jsonl")
        if output.is_file() and not partial.exists() and current.name in previous:
            tracks[current.name] = previous[current.name]
            continue
        clips = audio[current.name]
        summary = transcribe_all(
            backend.transcribe,
            clips,
            ids=[c.id for c in clips],
            output=output,
            batch_size=backend.batch_size,
            desc=f"{kind} on {current.name}",
            progress=progress,
            words_output=out / words,
        )
        tracks[current.name] = {"file": name, "recipe": current.recipe_hash, **summary}
        _write_run(out, command, model, kind, backend, full, split, rows, limit, tracks, partial_results=True)
    masked = twin(full)
    results = _score(files[full.name], files[masked.name] if masked else None, full, split, rows if limit else None)
    write_text(out / RESULTS_JSON, results.to_json())
    document = _write_run(out, command, model, kind, backend, full, split, rows, limit, tracks, partial_results=False)
    sys.stdout.write(report.REPORTERS["table"].score(results.to_dict()))
    return document


def _previous(out: Path) -> dict[str, dict]:
    """The per-track records of an earlier invocation's ``run.json`` (none if unreadable)."""
    try:
        return dict(json.loads((out / RUN_JSON).read_text(encoding="utf-8"))["tracks"])
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def _score(predictions: Path, masked: Path | None, track: Track, split: str, rows: list[dict] | None):
    from evoxtral_bench.api import score

    references = None
    if rows is not None:  # --limit: the clips run, not the whole split
        references = audio_mod.reference_records(rows)
    return score(predictions=predictions, masked=masked, references=references, split=split, track=track.name)


def _write_run(out, command, model, kind, backend, full, split, rows, limit, tracks, *, partial_results: bool) -> dict:
    masked = twin(full)
    document = {
        "command": command,
        "model": {"spec": model, "backend": kind, **backend.provenance()},
        "deterministic": backend.deterministic,
        "track": {
            "name": full.name,
            "recipe": full.recipe_hash,
            "masked_twin": masked.name if masked else None,
            "masked_recipe": masked.recipe_hash if masked else None,
            "split": split,
            "clips": len(rows),
            "limit": limit,
        },
        "tracks": tracks,
        "environment": environment(),
        "results": None if partial_results else RESULTS_JSON,
    }
    write_text(out / RUN_JSON, json_text(document))
    return document
