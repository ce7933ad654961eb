"""``--legacy`` follows the paper's evaluation code on raw text (issue 10, paper mode): tags are
``\\[([^\\]]+)\\]`` lowercased, emphasis ``\\b[A-Z]{2,}\\b`` in the raw text (tags included), WER
text the raw text without ``\\[[^\\]]+\\]\\s*``. Every value below is worked out by hand."""

from __future__ import annotations

import json

import pytest

from tests.helpers import score_texts, write_jsonl

NAN = None  # WER/CER not checked for this case

# prediction, reference, (tag P, R, F1, hallucination, emphasis F1, WER)
CASES = {
    "tag in capitals": ("[LAUGHS] That was FUN.", "[laughs] That was FUN.", (1, 1, 1, 0, 2 / 3, 0)),
    "glued tag": ("I said NO[sighs]fine.", "I said NO [sighs] fine.", (1, 1, 1, 0, 1, 0.5)),
    "truncated tag": ("FUN. [laugh", "[laughs] FUN.", (0, 0, 0, 0, 1, 1)),
    "double brackets": ("[[laughs]] ok", "[laughs] ok", (0, 0, 0, 1, 1, 1)),
    "stray close": ("ok ] fine", "ok fine", (1, 1, 1, 0, 1, 0.5)),
    "empty brackets": ("ok [] fine", "ok fine", (1, 1, 1, 0, 1, 0.5)),
    "blank tag": ("[ ] ok", "ok", (0, 0, 0, 1, 1, 0)),
    "long label": ("[" + "x" * 41 + "] ok", "ok", (0, 0, 0, 1, 1, 0)),
    "line break in a tag": ("[la\nughs] ok", "[laughs] ok", (0, 0, 0, 1, 1, 0)),
    "alias is another label": ("[laughing] ok", "[laughs] ok", (0, 0, 0, 1, 1, 0)),
    "duplicate tag": ("[sighs] [sighs] ok", "[sighs] ok", (0.5, 1, 2 / 3, 0, 1, 0)),
    "empty prediction": ("", "[sighs] I NEVER said.", (0, 0, 0, 0, 0, 1)),
    "emphasis moved": ("I never SAID that.", "I NEVER said that.", (1, 1, 1, 0, 0, 0)),
}
METRICS = ("tag_precision", "tag_recall", "tag_f1", "tag_hallucination_rate", "emphasis_f1", "wer")


@pytest.mark.parametrize("case", sorted(CASES))
def test_hand_worked_paper_values(case):
    pred, ref, expected = CASES[case]
    metrics = score_texts([pred], [ref], legacy=True)["metrics"]
    got = tuple(metrics[m]["value"] for m in METRICS)
    assert got == pytest.approx(expected), dict(zip(METRICS, got))


def test_legacy_never_rejects_what_the_paper_scored(cli, tmp_path):
    pairs = [(p, r) for p, r, _ in CASES.values()] + [("ok", "ok [laugh"), ("a", "[]"), ("b", "x ] [[y]]"), ("bell\x07", "tab\there")]
    refs = write_jsonl(tmp_path / "refs.jsonl", [{"id": f"u{i}", "tagged_text": r} for i, (_, r) in enumerate(pairs)])
    preds = write_jsonl(tmp_path / "preds.jsonl", [{"id": f"u{i}", "prediction": p} for i, (p, _) in enumerate(pairs)])
    for extra in ((), ("--strict",)):
        code, out, err = cli("score", preds, "--references", refs, "--legacy", "--bootstrap", "0", "--format", "json", *extra)
        assert code == 0, err
        assert json.loads(out)["metrics"]["tag_f1"]["defined"]
