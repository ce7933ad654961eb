"""``leaderboard check``: the repository's entries pass; every kind of broken entry is named."""

from __future__ import annotations

import json
import os

import pytest
import yaml

from evoxtral_bench.scoring.options import TRACK_CHOICES
from tests.leaderboard.fixtures import REPORTED_META, SUBMISSIONS, VERIFIED_META, reference_rows, repository_kinds, write_entry


def good_predictions() -> list[dict]:
    return [{"id": i, "prediction": t} for i, t in reference_rows()]


def meta_text(meta: dict) -> str:
    return yaml.safe_dump(meta, sort_keys=False, allow_unicode=True)


def test_the_repository_submissions_pass(cli):
    code, out, err = cli("leaderboard", "check", "--submissions", SUBMISSIONS)
    assert code == 0, err
    kinds = list(repository_kinds().values())
    n_verified, n_reported = kinds.count("verified"), kinds.count("reported")
    assert f"OK, {len(kinds)} entries ({n_verified} verified, {n_reported} reported)" in out


def test_paper_rows_are_reported_with_their_averaging():
    for slug, tag_f1 in (("paper-base-voxtral", 0.22), ("paper-evoxtral-sft", 0.672), ("paper-evoxtral-rl", 0.694)):
        meta = yaml.safe_load((SUBMISSIONS / slug / "meta.yaml").read_text(encoding="utf-8"))
        assert meta["kind"] == "reported" and "Table 2" in meta["source"]
        assert meta["averaging"] == "per-utterance (paper)" and "50-utterance" in meta["notes"]
        assert meta["reported_metrics"]["tag_f1"] == tag_f1
        assert not (SUBMISSIONS / slug / "predictions.jsonl").exists()


def _verified(**changes: object) -> str:
    meta = {**VERIFIED_META, **changes}
    return meta_text({k: v for k, v in meta.items() if v is not DROP})


def _reported(**changes: object) -> str:
    meta = {**REPORTED_META, **changes}
    return meta_text({k: v for k, v in meta.items() if v is not DROP})


DROP = object()
CHOICES = ", ".join(TRACK_CHOICES)
METRICS = REPORTED_META["reported_metrics"]

# name -> (meta.yaml text, predictions (None: no file; True: the references), expected message)
BROKEN = {
    "yaml-syntax": ("name: [unclosed\nkind: verified\n", True, "broken/meta.yaml:2: invalid YAML"),
    "not-a-mapping": ("- a list\n- of things\n", True, "broken/meta.yaml:1: expected a mapping of fields"),
    "empty-meta": ("", True, "broken/meta.yaml: expected a mapping of fields"),
    "unknown-field": (_verified() + "homepage: https://x.org\n", True, "broken/meta.yaml:11: homepage: unknown field; allowed: name"),
    "duplicate-field": (_verified() + "name: Again\n", True, "broken/meta.yaml:11: name: duplicate field (first on line 1)"),
    "missing-field": (_verified(license=DROP), True, "broken/meta.yaml: license: missing (required)"),
    "boolean-as-text": (_verified(organization=True), True, "broken/meta.yaml:2: organization: expected a string, got a boolean"),
    "empty-name": (_verified(name="  "), True, "broken/meta.yaml:1: name: empty"),
    "control-character": (_verified(name="bad\x07name"), True, "name: control character U+0007"),
    "url-scheme": (_verified(url="javascript:alert(1)"), True, "broken/meta.yaml:3: url: 'javascript:alert(1)' is not an http(s) URL"),
    "params-negative": (_verified(params_b=-3), True, "broken/meta.yaml:5: params_b: expected a positive number, got -3"),
    "params-text": (_verified(params_b="3B"), True, "params_b: expected a number of parameters in billions"),
    "date-format": (_verified(date="24/11/2026"), True, "broken/meta.yaml:7: date: expected a date YYYY-MM-DD"),
    "date-impossible": (_verified(date="2026-02-30"), True, "date: '2026-02-30' is not a calendar date"),
    "kind-unknown": (_verified(kind="self-reported"), True, "broken/meta.yaml:8: kind: expected one of verified, reported"),
    "verified-with-metrics": (_verified(reported_metrics=METRICS), True, "reported_metrics: only for kind: reported"),
    "no-in-distribution": (_verified(in_distribution=DROP), True, "broken/meta.yaml: in_distribution: missing (required for kind: verified)"),
    "reference-as-text": (_verified(reference="yes"), True, "broken/meta.yaml:11: reference: expected true or false, got a string"),
    "track-unknown": (_verified(track="studio"), True, f"broken/meta.yaml:10: track: expected an audio track, one of {CHOICES}; got 'studio'"),
    "track-as-list": (_verified(track=["espeak-v1"]), True, "broken/meta.yaml:10: track: expected an audio track"),
    "track-missing": (_verified(track=DROP), True, f"broken/meta.yaml: track: missing (required): the audio track the predictions were made on: one of {CHOICES}"),
    "track-missing-reported": (_reported(track=DROP), None, "broken/meta.yaml: track: missing (required)"),
    "audio-replaced": (_verified(track=DROP, audio="offline"), True, f"broken/meta.yaml:10: audio: replaced by track; write track: NAME, the audio track the predictions were made on: one of {CHOICES}"),
    "track-none-not-reference": (_verified(track="none"), True, "broken/meta.yaml:10: track: none: predictions made without audio are a reference row; add reference: true"),
    "machine-too-long": (_verified(machine="x" * 501), True, "broken/meta.yaml:11: machine: 501 characters long; at most 500"),
    "machine-two-lines": (_verified(machine="AMD EPYC\nPython 3.11"), True, "broken/meta.yaml:11: machine: spans several lines; expected one line"),
    "test-size-zero": (_reported(test_size=0), None, "test_size: expected a positive integer, got 0"),
    "verified-no-predictions": (_verified(), None, "broken: predictions.jsonl is missing (required for kind: verified)"),
    "reported-with-predictions": (_reported(), True, "broken/predictions.jsonl: a reported entry carries no predictions"),
    "reported-no-source": (_reported(source=DROP), None, "broken/meta.yaml: source: missing (required for kind: reported)"),
    "reported-no-metrics": (_reported(reported_metrics=DROP), None, "reported_metrics: missing (required for kind: reported)"),
    "metric-as-percent": (_reported(reported_metrics={**METRICS, "wer": 6.64}), None, "reported_metrics.wer: 6.64 is outside [0, 1]"),
    "metric-unknown": (_reported(reported_metrics={**METRICS, "bleu": 0.3}), None, "reported_metrics.bleu: unknown metric"),
    "metric-missing": (_reported(reported_metrics={k: v for k, v in METRICS.items() if k != "cer"}), None, "reported_metrics.cer: missing"),
    "metrics-all-null": (_reported(reported_metrics={k: None for k in METRICS}), None, "every metric is null"),
    "predictions-invalid": (_verified(), '{"id": "evx-00011", "prediction": 3}\n', "broken/predictions.jsonl:1: prediction: expected a string, got number"),
    "predictions-malformed": (_verified(), '{"id": "evx-00011", "prediction": "[sighs"}\n', "broken/predictions.jsonl:1: warning: prediction: malformed tag markup '[' scored as punctuation"),
    "predictions-unknown-id": (_verified(), '{"id": "nope", "prediction": "x"}\n', "broken/predictions.jsonl:1: id: 'nope' is not an id of evoxtral_bench/corpus/data/corpus.jsonl"),
    "predictions-other-split": (
        _verified(),
        '{"id": "evx-00011", "prediction": "x"}\n{"id": "evx-00001", "prediction": "x"}\n',
        "broken/predictions.jsonl: warning: 1 predictions for ids outside the scored split",
    ),
    "predictions-only-other-split": (  # nothing to score: an error naming the split the ids are of
        _verified(),
        '{"id": "evx-00001", "prediction": "x"}\n',
        "broken/predictions.jsonl: id: none of the 1 predictions is for an id of split test of evoxtral_bench/corpus/data/corpus.jsonl: "
        "their ids are of split train (1); score them with --split train",
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_each_kind_of_broken_entry_is_reported(case, tmp_path, cli):
    meta, predictions, expected = BROKEN[case]
    write_entry(tmp_path, "good", VERIFIED_META, good_predictions())
    write_entry(tmp_path, "broken", meta, good_predictions() if predictions is True else predictions)
    code, out, err = cli("leaderboard", "check", "--submissions", tmp_path)
    assert expected.replace("broken", f"{tmp_path.as_posix()}/broken", 1) in err, err
    if "warning" in expected:  # the other split is ignored, the missing ids are empty predictions
        assert code == 0 and "OK, 2 entries" in out
    else:
        assert code == 2
        assert "1 entry (1 verified, 0 reported) valid" in err


def test_every_problem_is_collected_with_its_line(tmp_path, cli):
    write_entry(tmp_path, "many", _verified(name=3, url="ftp://x", params_b=0, kind="verified") + "colour: red\n", good_predictions())
    code, _, err = cli("leaderboard", "check", "--submissions", tmp_path)
    assert code == 2
    where = f"{tmp_path.as_posix()}/many/meta.yaml"
    for expected in (f"{where}:1: name: expected a string, got a number", f"{where}:3: url:", f"{where}:5: params_b:", f"{where}:11: colour: unknown field"):
        assert expected in err
    assert "4 problems" in err


def test_every_repository_entry_names_a_track():
    for path in sorted(SUBMISSIONS.glob("*/meta.yaml")):
        meta = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert "audio" not in meta and meta["track"] in TRACK_CHOICES, path
        if meta["track"] == "none":
            assert meta["reference"] is True, path


@pytest.mark.parametrize(("track", "expected"), [("elevenlabs-v3", "has no registered masked twin"), ("neural-v1-masked", "is a masked track")])
def test_masked_predictions_need_a_track_with_a_masked_twin(tmp_path, cli, track, expected):
    folder = write_entry(tmp_path, "entry", {**VERIFIED_META, "track": track}, good_predictions())
    (folder / "predictions.masked.jsonl").write_bytes((folder / "predictions.jsonl").read_bytes())
    code, _, err = cli("leaderboard", "check", "--submissions", tmp_path)
    assert code == 2 and f"{folder.as_posix()}/predictions.masked.jsonl: track: --track {track} {expected}" in err
    write_entry(tmp_path, "entry", {**VERIFIED_META, "track": "neural-v1"})
    code, out, err = cli("leaderboard", "check", "--submissions", tmp_path)
    assert code == 0 and "OK, 1 entry" in out, err


def test_bad_slug_and_stray_files(tmp_path, cli):
    write_entry(tmp_path, "Bad_Slug", VERIFIED_META, good_predictions())
    write_entry(tmp_path, "-dash", VERIFIED_META, good_predictions())
    folder = write_entry(tmp_path, "extra", VERIFIED_META, good_predictions())
    (folder / "notes.txt").write_text("hi", encoding="utf-8")
    (folder / "sub").mkdir()
    (tmp_path / "README.md").write_text("skipped", encoding="utf-8")
    (tmp_path / ".cache").mkdir()
    code, _, err = cli("leaderboard", "check", "--submissions", tmp_path)
    assert code == 2
    assert f"{tmp_path.as_posix()}/Bad_Slug: folder name is not a valid slug" in err
    assert f"{tmp_path.as_posix()}/-dash: folder name is not a valid slug" in err
    assert f"{tmp_path.as_posix()}/extra/notes.txt: unexpected file" in err
    assert f"{tmp_path.as_posix()}/extra/sub: unexpected folder" in err
    assert "README.md" not in err and ".cache" not in err


def test_symbolic_links_are_rejected_and_not_followed(tmp_path, cli):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "meta.yaml").write_text(_verified(), encoding="utf-8")
    (outside / "predictions.jsonl").write_text('{"id": "evx-00011", "prediction": "x"}\n', encoding="utf-8")
    root = tmp_path / "submissions"
    linked = root / "linked-meta"
    linked.mkdir(parents=True)
    os.symlink(outside / "meta.yaml", linked / "meta.yaml")
    (linked / "predictions.jsonl").write_text('{"id": "evx-00011", "prediction": "x"}\n', encoding="utf-8")
    os.symlink(outside, root / "linked-folder")
    preds = write_entry(root, "linked-preds", VERIFIED_META)
    os.symlink(outside / "predictions.jsonl", preds / "predictions.jsonl")
    code, _, err = cli("leaderboard", "check", "--submissions", root)
    assert code == 2
    base = root.as_posix()
    assert f"{base}/linked-meta/meta.yaml: is a symbolic link" in err
    assert f"{base}/linked-folder: is a symbolic link" in err
    assert f"{base}/linked-preds/predictions.jsonl: is a symbolic link" in err
    assert "meta.yaml is missing" not in err and "predictions.jsonl is missing" not in err


def test_oversized_meta_and_bad_utf8(tmp_path, cli):
    write_entry(tmp_path, "big", _verified(notes="x" * 1000) + "# " + "y" * 70_000 + "\n", good_predictions())
    folder = write_entry(tmp_path, "latin1", VERIFIED_META, good_predictions())
    (folder / "meta.yaml").write_bytes(_verified().encode() + b"notes: caf\xe9\n")
    code, _, err = cli("leaderboard", "check", "--submissions", tmp_path)
    assert code == 2
    assert "big/meta.yaml: " in err and "a meta.yaml is at most 65,536" in err
    assert "latin1/meta.yaml:11: invalid UTF-8 (byte 0xe9)" in err


def test_missing_meta_and_missing_folder(tmp_path, cli):
    (tmp_path / "empty").mkdir()
    code, _, err = cli("leaderboard", "check", "--submissions", tmp_path)
    assert code == 2 and f"{tmp_path.as_posix()}/empty: meta.yaml is missing" in err
    code, _, err = cli("leaderboard", "check", "--submissions", tmp_path / "nope")
    assert code == 2 and "not a folder of submissions" in err


def test_json_report_lists_errors_and_entries(tmp_path, cli):
    write_entry(tmp_path, "good", VERIFIED_META, good_predictions())
    write_entry(tmp_path, "bad", _verified(kind="other"), good_predictions())
    code, out, _ = cli("leaderboard", "check", "--submissions", tmp_path, "--format", "json")
    doc = json.loads(out)
    assert code == 2 and doc["valid"] is False and doc["entries"] == ["good"]
    assert [(e["line"], e["field"]) for e in doc["errors"]] == [(8, "kind")]


def test_every_track_with_ranked_entries_names_its_text_prior_floor():
    # the shipped floors: the text-only prior on each track's Whisper words; text-prior-gold
    # reads the gold words, so it stays a reference row and is no track's floor
    floors = {}
    for folder in sorted(SUBMISSIONS.iterdir()):
        meta = yaml.safe_load((folder / "meta.yaml").read_text(encoding="utf-8")) if (folder / "meta.yaml").is_file() else None
        if meta and meta.get("baseline"):
            assert meta["baseline"] == "text-prior" and meta["kind"] == "verified" and not meta.get("reference")
            floors.setdefault(meta["track"], []).append(folder.name)
    assert floors == {
        "espeak-v1": ["whisper-tiny-en-text-prior"],
        "espeak-v2": ["whisper-tiny-en-text-prior-espeak-v2"],
        "neural-v1": ["whisper-tiny-en-text-prior-neural-v1"],
        "neural-v2": ["whisper-tiny-en-text-prior-neural-v2"],
    }


def test_baseline_is_checked(tmp_path, cli):
    root = tmp_path / "subs"
    write_entry(root, "bad-value", {**VERIFIED_META, "baseline": "prior"}, good_predictions())
    write_entry(root, "on-reference", {**VERIFIED_META, "track": "none", "reference": True, "baseline": "text-prior"}, good_predictions())
    write_entry(root, "floor-a", {**VERIFIED_META, "baseline": "text-prior"}, good_predictions())
    write_entry(root, "floor-b", {**VERIFIED_META, "baseline": "text-prior"}, good_predictions())
    code, _, err = cli("leaderboard", "check", "--submissions", root)
    assert code == 2
    assert "bad-value/meta.yaml" in err and "baseline: expected text-prior" in err
    assert "on-reference/meta.yaml" in err and "only a ranked entry" in err
    assert "floor-b/meta.yaml: baseline: track espeak-v1 already has its floor (floor-a)" in err
    assert "floor-a/meta.yaml" not in err
