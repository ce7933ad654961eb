"""The grounding gap: full-track vs masked-track predictions of one system, through compare's bootstrap."""

from __future__ import annotations

import json

import pytest

import evoxtral_bench
from evoxtral_bench.scoring.results import Results
from tests.helpers import SMALL_REFS, refs_rows, write_jsonl

TAGS = ("[laughs]", "[sighs]", "[whispers]", "[pause]", "[gasps]", "[crying]", "[excited]", "[clears throat]")


def _plain(text: str) -> str:
    for tag in TAGS:
        text = text.replace(tag, "")
    return text


@pytest.fixture
def files(tmp_path):
    rows = refs_rows()
    full = write_jsonl(tmp_path / "full.jsonl", [{"id": r["id"], "prediction": r["tagged_text"]} for r in rows])
    # the masked run keeps the words and CAPS of every row but loses the tags of all but the first two rows
    masked = write_jsonl(
        tmp_path / "masked.jsonl",
        [{"id": r["id"], "prediction": r["tagged_text"] if i < 2 else _plain(r["tagged_text"])} for i, r in enumerate(rows)],
    )
    return full, masked


def test_without_masked_file_the_document_is_unchanged(cli, files):
    full, _ = files
    code, out, _ = cli("score", full, "--references", SMALL_REFS, "--format", "json", "--bootstrap", "200")
    assert code == 0
    assert "grounding" not in json.loads(out)
    results = evoxtral_bench.score(predictions=full, references=SMALL_REFS, bootstrap=200)
    assert results.grounding is None and results.to_json() == out


def test_grounding_section_reuses_compare_and_round_trips(cli, files):
    full, masked = files
    code, out, _ = cli("score", full, "--masked", masked, "--references", SMALL_REFS, "--format", "json", "--bootstrap", "300")
    assert code == 0
    doc = json.loads(out)
    section = doc["grounding"]
    assert set(section["metrics"]) == {"tag_f1", "emphasis_f1"}
    assert section["masked_submission"]["path"] == str(masked)
    paired = evoxtral_bench.compare(a=full, b=masked, references=SMALL_REFS, bootstrap=300)
    masked_alone = evoxtral_bench.score(predictions=masked, references=SMALL_REFS, bootstrap=300)
    for name, gap in section["metrics"].items():
        assert gap["gap"] == paired[name].to_dict(name)
        assert gap["full"] == doc["metrics"][name]
        assert gap["masked"] == masked_alone.to_dict()["metrics"][name]
    tag = section["metrics"]["tag_f1"]
    assert tag["full"]["value"] == 1.0 and 0 < tag["masked"]["value"] < 1
    assert tag["grounded_share"] == pytest.approx(1 - tag["masked"]["value"])
    assert tag["gap"]["delta"] > 0 and tag["gap"]["ci_low"] > 0
    emphasis = section["metrics"]["emphasis_f1"]  # CAPS kept on both tracks: no gap
    assert emphasis["gap"]["delta"] == 0 and emphasis["gap"]["p_value"] == 1.0 and emphasis["grounded_share"] == 0
    results = Results.from_dict(doc)
    assert results.grounding is not None and results.grounding["tag_f1"].gap.delta == tag["gap"]["delta"]
    assert Results.from_dict(results.to_dict()) == results and results.to_json() == out


def test_same_predictions_on_both_tracks_have_no_gap_and_zero_full_has_no_share(files, tmp_path):
    full, _ = files
    same = evoxtral_bench.score(predictions=full, masked=full, references=SMALL_REFS, bootstrap=100).grounding
    assert same is not None and same["tag_f1"].gap.delta == 0 and same["tag_f1"].gap.p_value == 1.0
    assert same["tag_f1"].grounded_share == 0.0
    plain = write_jsonl(tmp_path / "plain.jsonl", [{"id": r["id"], "prediction": "words"} for r in refs_rows()])
    none = evoxtral_bench.score(predictions=plain, masked=full, references=SMALL_REFS, bootstrap=0).grounding
    assert none is not None and none["tag_f1"].grounded_share is None and none["tag_f1"].gap.ci_low is None


def test_table_and_markdown_show_the_gap(cli, files):
    full, masked = files
    for fmt, marker in (("table", "Grounding (full track espeak-v1 vs masked track espeak-v1-masked"), ("markdown", "| Tag F1 ↑ |")):
        code, out, _ = cli("score", full, "--masked", masked, "--references", SMALL_REFS, "--format", fmt, "--bootstrap", "100", "--track", "espeak-v1")
        assert code == 0 and marker in out and "grounded share %" in out


@pytest.mark.parametrize(
    ("track", "twin"), [("neural-v1", "neural-v1-masked"), ("espeak-v1", "espeak-v1-masked"), ("none", "none"), (None, "unspecified")]
)
def test_masked_predictions_are_for_the_tracks_masked_twin(files, track, twin):
    full, masked = files
    options = {} if track is None else {"track": track}
    results = evoxtral_bench.score(predictions=full, masked=masked, references=SMALL_REFS, bootstrap=0, **options)
    assert results.signature.track == (track or "unspecified") and results.grounding.track == twin
    doc = results.to_dict()
    assert doc["grounding"]["track"] == twin and Results.from_dict(doc) == results


@pytest.mark.parametrize(("track", "message"), [("neural-v1-masked", "is a masked track"), ("elevenlabs-v3", "has no registered masked twin")])
def test_masked_track_or_one_without_twin_with_masked_is_exit_2(cli, files, track, message):
    full, masked = files
    code, out, err = cli("score", full, "--masked", masked, "--references", SMALL_REFS, "--track", track)
    assert code == 2 and out == "" and message in err and f"--track {track}" in err and "Traceback" not in err
    with pytest.raises(evoxtral_bench.InputError, match=message):
        evoxtral_bench.score(predictions=full, masked=masked, references=SMALL_REFS, track=track)
    # without --masked the same track is fine: masked-track predictions are scored as such
    assert cli("score", full, "--references", SMALL_REFS, "--track", track, "--bootstrap", "0")[0] == 0


def test_bad_masked_file_and_legacy_are_exit_2(cli, files, tmp_path):
    full, _ = files
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"id": "nope", "prediction": "x"}\n', encoding="utf-8")
    code, _, err = cli("score", full, "--masked", broken, "--references", SMALL_REFS)
    assert code == 2 and f"{broken}:1" in err
    code, _, err = cli("score", full, "--masked", full, "--references", SMALL_REFS, "--legacy")
    assert code == 2 and "--legacy" in err
    with pytest.raises(evoxtral_bench.InputError):
        evoxtral_bench.score(predictions=full, masked=broken, references=SMALL_REFS)


def test_same_inputs_give_the_same_grounding_bytes(cli, files):
    full, masked = files
    args = ("score", full, "--masked", masked, "--references", SMALL_REFS, "--format", "json", "--bootstrap", "200", "--seed", "3")
    first, second = cli(*args), cli(*args)
    assert first[0] == 0 and first[1] == second[1]


def test_no_share_of_a_full_score_whose_interval_reaches_zero(tmp_path):
    """One of the rows keeps its tags, the others have none: tag F1 is above 0, but a resample
    without that row scores 0, so the interval reaches 0 and 1 − masked / full has no bounds."""
    rows = refs_rows()
    plain = [evoxtral_bench.plain_text(r["tagged_text"]) for r in rows]
    full = write_jsonl(tmp_path / "full.jsonl", [{"id": r["id"], "prediction": r["tagged_text"] if i == 0 else plain[i]} for i, r in enumerate(rows)])
    masked = write_jsonl(tmp_path / "masked.jsonl", [{"id": r["id"], "prediction": text} for r, text in zip(rows, plain)])
    tag = evoxtral_bench.score(predictions=full, masked=masked, references=SMALL_REFS, bootstrap=500).grounding["tag_f1"]
    assert tag.full.value > 0 and tag.full.ci_low == 0
    assert tag.grounded_share is None and tag.gap.delta == tag.full.value
    without_intervals = evoxtral_bench.score(predictions=full, masked=masked, references=SMALL_REFS, bootstrap=0).grounding["tag_f1"]
    assert without_intervals.grounded_share == pytest.approx(1.0)  # no interval to judge by: the share of a nonzero score
