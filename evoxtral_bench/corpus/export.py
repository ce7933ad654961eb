"""Export the synthesized corpus as a self-contained Hugging Face ``datasets.DatasetDict``.

Each corpus row that has a clip in the synthesis manifests (one folder per split is the usual
layout) becomes one example with the clip's file bytes embedded (no paths outside the saved
folder), its tagged transcript, the plain transcript, its canonical tag labels (parsed with
:func:`evoxtral_bench.scoring.tags.parse`) and the voice that spoke it. An export is of one audio
track (:mod:`evoxtral_bench.tracks`): every clip used must have been rendered by that track's
current recipe, and the Hub holds one config per track.

Building and saving need ``datasets`` and ``soundfile`` only (the ``[data]`` extra): the audio
column is written as ``{"bytes", "path"}`` and cast to ``Audio``, which skips ``datasets``'
torch/torchcodec encoder. *Decoding* the saved audio through ``datasets`` (``ds[0]["audio"]``)
needs ``torchcodec`` and FFmpeg, as ``datasets`` >= 4 does for every audio dataset; without them,
``ds.cast_column("audio", Audio(decode=False))`` gives the WAV bytes for ``soundfile``.
"""

from __future__ import annotations

import io
import json
import logging
import re
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from evoxtral_bench.corpus.synth import read_clip
from evoxtral_bench.errors import InputError, require
from evoxtral_bench.files import json_loads, read_regular
from evoxtral_bench.output import EXPORT, OutputDir
from evoxtral_bench.scoring.tags import parse
from evoxtral_bench.tracks import get_track

if TYPE_CHECKING:
    import datasets

logger = logging.getLogger(__name__)

SAMPLING_RATE = 16_000
"""Sampling rate of the ``audio`` feature (Hz); ``datasets`` resamples other files on decoding."""
MAX_MANIFEST_BYTES = 64 << 20
"""The largest synthesis manifest read (64 MiB)."""
LICENSE = "cc-by-4.0"
"""The corpus license, as the dataset card's ``license:`` states it (a test checks they agree):
every exported split carries it in its ``DatasetInfo``."""

_SPLIT_ORDER = {"train": 0, "validation": 1, "test": 2}
_SPLIT_NAME_RE = re.compile(r"^\w+(\.\w+)*$")  # what ``datasets`` accepts as a split name


def features() -> datasets.Features:
    """The exported schema: id, audio (16 kHz), tagged_text, plain_text, tags, split, domain, slice, voice."""
    ds = require("datasets", "exporting the dataset")
    string = ds.Value("string")
    return ds.Features(
        {
            "id": string,
            "audio": ds.Audio(sampling_rate=SAMPLING_RATE),
            "tagged_text": string,
            "plain_text": string,
            "tags": ds.List(string),
            "split": string,
            "domain": string,
            "slice": string,
            "voice": string,
        }
    )


def _check_corpus(rows: list[dict]) -> None:
    """Corpus rows need string ``id``/``tagged_text``/``split`` and string-or-null domain/slice."""
    seen: dict[str, int] = {}
    for i, row in enumerate(rows):
        where = f"corpus row {i}"
        if not isinstance(row, dict):
            raise InputError(f"{where}: expected an object, got {type(row).__name__}")
        for key in ("id", "tagged_text", "split"):
            if not isinstance(row.get(key), str):
                raise InputError(f"{where}: field '{key}': expected a string, got {type(row.get(key)).__name__}")
        for key in ("domain", "slice"):
            if not isinstance(row.get(key), (str, type(None))):
                raise InputError(f"{where}: field '{key}': expected a string, got {type(row[key]).__name__}")
        if not _SPLIT_NAME_RE.match(row["split"]):
            raise InputError(f"{where}: field 'split': {row['split']!r} is not a valid split name (letters, digits, _)")
        if row["id"] in seen:
            raise InputError(f"{where}: duplicate id {row['id']!r} (first in corpus row {seen[row['id']]})")
        seen[row["id"]] = i


def _read_manifest(manifest: Path) -> dict[str, tuple[int, dict]]:
    """Manifest entries by id, with their line numbers (1-based); blank lines are skipped."""
    raw = read_regular(manifest, what="manifest", limit=MAX_MANIFEST_BYTES)
    try:
        lines = raw.decode("utf-8").splitlines()
    except UnicodeDecodeError as err:
        raise InputError(f"{manifest}: not UTF-8 (byte {err.start + 1})") from err
    entries: dict[str, tuple[int, dict]] = {}
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            entry = json_loads(line)
        except json.JSONDecodeError as err:
            raise InputError(f"{manifest}:{n}: not valid JSON: {err.msg}") from err
        if not isinstance(entry, dict):
            raise InputError(f"{manifest}:{n}: expected an object, got {type(entry).__name__}")
        for key in ("id", "file", "voice"):
            if not isinstance(entry.get(key), str):
                raise InputError(f"{manifest}:{n}: field '{key}': expected a string")
        rate = entry.get("sample_rate")
        if rate is not None and (isinstance(rate, bool) or not isinstance(rate, int) or rate <= 0):
            raise InputError(f"{manifest}:{n}: field 'sample_rate': expected a positive integer (Hz), got {rate!r}")
        if entry["id"] in entries:
            raise InputError(f"{manifest}:{n}: duplicate id {entry['id']!r} (first on line {entries[entry['id']][0]})")
        entries[entry["id"]] = (n, entry)
    return entries


def _read_manifests(manifests: Sequence[Path]) -> dict[str, tuple[Path, int, dict]]:
    """Entries of several manifests by id, with their file and line; an id in two files is an error."""
    merged: dict[str, tuple[Path, int, dict]] = {}
    for manifest in manifests:
        for clip_id, (line, entry) in _read_manifest(manifest).items():
            if clip_id in merged:
                first, first_line, _ = merged[clip_id]
                raise InputError(f"{manifest}:{line}: duplicate id {clip_id!r} (first in {first}:{first_line})")
            merged[clip_id] = (manifest, line, entry)
    return merged


def _check_track(manifest: Path, line: int, entry: dict, track: str, recipe: str) -> None:
    """The entry was rendered for ``track`` by its current ``recipe`` hash."""
    where = f"{manifest}:{line}"
    rendered = entry.get("track")
    if rendered != track:
        got = f"rendered for {rendered}" if isinstance(rendered, str) else "rendered without --track"
        raise InputError(f"{where}: field 'track': {got}, not {track}; export the folders of {track}")
    if entry.get("recipe") != recipe:
        raise InputError(
            f"{where}: field 'recipe': recipe {entry.get('recipe')!r} differs from {track}'s current recipe "
            f"{recipe!r}: render again (data synthesize --track {track})"
        )


def _audio_value(manifest: Path, line: int, entry: dict) -> dict:
    """``{"bytes", "path"}`` for a manifest entry: the clip as :func:`.synth.read_clip` reads it
    (inside the folder's ``audio``, its size and sha256 checked), once ``soundfile`` can read it."""
    sf = require("soundfile", "exporting the dataset")
    where = f"{manifest}:{line}"
    data = read_clip(Path(manifest).parent, entry, where)
    try:
        info = sf.info(io.BytesIO(data))
    except RuntimeError as err:  # soundfile's LibsndfileError
        raise InputError(f"{where}: field 'file': {entry['file']!r} is not readable audio: {err}") from err
    if entry.get("sample_rate") is not None and info.samplerate != entry["sample_rate"]:
        raise InputError(
            f"{where}: field 'sample_rate': {entry['sample_rate']} Hz, but {entry['file']!r} is {info.samplerate} Hz"
        )
    return {"bytes": data, "path": Path(entry["file"]).name}


def _save_owned(dataset_dict: datasets.DatasetDict, out_dir: str | Path, files: Mapping[str, bytes], inputs: Sequence[Path]) -> None:
    """Save to a temporary folder beside ``out_dir``, then move each file in by the ownership rule
    of :mod:`evoxtral_bench.output` (``out_dir`` new, empty or an earlier export; files the export
    did not write are kept; what an earlier export wrote and this one did not is deleted);
    ``dataset_dict.json``, which ``load_from_disk`` reads first, is moved last."""
    with OutputDir(out_dir, EXPORT) as output:
        out = output.folder
        try:
            tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp"))
        except OSError as exc:
            raise InputError(f"cannot write beside {out}: {exc.strerror or exc}") from exc
        try:
            try:
                dataset_dict.save_to_disk(str(tmp))
                for relative, data in files.items():
                    (tmp / relative).write_bytes(data)
            except OSError as exc:  # a full disk, no permission
                raise InputError(f"cannot write {out} (saved first in {tmp}): {exc.strerror or exc}") from exc
            written = {path.relative_to(tmp).as_posix() for path in tmp.rglob("*") if path.is_file()}
            output.refuse_inputs(inputs, written)
            output.claim(written)
            for relative in sorted(written, key=lambda name: (name == "dataset_dict.json", name)):
                output.move(tmp / relative, relative)
            output.finish(written)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


def _hub_token() -> str:
    hub = require("huggingface_hub", "exporting the dataset")
    token = hub.get_token()
    if not token:
        raise InputError(
            "pushing to the Hugging Face Hub needs a token with write access: set HF_TOKEN "
            "(or run `hf auth login`), or leave out the push"
        )
    return token


def export_dataset(
    *,
    corpus_rows: list[dict],
    manifests: Sequence[Path],
    out_dir: str | Path,
    track: str | None = None,
    push_to_hub: str | None = None,
    files: Mapping[str, bytes] | None = None,
) -> datasets.DatasetDict:
    """Build, save (``save_to_disk(out_dir)``) and optionally push the corpus as a DatasetDict.

    ``corpus_rows`` carry ``id``, ``tagged_text``, ``split``, ``domain``, ``slice``; ``manifests``
    are synthesis JSONL files (``id``, ``file`` relative to the manifest's folder, ``voice``,
    ``sample_rate`` in Hz, ...), merged; an id in two of them is an error. One split per split
    label, train/validation/test first, rows in corpus order. Rows without a clip are left out
    and their count is logged as a warning (``corpus rows - sum(num_rows)``); manifest entries
    for unknown ids are ignored. With ``track``, every entry used must carry that track's name
    and its current recipe hash. ``out_dir`` must be new, empty or an earlier export's folder
    (:func:`_save_owned`); ``files`` (name -> bytes, e.g. the dataset card as ``README.md``) are
    written into it with the dataset. ``push_to_hub`` is a repo id, pushed as the config named ``track`` (or
    ``default`` without one); the token (HF_TOKEN or a saved login) is checked before any work.

    Raises :class:`InputError` for malformed rows or manifest lines, an unknown track, audio of
    another track or recipe, unreadable or mismatched audio, no row with audio, or a missing
    token or package.
    """
    ds = require("datasets", "exporting the dataset")
    recipe = None
    if track is not None:
        try:
            recipe = get_track(track).recipe_hash
        except KeyError as exc:
            raise InputError(str(exc.args[0])) from None
    token = _hub_token() if push_to_hub else None
    _check_corpus(corpus_rows)
    manifests = [Path(m) for m in manifests]
    if not manifests:
        raise InputError("no synthesis manifest given")
    entries = _read_manifests(manifests)

    columns: dict[str, dict[str, list]] = {}
    left_out: list[str] = []
    for row in corpus_rows:
        if row["id"] not in entries:
            left_out.append(row["id"])
            continue
        manifest, line, entry = entries[row["id"]]
        if track is not None:
            _check_track(manifest, line, entry, track, recipe)
        transcript = parse(row["tagged_text"])
        example = {
            "id": row["id"],
            "audio": _audio_value(manifest, line, entry),
            "tagged_text": row["tagged_text"],
            "plain_text": " ".join(transcript.text.split()),  # tags removed, CAPS kept
            "tags": transcript.labels,
            "split": row["split"],
            "domain": row.get("domain"),
            "slice": row.get("slice"),
            "voice": entry["voice"],
        }
        split = columns.setdefault(row["split"], {key: [] for key in example})
        for key, value in example.items():
            split[key].append(value)
    sources = ", ".join(str(m) for m in manifests)
    if not columns:
        raise InputError(f"{sources}: none of the {len(corpus_rows)} corpus rows has audio in the manifests")
    if left_out:
        logger.warning(
            "%d of %d corpus rows have no audio in %s and were left out (first: %s)",
            len(left_out),
            len(corpus_rows),
            sources,
            ", ".join(left_out[:5]),
        )

    schema = features()
    order = sorted(columns, key=lambda name: _SPLIT_ORDER.get(name, len(_SPLIT_ORDER)))
    dataset_dict = ds.DatasetDict(
        {name: ds.Dataset.from_dict(columns[name], info=ds.DatasetInfo(license=LICENSE), split=name).cast(schema) for name in order}
    )
    _save_owned(dataset_dict, out_dir, files or {}, manifests)
    if push_to_hub:
        dataset_dict.push_to_hub(push_to_hub, config_name=track or "default", token=token)
    return dataset_dict
