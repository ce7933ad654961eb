"""The v2 test set (docs/spec.md §6.9): its constraints, checked independently of the package's
own validator (regex tag counting, a plain pairwise Jaccard), and the validator's refusals."""

from __future__ import annotations

import itertools
import json
import re
from collections import Counter
from pathlib import Path

from evoxtral_bench.corpus import scripts as corpus

DATA = Path(__file__).resolve().parents[2] / "evoxtral_bench" / "corpus" / "data"


def _rows(name: str) -> list[dict]:
    return [json.loads(line) for line in (DATA / name).read_text("utf-8").splitlines()]


def _canonical() -> list[str]:
    from evoxtral_bench.scoring.tags import tag_table

    return list(tag_table().canonical)


def test_v2_support_emphasis_and_size():
    rows = _rows("test-v2.jsonl")
    assert len(rows) >= 768 and all(r["split"] == "test" for r in rows)
    support = Counter(label for r in rows for label in re.findall(r"\[([^\]]+)\]", r["tagged_text"]))
    assert set(support) == set(_canonical())
    assert min(support.values()) >= 80, support
    # CAPS words by the §1.6 rule, counted here with a regex: >= 2 letters, no lowercase letter
    caps = 0
    for r in rows:
        plain = re.sub(r"\[[^\]]+\]", " ", r["tagged_text"])
        for token in plain.split():
            letters = [c for c in token if c.isalpha()]
            if len(letters) >= 2 and all(c.isupper() for c in letters):
                caps += len([w for w in re.split(r"[^A-Za-z0-9']+", token) if w])
    assert caps >= 600, caps
    v1 = [r for r in _rows("corpus.jsonl") if r["split"] == "test"]
    assert rows[: len(v1)] == v1  # v1's test scripts, unchanged and first


def _grams(text: str) -> set[tuple[str, ...]]:
    words = re.sub(r"[^a-z0-9' ]", " ", re.sub(r"\[[^\]]+\]", " ", text.lower())).split()
    return {tuple(words[i : i + 3]) for i in range(len(words) - 2)}


def test_no_near_duplicates_across_corpus_and_v2_brute_force():
    corpus_rows = _rows("corpus.jsonl")
    texts = [r["tagged_text"] for r in corpus_rows] + [r["tagged_text"] for r in _rows("test-v2.jsonl")[128:]]
    grams = [_grams(t) for t in texts]
    worst = 0.0
    for i, j in itertools.combinations(range(len(grams)), 2):
        if grams[i] and grams[j] and not grams[i].isdisjoint(grams[j]):
            worst = max(worst, len(grams[i] & grams[j]) / len(grams[i] | grams[j]))
    assert worst <= 0.5, worst


def test_the_validator_refuses_a_broken_v2_set(tmp_path):
    corpus_rows = corpus.load()
    rows = _rows("test-v2.jsonl")
    assert corpus.validate_v2(corpus.load(DATA / "test-v2.jsonl"), corpus_rows) == []
    broken = [dict(r) for r in rows]
    broken[0]["tagged_text"] = broken[0]["tagged_text"] + " Extra."  # v1's scripts must stay as they are
    broken[200]["tagged_text"] = broken[300]["tagged_text"]  # a near-duplicate
    broken[201]["id"] = "evx-09999"  # ids continue the corpus's
    no_gasps = [{**r, "tagged_text": r["tagged_text"].replace("[gasps] ", "")} for r in broken]
    path = tmp_path / "v2.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in no_gasps), "utf-8")
    problems = corpus.validate_v2(corpus.load(path), corpus_rows, path)
    text = "\n".join(problems)
    assert "must be v1's test scripts" in text
    assert "near-duplicates" in text and "evx-09999" in text
    assert "[gasps] has support" in text


def test_data_validate_checks_both_files(cli):
    code, out, err = cli("data", "validate")
    assert code == 0, err
    assert "v2 test set: valid — 768 scripts" in out
