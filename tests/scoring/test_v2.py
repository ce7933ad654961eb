"""Benchmark version 2: the anchored headline (docs/spec.md §3.10) and the script-level
(cluster) bootstrap (§4.1). Golden values are hand-worked or come from an independent
computation (jiwer for WER, a regex and Counter for tags, numpy's own percentile)."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import jiwer
import numpy as np
import pytest

import evoxtral_bench
from evoxtral_bench.scoring import position

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "evoxtral_bench" / "corpus" / "data" / "corpus.jsonl"
TAGGER = ROOT / "submissions" / "whisper-tiny-en-tagger" / "predictions.jsonl"


def _anchored(pred: str, ref: str) -> tuple[float, float]:
    r = evoxtral_bench.score(predictions={"u": pred}, references={"u": ref}, bootstrap=0, benchmark_version=2)
    return r.extras["tag_f1_anchored"].value, r.extras["tag_f1_pos"].value


def test_anchored_needs_a_correct_word_next_to_the_tag():
    # hand-worked: reference words we/are/done/here, [sighs] at gap 1 (between "we" and "are")
    ref = "We [sighs] are done here."
    assert _anchored("We [sighs] are done here.", ref) == (1.0, 1.0)
    # both neighbours wrong: position ±1 still matches, the anchored headline does not
    assert _anchored("Xx [sighs] yy done here.", ref) == (0.0, 1.0)
    # one neighbour right ("we") is enough
    assert _anchored("We [sighs] yy done here.", ref) == (1.0, 1.0)
    # the right neighbour ("are") is enough too
    assert _anchored("Xx [sighs] are done here.", ref) == (1.0, 1.0)
    # a tag two gaps away is not matched by either metric
    assert _anchored("We are done [sighs] here.", ref) == (0.0, 0.0)


def test_anchored_gaps_hand_worked():
    # reference a b c d; prediction a x c: equal a (0-1), replace b->x (1-2), equal c (2-3), delete d (3-4)
    from rapidfuzz.distance import Levenshtein

    ops = Levenshtein.opcodes(["a", "b", "c", "d"], ["a", "x", "c"]).as_list()
    assert position.anchored_gaps(ops, 4) == {0, 1, 2, 3}  # gap 4 (after d) has only the deleted d beside it
    assert set(position.anchored_gaps([], 0)) == {0}


def test_anchored_never_exceeds_position_f1_and_equals_it_on_perfect_words():
    rows = [json.loads(line) for line in CORPUS.read_text("utf-8").splitlines()][:200]
    refs = {r["id"]: r["tagged_text"] for r in rows}
    # the references with their tags moved one word on (words intact): anchored == pos
    moved = {i: re.sub(r"(\[[^\]]+\]) (\S+)", r"\2 \1", t) for i, t in refs.items()}
    r = evoxtral_bench.score(predictions=moved, references=refs, bootstrap=0, benchmark_version=2)
    assert r.extras["tag_f1_anchored"].value == r.extras["tag_f1_pos"].value
    # every other word dropped: anchored strictly below pos
    sparse = {i: " ".join(w for k, w in enumerate(t.split(" ")) if k % 2 == 0 or w.startswith("[")) for i, t in refs.items()}
    r = evoxtral_bench.score(predictions=sparse, references=refs, bootstrap=0, benchmark_version=2)
    assert r.extras["tag_f1_anchored"].value < r.extras["tag_f1_pos"].value


def _x_words(text: str) -> str:
    """Every word replaced by ``x``, tags kept where they are."""
    return " ".join(w if w.startswith("[") or w.endswith("]") else "x" for w in re.split(r" (?![^\[]*\])", text))


def test_a_tagger_with_no_correct_word_scores_nothing_on_the_v2_headline():
    preds = [json.loads(line) for line in TAGGER.read_text("utf-8").splitlines()]
    xs = {p["id"]: _x_words(p["prediction"]) for p in preds}
    r = evoxtral_bench.score(predictions=xs, references=str(CORPUS), split="test", bootstrap=200, benchmark_version=2)
    assert r["wer"].value > 0.95
    assert r.extras["tag_f1_pos"].value > 0.5  # the v1 headline keeps most of it (64.5 measured)
    assert r.extras["tag_f1_anchored"].value <= 0.05
    rows = [json.loads(line) for line in CORPUS.read_text("utf-8").splitlines()]
    gold = {r["id"]: r["tagged_text"] for r in rows if r["split"] == "test"}
    oracle = evoxtral_bench.score(predictions=gold, references=str(CORPUS), split="test", bootstrap=0, benchmark_version=2)
    assert oracle.extras["tag_f1_anchored"].value == 1.0


def test_version_1_documents_have_no_version_2_keys():
    r = evoxtral_bench.score(predictions=str(TAGGER), bootstrap=0).to_dict()
    assert "tag_f1_anchored" not in r["extras"] and "headline" not in r["config"] and r["benchmark"]["version"] == 1
    r2 = evoxtral_bench.score(predictions=str(TAGGER), references=str(CORPUS), split="test", bootstrap=0, benchmark_version=2).to_dict()
    assert r2["benchmark"]["version"] == 2 and r2["config"]["headline"] == "tag_f1_anchored"
    assert r2["signature"].startswith("evoxtral-bench:2|")


# --- cluster bootstrap -------------------------------------------------------------------

TAG = re.compile(r"\[([a-z ]+)\]")


def _rendered_case(n_scripts: int = 24) -> tuple[list[dict], dict[str, str]]:
    """Every script rendered twice (ids s<k>.1, s<k>.2, group s<k>); the two renderings'
    predictions are alike, as a system's are on two voices of one script."""
    rng = np.random.default_rng(7)
    words = "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima".split()
    labels = ["sighs", "laughs", "pause", "gasps"]
    refs, preds = [], {}
    for k in range(n_scripts):
        w = list(rng.choice(words, size=8))
        ref = " ".join(w[:3] + [f"[{labels[k % 4]}]"] + w[3:])
        hyp_words = [x if rng.random() > 0.3 * (k % 3) else "zulu" for x in w]
        tags = [f"[{labels[k % 4]}]"] if k % 2 == 0 else [f"[{labels[(k + 1) % 4]}]", f"[{labels[k % 4]}]"] if k % 3 else []
        hyp = " ".join(hyp_words[:3] + tags + hyp_words[3:])
        for r in (1, 2):
            refs.append({"id": f"s{k}.{r}", "tagged_text": ref, "group": f"s{k}"})
            preds[f"s{k}.{r}"] = hyp
    return refs, preds


def _brute_force(refs: list[dict], preds: dict[str, str], n_boot: int, seed: int) -> tuple[list[float], list[float]]:
    """Resampled corpus WER (jiwer) and tag F1 (regex + Counter) from the scripts each resample
    draws: numpy's generator drawn as §4.1 states (one chunk here), then every drawn script's
    renderings re-scored from the text."""
    scripts: dict[str, list[dict]] = {}
    for r in refs:
        scripts.setdefault(r["group"], []).append(r)
    order = list(scripts)
    idx = np.random.default_rng(seed).integers(0, len(order), size=(n_boot, len(order)))
    wers, f1s = [], []
    for row in idx:
        chosen = [u for g in row for u in scripts[order[g]]]
        ref_texts = [TAG.sub("", u["tagged_text"]).replace("  ", " ").strip() for u in chosen]
        hyp_texts = [TAG.sub("", preds[u["id"]]).replace("  ", " ").strip() for u in chosen]
        wers.append(jiwer.wer(ref_texts, hyp_texts))
        tp = pred = ref = 0
        for u in chosen:
            a, b = Counter(TAG.findall(preds[u["id"]])), Counter(TAG.findall(u["tagged_text"]))
            tp += sum((a & b).values())
            pred += sum(a.values())
            ref += sum(b.values())
        f1s.append(2 * tp / (pred + ref))
    return wers, f1s


def test_cluster_bootstrap_equals_a_brute_force_cluster_bootstrap_and_is_wider():
    refs, preds = _rendered_case()
    n_boot, seed = 400, 11
    r = evoxtral_bench.score(predictions=preds, references=refs, bootstrap=n_boot, seed=seed)
    wers, f1s = _brute_force(refs, preds, n_boot, seed)
    for name, values in (("wer", wers), ("tag_f1", f1s)):
        low, high = np.percentile(values, [2.5, 97.5])
        assert r[name].ci_low == pytest.approx(low, abs=1e-12) and r[name].ci_high == pytest.approx(high, abs=1e-12)
    assert "scripts:24" in r.signature.format() and r.to_dict()["config"]["resampling_unit"] == "script"
    # the same rows without groups: the naive utterance bootstrap is narrower
    naive = evoxtral_bench.score(predictions=preds, references=[{k: v for k, v in x.items() if k != "group"} for x in refs], bootstrap=n_boot, seed=seed)
    for name in ("wer", "tag_f1"):
        assert naive[name].value == r[name].value
        assert naive[name].ci_high - naive[name].ci_low < r[name].ci_high - r[name].ci_low


def test_compare_resamples_scripts_too():
    refs, preds = _rendered_case()
    worse = {k: v.replace("[", "[x").replace("[xsighs]", "[sighs]") for k, v in preds.items()}
    grouped = evoxtral_bench.compare(a=preds, b=worse, references=refs, bootstrap=300, seed=2)
    naive = evoxtral_bench.compare(a=preds, b=worse, references=[{k: v for k, v in x.items() if k != "group"} for x in refs], bootstrap=300, seed=2)
    g, n = grouped.metrics["tag_f1"], naive.metrics["tag_f1"]
    assert g.delta == n.delta and g.ci_high - g.ci_low > n.ci_high - n.ci_low


def test_a_v2_track_scores_against_the_v2_references(cli, tmp_path):
    rows = [json.loads(line) for line in (CORPUS.parent / "test-v2.jsonl").read_text("utf-8").splitlines()]
    gold = tmp_path / "gold.jsonl"
    gold.write_text("".join(json.dumps({"id": r["id"], "prediction": r["tagged_text"]}) + "\n" for r in rows), "utf-8")
    code, out, err = cli("score", gold, "--track", "espeak-v2", "--format", "json", "--bootstrap", "0")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["benchmark"]["version"] == 2 and doc["benchmark"]["n"] == 768
    assert doc["benchmark"]["references"] == "evoxtral_bench/corpus/data/test-v2.jsonl"
    assert doc["extras"]["tag_f1_anchored"]["value"] == 1.0 and doc["config"]["headline"] == "tag_f1_anchored"
    # a version that contradicts the track's is refused; so is --legacy on version 2
    assert cli("score", gold, "--track", "espeak-v2", "--benchmark-version", "1")[0] == 2
    assert cli("score", gold, "--benchmark-version", "2", "--legacy")[0] == 2
    assert cli("score", gold, "--benchmark-version", "7")[0] == 2


def test_renderings_become_utterances_of_one_script():
    from evoxtral_bench.scoring import core
    from evoxtral_bench.scoring.submission import Problems
    from evoxtral_bench.tracks import REFERENCE_SETS

    refs = core.load_references(None, None, Problems(), reference_set=REFERENCE_SETS["v2"], renderings=2)
    assert len(refs.rows) == 1536 and refs.n_groups == 768
    assert [r.id for r in refs.rows[:2]] == ["evx-00011.1", "evx-00011.2"] and refs.rows[0].group == "evx-00011"
    assert refs.groups[0] == refs.groups[1] != refs.groups[2]


def test_validate_takes_the_track_s_references(cli, tmp_path):
    rows = [json.loads(line) for line in (CORPUS.parent / "test-v2.jsonl").read_text("utf-8").splitlines()]
    gold = tmp_path / "gold.jsonl"
    gold.write_text("".join(json.dumps({"id": r["id"], "prediction": r["tagged_text"]}) + "\n" for r in rows), "utf-8")
    code, out, _ = cli("validate", gold, "--track", "espeak-v2")
    assert code == 0 and "768 predictions for 768 reference ids" in out
    code, _, err = cli("validate", gold)  # the v1 references: the 640 new ids are unknown there
    assert code == 2 and "evx-01241" in err


def test_family_metrics_are_the_headline_on_that_family_s_tags_alone():
    """Independent of the per-family columns: each family's anchored headline and tag F1 equal
    the overall ``tag_f1_anchored`` and ``tag_f1`` of the same texts with every other tag (other
    families and out-of-vocabulary labels) replaced by a space (docs/spec.md §3.11). On a real v2
    entry (the espeak tagger on espeak-v2, 768 scripts)."""
    from evoxtral_bench.scoring.tags import TAG_RE, tag_table

    table = tag_table()
    assert sorted(t for _, tags in table.families.values() for t in tags) == sorted(table.canonical)  # each label in one family
    refs = [json.loads(line) for line in (ROOT / "evoxtral_bench/corpus/data/test-v2.jsonl").read_text(encoding="utf-8").splitlines()]
    preds = {r["id"]: r["prediction"] for r in map(json.loads, (ROOT / "submissions/whisper-tiny-en-tagger-espeak-v2/predictions.jsonl").read_text(encoding="utf-8").splitlines())}
    whole = evoxtral_bench.score(predictions=preds, references=refs, benchmark_version=2, bootstrap=0)
    checked = 0
    for family, (_, tags) in table.families.items():
        keep = lambda text, tags=tags: TAG_RE.sub(lambda m: m.group(0) if table.canonicalize(m.group(1)) in tags else " ", text)  # noqa: E731
        alone = evoxtral_bench.score(
            predictions={k: keep(v) for k, v in preds.items()}, references=[r | {"tagged_text": keep(r["tagged_text"])} for r in refs], benchmark_version=2, bootstrap=0
        )
        assert whole.extras[f"tag_f1_anchored_{family}"].value == alone.extras["tag_f1_anchored"].value, family
        assert whole.extras[f"tag_f1_{family}"].value == alone["tag_f1"].value, family
        checked += alone["tag_f1"].value > 0.3
    assert checked == len(table.families)  # every family has tags this entry gets right: not a comparison of zeros
