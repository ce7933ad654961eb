"""The paper's split (docs/spec.md §5): recomputed rows must match calling ``datasets`` directly."""

from __future__ import annotations

import json
import random
from pathlib import Path

from tests.helpers import need  # noqa: E402

need("datasets")

import datasets  # noqa: E402
import pytest

from evoxtral_bench.corpus.paper_import import import_legacy, legacy_split_indices, write_legacy_references  # noqa: E402
from evoxtral_bench.errors import InputError  # noqa: E402

TAGS = ["sighs", "laughs", "whispers", "pause", "excited", "clears throat", "gasps", "sad"]
WORDS = ["well", "I", "never", "thought", "NEVER", "that", "we", "would", "DO", "this", "again"]


def _scripts(n: int, seed: int = 7) -> list[dict]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        words = [rng.choice(WORDS) for _ in range(rng.randint(4, 12))]
        for _ in range(rng.randint(0, 3)):
            words.insert(rng.randint(0, len(words)), f"[{rng.choice(TAGS)}]")
        out.append({"tagged_text": " ".join(words), "emotion": rng.choice(TAGS), "n": i, "meta": {"x": 1}})
    return out


def _write(path: Path, data) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def _paper_split(texts: list[str]) -> dict[str, list[str]]:
    """The paper's calls, written out independently of the module under test."""
    ds = datasets.Dataset.from_dict({"tagged_text": texts})
    first = ds.train_test_split(test_size=0.2, seed=42)
    second = first["test"].train_test_split(test_size=0.5, seed=42)
    return {
        "train": first["train"]["tagged_text"],
        "validation": second["train"]["tagged_text"],
        "test": second["test"]["tagged_text"],
    }


def test_split_matches_datasets_for_1010_rows(tmp_path: Path) -> None:
    scripts = _scripts(1010)
    # Make every text unique so that text identifies the original row.
    for i, s in enumerate(scripts):
        s["tagged_text"] = f"{s['tagged_text']} #{i}"
    rows = import_legacy(_write(tmp_path / "scripts.json", scripts))

    assert [r["id"] for r in rows] == [f"legacy-{i:05d}" for i in range(1, 1011)]
    assert [r["tagged_text"] for r in rows] == [s["tagged_text"] for s in scripts]

    expected = _paper_split([s["tagged_text"] for s in scripts])
    assert {k: len(v) for k, v in expected.items()} == {"train": 808, "validation": 101, "test": 101}
    by_text = {r["tagged_text"]: r for r in rows}
    for name in ("train", "validation"):
        assert all(by_text[t]["split"] == name for t in expected[name])
    bench = expected["test"][:50]
    assert all(by_text[t]["split"] == ["test", "bench50"] for t in bench)
    assert all(by_text[t]["split"] == "test" for t in expected["test"][50:])

    # Bench membership and order: the bench rows, in the test half's order.
    def members(label: str) -> list[str]:
        hits = [r for r in rows if r["split"] == label or (isinstance(r["split"], list) and label in r["split"])]
        return [r["tagged_text"] for r in hits]

    assert len(members("bench50")) == 50
    assert sorted(members("bench50")) == sorted(bench)
    assert len(members("test")) == 101
    assert (len(members("train")), len(members("validation"))) == (808, 101)

    # Order within each part, as the module reports it, is the order `datasets` gives.
    parts = legacy_split_indices(1010)
    texts = [s["tagged_text"] for s in scripts]
    for name in ("train", "validation", "test"):
        assert [texts[i] for i in parts[name]] == expected[name]
    assert [texts[i] for i in parts["bench50"]] == bench


def test_split_does_not_depend_on_text(tmp_path: Path) -> None:
    a = import_legacy(_write(tmp_path / "a.json", _scripts(1010, seed=1)))
    b = import_legacy(_write(tmp_path / "b.json", _scripts(1010, seed=2)))
    assert [r["split"] for r in a] == [r["split"] for r in b]


def test_extra_keys_and_written_file(tmp_path: Path) -> None:
    scripts = _scripts(20)
    scripts[0]["id"] = "orig-1"
    scripts[0]["split"] = "whatever"
    rows = import_legacy(_write(tmp_path / "scripts.json", scripts))
    assert rows[0]["original_id"] == "orig-1" and rows[0]["original_split"] == "whatever"
    assert rows[0]["id"] == "legacy-00001"
    assert rows[3]["emotion"] == scripts[3]["emotion"] and rows[3]["n"] == 3
    assert "meta" not in rows[3]  # not a simple value
    expected = _paper_split([s["tagged_text"] for s in scripts])
    assert sum(1 for r in rows if isinstance(r["split"], list)) == len(expected["test"])  # all of a small test half

    out = tmp_path / "refs" / "legacy.jsonl"
    write_legacy_references(rows, out)
    lines = out.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == rows
    assert list(json.loads(lines[0]))[:3] == ["id", "tagged_text", "split"]
    assert not list(out.parent.glob(".*.tmp"))


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("{not json", "not valid JSON (line 1"),
        (json.dumps({"scripts": []}), "expected a JSON list"),
        (json.dumps([{"tagged_text": "ok"}] * 12 + ["text"]), "element 12: expected an object"),
        (
            json.dumps([{"tagged_text": "ok"}] * 5 + [{"text": "x"}] + [{"tagged_text": "ok"}] * 9),
            "element 5: field 'tagged_text': expected a string, got missing",
        ),
        (
            json.dumps([{"tagged_text": "ok"}] * 11 + [{"tagged_text": 3}]),
            "element 11: field 'tagged_text': expected a string, got int",
        ),
        (json.dumps([{"tagged_text": "ok"}] * 9), "9 scripts"),
    ],
)
def test_bad_input(tmp_path: Path, content: str, needle: str) -> None:
    path = tmp_path / "scripts.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError) as info:
        import_legacy(path)
    assert str(path) in str(info.value)
    assert needle in str(info.value)


def test_bad_encoding_and_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "scripts.json"
    path.write_bytes(b'[{"tagged_text": "\xff"}]')
    with pytest.raises(InputError, match="not UTF-8"):
        import_legacy(path)
    with pytest.raises(InputError, match="cannot read"):
        import_legacy(tmp_path / "missing.json")


def test_out_that_cannot_be_written_exits_2(tmp_path: Path, cli) -> None:
    """Issue 10 item 13: the user's environment, not a bug."""
    scripts = _write(tmp_path / "scripts.json", _scripts(20))
    (tmp_path / "file").write_text("x")
    for out in (tmp_path, tmp_path / "file" / "refs.jsonl"):
        code, _, err = cli("data", "import-legacy", scripts, "--out", out)
        assert code == 2 and f"cannot write {out}: " in err and "bug" not in err
    before = scripts.read_bytes()
    code, _, err = cli("data", "import-legacy", scripts, "--out", scripts)  # "Also": --out = the input
    assert code == 2 and "would be overwritten" in err and scripts.read_bytes() == before


def test_a_fifo_or_device_is_refused_by_the_command(tmp_path: Path, cli) -> None:
    """Issue 10 item 14, end to end (the reading itself is tested in test_hostile_files.py)."""
    code, _, err = cli("data", "import-legacy", "/dev/zero", "--out", tmp_path / "r.jsonl")
    assert code == 2 and "not a regular file" in err
