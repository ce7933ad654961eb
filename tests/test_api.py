"""The public API: in-memory inputs, typed results that round-trip the CLI's JSON, one error type."""

from __future__ import annotations

import ast
import json
import warnings
from pathlib import Path

import pytest

import evoxtral_bench
from tests.helpers import DATA, SMALL_REFS, refs_rows, write_jsonl

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = DATA / "example_preds.jsonl"
ORACLE = ROOT / "submissions" / "oracle-plain" / "predictions.jsonl"


def test_to_dict_is_the_cli_json_document_byte_for_byte(cli):
    code, out, _ = cli("score", EXAMPLE, "--format", "json")
    assert code == 0
    results = evoxtral_bench.score(predictions=str(EXAMPLE))
    assert results.to_json() == out
    assert json.loads(out) == results.to_dict()
    code, out, _ = cli("compare", EXAMPLE, ORACLE, "--format", "json", "--bootstrap", "200")
    comparison = evoxtral_bench.compare(a=str(EXAMPLE), b=str(ORACLE), bootstrap=200)
    assert code == 0 and comparison.to_json() == out


def test_from_dict_round_trips_every_document():
    results = evoxtral_bench.score(predictions=str(EXAMPLE), bootstrap=100)
    assert evoxtral_bench.Results.from_dict(results.to_dict()) == results
    assert evoxtral_bench.Results.from_dict(json.loads(results.to_json())).to_json() == results.to_json()
    comparison = evoxtral_bench.compare(a=str(EXAMPLE), b=str(ORACLE), bootstrap=100)
    assert evoxtral_bench.Comparison.from_dict(json.loads(comparison.to_json())) == comparison
    legacy = evoxtral_bench.score(predictions=str(EXAMPLE), legacy=True, bootstrap=0)
    assert evoxtral_bench.Results.from_dict(legacy.to_dict()) == legacy


def test_mapping_and_records_score_like_the_same_rows_on_disk(tmp_path):
    rows = refs_rows()
    preds = {r["id"]: r["tagged_text"].replace("NEVER", "never") for r in rows}
    on_disk = evoxtral_bench.score(
        predictions=str(write_jsonl(tmp_path / "p.jsonl", [{"id": k, "prediction": v} for k, v in preds.items()])),
        references=str(SMALL_REFS),
        split="test",
    )
    in_memory = evoxtral_bench.score(predictions=preds, references=rows, split="test")
    records = evoxtral_bench.score(predictions=[{"id": k, "prediction": v} for k, v in preds.items()], references=rows, split="test")
    for r in (in_memory, records):
        assert r.metrics == on_disk.metrics and r.per_tag == on_disk.per_tag and r.extras == on_disk.extras
    assert in_memory.benchmark.references == "<references>" and in_memory.submission.path == "<predictions>"
    assert in_memory.signature.references_sha256 == records.signature.references_sha256  # same rows, same hash
    # emphasis was lowered in every prediction: hand count — NEVER and FUNNIEST are the only CAPS words of the test rows
    assert in_memory["emphasis_f1"].value < 1.0 and in_memory["tag_f1"].value == 1.0


def test_bad_input_raises_one_error_with_every_problem():
    refs = [{"id": "u1", "tagged_text": "hello"}, {"id": "u2", "tagged_text": "bye"}]
    with pytest.raises(evoxtral_bench.InputError) as caught:
        evoxtral_bench.score(predictions=[{"id": "u1", "prediction": 3}, {"id": "nope", "prediction": "x"}, "oops"], references=refs)
    problems = caught.value.problems
    assert [(p.line, p.field) for p in problems] == [(3, None), (1, "prediction"), (2, "id")]
    assert str(problems[1]) == "<predictions>:1: prediction: expected a string, got number"
    assert "nope" in str(caught.value)
    with pytest.raises(evoxtral_bench.InputError, match="expected a path, a mapping"):
        evoxtral_bench.score(predictions=42, references=refs)


def test_missing_ids_warn_or_fail_with_strict():
    refs = [{"id": "u1", "tagged_text": "hello"}, {"id": "u2", "tagged_text": "bye"}]
    with pytest.warns(evoxtral_bench.InputWarning, match="1 ids have no prediction"):
        r = evoxtral_bench.score(predictions={"u1": "hello"}, references=refs, bootstrap=0)
    assert r.submission.missing == 1 and r["wer"].value == pytest.approx(0.5)  # hand count: 1 deletion / 2 words
    with pytest.raises(evoxtral_bench.InputError, match="--strict"):
        evoxtral_bench.score(predictions={"u1": "hello"}, references=refs, strict=True)


def test_validate_returns_problems_without_raising():
    refs = [{"id": "u1", "tagged_text": "hi"}]
    report = evoxtral_bench.validate(predictions={"u1": 7}, references=refs)
    assert not report.valid and report.errors and report.errors[0].field == "prediction"
    lenient = evoxtral_bench.validate(predictions={"u1": "[laughs"}, references=refs)  # malformed markup: a warning
    assert lenient.valid and lenient.warnings[0].field == "prediction" and "malformed" in lenient.warnings[0].message
    assert not evoxtral_bench.validate(predictions={"u1": "[laughs"}, references=refs, strict=True).valid
    ok = evoxtral_bench.validate(predictions={"u1": "hi"}, references=[{"id": "u1", "tagged_text": "hi"}])
    assert ok.valid and ok.predictions == 1 and not ok.problems


def test_invalid_options_are_input_errors():
    for kwargs in ({"ci": 1.5}, {"bootstrap": -1}, {"normalizer": "nope"}, {"lenient": True}, {"legacy": True, "normalizer": "none"}):
        with pytest.raises(evoxtral_bench.InputError):
            evoxtral_bench.score(predictions={"u1": "hi"}, references=[{"id": "u1", "tagged_text": "hi"}], **kwargs)


ONE = {"predictions": {"u1": "[sighs] hi"}, "references": [{"id": "u1", "tagged_text": "[sighs] hi"}]}


@pytest.mark.parametrize(
    "option, value, expected",
    [
        ("legacy", "no", "True or False"),  # a truthy string must not turn legacy mode on
        ("lenient", 1, "True or False"),
        ("strict", "yes", "True or False"),
        ("bootstrap", "100", "an integer"),
        ("bootstrap", 100.0, "an integer"),
        ("seed", 1.5, "an integer"),
        ("seed", True, "an integer"),
        ("workers", "2", "an integer"),
        ("ci", "0.9", "a number"),
        ("ci", False, "a number"),
        ("normalizer", 3, "a string"),
        ("track", None, "a string"),
        ("adapter", 1, "a string or None"),
        ("split", 1, "a string or None"),
        ("benchmark_version", "2", "an integer or None"),
    ],
)
def test_every_option_type_is_checked_and_the_error_names_the_option(option, value, expected):
    with pytest.raises(evoxtral_bench.InputError, match=f"option {option} must be {expected}, got "):
        evoxtral_bench.score(**ONE, **{option: value})
    if option in ("strict", "split"):
        with pytest.raises(evoxtral_bench.InputError, match=f"option {option} must be"):
            evoxtral_bench.validate(**ONE, **{option: value})


def test_numpy_scalars_are_the_python_values_they_hold():
    np = pytest.importorskip("numpy")
    r = evoxtral_bench.score(**ONE, ci=np.float32(0.9), bootstrap=np.int64(20), seed=np.int32(3), legacy=np.bool_(False))
    plain = evoxtral_bench.score(**ONE, ci=float(np.float32(0.9)), bootstrap=20, seed=3, legacy=False)
    assert str(r.signature) == str(plain.signature) and "np." not in str(r.signature) and "|ci:0.8999999761581421|" in str(r.signature)
    assert json.loads(r.to_json())["config"]["bootstrap"] == {"n": 20, "seed": 3, "ci": 0.8999999761581421}
    assert r.to_dict() == plain.to_dict()
    with pytest.raises(evoxtral_bench.InputError, match="option legacy must be True or False"):
        evoxtral_bench.score(**ONE, legacy=np.int64(1))


def test_records_that_cannot_be_json_lines_are_input_errors():
    circular = {"id": "u1", "prediction": "hi"}
    circular["again"] = circular
    deep: list = []
    for _ in range(100_000):
        deep = [deep]
    for predictions, reason in (([circular], "circular reference"), ([{"id": "u1", "prediction": "hi", "x": deep}], "nested too deep")):
        with pytest.raises(evoxtral_bench.InputError, match=reason) as err:
            evoxtral_bench.score(predictions=predictions, references=ONE["references"])
        assert [str(p).split(":")[:2] for p in err.value.problems] == [["<predictions>", "1"]]


@pytest.mark.parametrize("document", [{}, {"benchmark": 1}, [], {"signature": 3}])
def test_from_dict_of_something_else_is_an_input_error(document):
    for cls in (evoxtral_bench.Results, evoxtral_bench.Comparison):
        with pytest.raises(evoxtral_bench.InputError, match="not a (results|comparison) document"):
            cls.from_dict(document)


def test_load_references_once_for_many_systems():
    refs = evoxtral_bench.load_references(str(SMALL_REFS), split="test")
    a = evoxtral_bench.score(predictions={"u1": "hi"}, references=refs, bootstrap=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", evoxtral_bench.InputWarning)
        b = evoxtral_bench.score(predictions={"u1": "hi"}, references=str(SMALL_REFS), split="test", bootstrap=0)
    assert a == b


def test_dataframes_carry_the_metric_metadata():
    r = evoxtral_bench.score(predictions=str(EXAMPLE), bootstrap=50)
    frame = r.to_pandas()
    assert frame.loc["wer", "value"] == r["wer"].value and not frame.loc["wer", "higher_is_better"]
    assert frame.loc["mean_tag_offset_words", "unit"] == "words" and frame.loc["tag_f1", "label"] == "Tag F1"
    # a value in [0, 1] is labelled a fraction, never "%" (the table shows it ×100, the frame does not)
    ratios = frame.drop(index="mean_tag_offset_words")
    assert (ratios["unit"] == "fraction").all() and ratios["value"].between(0, 1).all()
    assert (r.breakdown_frame()["unit"] == "fraction").all()
    tags = r.per_tag_frame()
    assert set(tags.index) == set(r.per_tag) and tags.loc["sighs", "support"] == r.per_tag["sighs"].support
    groups = r.breakdown_frame()
    assert set(groups["group"]) == set(r.breakdowns["slice"]) | set(r.breakdowns["domain"])
    comparison = evoxtral_bench.compare(a=str(EXAMPLE), b=str(EXAMPLE), bootstrap=50).to_pandas()
    assert (comparison["delta"] == 0).all() and (comparison["p_value"] == 1).all()


CORPUS = Path(__file__).resolve().parents[1] / "evoxtral_bench" / "corpus" / "data" / "corpus.jsonl"


def test_every_metric_label_and_direction_comes_from_its_definition(cli):
    shown = ""
    for version in ("1", "2"):  # version 2 adds its anchored headline
        code, out, _ = cli("score", EXAMPLE, "--format", "markdown", "--bootstrap", "0", "--references", CORPUS, "--split", "test", "--benchmark-version", version)
        assert code == 0
        shown += out
    for metric in evoxtral_bench.METRICS.values():
        assert f"| {metric.label} {metric.arrow} |" in shown


def test_training_uses_only_the_public_api():
    """``training/`` imports names from ``evoxtral_bench`` itself and from its runner (the one place
    that runs a model over benchmark audio), and only those in their ``__all__``."""
    import evoxtral_bench.runner

    public = {"evoxtral_bench": set(evoxtral_bench.__all__), "evoxtral_bench.runner": set(evoxtral_bench.runner.__all__)}
    for path in sorted((ROOT / "training").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("evoxtral_bench"):
                assert node.module in public, f"{path}: imports {node.module}"
                assert {a.name for a in node.names} <= public[node.module], f"{path}: {[a.name for a in node.names]}"
            if isinstance(node, ast.Import):
                assert all(a.name == "evoxtral_bench" or not a.name.startswith("evoxtral_bench.") for a in node.names), path
