"""The audio track of a result: in the options, the signature, the results document and the
reports; ``unspecified`` when not given; choices read from the registry (docs/spec.md §12)."""

from __future__ import annotations

import json
import re

import pytest

import evoxtral_bench
from evoxtral_bench.scoring.options import TRACK_CHOICES, UNSPECIFIED, Signature
from evoxtral_bench.scoring.results import Comparison, Results
from evoxtral_bench.tracks import TEXT_ONLY, TRACK_NAMES
from tests.helpers import SMALL_REFS, refs_rows, write_jsonl


@pytest.fixture
def preds(tmp_path):
    return write_jsonl(tmp_path / "preds.jsonl", [{"id": r["id"], "prediction": r["tagged_text"]} for r in refs_rows()])


def _fields(line: str) -> dict[str, str]:
    return dict(part.split(":", 1) for part in line.split("|"))


def test_choices_are_the_registry_and_none():
    assert TRACK_CHOICES == (*TRACK_NAMES, TEXT_ONLY) and UNSPECIFIED not in TRACK_CHOICES


@pytest.mark.parametrize("track", [*TRACK_NAMES, TEXT_ONLY])
def test_signature_and_results_carry_the_track_and_round_trip(preds, track):
    results = evoxtral_bench.score(predictions=preds, references=SMALL_REFS, bootstrap=0, track=track)
    doc = results.to_dict()
    assert _fields(doc["signature"])["track"] == track and doc["config"]["track"] == track
    assert results.signature.track == track
    again = Results.from_dict(json.loads(results.to_json()))
    assert again == results and again.signature.track == track and again.to_json() == results.to_json()


def test_without_a_track_results_say_unspecified(cli, preds):
    results = evoxtral_bench.score(predictions=preds, references=SMALL_REFS, bootstrap=0)
    assert results.signature.track == UNSPECIFIED and "|track:unspecified|" in results.signature.format()
    code, out, _ = cli("score", preds, "--references", SMALL_REFS, "--format", "json", "--bootstrap", "0")
    assert code == 0 and json.loads(out) == results.to_dict()


def test_the_track_changes_the_signature_and_no_number(preds):
    a = evoxtral_bench.score(predictions=preds, references=SMALL_REFS, bootstrap=50, track="espeak-v1").to_dict()
    b = evoxtral_bench.score(predictions=preds, references=SMALL_REFS, bootstrap=50, track="neural-v1").to_dict()
    assert a["signature"] != b["signature"]
    for key in ("metrics", "per_tag", "breakdowns", "extras"):
        assert a[key] == b[key]
    assert {k: v for k, v in _fields(a["signature"]).items() if k != "track"} == {k: v for k, v in _fields(b["signature"]).items() if k != "track"}


def test_signature_from_document_needs_the_track(preds):
    doc = evoxtral_bench.score(predictions=preds, references=SMALL_REFS, bootstrap=0, track="neural-v1").to_dict()
    signature = Signature.from_document(doc["benchmark"], doc["config"], doc["signature"])
    assert signature.format() == doc["signature"]
    del doc["config"]["track"]
    with pytest.raises(evoxtral_bench.InputError, match="not a results document .*: the key 'track' is missing"):
        Results.from_dict(doc)


def test_compare_carries_the_track(cli, preds, tmp_path):
    plain = write_jsonl(tmp_path / "plain.jsonl", [{"id": r["id"], "prediction": "words"} for r in refs_rows()])
    comparison = evoxtral_bench.compare(a=preds, b=plain, references=SMALL_REFS, bootstrap=0, track="neural-v1")
    doc = comparison.to_dict()
    assert "|track:neural-v1|" in doc["signature"] and doc["config"]["track"] == "neural-v1"
    assert Comparison.from_dict(doc) == comparison
    code, out, _ = cli("compare", preds, plain, "--references", SMALL_REFS, "--bootstrap", "0", "--track", "neural-v1")
    assert code == 0 and "track neural-v1" in out and "|track:neural-v1|" in out


@pytest.mark.parametrize("fmt", ["table", "markdown"])
def test_reports_show_the_track(cli, preds, fmt):
    code, out, _ = cli("score", preds, "--references", SMALL_REFS, "--format", fmt, "--bootstrap", "0", "--track", "espeak-v1")
    assert code == 0 and "· track espeak-v1 ·" in out.splitlines()[0] and "|track:espeak-v1|" in out


def test_unknown_track_is_exit_2_naming_the_choices(cli, preds):
    code, out, err = cli("score", preds, "--references", SMALL_REFS, "--track", "neural-v9")
    assert code == 2 and out == "" and "--track" in err and all(name in err for name in TRACK_CHOICES)
    with pytest.raises(evoxtral_bench.InputError, match=re.escape("expected one of " + ", ".join(TRACK_CHOICES))):
        evoxtral_bench.score(predictions=preds, references=SMALL_REFS, track="neural-v9")
    with pytest.raises(evoxtral_bench.InputError, match="unknown --track"):
        evoxtral_bench.score(predictions=preds, references=SMALL_REFS, track=UNSPECIFIED + "x")
