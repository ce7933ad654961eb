"""Hostile corpus-tool inputs (issue 10 items 7 and 14, issue 25 items 15 and 16): FIFOs,
devices, deep nesting, and clips a manifest or a record names out of their folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import need

ROOT = Path(__file__).resolve().parents[2]
DEEP = "[" * 100_000


def _limit_memory() -> None:
    """At most 1 GiB of memory for a child process, so a failing version cannot eat the machine."""
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))


def _run_python(code: str, timeout: float = 20) -> subprocess.CompletedProcess:
    """Run ``code`` with at most 1 GiB of memory."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-c", code], env=env, timeout=timeout, capture_output=True, text=True, preexec_fn=_limit_memory)


CALLS = {
    "scripts": "from evoxtral_bench.corpus.paper_import import import_legacy as f; f(Path({path!r}))",
    "manifest": "from evoxtral_bench.corpus.export import _read_manifest as f; f(Path({path!r}))",
}


def _outcome(call: str, path: Path | str) -> str:
    code = (
        "from pathlib import Path\nfrom evoxtral_bench.errors import InputError\n"
        f"try:\n    {CALLS[call].format(path=str(path))}\nexcept InputError as e:\n    print('InputError:', e)\n"
    )
    try:
        done = _run_python(code)
    except subprocess.TimeoutExpired:
        return "hung"
    return done.stdout + done.stderr


@pytest.mark.parametrize("call", sorted(CALLS))
def test_a_fifo_is_refused_without_blocking(tmp_path, call):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    assert "InputError:" in _outcome(call, fifo) and "not a regular file" in _outcome(call, fifo)


def test_dev_zero_is_refused_not_read():
    out = _outcome("scripts", "/dev/zero")
    assert "InputError:" in out and "not a regular file" in out


@pytest.mark.parametrize("call", sorted(CALLS))
def test_deep_nesting_is_an_input_error(tmp_path, call):
    path = tmp_path / "deep.json"
    path.write_text(DEEP + "\n")
    out = _outcome(call, path)
    assert "InputError:" in out and "nested too deeply" in out, out


def test_deep_nesting_in_a_corpus_file_is_reported_with_other_problems(cli, tmp_path):
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text(DEEP + "\n" + '{"id": 3}\n', encoding="utf-8")
    code, _, err = cli("score", corpus, "--references", corpus)
    assert code == 2 and "nested too deeply" in err and ":2: id: expected a string" in err and "bug" not in err


def _synthesis_folder(root: Path) -> tuple[Path, dict]:
    """A synthesis output folder with one real 16 kHz clip and its manifest entry."""
    import hashlib
    import json

    import numpy as np

    from evoxtral_bench.corpus.synth.audio import wav_bytes

    folder = root / "synth"
    (folder / "audio").mkdir(parents=True)
    wav = wav_bytes(np.arange(1600, dtype="<i2"), 16_000)
    (folder / "audio" / "c-1.wav").write_bytes(wav)
    entry = {"id": "c-1", "file": "audio/c-1.wav", "bytes": len(wav), "sha256": hashlib.sha256(wav).hexdigest()}
    entry |= {"sample_rate": 16_000, "voice": "v"}
    (folder / "manifest.jsonl").write_text(json.dumps(entry) + "\n")
    return folder, entry


def _hostile_clips(tmp_path: Path, folder: Path, entry: dict) -> dict[str, tuple[dict, str]]:
    """Manifest entries (in ``folder``) naming what an export or a resume must not read, and the
    message each must give; the files they name are made here."""
    outside = tmp_path / "secret.wav"
    outside.write_bytes((folder / entry["file"]).read_bytes())
    os.mkfifo(folder / "audio" / "fifo.wav")
    (folder / "audio" / "link.wav").symlink_to(outside)
    (folder / "audio" / "folder.wav").mkdir()
    swapped = bytearray((folder / entry["file"]).read_bytes())
    swapped[-1] ^= 1
    (folder / "audio" / "swapped.wav").write_bytes(bytes(swapped))
    (folder / "audio" / "short.wav").write_bytes(bytes(swapped[:-2]))
    (folder / "audio" / "new\nline.wav").write_bytes(bytes(swapped))
    outside_msg = "is not a file inside"
    return {
        "relative": ({"file": "../secret.wav"}, outside_msg),  # exists: the folder is tmp_path/synth
        "absolute": ({"file": str(outside)}, outside_msg),
        "dev-zero": ({"file": "/dev/zero"}, outside_msg),
        "link": ({"file": "audio/link.wav"}, outside_msg),
        "fifo": ({"file": "audio/fifo.wav"}, "'audio/fifo.wav': cannot read the clip: not a regular file"),
        "folder": ({"file": "audio/folder.wav"}, "not a regular file"),
        "swapped": ({"file": "audio/swapped.wav"}, "'audio/swapped.wav': its sha256 differs from the manifest's"),
        "short": ({"file": "audio/short.wav"}, f"'audio/short.wav' is {entry['bytes'] - 2:,} bytes, the manifest says {entry['bytes']:,}"),
        "longer": ({"bytes": entry["bytes"] - 2}, f"'audio/c-1.wav': the clip is larger than {entry['bytes'] - 2:,} bytes"),
        "newline": ({"file": "audio/new\nline.wav"}, r"field 'file': 'audio/new\nline.wav': its sha256 differs"),
    }


EXPORT_CASES = """
import json, sys
from pathlib import Path
from evoxtral_bench.errors import InputError
from evoxtral_bench.corpus.export import export_dataset

folder, out, entries = Path(sys.argv[1]), Path(sys.argv[2]), json.loads(sys.argv[3])
corpus = [{"id": "c-1", "tagged_text": "Hello.", "split": "test", "domain": "d", "slice": "plain"}]
for name, entry in entries.items():
    (folder / "manifest.jsonl").write_text(json.dumps(entry) + "\\n")
    print(name, flush=True)
    try:
        export_dataset(corpus_rows=corpus, manifests=[folder / "manifest.jsonl"], out_dir=out)
    except InputError as e:
        print(json.dumps([name, str(e), out.exists()]), flush=True)
    else:
        print(json.dumps([name, "exported", out.exists()]), flush=True)
"""


def test_export_reads_only_the_clips_its_manifest_describes(tmp_path):
    """Issue 25 items 15 and 27: a path out of the folder, an absolute path or a link out was
    embedded with rc 0, a FIFO hung, /dev/zero ran out of memory, a swapped or truncated clip
    was exported, and a file name with a newline split the message over two lines. (One
    process for every case, with 1 GiB of memory and 60 s.)"""
    import json

    folder, entry = _synthesis_folder(tmp_path)
    out = tmp_path / "hf"
    cases = _hostile_clips(tmp_path, folder, entry)
    entries = {name: entry | change for name, (change, _) in cases.items()} | {"good": entry}
    command = [sys.executable, "-c", EXPORT_CASES, str(folder), str(out), json.dumps(entries)]
    try:
        done = subprocess.run(command, env=dict(os.environ, PYTHONPATH=str(ROOT)), timeout=60, capture_output=True, text=True, preexec_fn=_limit_memory)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"hung after: {exc.stdout!r}")
    results = {row[0]: row[1:] for row in map(json.loads, (line for line in done.stdout.splitlines() if line.startswith("[")))}
    assert list(results) == list(entries), done.stdout + done.stderr[-2000:]
    for name, (_, message) in cases.items():
        text, written = results[name]
        assert text.startswith(f"{folder / 'manifest.jsonl'}:1: field '") and message in text, (name, text)
        assert "\n" not in text and not written, (name, text)
    assert results["good"] == ["exported", True]


RESUME_CASES = '''
import json, os, sys
from pathlib import Path
from evoxtral_bench.corpus.synth import synthesize

out, secret = Path(sys.argv[1]), Path(sys.argv[2])
rows = [{"id": "c-1", "tagged_text": "Hello."}]
manifest = synthesize(rows=rows, out_dir=out, progress=False)
clip, record_path = out / "audio" / "c-1.wav", out / "records" / "c-1.json"
good, record = clip.read_bytes(), json.loads(record_path.read_text())
secret.write_bytes(good)
cases = {
    "record-fifo": lambda: (record_path.unlink(), os.mkfifo(record_path)),
    "record-dev-zero": lambda: (record_path.unlink(), record_path.symlink_to("/dev/zero")),
    "clip-fifo": lambda: (clip.unlink(), os.mkfifo(clip)),
    "clip-dev-zero": lambda: (clip.unlink(), clip.symlink_to("/dev/zero")),
    "clip-link-out": lambda: (clip.unlink(), clip.symlink_to(secret)),  # the same bytes, out of the folder
    "entry-out": lambda: record_path.write_text(json.dumps({**record, "entry": record["entry"] | {"file": str(secret)}})),
    "swapped": lambda: clip.write_bytes(good[:-1] + bytes([good[-1] ^ 1])),
}
for name, make in cases.items():
    make()
    print(name, flush=True)
    synthesize(rows=rows, out_dir=out, progress=False)
    again = not clip.is_symlink() and clip.read_bytes() == good and json.loads(record_path.read_text()) == record
    print(name, "rendered again" if again else "NOT rendered again", flush=True)
print("manifest", json.loads(manifest.read_text()) == record["entry"], secret.read_bytes() == good)
'''


def test_resumed_synthesis_reads_only_the_clips_its_records_describe(tmp_path):
    """Issue 25 item 16: a record naming a FIFO hung the resumed run; one naming /dev/zero ran out
    of memory; a clip linked out of the folder was trusted. Every such clip is unfinished: it is
    rendered again into the folder (a link or a FIFO in its place is replaced, not written to)."""
    need(libraries=("espeak-ng",))
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    command = [sys.executable, "-c", RESUME_CASES, str(tmp_path / "synth"), str(tmp_path / "secret.wav")]
    try:
        done = subprocess.run(command, env=env, timeout=60, capture_output=True, text=True, preexec_fn=_limit_memory)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"hung after: {exc.stdout!r}")
    lines = done.stdout.splitlines()
    assert [line for line in lines if " " in line] == [
        *(f"{name} rendered again" for name in ("record-fifo", "record-dev-zero", "clip-fifo", "clip-dev-zero", "clip-link-out", "entry-out", "swapped")),
        "manifest True True",
    ], done.stdout + done.stderr[-2000:]


def test_export_on_a_full_disk_names_the_folder(tmp_path):
    """Issue 25 item 27: a write refused by the OS (here files limited to 1,000 bytes, as a full
    disk refuses them) ended as an internal error without the path; now exit 2 naming ``--out``."""
    import resource

    folder, _ = _synthesis_folder(tmp_path)
    out = tmp_path / "hf"
    corpus = [{"id": "c-1", "tagged_text": "Hello.", "split": "test", "domain": "d", "slice": "plain"}]
    code = (
        "import resource\nfrom pathlib import Path\nfrom evoxtral_bench.errors import InputError\n"
        "from evoxtral_bench.corpus.export import export_dataset\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (1000, 1000))\n"
        f"try:\n    export_dataset(corpus_rows={corpus!r}, manifests=[Path({str(folder / 'manifest.jsonl')!r})], out_dir=Path({str(out)!r}))\n"
        "except InputError as e:\n    print('InputError:', e)\n"
    )
    assert resource.getrlimit(resource.RLIMIT_FSIZE)[1] == resource.RLIM_INFINITY or resource.getrlimit(resource.RLIMIT_FSIZE)[1] > 1000
    done = _run_python(code, timeout=60)
    assert done.stdout.startswith(f"InputError: cannot write {out} (saved first in {tmp_path}/.hf."), done.stdout + done.stderr[-2000:]
    assert "File too large" in done.stdout
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".hf.")] == []
    assert not out.exists()  # nothing written, no lock or empty folder left
