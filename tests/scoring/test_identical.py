"""Every results document is byte-identical to the one stored under ``tests/data/identical/``.

The stored documents are ``score --format json`` / ``compare --format json`` outputs (B = 1000,
seed 0) for every shipped ``submissions/*/predictions.jsonl`` (with ``--masked`` where a
masked-track file exists), the example file (also ``--legacy`` and ``--normalizer none``) and
two comparisons. Only the package version inside the signature is normalized. Regenerate with
``python -m tests.scoring.test_identical`` (only when a change of numbers is intended).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from evoxtral_bench.cli.app import main
from evoxtral_bench.tracks import TRACKS

ROOT = Path(__file__).resolve().parents[2]
STORED = ROOT / "tests" / "data" / "identical"
EXAMPLE = "tests/data/example_preds.jsonl"


def _v2_track(folder: Path) -> list[str]:
    """``--track NAME`` for an entry on a track with other references than v1's, else nothing."""
    match = re.search(r"^track: *([\w-]+)", (folder / "meta.yaml").read_text(encoding="utf-8"), re.M)
    if match and match.group(1) in TRACKS and TRACKS[match.group(1)].references != "v1":
        return ["--track", match.group(1)]
    return []


def _cases() -> dict[str, list[str]]:
    cases: dict[str, list[str]] = {}
    for folder in sorted((ROOT / "submissions").iterdir()):
        preds = folder / "predictions.jsonl"
        if not preds.is_file():
            continue
        rel = preds.relative_to(ROOT).as_posix()
        track = _v2_track(folder)  # a v2 entry is scored on its track's references; v1 documents as they were stored
        cases[folder.name] = ["score", rel, *track]
        masked = folder / "predictions.masked.jsonl"
        if masked.is_file():
            cases[f"{folder.name}-masked"] = ["score", rel, "--masked", masked.relative_to(ROOT).as_posix(), *track]
    cases["example"] = ["score", EXAMPLE]
    cases["example-legacy"] = ["score", EXAMPLE, "--legacy"]
    cases["example-none"] = ["score", EXAMPLE, "--normalizer", "none"]
    cases["compare"] = ["compare", "submissions/whisper-tiny-en/predictions.jsonl", "submissions/whisper-tiny-en-tagger/predictions.jsonl"]
    cases["compare-legacy"] = ["compare", EXAMPLE, "submissions/whisper-tiny-en/predictions.jsonl", "--legacy"]
    return cases


CASES = _cases()
_VERSION_RE = re.compile(r"\|version:[^|\"]*")


def _document(args: list[str], out: Path) -> str:
    code = main([*args, "--bootstrap", "1000", "--seed", "0", "--format", "json", "--output", str(out)])
    assert code == 0, args
    return _VERSION_RE.sub("|version:*", out.read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", sorted(CASES))
def test_document_is_byte_identical(name, tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    expected = (STORED / f"{name}.json").read_text(encoding="utf-8")
    assert _document(CASES[name], tmp_path / "out.json") == expected


def test_every_stored_document_has_a_case():
    assert {p.stem for p in STORED.glob("*.json")} == set(CASES)


if __name__ == "__main__":  # regenerate the stored documents
    import os
    import tempfile

    os.chdir(ROOT)
    STORED.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for name, args in CASES.items():
            (STORED / f"{name}.json").write_text(_document(args, Path(tmp) / "out.json"), encoding="utf-8")
            print(name, file=sys.stderr)
