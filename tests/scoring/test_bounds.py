"""Resource bounds (issue 10 items 16 and 17): cost linear in OOV labels and in scored lines."""

from __future__ import annotations

import json
import time

from evoxtral_bench.scoring.stats import MAX_LABELS, OTHER_LABELS
from tests.helpers import SMALL_REFS, refs_rows, write_jsonl


def test_many_distinct_oov_labels_are_pooled_and_fast(cli, tmp_path):
    rows = refs_rows()
    per_row = 16_000 // len(rows) + 1
    preds = []
    for i, r in enumerate(rows):
        tags = " ".join(f"[oov{i}x{j}]" for j in range(per_row))
        preds.append({"id": r["id"], "prediction": f"{r['tagged_text']} {tags} [{'common'}]"})
    path = write_jsonl(tmp_path / "p.jsonl", preds)
    for legacy in ((), ("--legacy",)):
        start = time.monotonic()
        code, out, err = cli("score", path, "--references", SMALL_REFS, "--bootstrap", "200", "--format", "json", *legacy)
        assert code == 0, err
        assert time.monotonic() - start < 20
        doc = json.loads(out)
        oov_entries = [label for label, tag in doc["per_tag"].items() if not tag["canonical"]]
        assert len(oov_entries) == MAX_LABELS + 1 and OTHER_LABELS in oov_entries
        assert "common" in oov_entries  # the most frequent keep their own entry
        pooled = doc["per_tag"][OTHER_LABELS]
        assert pooled["predicted"] == per_row * len(rows) + len(rows) - sum(doc["per_tag"][k]["predicted"] for k in oov_entries if k != OTHER_LABELS)
        if not legacy:
            assert len(doc["submission"]["oov_labels"]) == MAX_LABELS + 1
            assert doc["submission"]["oov_tags"] == per_row * len(rows) + len(rows)


def test_reading_a_submission_streams_the_file(tmp_path):
    """Blank padding, over-long lines and unknown ids cost no memory beyond one line."""
    import tracemalloc

    from evoxtral_bench.scoring.core import load_references, load_system
    from evoxtral_bench.scoring.options import Options
    from evoxtral_bench.scoring.submission import MAX_ERRORS_PER_FILE, Problems

    rows = refs_rows()
    path = tmp_path / "big.jsonl"
    with path.open("w", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps({"id": r["id"], "prediction": r["tagged_text"]}) + "\n")
        fh.write((" " * 4095 + "\n") * 6_000)  # 24 MiB of blank lines
        fh.write("x" * (3 << 20) + "\n")  # one over-long line
        filler = "word " * 400
        for i in range(6_000):  # 12 MiB of unknown ids
            fh.write(json.dumps({"id": f"nope-{i}", "prediction": filler}) + "\n")
    problems = Problems()
    refs = load_references(SMALL_REFS, None, problems)
    tracemalloc.start()
    try:
        system = load_system(path, refs, Options(), problems)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert system is None  # unknown ids are errors
    assert peak < 12 << 20, f"peak {peak / 2**20:.1f} MiB"
    errors = [p for p in problems.errors if p.path == str(path)]
    assert len(errors) == MAX_ERRORS_PER_FILE + 1 and "the rest are not listed" in errors[-1].message
    assert any("line is 3,145,728 bytes long" in p.message for p in errors)


def test_scoring_time_is_linear_in_the_tags_of_one_line():
    """Issue 25 item 21: a 1 MiB line of ``[laughs]`` (116,508 tags) took 12-16 s (the gap of each
    tag counted the spaces from the start of the line); linear, it takes about 0.2 s here."""
    from evoxtral_bench.scoring import normalize
    from evoxtral_bench.scoring.stats import chunk_words, side
    from evoxtral_bench.scoring.tags import split_tags, tag_table

    table = tag_table()
    text = "word [laughs] " * ((1 << 20) // 14)
    start = time.monotonic()
    scored = side(text, normalize.basic, True, table)
    assert time.monotonic() - start < 4
    chunks, labels, _ = split_tags(text, table)
    # the chunk-by-chunk path (one normalizer call per chunk) is an independent count of the gaps
    assert chunk_words(chunks, normalize.basic, False) == chunk_words(chunks, normalize.basic, True)
    assert scored.positions["laughs"][:3] == [1, 2, 3] and len(scored.positions["laughs"]) == len(labels) == len(text) // 14
