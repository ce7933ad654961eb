"""Entries with masked-track predictions: the grounding gap in results.json, leaderboard.json and the entry page."""

from __future__ import annotations

import json

from tests.leaderboard.fixtures import REPORTED_META, all_rows, synthetic_predictions, verified_entry, write_entry


def _write_masked(folder, seed: int, tag_drop: float) -> None:
    rows = synthetic_predictions(seed, tag_drop=tag_drop)
    (folder / "predictions.masked.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def test_masked_predictions_add_the_gap_to_results_board_and_page(tmp_path, cli):
    submissions = tmp_path / "submissions"
    listens = verified_entry(submissions, "listens", 1, tag_drop=0.1)
    _write_masked(listens, 2, tag_drop=0.9)
    verified_entry(submissions, "plain", 3, tag_drop=0.5)
    code, _, err = cli("leaderboard", "build", "--submissions", submissions, "--out", tmp_path / "site", "--no-progress")
    assert code == 0, err
    site = tmp_path / "site"
    doc = json.loads((site / "entries/listens/results.json").read_text(encoding="utf-8"))
    code, out, _ = cli("score", listens / "predictions.jsonl", "--masked", listens / "predictions.masked.jsonl", "--format", "json", "--track", "espeak-v1")
    assert code == 0
    by_cli = json.loads(out)["grounding"]
    assert doc["grounding"]["masked_submission"]["path"] == "listens/predictions.masked.jsonl"
    assert doc["grounding"]["track"] == by_cli["track"] == "espeak-v1-masked" and doc["config"]["track"] == "espeak-v1"
    assert doc["grounding"]["metrics"] == by_cli["metrics"]
    tag = doc["grounding"]["metrics"]["tag_f1"]
    assert tag["gap"]["delta"] > 0.3 and tag["gap"]["p_value"] < 0.05
    assert "grounding" not in json.loads((site / "entries/plain/results.json").read_text(encoding="utf-8"))

    board = all_rows(json.loads((site / "leaderboard.json").read_text(encoding="utf-8")), "verified")
    summary = board["listens"]["grounding"]["tag_f1"]
    assert summary["gap"] == tag["gap"]["delta"] and summary["ci_low"] == tag["gap"]["ci_low"]
    assert summary["grounded_share"] == tag["grounded_share"] and summary["masked"] == tag["masked"]["value"]
    assert board["listens"]["masked_predictions"] == "entries/listens/predictions.masked.jsonl"
    assert "grounding" not in board["plain"] and "masked_predictions" not in board["plain"]
    assert (site / "entries/listens/predictions.masked.jsonl").read_bytes() == (listens / "predictions.masked.jsonl").read_bytes()
    page = (site / "entries/listens/index.html").read_text(encoding="utf-8")
    assert "Grounding gap" in page and f"{100 * tag['gap']['delta']:.2f}" in page
    assert "Grounding gap" not in (site / "entries/plain/index.html").read_text(encoding="utf-8")
    index = (site / "index.html").read_text(encoding="utf-8")
    row = {slug: index.split(f'<tr data-slug="{slug}"', 1)[1].split("</tr>", 1)[0] for slug in ("listens", "plain")}
    gap = f"{100 * tag['gap']['delta']:.1f}"  # the main table's Gap column: full − masked tag F1 with its interval
    assert f'data-value="{tag["gap"]["delta"]!r}"' in row["listens"] and f'<span class="v">{gap}</span>' in row["listens"]
    assert f"{100 * tag['gap']['ci_low']:.1f}–{100 * tag['gap']['ci_high']:.1f}" in row["listens"]
    assert "no masked-track predictions" in row["plain"]

    _write_masked(listens, 4, tag_drop=0.8)  # a new masked file re-scores that entry only
    code, out, err = cli("leaderboard", "build", "--submissions", submissions, "--out", site, "--no-progress")
    assert code == 0, err
    again = json.loads((site / "entries/listens/results.json").read_text(encoding="utf-8"))["grounding"]
    assert again["masked_submission"]["sha256"] != doc["grounding"]["masked_submission"]["sha256"]


def test_check_rejects_masked_files_that_do_not_fit(tmp_path, cli):
    submissions = tmp_path / "submissions"
    reported = write_entry(submissions, "quoted", REPORTED_META)
    _write_masked(reported, 1, tag_drop=0.5)
    broken = verified_entry(submissions, "broken", 1, tag_drop=0.1)
    (broken / "predictions.masked.jsonl").write_text('{"id": "nope", "prediction": "x"}\n', encoding="utf-8")
    code, _, err = cli("leaderboard", "check", "--submissions", submissions)
    assert code == 2
    assert "quoted/predictions.masked.jsonl: a reported entry carries no predictions" in err
    assert "broken/predictions.masked.jsonl:1" in err


def test_committed_baselines_gaps_text_prior_about_zero_tagger_large(cli):
    """The acceptance figures, measured on the committed predictions (README, dataset card)."""
    from tests.leaderboard.fixtures import SUBMISSIONS

    def gap(slug: str) -> dict:
        folder = SUBMISSIONS / slug
        code, out, err = cli("score", folder / "predictions.jsonl", "--masked", folder / "predictions.masked.jsonl", "--format", "json")
        assert code == 0, err
        return json.loads(out)["grounding"]["metrics"]["tag_f1"]

    prior = gap("whisper-tiny-en-text-prior")
    assert prior["gap"]["ci_low"] < 0 < prior["gap"]["ci_high"] and prior["gap"]["p_value"] > 0.05
    gold = gap("text-prior-gold")
    assert gold["gap"]["delta"] == 0 and gold["full"]["value"] > 0.3
    tagger = gap("whisper-tiny-en-tagger")
    assert tagger["gap"]["ci_low"] > 0.5 and tagger["gap"]["p_value"] < 0.01 and tagger["grounded_share"] > 0.8
