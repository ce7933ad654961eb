"""Tables per benchmark version: an entry is scored on its track's references and each table is
ranked by the headline of its version (docs/spec.md §6.9, §8); a v2 entry leaves the v1 table as it was."""

from __future__ import annotations

import csv
import io
import json
import random
import shutil

import pytest

from tests.helpers import need  # noqa: E402

need("matplotlib", "jinja2")

from evoxtral_bench.leaderboard.oracle import corrupt  # noqa: E402
from evoxtral_bench.scoring.core import load_references  # noqa: E402
from evoxtral_bench.scoring.submission import Problems  # noqa: E402
from evoxtral_bench.tracks import REFERENCE_SETS  # noqa: E402
from tests.leaderboard.fixtures import SUBMISSIONS, VERIFIED_META, verified_entry, write_entry  # noqa: E402


def v2_predictions(seed: int, tag_drop: float) -> list[dict]:
    """Predictions for every v2 test script: its reference with a share ``tag_drop`` of the tags dropped."""
    refs = load_references(None, None, Problems(), reference_set=REFERENCE_SETS["v2"])
    rng = random.Random(seed)
    return [{"id": r.id, "prediction": corrupt(r.tagged_text, rng, tag_drop=tag_drop)} for r in refs.rows]


def _submissions(root, *, v2: bool):
    """Two v1 entries, the plain oracle (track none) and, with ``v2``, two espeak-v2 entries."""
    for slug, seed, drop in (("one-a", 1, 0.3), ("one-b", 2, 0.6)):
        verified_entry(root, slug, seed, tag_drop=drop)
    shutil.copytree(SUBMISSIONS / "oracle-plain", root / "oracle-plain")
    if v2:
        for slug, seed, drop in (("two-a", 3, 0.2), ("two-b", 4, 0.7)):
            write_entry(root, slug, {**VERIFIED_META, "name": f"System {slug}", "track": "espeak-v2"}, v2_predictions(seed, drop))
    return root


def _build(cli, submissions, out) -> dict:
    code, _, err = cli("leaderboard", "build", "--submissions", submissions, "--out", out, "--no-progress")
    assert code == 0, err
    return json.loads((out / "leaderboard.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def boards(tmp_path_factory):
    """leaderboard.json of the v1 entries alone, and with the v2 entries (built into the same folder)."""
    from evoxtral_bench.cli.app import main

    root = tmp_path_factory.mktemp("versions")
    out = root / "site"
    docs = []
    for v2 in (False, True):
        submissions = _submissions(root / f"submissions-{v2}", v2=v2)
        assert main(["leaderboard", "build", "--submissions", str(submissions), "--out", str(out), "--no-progress"]) == 0
        docs.append(json.loads((out / "leaderboard.json").read_text(encoding="utf-8")))
        if v2:
            csv_text = (out / "leaderboard.csv").read_text(encoding="utf-8")
            html = (out / "index.html").read_text(encoding="utf-8")
    return docs[0], docs[1], csv_text, html, root


def _table(board: dict, track: str) -> dict:
    return next(t for t in board["tracks"] if t["track"] == track)


def test_a_v2_table_is_ranked_by_the_anchored_headline(boards, cli):
    _, board, _, html, root = boards
    assert [t["track"] for t in board["tracks"]] == ["espeak-v1", "espeak-v2"]
    v2 = _table(board, "espeak-v2")
    assert v2["metric"] == "tag_f1_anchored"
    info = v2["references"]
    assert (info["n"], info["version"], info["scripts"], info["renderings"], info["split"]) == (768, 2, 768, 1, "test")
    assert info["references"] == "evoxtral_bench/corpus/data/test-v2.jsonl" and "|n:768|" in v2["signature"]
    assert [r["slug"] for r in v2["verified"]] == ["two-a", "two-b"] and v2["reference"] == []  # no text-made rows on v2
    # each row's headline is the CLI's own score on the v2 references (an independent run of `score`)
    for row in v2["verified"]:
        code, out, _ = cli("score", root / "submissions-True" / row["slug"] / "predictions.jsonl", "--track", "espeak-v2", "--format", "json")
        assert code == 0
        scored = json.loads(out)
        assert row["metrics"]["tag_f1_anchored"]["value"] == scored["extras"]["tag_f1_anchored"]["value"]
        assert scored["benchmark"]["n"] == 768
        for family in ("sounds", "delivery", "pause", "stammer"):  # each tag family's headline, as the document has it
            assert row["metrics"][f"tag_f1_anchored_{family}"] == {k: scored["extras"][f"tag_f1_anchored_{family}"][k] for k in ("value", "ci_low", "ci_high", "defined")}
    assert "Anch. delivery" in html.split('id="track-espeak-v2"')[1] and "Anch. delivery" not in html.split('id="track-espeak-v2"')[0]
    (pair,) = v2["pairs"]
    a, b = (row["metrics"]["tag_f1_anchored"]["value"] for row in v2["verified"])
    assert pair["delta"] == pytest.approx(a - b, abs=1e-12) and pair["significant"]  # 20% against 70% of the tags dropped
    assert [r["rank"] for r in v2["verified"]] == [1, 2]
    assert 'id="track-espeak-v2"' in html and "768 utterances of 768 scripts · benchmark version 2" in html
    assert "ranked by <strong>Tag F1 (anchored, ±1)</strong>" in html


def test_the_v1_table_is_unchanged_by_a_v2_entry(boards):
    alone, board, csv_text, _, _ = boards
    before, after = _table(alone, "espeak-v1"), _table(board, "espeak-v1")
    assert before == after and after["metric"] == "tag_f1_pos" and after["references"]["n"] == 128
    assert [r["slug"] for r in after["reference"]] == ["oracle-plain"]  # the text-made row is on v1's references only
    rows = {r["slug"]: r for r in csv.DictReader(io.StringIO(csv_text))}
    assert rows["two-a"]["rank_metric"] == "tag_f1_anchored" and rows["one-a"]["rank_metric"] == "tag_f1_pos"
    assert rows["one-a"]["tag_f1_anchored"] == "" and float(rows["two-a"]["tag_f1_anchored"]) > 0
    assert rows["one-a"]["tag_f1_anchored_sounds"] == "" and rows["two-a"]["tag_f1_anchored_sounds"] != ""  # the family columns: v2 rows only
    assert not any(k.startswith("tag_f1_anchored") for k in after["verified"][0]["metrics"])


def test_check_accepts_a_v2_entry_and_refuses_ids_of_other_references(tmp_path, cli):
    submissions = tmp_path / "submissions"
    predictions = v2_predictions(5, 0.3)
    write_entry(submissions, "two-a", {**VERIFIED_META, "track": "espeak-v2"}, predictions)
    code, out, err = cli("leaderboard", "check", "--submissions", submissions)
    assert code == 0 and "OK, 1 entry (1 verified, 0 reported)" in out, err
    write_entry(submissions, "two-on-v1", {**VERIFIED_META, "track": "espeak-v1"}, predictions)  # v2 ids on a v1 track
    code, _, err = cli("leaderboard", "check", "--submissions", submissions)
    assert code == 2
    assert "two-on-v1/predictions.jsonl:" in err and "is not an id of evoxtral_bench/corpus/data/corpus.jsonl" in err
    assert "two-on-v1/meta.yaml: track: track espeak-v1 is scored on the benchmark-version-1 references" in err
    assert "two-a" not in err


def test_summary_names_each_tables_metric(boards, cli):
    root = boards[4]
    code, out, err = cli("leaderboard", "summary", "--submissions", root / "submissions-True")
    assert code == 0, err
    one, two = out.split("### Track `espeak-v1`")[1].split("### Track `espeak-v2`")
    assert "Ranked by Tag F1 (position ±1) (benchmark version 1)." in one and "**one-a**" in one and "two-a" not in one
    assert "Ranked by Tag F1 (anchored, ±1) (benchmark version 2)." in two and "**two-a**" in two and "oracle-plain" not in two
    assert "Anch. F1" in two.splitlines()[4]  # the table's first metric column is its ranking metric
