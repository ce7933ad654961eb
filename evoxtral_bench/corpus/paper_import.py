"""The paper's split, recomputed from the original scripts list (docs/spec.md §5, ``data import-legacy``).

The original project loaded its scripts list, in order, into a ``datasets.Dataset`` and split
it twice with ``train_test_split(seed=42)``: 80/20, then the 20 % in halves (validation, test).
The paper's 50-sample bench is the first 50 rows of that test half. This module repeats those
calls exactly and writes a references file whose ids point back to the original rows.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from evoxtral_bench.errors import InputError, require
from evoxtral_bench.files import json_loads, read_regular, write_jsonl

SEED = 42
BENCH_SIZE = 50
MIN_ROWS = 10
MAX_SCRIPTS_BYTES = 64 << 20
"""The largest scripts list read (64 MiB; the paper's is about 0.3 MiB)."""
"""Fewer rows than this cannot be the paper's list (and would leave empty splits)."""

_RESERVED = ("id", "split")
"""Output keys; an original key of the same name is kept as ``original_<name>``."""


def legacy_split_indices(n_rows: int) -> dict[str, list[int]]:
    """Original row indices (0-based) of each part of the paper's split, in the split's order.

    Returns ``train``, ``validation``, ``test`` and ``bench50`` (the first 50 of ``test``, or
    all of it when the test half is smaller). The calls are the paper's; ``train_test_split``
    draws its permutation from the row count and the seed only, so an index column stands in
    for the rows themselves.
    """
    datasets = require("datasets", "importing the legacy split")
    full = datasets.Dataset.from_dict({"index": list(range(n_rows))})
    first = full.train_test_split(test_size=0.2, seed=SEED)
    second = first["test"].train_test_split(test_size=0.5, seed=SEED)
    test = list(second["test"]["index"])
    return {
        "train": list(first["train"]["index"]),
        "validation": list(second["train"]["index"]),
        "test": test,
        "bench50": test[:BENCH_SIZE],
    }


def _load_scripts(scripts_json: Path) -> list[dict]:
    """Read and check the scripts list: a JSON array of objects with a string ``tagged_text``."""
    raw = read_regular(scripts_json, what="scripts list", limit=MAX_SCRIPTS_BYTES)
    try:
        data = json_loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as err:
        raise InputError(f"{scripts_json}: not UTF-8 (byte {err.start + 1})") from err
    except json.JSONDecodeError as err:
        raise InputError(f"{scripts_json}: not valid JSON (line {err.lineno}, column {err.colno}): {err.msg}") from err
    if not isinstance(data, list):
        raise InputError(f"{scripts_json}: expected a JSON list of scripts, got a JSON {type(data).__name__}")
    for i, item in enumerate(data):
        if not isinstance(item, dict):
            raise InputError(f"{scripts_json}: element {i}: expected an object, got {type(item).__name__}")
        if not isinstance(item.get("tagged_text"), str):
            got = "missing" if "tagged_text" not in item else type(item["tagged_text"]).__name__
            raise InputError(f"{scripts_json}: element {i}: field 'tagged_text': expected a string, got {got}")
    if len(data) < MIN_ROWS:
        raise InputError(
            f"{scripts_json}: {len(data)} scripts; the paper's list has 1,010 and at least {MIN_ROWS} are needed"
        )
    return data


def _is_simple(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


def import_legacy(scripts_json: Path) -> list[dict]:
    """Reference rows for the original scripts list, in its order, with the paper's split.

    Each row is ``{"id": "legacy-00001", "tagged_text": ..., "split": ...}`` (ids are the 1-based
    original index, 5 digits) followed by the script's other keys whose values are simple
    (string, number, boolean, null); an original ``id`` or ``split`` is kept as ``original_id`` /
    ``original_split``. ``split`` is ``"train"``, ``"validation"``, ``"test"``, or
    ``["test", "bench50"]`` for the bench rows, so both ``--split test`` and ``--split bench50``
    select them.

    Raises :class:`InputError` naming the file, element index and field for bad input.
    """
    scripts = _load_scripts(scripts_json)
    parts = legacy_split_indices(len(scripts))
    split_of: dict[int, str | list[str]] = {}
    for name in ("train", "validation", "test"):
        split_of.update((i, name) for i in parts[name])
    split_of.update((i, ["test", "bench50"]) for i in parts["bench50"])
    rows = []
    for i, script in enumerate(scripts):
        row: dict[str, Any] = {"id": f"legacy-{i + 1:05d}", "tagged_text": script["tagged_text"], "split": split_of[i]}
        for key, value in script.items():
            if key != "tagged_text" and _is_simple(value):
                row[f"original_{key}" if key in _RESERVED else key] = value
        rows.append(row)
    return rows


def write_legacy_references(rows: list[dict], out: Path) -> None:
    """Write ``rows`` as references JSONL (one UTF-8 object a line), atomically."""
    write_jsonl(out, rows)
