"""The shipped corpus: constraints, fixed splits, statistics, and the validator's teeth."""

import json
import random
import time
from collections import Counter

import pytest

from evoxtral_bench.corpus import scripts as corpus
from evoxtral_bench.scoring.tags import parse, tag_table
from evoxtral_bench.tracks import get_track

ROWS = corpus.load()


def test_data_validate_passes_on_the_shipped_corpus(cli):
    code, out, err = cli("data", "validate")
    assert code == 0, err
    assert "valid — 1240 scripts" in out


def test_sizes_slices_and_emphasis():
    n = len(ROWS)
    assert n >= 1200
    slices = Counter(r.slice for r in ROWS)
    for name, share in corpus.SLICE_SHARE.items():
        assert abs(slices[name] / n - share) <= 0.02
    with_emphasis = sum(1 for r in ROWS if corpus.emphasis_words(r.tagged_text))
    assert with_emphasis / n >= 0.40
    for r in ROWS:
        assert 12 <= len(corpus.words(r.tagged_text)) <= 80, r.id
        labels = parse(r.tagged_text).labels
        lo, hi = corpus.SLICE_TAGS[r.slice]
        assert lo <= len(labels) <= hi and all(tag_table().is_canonical(x) for x in labels), r.id


def test_every_tag_is_frequent_enough_and_test_support_is_at_least_15():
    everywhere = Counter(label for r in ROWS for label in parse(r.tagged_text).labels)
    test = Counter(label for r in ROWS if r.splits == ("test",) for label in parse(r.tagged_text).labels)
    validation = Counter(label for r in ROWS if r.splits == ("validation",) for label in parse(r.tagged_text).labels)
    for label in tag_table().canonical:
        assert everywhere[label] >= 60, label
        assert test[label] >= 15, label
        assert validation[label] >= 8, label


def test_splits_are_about_80_10_10_and_spread_over_domains():
    counts = Counter(r.splits[0] for r in ROWS)
    assert abs(counts["test"] / len(ROWS) - 0.10) <= 0.02 and abs(counts["train"] / len(ROWS) - 0.80) <= 0.02
    for split in ("validation", "test"):
        domains = Counter(r.domain for r in ROWS if r.splits[0] == split)
        assert set(domains) == set(corpus.DOMAINS)


def test_no_near_duplicates():
    assert corpus.near_duplicates(ROWS) == ([], True)


def test_near_duplicate_detector_on_a_hand_made_pair():
    a = corpus.Reference("evx-00001", "the quick brown fox jumps over the lazy dog today", ("train",), "podcast", "plain", 1)
    b = corpus.Reference("evx-00002", "the quick brown fox jumps over the lazy cat today", ("train",), "podcast", "plain", 2)
    # 3-grams: 8 each, 6 shared, union 10 -> Jaccard 0.6 > 0.5
    [(x, y, jaccard)] = corpus.near_duplicates([a, b]).pairs
    assert (x, y) == ("evx-00001", "evx-00002") and jaccard == pytest.approx(0.6)


def test_checksum_recorded_beside_the_corpus_and_in_the_signature(cli, tmp_path):
    assert corpus.file_sha256(corpus.corpus_path()) == corpus.recorded_sha256()
    preds = tmp_path / "p.jsonl"
    preds.write_text("".join(json.dumps({"id": r.id, "prediction": r.tagged_text}) + "\n" for r in ROWS if "test" in r.splits))
    code, out, _ = cli("score", preds, "--format", "json", "--bootstrap", "0")
    doc = json.loads(out)
    assert code == 0 and doc["benchmark"]["split"] == "test" and doc["benchmark"]["n"] == 128
    assert doc["benchmark"]["references_sha256"] == corpus.recorded_sha256()
    assert f"refs:{corpus.recorded_sha256()[:12]}" in doc["signature"]
    assert doc["metrics"]["tag_f1"]["value"] == 1.0 and doc["metrics"]["wer"]["value"] == 0.0


def test_validator_reports_broken_corpora(cli, tmp_path):
    rows = [r._asdict() for r in ROWS]
    rows[3]["tagged_text"] = "[yawns] " + rows[3]["tagged_text"]  # not canonical
    rows[5]["tagged_text"] = rows[6]["tagged_text"]  # a duplicate
    rows[7]["id"] = "evx-99999"  # ids are sequential
    rows[8]["slice"] = "plain" if rows[8]["slice"] != "plain" else "dense"  # wrong tag count for its slice
    path = tmp_path / "corpus.jsonl"
    path.write_text(
        "".join(json.dumps({"id": r["id"], "split": r["splits"][0], "domain": r["domain"], "slice": r["slice"], "tagged_text": r["tagged_text"]}) + "\n" for r in rows)
    )
    code, _, err = cli("data", "validate", "--corpus", path)
    assert code == 2
    assert f"{path}:4: evx-00004: tags must be written as canonical labels: yawns" in err
    assert "near-duplicates: evx-00006 and evx-00007 share 100%" in err
    assert f"{path}:8: evx-99999: id should be evx-00008" in err
    assert f"{path}:9: evx-00009: slice" in err


def test_assign_splits_reproduces_the_constraints_deterministically():
    rows = [{"tagged_text": r.tagged_text, "domain": r.domain, "slice": r.slice} for r in ROWS]
    labels = corpus.assign_splits(rows, seed=0)
    assert labels == corpus.assign_splits(rows, seed=0)
    relabeled = [r._replace(splits=(s,)) for r, s in zip(ROWS, labels)]
    assert corpus._validate_splits(relabeled) == []


def test_stats_command_writes_json_per_split(cli, tmp_path):
    out = tmp_path / "stats.json"
    code, markdown, _ = cli("data", "stats", "--out", out)
    stats = json.loads(out.read_text())
    assert code == 0 and set(stats) == {"train", "validation", "test", "all"}
    assert stats["all"]["utterances"] == len(ROWS)
    assert sum(stats[s]["tags"]["pause"] for s in ("train", "validation", "test")) == stats["all"]["tags"]["pause"]
    assert f"| utterances | {stats['train']['utterances']} |" in markdown


def test_dataset_card_statistics_and_schema_agree_with_the_data():
    import yaml

    from evoxtral_bench.cli.data import CARD_END, CARD_START, card_path, replace_card_statistics
    from evoxtral_bench.corpus.export import features

    card = card_path().read_text(encoding="utf-8")
    markdown = corpus.statistics_markdown(corpus.statistics(ROWS))
    assert card.split(CARD_START, 1)[1].split(CARD_END, 1)[0] == markdown
    assert replace_card_statistics(card, markdown) == card
    header = yaml.safe_load(card.split("---\n")[1])
    assert header["license"] and header["language"] == ["en"]
    for info in header["dataset_info"]:  # one per track
        assert [f["name"] for f in info["features"]] == list(features()), info["config_name"]
        sizes = {s["name"]: s["num_examples"] for s in info["splits"]}
        rendered = corpus.track_rows(get_track(info["config_name"]), ROWS)  # a v2 track renders the v2 test set
        assert sizes == {s: sum(1 for r in rendered if r.splits == (s,)) for s in ("train", "validation", "test")}


def test_dataset_card_has_one_config_per_registered_track():
    import yaml

    from evoxtral_bench.cli.data import card_path
    from evoxtral_bench.tracks import SPLITS, TRACK_NAMES

    header = yaml.safe_load(card_path().read_text(encoding="utf-8").split("---\n")[1])
    assert [c["config_name"] for c in header["configs"]] == list(TRACK_NAMES)
    assert [i["config_name"] for i in header["dataset_info"]] == list(TRACK_NAMES)
    assert [c["config_name"] for c in header["configs"] if c.get("default")] == ["espeak-v1"]
    for config in header["configs"]:  # where push_to_hub(config_name=NAME) puts the parquet shards
        name = config["config_name"]
        assert config["data_files"] == [{"split": split, "path": f"{name}/{split}-*"} for split in SPLITS]


def _row(n: int, text: str) -> corpus.Reference:
    return corpus.Reference(f"evx-{n:05d}", text, ("train",), "podcast", "plain", n)


def test_near_duplicates_match_a_brute_force_search():
    """Prefix filtering finds exactly the pairs that comparing every pair finds (random small
    vocabularies make many pairs near the threshold)."""
    rng = random.Random(7)
    for trial in range(40):
        vocabulary = [f"w{k}" for k in range(rng.randint(3, 12))]
        rows = [_row(n, " ".join(rng.choices(vocabulary, k=rng.randint(0, 14)))) for n in range(1, 30)]
        grams = [corpus._trigrams(r.tagged_text) for r in rows]
        expected = sorted(
            (rows[j].id, rows[i].id, len(grams[i] & grams[j]) / len(grams[i] | grams[j]))
            for i in range(len(rows))
            for j in range(i)
            if grams[i] & grams[j] and len(grams[i] & grams[j]) / len(grams[i] | grams[j]) > 0.5
        )
        found = corpus.near_duplicates(rows, limit=10**6)
        assert found.complete and sorted(found.pairs) == expected, trial


def test_near_duplicate_check_is_bounded(cli, tmp_path):
    """Issue 25 item 20: 8,000 rows sharing word 3-grams took more than 300 s and 7.6 GB (every
    pair sharing a 3-gram was counted); 8,000 identical rows listed 32 million pairs."""
    shared = "one two three four five six seven eight nine ten"
    rows = [_row(n, f"{shared} " + " ".join(f"u{n}x{k}" for k in range(30))) for n in range(1, 8001)]
    start = time.monotonic()
    assert corpus.near_duplicates(rows) == ([], True)  # shared 3-grams are frequent: never compared on
    same = [_row(n, shared) for n in range(1, 8001)]
    found = corpus.near_duplicates(same)
    assert len(found.pairs) == corpus.MAX_NEAR_DUPLICATES and not found.complete
    assert found.pairs[:2] == [("evx-00001", "evx-00002", 1.0), ("evx-00001", "evx-00003", 1.0)]
    # rows at Jaccard exactly 0.5 (10 shared 3-grams, 5 of each row's own) are compared, not listed
    half = [_row(n, f"{shared} eleven twelve " + " ".join(f"u{n}x{k}" for k in range(5))) for n in range(1, 3001)]
    a, b = (corpus._trigrams(r.tagged_text) for r in half[:2])
    assert (len(a & b), len(a | b)) == (10, 20)
    assert corpus.near_duplicates(half, max_candidates=100_000) == ([], False)
    assert corpus.near_duplicates(half[:300]) == ([], True)
    assert time.monotonic() - start < 30
    path = tmp_path / "corpus.jsonl"
    path.write_text("".join(json.dumps({"id": r.id, "tagged_text": r.tagged_text, "split": "train", "domain": "podcast", "slice": "plain"}) + "\n" for r in same[:500]))
    code, _, err = cli("data", "validate", "--corpus", path)
    assert code == 2 and err.count("near-duplicates: evx-") == corpus.MAX_NEAR_DUPLICATES
    assert f"near-duplicates: the check stopped after {corpus.MAX_NEAR_DUPLICATES} pairs listed" in err


def test_stats_out_never_overwrites_the_corpus(cli, tmp_path):
    """Issue 25 item 23: ``data stats --corpus c.jsonl --out c.jsonl`` replaced the corpus by its
    statistics (rc 0); ``score`` and ``import-legacy`` already refused this."""
    path = tmp_path / "c.jsonl"
    path.write_bytes(corpus.corpus_path().read_bytes())
    link = tmp_path / "link.jsonl"
    link.symlink_to(path)
    for out in (path, link):
        code, _, err = cli("data", "stats", "--corpus", path, "--out", out)
        assert code == 2 and f"--out {out} is the input file {path}; it would be overwritten" in err, err
        assert path.read_bytes() == corpus.corpus_path().read_bytes()
    code, _, err = cli("data", "stats", "--out", corpus.corpus_path())  # the shipped corpus, read by default
    assert code == 2 and "it would be overwritten" in err
    assert corpus.file_sha256(corpus.corpus_path()) == corpus.recorded_sha256()
