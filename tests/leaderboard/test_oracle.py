"""The oracle baselines: the commands in their meta.yaml regenerate their predictions."""

import json
import random
import shlex

import pytest
import yaml

from evoxtral_bench.leaderboard.oracle import misplaced_text
from evoxtral_bench.scoring.normalize import basic
from evoxtral_bench.scoring.tags import parse
from tests.leaderboard.fixtures import SUBMISSIONS


@pytest.mark.parametrize("slug", ["oracle-plain", "oracle-tags-misplaced"])
def test_meta_command_regenerates_the_committed_predictions(cli, tmp_path, slug):
    meta = yaml.safe_load((SUBMISSIONS / slug / "meta.yaml").read_text())
    args = shlex.split(meta["command"])
    assert args[0] == "evoxtral-bench"
    out = tmp_path / "p.jsonl"
    args[args.index("--out") + 1] = str(out)
    code, _, err = cli(*args[1:])
    assert code == 0, err
    assert out.read_bytes() == (SUBMISSIONS / slug / "predictions.jsonl").read_bytes()


def _tag_gaps(text: str) -> list[tuple[str, int]]:
    t = parse(text)
    before = [len(basic(" ".join(t.chunks[:i])).split()) for i in range(len(t.chunks))]
    return [(tag.label, before[tag.position]) for tag in t.tags]


def test_misplaced_moves_every_tag_and_keeps_words_and_labels():
    ref = "[sighs] Well, I NEVER said that - [pause] did I? [laughs]"
    out = misplaced_text(ref, random.Random(3))
    assert parse(out).text.split() == parse(ref).text.split()
    assert sorted(parse(out).labels) == sorted(parse(ref).labels)
    for (label, gap), (label2, gap2) in zip(sorted(_tag_gaps(ref)), sorted(_tag_gaps(out))):
        assert label == label2 and gap != gap2


def test_misplaced_scores_tag_f1_1_but_position_aware_low(cli):
    code, out, _ = cli("score", SUBMISSIONS / "oracle-tags-misplaced" / "predictions.jsonl", "--format", "json", "--bootstrap", "0")
    doc = json.loads(out)
    assert doc["metrics"]["tag_f1"]["value"] == 1.0 and doc["metrics"]["wer"]["value"] == 0.0
    assert doc["extras"]["tag_f1_at_0"]["value"] < 0.05
    assert doc["extras"]["mean_tag_offset_words"]["value"] > 3
