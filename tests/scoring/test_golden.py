"""Every number the scorer printed at version 0.1.0 is unchanged.

``tests/data/golden/*.json`` are the metrics, per-tag scores, breakdowns and extras that
evoxtral-bench 0.1.0 (the release before the package was laid out by layer) wrote with
``score --format json`` (defaults: 1000 resamples, seed 0) for the shipped baselines and the
example file, plus one ``--legacy`` run and one ``compare``. Later versions may add keys;
every value present in a golden file must come out exactly the same.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import evoxtral_bench
from tests.helpers import DATA

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = DATA / "golden"
SUBMISSIONS = ROOT / "submissions"
CASES = {
    "oracle-plain": {"predictions": SUBMISSIONS / "oracle-plain" / "predictions.jsonl"},
    "oracle-tags-misplaced": {"predictions": SUBMISSIONS / "oracle-tags-misplaced" / "predictions.jsonl"},
    "whisper-tiny-en": {"predictions": SUBMISSIONS / "whisper-tiny-en" / "predictions.jsonl"},
    "whisper-tiny-en-tagger": {"predictions": SUBMISSIONS / "whisper-tiny-en-tagger" / "predictions.jsonl"},
    "example": {"predictions": DATA / "example_preds.jsonl"},
    "example-legacy": {"predictions": DATA / "example_preds.jsonl", "legacy": True},
}


def _leaves(node: object, path: tuple = ()):
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _leaves(value, (*path, key))
    else:
        yield path, node


def _at(document: dict, path: tuple) -> object:
    for key in path:
        document = document[key]
    return document


def _assert_same_numbers(golden: dict, current: dict) -> None:
    checked = 0
    for path, value in _leaves({k: golden[k] for k in ("metrics", "per_tag", "breakdowns", "extras") if k in golden}):
        assert _at(current, path) == value, path
        checked += 1
    assert checked > 50


@pytest.mark.parametrize("name", sorted(CASES))
def test_scores_are_those_of_version_0_1_0(name):
    golden = json.loads((GOLDEN / f"{name}.json").read_text(encoding="utf-8"))
    case = CASES[name]
    current = evoxtral_bench.score(predictions=str(case["predictions"]), legacy=case.get("legacy", False)).to_dict()
    _assert_same_numbers(golden, current)
    fields = lambda line: dict(part.split(":", 1) for part in line.split("|"))  # noqa: E731
    old, new = fields(golden["signature"]), fields(current["signature"])
    assert {k: new.get(k) for k in old if k != "version"} == {k: v for k, v in old.items() if k != "version"}


def test_compare_is_that_of_version_0_1_0():
    golden = json.loads((GOLDEN / "compare.json").read_text(encoding="utf-8"))
    current = evoxtral_bench.compare(a=str(CASES["whisper-tiny-en-tagger"]["predictions"]), b=str(CASES["whisper-tiny-en"]["predictions"]))
    document = current.to_dict()
    for path, value in _leaves(golden["metrics"]):
        assert _at(document["metrics"], path) == value, path
