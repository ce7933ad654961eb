"""The synthesis pipeline: validate rows, skip finished clips, render the rest, write the manifest.

Layout of ``out_dir``::

    audio/<id>.wav      16 kHz mono PCM16
    records/<id>.json   {"request": fingerprint, "entry": manifest entry}, written after its wav
    manifest.jsonl      one entry per row, sorted by id, written when every clip is done
    .evoxtral-synthesize.json   what synthesis wrote here (:mod:`evoxtral_bench.output`)

``out_dir`` is owned as ``leaderboard build`` owns its folder: it must be new, empty or an earlier
synthesis output; every file is claimed in the ownership manifest before it is written, and only
claimed files (and their temp files) are ever replaced. Clips of other rows are kept.

``track=NAME`` renders a registered audio track (:mod:`evoxtral_bench.tracks`): its backend,
seed, masking and the voice pool of each row's split; every manifest entry then names the track
and its recipe hash, and a clip is finished only for the same recipe.

``masked=True`` renders the counterfactual twin of a rule-based track (``<track>-masked``): the
same voices, seeds and words with every audible tag taken out; each manifest entry then lists
what was masked under ``"masked"`` (the keys of :data:`~evoxtral_bench.corpus.synth.plan.MASKED`).
The tag spans stay in the manifest: a sound's span is where its room tone lies.

A track may render each test script several times (``neural-v2``: twice, by voices of two disjoint
groups). Each rendering comes as a row of its own (id :func:`~evoxtral_bench.tracks.rendering_id`,
``group`` the script id; :func:`evoxtral_bench.corpus.scripts.track_rows` makes them); its manifest
entry carries ``"script": ID`` and ``"rendering": k`` (docs/spec.md §12.7).

Every file is written atomically (temporary file, then rename). A clip is finished when its record
matches the request (text, backend, seed, voice) and its wav is what the record says (read by
:func:`evoxtral_bench.corpus.synth.read_clip`: inside ``audio``, size and sha256), so a run killed
at any point and started again redoes only unfinished clips and ends with the same bytes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Protocol

from tqdm import tqdm

from evoxtral_bench.corpus.synth import AUDIO_DIR, BACKENDS, MANIFEST, RULE_BASED, read_clip
from evoxtral_bench.corpus.synth.audio import wav_bytes
from evoxtral_bench.corpus.synth.clip import Clip, Job, Span
from evoxtral_bench.corpus.synth.plan import MASKED
from evoxtral_bench.corpus.synth.script import Script, read_script
from evoxtral_bench.errors import InputError
from evoxtral_bench.files import json_loads, jsonl_text, read_regular, sha256_bytes
from evoxtral_bench.output import SYNTHESIS, OutputDir
from evoxtral_bench.tracks import Track, get_track, rendering_id

RECORDS_DIR = "records"
MAX_RECORD_BYTES = 1 << 20
"""The largest clip record read when resuming (1 MiB; a record is a few KiB)."""
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


class Backend(Protocol):
    name: str

    def check(self, script: Script) -> None: ...

    def voice_for(self, clip_id: str, seed: int, pool: Sequence[str] | None = None) -> str: ...

    def render(self, jobs: Sequence[Job], seed: int, concurrency: int) -> Iterable[tuple[Job, Clip]]: ...


def synthesize(
    *,
    rows: Iterable[Mapping],
    out_dir: str | Path,
    backend: str = "offline",
    seed: int = 0,
    voices: Sequence[str] | None = None,
    concurrency: int = 2,
    progress: bool = True,
    base_url: str | None = None,
    masked: bool = False,
    track: str | None = None,
    inputs: Sequence[str | Path] = (),
) -> Path:
    """Render every row (``id``, ``tagged_text``) to ``out_dir/audio/<id>.wav``; return the manifest path.

    ``voices`` is the backend's voice pool (espeak-ng voices such as ``en-gb+f3`` or ``en-gb+f3@47``
    offline, ``piper:en_US-joe-medium`` or ``hibari:heart`` neural, voice ids for ElevenLabs),
    assigned per clip by a hash of id and seed. ``track`` takes backend, seed, masking and voices
    from the registry (each row then needs its ``splits``); it cannot be combined with ``voices``. ``base_url``
    (or ``ELEVENLABS_BASE_URL``) points the ElevenLabs client at another server. ``inputs`` are the
    files the rows were read from: one that is among the outputs is refused. Raises
    :class:`InputError` for an unknown backend, a missing API key, a bad row, or ``masked`` with a
    backend that renders tags by its own judgement (``elevenlabs``).
    """
    recipe = None
    if track is not None:
        if voices is not None:
            raise InputError("--track fixes the voices of every split; leave out --voices")
        try:
            recipe = get_track(track)
        except KeyError as exc:
            raise InputError(str(exc.args[0])) from None
        backend, seed, masked = recipe.backend, recipe.seed, recipe.masked
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise InputError(f"seed must be a non-negative integer, got {seed!r}")
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise InputError(f"concurrency must be a positive integer, got {concurrency!r}")
    if masked and backend not in RULE_BASED:
        raise InputError(
            f"a masked rendering needs a backend that renders tags by rule ({', '.join(RULE_BASED)}); got {backend!r}"
        )
    rows = list(rows)
    if recipe is not None:  # the voices of the splits rendered, so that only their packages are needed
        pools = [recipe.voices[split] for split in {_row_split(row) for row in rows} if split in recipe.voices]
        voices = sorted({v for pool in pools or recipe.voices.values() for v in pool})
    engine = _backend(backend, voices, base_url)
    jobs = _jobs(rows, engine, seed, masked, recipe)
    with OutputDir(out_dir, SYNTHESIS) as output:
        out = output.folder
        for folder in (out / AUDIO_DIR, out / RECORDS_DIR):  # before any clip is rendered
            if folder.exists() and not folder.is_dir():
                raise InputError(f"{folder}: exists and is not a folder; --out needs a folder (new or an earlier output)")
        outputs = [MANIFEST, *(name for job in jobs for name in (_clip_file(job), _record_file(job)))]
        output.refuse_inputs(inputs, outputs)
        output.claim(outputs)
        output.remove_temp_files()
        entries = {job.id: entry for job in jobs if (entry := _finished(out, job, engine.name, seed, recipe))}
        todo = [job for job in jobs if job.id not in entries]
        with tqdm(total=len(jobs), initial=len(entries), disable=not progress, unit="clip", desc=engine.name) as bar:
            for job, clip in engine.render(todo, seed, concurrency):
                entries[job.id] = _save(output, job, clip, engine.name, seed, recipe)
                bar.update()
        output.write(MANIFEST, jsonl_text(entries[job.id] for job in jobs).encode("utf-8"))
    return out / MANIFEST


def _backend(name: str, voices: Sequence[str] | None, base_url: str | None) -> Backend:
    if voices is not None and (isinstance(voices, str) or not all(isinstance(v, str) and v for v in voices)):
        raise InputError(f"voices must be a list of voice names, got {voices!r}")
    if name == "offline":
        from evoxtral_bench.corpus.synth.offline import OfflineBackend

        return OfflineBackend(voices)
    if name == "neural":
        from evoxtral_bench.corpus.synth.neural import NeuralBackend

        return NeuralBackend(voices)
    if name == "elevenlabs":
        from evoxtral_bench.corpus.synth.elevenlabs import ElevenLabsBackend

        return ElevenLabsBackend(voices, base_url)
    raise InputError(f"unknown synthesis backend {name!r}; choose one of: {', '.join(BACKENDS)}")


def _row_split(row: Mapping) -> object:
    """A row's split: the first of its ``splits``, or its ``split`` (None when it has neither)."""
    if not isinstance(row, Mapping):
        return None
    splits = row.get("splits", [row.get("split")])
    return splits[0] if isinstance(splits, (list, tuple)) and splits else None


def _jobs(rows: Iterable[Mapping], engine: Backend, seed: int, masked: bool = False, track: Track | None = None) -> list[Job]:
    """Validated jobs sorted by id; with a ``track``, each row's voice comes from its split's pool."""
    jobs: dict[str, Job] = {}
    for number, row in enumerate(rows, start=1):
        where = f"row {number}"
        if not isinstance(row, Mapping):
            raise InputError(f"{where}: expected an object with 'id' and 'tagged_text', got {type(row).__name__}")
        clip_id, text = row.get("id"), row.get("tagged_text")
        if not isinstance(clip_id, str) or not _ID.match(clip_id):
            raise InputError(
                f"{where}: 'id' must be a string of letters, digits, '.', '_' or '-' (at most 128), got {clip_id!r}"
            )
        where = f"row {number} (id {clip_id!r})"
        if clip_id in jobs:
            raise InputError(f"{where}: duplicate id")
        if not isinstance(text, str) or not text.strip():
            raise InputError(f"{where}: 'tagged_text' must be a non-empty string")
        try:
            engine.check(read_script(text))
        except InputError as exc:
            raise InputError(f"{where}: {exc}") from exc
        if track is None:
            jobs[clip_id] = Job(clip_id, text, engine.voice_for(clip_id, seed), masked)
            continue
        split = _row_split(row)
        if split not in track.voices:
            raise InputError(f"{where}: track {track.name!r} needs the row's split (one of {', '.join(track.voices)}), got {split!r}")
        rendering = _rendering(row, split, track, where)
        voice = engine.voice_for(clip_id, seed, track.rendering_pool(split, rendering))
        events, splice = track.events(split), bool(track.settings.get("splice", False))
        jobs[clip_id] = Job(clip_id, text, voice, masked, splice, events, row["group"] if rendering else "", rendering)
    return [jobs[key] for key in sorted(jobs)]


def _rendering(row: Mapping, split: str, track: Track, where: str) -> int:
    """Which rendering (1-based) of its script a test row of a multiply rendering track is, from
    its id and ``group``; 0 for every other row."""
    if split != "test" or track.renderings == 1:
        return 0
    group = row.get("group")
    for k in range(1, track.renderings + 1):
        if isinstance(group, str) and row["id"] == rendering_id(group, k, track.renderings):
            return k
    raise InputError(
        f"{where}: track {track.name!r} renders each test script {track.renderings} times, one row per rendering "
        f"(id SCRIPT.k with k = 1..{track.renderings}, group SCRIPT; evoxtral_bench.corpus.scripts.track_rows makes them), "
        f"got group {group!r}"
    )


def _fingerprint(job: Job, backend: str, seed: int, track: Track | None = None) -> str:
    request = {"backend": backend, "seed": seed, "text": job.text, "voice": job.voice}
    if job.masked:  # only then: records of full renderings stay valid
        request["masked"] = True
    if job.splice:
        request["splice"] = True
    if job.events != "rule-v1":
        request["events"] = job.events
    if track is not None:
        request["recipe"] = track.recipe_hash
    return sha256_bytes(json.dumps(request, sort_keys=True).encode("utf-8"))


def _finished(out: Path, job: Job, backend: str, seed: int, track: Track | None = None) -> dict | None:
    """The manifest entry of a clip finished by an earlier run for the same request, else None.

    Its record (a regular file of at most :data:`MAX_RECORD_BYTES`) must match the request and
    name the clip's own file, which :func:`.read_clip` reads (inside ``audio``, size and sha256 as
    the record says); an entry written before sizes were recorded gets its ``bytes`` here.
    """
    path = out / _record_file(job)
    try:
        record = json_loads(read_regular(path, what="record", limit=MAX_RECORD_BYTES))
        entry = dict(record["entry"])
        if record.get("request") != _fingerprint(job, backend, seed, track) or entry.get("id") != job.id or entry.get("file") != _clip_file(job):
            return None
        size = len(read_clip(out, entry, str(path)))
    except (InputError, ValueError, KeyError, TypeError, AttributeError):
        return None
    return {"id": job.id, "file": entry["file"], "bytes": size, **entry}  # the key order _save writes


def _clip_file(job: Job) -> str:
    """Where a clip is written, relative to the output folder."""
    return f"{AUDIO_DIR}/{job.id}.wav"


def _record_file(job: Job) -> str:
    """Where a clip's record is written, relative to the output folder."""
    return f"{RECORDS_DIR}/{job.id}.json"


def _save(output: OutputDir, job: Job, clip: Clip, backend: str, seed: int, track: Track | None = None) -> dict:
    """Write the clip's wav, then its record; return its manifest entry."""
    wav = wav_bytes(clip.pcm, clip.sample_rate)
    relative = _clip_file(job)
    output.write(relative, wav)
    entry = {
        "id": job.id,
        "file": relative,
        "bytes": len(wav),
        "duration": round(len(clip.pcm) / clip.sample_rate, 3),
        "sample_rate": clip.sample_rate,
        "voice": clip.voice,
        "backend": backend,
        "seed": seed,
        "sha256": sha256_bytes(wav),
        "tags": [_span(span, "label") for span in clip.tags],
        "words": None if clip.words is None else [_span(span, "word") for span in clip.words],
    }
    if job.masked:
        entry["masked"] = list(MASKED)
    if track is not None:
        entry["track"], entry["recipe"] = track.name, track.recipe_hash
        if "events" in track.settings:
            entry["events"] = job.events
    if job.rendering:
        entry["script"], entry["rendering"] = job.script, job.rendering
    record = {"request": _fingerprint(job, backend, seed, track), "entry": entry}
    output.write(_record_file(job), jsonl_text([record]).encode("utf-8"))
    return entry


def _span(span: Span, key: str) -> dict:
    """A span as JSON, times rounded to the millisecond."""
    return {
        key: span.label,
        "start": None if span.start is None else round(span.start, 3),
        "end": None if span.end is None else round(span.end, 3),
    }
