"""The command line end to end: formats, signature, compare, tags, determinism, imports."""

import json
import subprocess
import sys

import pytest

import evoxtral_bench
from evoxtral_bench.cli.app import main
from tests.helpers import SMALL_REFS, refs_rows, write_jsonl

SPEC_KEYS = {"benchmark", "submission", "config", "metrics", "per_tag", "breakdowns", "extras", "signature"}
SEVEN = {"wer", "cer", "tag_precision", "tag_recall", "tag_f1", "tag_hallucination_rate", "emphasis_f1"}


@pytest.fixture
def preds(tmp_path):
    rows = [{"id": r["id"], "prediction": r["tagged_text"].replace("[pause]", "").lower()} for r in refs_rows()]
    return write_jsonl(tmp_path / "preds.jsonl", rows)


def test_json_has_every_spec_key_and_a_signature(cli, preds):
    code, out, _ = cli("score", preds, "--references", SMALL_REFS, "--format", "json", "--bootstrap", "200")
    assert code == 0
    doc = json.loads(out)
    assert set(doc) == SPEC_KEYS
    assert set(doc["metrics"]) == SEVEN
    for entry in doc["metrics"].values():
        assert set(entry) == {"value", "ci_low", "ci_high", "defined", "higher_is_better"}
    assert {"name", "version", "split", "n", "references_sha256"} <= set(doc["benchmark"])
    assert {"path", "sha256", "predictions", "missing", "extra", "oov_tags"} <= set(doc["submission"])
    assert doc["config"]["bootstrap"] == {"n": 200, "seed": 0, "ci": 0.95}
    assert doc["signature"].startswith("evoxtral-bench:1|refs:")
    assert "|norm:basic|legacy:no|" in doc["signature"] and "|boot:200|seed:0|ci:0.95|" in doc["signature"]
    assert set(doc["breakdowns"]) == {"slice", "domain"}
    assert doc["breakdowns"]["slice"]["light"]["n"] == 3


def test_table_shows_the_seven_metrics_with_intervals(cli, preds):
    code, out, _ = cli("score", preds, "--references", SMALL_REFS)
    assert code == 0
    for label in ("WER ↓", "CER ↓", "Tag precision ↑", "Tag recall ↑", "Tag F1 ↑", "Tag hallucination ↓", "Emphasis F1 ↑"):
        line = next(row for row in out.splitlines() if row.startswith(label))
        assert "[" in line and "]" in line
    assert "signature: evoxtral-bench:1" in out
    code, md, _ = cli("score", preds, "--references", SMALL_REFS, "--format", "markdown")
    assert "| metric | value | 95% CI |" in md


def test_same_seed_byte_identical_json_and_output_file(cli, preds, tmp_path):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    assert cli("score", preds, "--references", SMALL_REFS, "--format", "json", "--output", a)[0] == 0
    assert cli("score", preds, "--references", SMALL_REFS, "--format", "json", "--output", b)[0] == 0
    assert a.read_bytes() == b.read_bytes()
    cli("score", preds, "--references", SMALL_REFS, "--format", "json", "--output", b, "--seed", "1")
    assert a.read_bytes() != b.read_bytes()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp files left


def test_compare_identical_files_gives_zero_delta_and_p_one(cli, preds):
    code, out, _ = cli("compare", preds, preds, "--references", SMALL_REFS, "--format", "json")
    assert code == 0
    for entry in json.loads(out)["metrics"].values():
        assert entry["delta"] == 0.0 and entry["p_value"] == 1.0
        assert entry["ci_low"] == entry["ci_high"] == 0.0


def test_compare_table_prints_delta_interval_and_p(cli, preds, tmp_path):
    other = write_jsonl(tmp_path / "plain.jsonl", [{"id": r["id"], "prediction": "words"} for r in refs_rows()])
    code, out, _ = cli("compare", preds, other, "--references", SMALL_REFS)
    assert code == 0
    line = next(row for row in out.splitlines() if row.startswith("Tag F1 ↑"))
    assert line.split()[5].startswith("+") and "[" in line


@pytest.mark.parametrize("fmt", ["table", "markdown"])
def test_compare_header_names_the_two_files(cli, preds, tmp_path, fmt):
    other = write_jsonl(tmp_path / "plain.jsonl", [{"id": r["id"], "prediction": "words"} for r in refs_rows()])
    code, out, _ = cli("compare", preds, other, "--references", SMALL_REFS, "--format", fmt, "--bootstrap", "20")
    assert code == 0
    assert out.splitlines()[1:3] == [f"A = {preds}", f"B = {other}"]


@pytest.mark.parametrize("command", ["score", "compare"])
def test_header_says_benchmark_version_and_package_version_apart(cli, preds, command):
    inputs = [preds] if command == "score" else [preds, preds]
    code, out, _ = cli(command, *inputs, "--references", SMALL_REFS, "--bootstrap", "0")
    assert code == 0
    assert out.startswith(f"Evoxtral-Bench benchmark v1 (scored by evoxtral-bench {evoxtral_bench.__version__})")


def test_tags_lists_vocabulary_aliases_and_adapters(cli):
    code, out, _ = cli("tags")
    assert code == 0 and "[clears throat]" in out and "[chuckles] -> [laughs]" in out and "sensevoice" in out
    doc = json.loads(cli("tags", "--format", "json")[1])
    assert len(doc["canonical"]) == 17 and doc["version"] == 1


def test_adapter_is_applied_before_scoring(cli, tmp_path):
    refs = write_jsonl(tmp_path / "r.jsonl", [{"id": "a", "tagged_text": "[laughs] ha so funny"}])
    preds = write_jsonl(tmp_path / "p.jsonl", [{"id": "a", "prediction": "<|en|><|Laughter|> ha so funny"}])
    doc = json.loads(cli("score", preds, "--references", refs, "--adapter", "sensevoice", "--format", "json")[1])
    assert doc["metrics"]["tag_f1"]["value"] == 1.0 and "|adapter:sensevoice|" in doc["signature"]


def test_help_and_version_return_0_without_exiting():
    assert main(["--version"]) == 0
    assert main(["score", "--help"]) == 0


@pytest.mark.parametrize("command", ["score", "compare", "validate"])
def test_strict_help_names_both_things_it_refuses(cli, command):
    code, out, _ = cli(command, "--help")
    assert code == 0
    strict = " ".join(out.split("--strict", 1)[1].split())  # argparse wraps the help text
    assert "ids missing from the predictions" in strict and "malformed tag markup" in strict


def test_internal_failure_exits_1_without_traceback(monkeypatch, cli, preds):
    from evoxtral_bench.cli import app as cli_module

    def boom(*args, **kwargs):
        raise RuntimeError("simulated")

    monkeypatch.setattr(cli_module, "score_with_grounding", boom)
    code, _, err = cli("score", preds, "--references", SMALL_REFS)
    assert code == 1 and "internal error: RuntimeError: simulated" in err and "Traceback" not in err


def test_scoring_does_not_import_torch_transformers_or_datasets(preds):
    code = (
        "import sys\n"
        "from evoxtral_bench.cli import main\n"
        f"rc = main(['score', {str(preds)!r}, '--references', {str(SMALL_REFS)!r}, '--format', 'json'])\n"
        "heavy = sorted(m for m in ('torch', 'transformers', 'datasets') if m in sys.modules)\n"
        "print(rc, heavy, file=sys.stderr)\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stderr.strip().endswith("0 []"), run.stderr


def test_console_script_runs_as_a_process(preds):
    run = subprocess.run(["evoxtral-bench", "score", str(preds), "--references", str(SMALL_REFS)], capture_output=True, text=True)
    assert run.returncode == 0 and "Tag F1" in run.stdout


def test_compare_marks_undefined_and_includes_tag_macro_f1(cli, preds, tmp_path):
    plain = write_jsonl(tmp_path / "plain.jsonl", [{"id": r["id"], "prediction": "words"} for r in refs_rows()])
    code, out, _ = cli("compare", preds, plain, "--references", SMALL_REFS, "--format", "json")
    assert code == 0
    doc = json.loads(out)
    precision = doc["metrics"]["tag_precision"]  # the plain system predicts no tag: undefined for B
    assert precision["a_defined"] and not precision["b_defined"] and not precision["defined"]
    for side, path in (("a", preds), ("b", plain)):  # macro-F1 of each side is the one `score` reports
        scored = json.loads(cli("score", path, "--references", SMALL_REFS, "--format", "json")[1])
        assert doc["metrics"]["tag_macro_f1"][side] == scored["extras"]["tag_macro_f1"]["value"]
    assert list(doc["metrics"])[7:] == ["tag_macro_f1", "tag_f1_pos", "tag_f1_at_0", "tag_f1_at_1", "mean_tag_offset_words"]
    assert evoxtral_bench.Comparison.from_dict(doc).to_dict() == doc
    code, out, _ = cli("compare", preds, plain, "--references", SMALL_REFS)
    line = next(row for row in out.splitlines() if row.startswith("Tag precision ↑"))
    assert "0.00 (undefined)" in line and "undefined" in line.split("(undefined)")[1] and line.rstrip().endswith("—")
    assert any(row.startswith("Tag macro-F1 ↑") for row in out.splitlines())


def test_jobs_must_be_positive_and_do_not_change_the_numbers(cli, preds, tmp_path, monkeypatch):
    code, _, err = cli("compare", preds, preds, "--references", SMALL_REFS, "--jobs", "0")
    assert code == 2 and "--jobs must be 1 or more, got 0" in err and "Traceback" not in err
    from evoxtral_bench.scoring import core

    monkeypatch.setattr(core, "PARALLEL_MIN_ROWS", 0)  # a worker process even for the small file
    other = write_jsonl(tmp_path / "plain.jsonl", [{"id": r["id"], "prediction": "words [sighs]"} for r in refs_rows()])
    outputs = [cli("compare", preds, other, "--references", SMALL_REFS, "--format", "json", "--jobs", jobs)[1] for jobs in ("1", "2")]
    assert outputs[0] == outputs[1] and json.loads(outputs[0])["metrics"]["wer"]["delta"] < 0


def _corpus_rows(split: str, n: int) -> list[dict]:
    from evoxtral_bench.scoring.core import shipped_references

    rows = [json.loads(line) for line in shipped_references().read_text(encoding="utf-8").splitlines()]
    return [{"id": r["id"], "prediction": r["tagged_text"]} for r in rows if r["split"] == split][:n]


@pytest.mark.parametrize("command", ["validate", "score"])
def test_predictions_all_of_another_split_are_an_error_naming_that_split(cli, tmp_path, command):
    preds = write_jsonl(tmp_path / "train.jsonl", _corpus_rows("train", 128))
    code, out, err = cli(command, preds, *(["--bootstrap", "0"] if command == "score" else []))
    assert code == 2 and out == "" and "OK" not in err
    assert "none of the 128 predictions is for an id of split test of evoxtral_bench/corpus/data/corpus.jsonl" in err
    assert "their ids are of split train (128); score them with --split train" in err
    code, out, _ = cli(command, preds, "--split", "train", *(["--bootstrap", "0"] if command == "score" else []))
    assert code == 0
    nothing = evoxtral_bench.validate(predictions={})  # no record at all: nothing to score either
    assert not nothing.valid and "no prediction for any of the 128 ids of split test" in str(nothing.errors[0])


def test_unknown_id_names_the_split_and_the_fix(cli, tmp_path):
    preds = write_jsonl(tmp_path / "p.jsonl", [*_corpus_rows("test", 3), {"id": "evx-99999", "prediction": "hi"}])
    code, _, err = cli("validate", preds)
    assert code == 2
    assert f"{preds}:4: id: 'evx-99999' is not an id of evoxtral_bench/corpus/data/corpus.jsonl (in any split; scoring its split test)" in err
    assert "--references FILE (and --split LABEL)" in err


def test_validate_reports_out_of_vocabulary_tags_with_the_nearest_canonical_label(cli, tmp_path):
    rows = _corpus_rows("test", 128)
    rows[2]["prediction"] = "[sighz] " + rows[2]["prediction"]
    rows[4]["prediction"] = "[sighz] [qqqqxz] " + rows[4]["prediction"]
    preds = write_jsonl(tmp_path / "p.jsonl", rows)
    code, out, err = cli("validate", preds)
    assert code == 0 and "OK, 128 predictions" in out
    assert f"{preds}: warning: prediction: 3 out-of-vocabulary tags" in err
    assert "[sighz]×2 (first on line 3; nearest canonical label [sighs])" in err
    assert "[qqqqxz]×1 (first on line 5; no canonical label is near)" in err
    found = evoxtral_bench.validate(predictions=preds)
    assert found.valid and any("[sighz]×2" in str(w) for w in found.warnings)
    clean = evoxtral_bench.validate(predictions=write_jsonl(tmp_path / "clean.jsonl", _corpus_rows("test", 128)))
    assert clean.valid and not clean.problems
