"""Every kind of broken submission under tests/data/broken ends with exit 2 and a file:line message."""

import json

import pytest

from tests.helpers import DATA, SMALL_REFS, refs_rows, write_jsonl

BROKEN = DATA / "broken"

# file -> (line or None for whole-file findings, text the message must contain)
EXPECTED = {
    "bad_json.jsonl": (2, "invalid JSON: Expecting ',' delimiter"),
    "bad_utf8.jsonl": (2, "invalid UTF-8 at column 32 (byte 0xe9)"),
    "bom.jsonl": (1, "byte-order mark"),
    "crlf.jsonl": (1, "CR LF (Windows line ending) (2 lines in all)"),
    "duplicate_id.jsonl": (3, "id: duplicate id 'u1' (first on line 1)"),
    "unknown_id.jsonl": (2, "id: 'nope-7' is not an id of"),
    "id_number.jsonl": (1, "id: expected a string, got number"),
    "prediction_null.jsonl": (1, "prediction: expected a string, got null"),
    "prediction_list.jsonl": (1, "prediction: expected a string, got array"),
    "missing_prediction.jsonl": (1, "prediction: missing"),
    "missing_id.jsonl": (1, "id: missing"),
    "empty.jsonl": (None, "file is empty"),
    "blank_lines_only.jsonl": (None, "file is empty"),
    "huge_line.jsonl": (1, "bytes long; the limit is 1,048,576"),
    "nul_byte.jsonl": (2, "NUL byte at column 30"),
    "not_object.jsonl": (1, "expected a JSON object, got array"),
    "trailing_garbage.jsonl": (1, "invalid JSON: Extra data"),
    "two_objects_one_line.jsonl": (1, "invalid JSON: Extra data"),
    "nan_value.jsonl": (1, "NaN is not valid JSON"),
    "duplicate_key.jsonl": (1, "duplicate key 'id'"),
    "control_char.jsonl": (1, "control character U+0007 at character 3"),
    "lone_surrogate.jsonl": (1, "lone surrogate \\ud800"),
    "empty_id.jsonl": (1, "id: empty"),
    "id_whitespace.jsonl": (1, "has leading or trailing whitespace"),
    "gzip_binary.jsonl": (1, "NUL byte"),
}
# malformed markup: scored as punctuation with a warning; an error with --strict
MALFORMED = {
    "unbalanced_open.jsonl": (1, "prediction: '[' at character 1 is never closed"),
    "unbalanced_close.jsonl": (1, "prediction: ']' at character 7 closes no tag"),
    "nested_brackets.jsonl": (1, "prediction: nested '[' at character 8"),
    "empty_tag.jsonl": (1, "prediction: empty tag '[]'"),
    "long_tag.jsonl": (1, "is 41 characters long (at most 40)"),
    "tag_newline.jsonl": (1, "spans a line break"),
}


def test_the_corpus_is_complete():
    assert {p.name for p in BROKEN.iterdir()} == set(EXPECTED) | set(MALFORMED)
    assert len(EXPECTED) + len(MALFORMED) >= 25


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_markup_is_scored_with_a_warning_and_refused_with_strict(cli, name):
    line, text = MALFORMED[name]
    path = BROKEN / name
    code, out, err = cli("score", path, "--references", SMALL_REFS, "--bootstrap", "0", "--format", "json")
    assert code == 0, err
    assert any(row.startswith(f"{path}:{line}: warning: prediction: malformed tag markup") for row in err.splitlines()), err
    assert json.loads(out)["submission"]["malformed_spans"] >= 1
    for command in ("score", "validate"):
        code, out, err = cli(command, path, "--references", SMALL_REFS, "--strict")
        assert code == 2 and out == ""
        assert any(row.startswith(f"{path}:{line}:") and text in row and "(--strict)" in row for row in err.splitlines()), err


def test_malformed_spans_are_counted_per_file(cli, tmp_path):
    rows = [{"id": r["id"], "prediction": r["tagged_text"]} for r in refs_rows()]
    rows[0]["prediction"] += " [laugh"
    rows[1]["prediction"] = "[[sighs]] " + rows[1]["prediction"] + " [] ]"
    preds = write_jsonl(tmp_path / "p.jsonl", rows)
    code, out, err = cli("score", preds, "--references", SMALL_REFS, "--bootstrap", "0", "--format", "json")
    assert code == 0 and json.loads(out)["submission"]["malformed_spans"] == 5
    assert f"{preds}:1: warning:" in err and f"{preds}:2: warning:" in err


@pytest.mark.parametrize("name", sorted(EXPECTED))
@pytest.mark.parametrize("command", ["validate", "score"])
def test_broken_submission_exits_2_with_a_located_message(cli, name, command):
    line, text = EXPECTED[name]
    code, out, err = cli(command, BROKEN / name, "--references", SMALL_REFS)
    assert code == 2
    where = f"{BROKEN / name}:{line}:" if line else f"{BROKEN / name}:"
    assert any(row.startswith(where) and text in row for row in err.splitlines()), err
    assert "Traceback" not in err and out == ""


def test_validate_json_reporter_lists_every_error(cli, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "u1", "prediction": 3}\n{"id": "u1", "prediction": "x"}\nnot json\n', encoding="utf-8")
    code, out, _ = cli("validate", bad, "--references", SMALL_REFS, "--format", "json")
    report = json.loads(out)
    assert code == 2 and report["valid"] is False
    assert [(e["line"], e["field"]) for e in report["errors"]] == [(1, "prediction"), (2, "id"), (3, None)]


def test_missing_ids_warn_or_fail_with_strict(cli, tmp_path):
    preds = write_jsonl(tmp_path / "p.jsonl", [{"id": "u1", "prediction": "hello"}])
    code, out, err = cli("score", preds, "--references", SMALL_REFS, "--bootstrap", "0")
    assert code == 0 and "warning: id: 5 ids have no prediction" in err
    code, out, err = cli("score", preds, "--references", SMALL_REFS, "--strict")
    assert code == 2 and "(--strict)" in err


def test_ids_of_another_split_are_ignored_with_a_warning(cli, tmp_path):
    preds = write_jsonl(tmp_path / "p.jsonl", [{"id": "u1", "prediction": "x"}, {"id": "u6", "prediction": "y"}])
    code, out, err = cli("score", preds, "--references", SMALL_REFS, "--split", "test", "--format", "json", "--bootstrap", "0")
    assert code == 0 and "outside the scored split were ignored" in err
    assert json.loads(out)["submission"]["extra"] == 1


def test_missing_file_and_bad_options_exit_2(cli, tmp_path):
    code, _, err = cli("score", tmp_path / "nope.jsonl", "--references", SMALL_REFS)
    assert code == 2 and "nope.jsonl: file not found" in err
    code, _, err = cli("score", tmp_path / "nope.jsonl", "--references", SMALL_REFS, "--ci", "1.5")
    assert code == 2 and "--ci must be between 0 and 1" in err
    code, _, err = cli("score", "--bogus")
    assert code == 2 and "usage:" in err
    code, _, err = cli("score", SMALL_REFS, "--references", SMALL_REFS, "--split", "dev")
    assert code == 2 and "no row has split 'dev'" in err


def test_bad_references_file_is_reported_like_predictions(cli, tmp_path):
    refs = tmp_path / "refs.jsonl"
    refs.write_text('{"id": "a", "tagged_text": "[oops"}\n{"id": "b"}\n', encoding="utf-8")
    preds = write_jsonl(tmp_path / "p.jsonl", [{"id": "a", "prediction": "x"}])
    code, _, err = cli("score", preds, "--references", refs)
    assert code == 2
    assert f"{refs}:1: tagged_text: '[' at character 1 is never closed" in err
    assert f"{refs}:2: tagged_text: missing" in err


def test_deep_nesting_is_one_problem_among_others(cli, tmp_path):
    preds = tmp_path / "deep.jsonl"
    preds.write_text("[" * 100_000 + '\n{"id": 3, "prediction": "x"}\n', encoding="utf-8")
    code, out, err = cli("score", preds, "--references", SMALL_REFS)
    assert code == 2 and f"{preds}:1: invalid JSON: arrays or objects nested too deeply" in err
    assert f"{preds}:2: id: expected a string" in err and "bug" not in err


def test_results_with_malformed_spans_round_trip(tmp_path):
    import warnings

    import evoxtral_bench
    from evoxtral_bench.scoring.results import Results

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = evoxtral_bench.score(predictions={"u0": "ok ] [laugh"}, references={"u0": "ok [laughs]"}, bootstrap=0)
    assert results.submission.malformed_spans == 2
    assert Results.from_dict(results.to_dict()) == results
    old = results.to_dict()
    del old["submission"]["malformed_spans"]  # a document written before the field existed
    assert Results.from_dict(old).submission.malformed_spans == 0
