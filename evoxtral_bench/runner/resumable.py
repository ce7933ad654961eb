"""Resumable batch work: one JSONL row per finished item, appended as batches finish.

A run that stops (crash, Ctrl-C, lost machine) is continued by running the same command:
items whose id already has a row are skipped. A last line torn by a crash mid-write is
dropped. The caller turns the rows into its final output (written atomically) once all are in.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from tqdm import tqdm

from evoxtral_bench.errors import InputError
from evoxtral_bench.files import jsonl_text, write_jsonl, write_text

T = TypeVar("T")


def write_rows(path: Path, rows: list[dict]) -> None:
    """Write ``rows`` as JSONL (UTF-8, one object a line), atomically."""
    write_jsonl(path, rows)


def read_rows(path: Path) -> list[dict]:
    """The complete rows of ``path`` (none if it does not exist); a torn last line is cut off the file."""
    if not path.is_file():
        return []
    text = path.read_bytes().decode("utf-8", errors="replace")  # a torn write can cut a character
    lines = text.split("\n")
    rows, good = [], []
    for i, line in enumerate(lines):
        if not line:
            continue
        try:
            rows.append(json.loads(line))
            good.append(line)
        except json.JSONDecodeError:
            if i < len(lines) - 1:  # not a torn last line: the file is not ours to repair
                raise InputError(f"{path}:{i + 1}: not valid JSON; delete the file to start this step over") from None
    kept = "".join(f"{line}\n" for line in good)
    if kept != text:
        write_text(path, kept)
    return rows


@dataclass(frozen=True)
class Progress:
    """Outcome of :func:`run_batches`: all rows (earlier runs first), and this run's share."""

    rows: list[dict]
    resumed: int  # rows found from earlier runs
    seconds: float  # wall time spent in ``work`` by this run


def run_batches(
    items: Sequence[T],
    ids: Sequence[str],
    work: Callable[[list[T]], list[dict]],
    partial: Path,
    *,
    batch_size: int,
    desc: str,
    progress: bool = True,
) -> Progress:
    """Apply ``work`` to the items without a row in ``partial``, ``batch_size`` at a time.

    ``work`` returns one row (with its ``id``) per item; each batch's rows are appended to
    ``partial`` and synced before the next batch starts.
    """
    done = read_rows(partial)
    seen = {row["id"] for row in done}
    pending = [i for i, rid in enumerate(ids) if rid not in seen]
    partial.parent.mkdir(parents=True, exist_ok=True)
    seconds = 0.0
    with open(partial, "a", encoding="utf-8") as fh, tqdm(
        total=len(ids), initial=len(ids) - len(pending), desc=desc, unit="utt", disable=not progress
    ) as bar:
        for start in range(0, len(pending), batch_size):
            batch = [items[i] for i in pending[start : start + batch_size]]
            began = time.perf_counter()
            rows = work(batch)
            seconds += time.perf_counter() - began
            fh.write(jsonl_text(rows))
            fh.flush()
            os.fsync(fh.fileno())
            done.extend(rows)
            bar.update(len(batch))
    return Progress(rows=done, resumed=len(ids) - len(pending), seconds=seconds)
