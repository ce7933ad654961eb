"""The floor: only the unavoidable work of ``evoxtral-bench score``, with the best tools at hand.

    python benchmarks/score_floor.py REFS.jsonl PREDS.jsonl [--bootstrap 1000] [--seed 0]

What it does (and nothing else: no validation, no per-label columns, no position matching,
no intervals, no output document):

* reads both JSONL files (``json.loads`` per line);
* splits each text on the tag regex and normalizes the text between tags (the scorer's
  ``basic`` normalizer, a ``str.translate`` table);
* finds the CAPS emphasis words;
* aligns the normalized words (``rapidfuzz`` Levenshtein opcodes) where either side has a tag;
* word and character edit distances (``rapidfuzz``);
* the same chunked bootstrap draws as the scorer (``default_rng(seed).integers`` per chunk,
  ``bincount``) with one matrix product per chunk, for the corpus and for every slice and
  domain group, BLAS on one thread, the garbage collector off.

``benchmarks/score_speed.py`` times this beside the scorer on the same files.
"""

from __future__ import annotations

import argparse
import gc
import json
import re

import numpy as np
from rapidfuzz.distance import Levenshtein
from threadpoolctl import threadpool_limits

from evoxtral_bench.scoring.normalize import basic

TAG_RE = re.compile(r"\[([^\[\]\n]{1,40})\]")
CHUNK_ELEMENTS = 1 << 22


def words_and_tags(text: str) -> tuple[list[str], list[str]]:
    """Normalized words and tag labels of one tagged text."""
    parts = TAG_RE.split(text)  # chunk, label, chunk, label, ..., chunk
    words = basic(" ".join(parts[0::2])).split()
    return words, parts[1::2]


def emphasis(text: str) -> list[str]:
    return [t for t in text.split() if t.isupper() and sum(c.isalpha() for c in t) >= 2]


def draws(matrix: np.ndarray, n_boot: int, seed: int) -> np.ndarray:
    """Column sums of ``n_boot`` resamples, drawn exactly as the scorer draws them."""
    n = matrix.shape[0]
    rng = np.random.default_rng(seed)
    chunk = max(1, min(n_boot, CHUNK_ELEMENTS // n))
    out = np.empty((n_boot, matrix.shape[1]))
    done = 0
    while done < n_boot:
        c = min(chunk, n_boot - done)
        idx = rng.integers(0, n, size=(c, n))
        idx += (np.arange(c) * n)[:, None]
        out[done : done + c] = np.bincount(idx.ravel(), minlength=c * n).reshape(c, n) @ matrix
        done += c
    return out


def floor(refs_path: str, preds_path: str, n_boot: int, seed: int) -> float:
    gc.disable()
    with open(refs_path, encoding="utf-8") as fh:
        refs = [json.loads(line) for line in fh]
    with open(preds_path, encoding="utf-8") as fh:
        preds = {obj["id"]: obj["prediction"] for obj in map(json.loads, fh)}
    matrix = np.zeros((len(refs), 6))
    for i, ref in enumerate(refs):
        ref_text = ref["tagged_text"]
        hyp_text = preds.get(ref["id"], "")
        ref_words, ref_tags = words_and_tags(ref_text)
        hyp_words, hyp_tags = words_and_tags(hyp_text)
        if ref_tags or hyp_tags:
            Levenshtein.opcodes(ref_words, hyp_words)
        ref_norm, hyp_norm = " ".join(ref_words), " ".join(hyp_words)
        matrix[i] = (
            Levenshtein.distance(ref_words, hyp_words),
            len(ref_words),
            Levenshtein.distance(ref_norm, hyp_norm),
            len(ref_norm),
            len(emphasis(ref_text)),
            len(emphasis(hyp_text)),
        )
    with threadpool_limits(1, user_api="blas"):
        total = draws(matrix, n_boot, seed).sum()
        for key in ("slice", "domain"):
            groups: dict[str, list[int]] = {}
            for i, ref in enumerate(refs):
                if ref.get(key) is not None:
                    groups.setdefault(ref[key], []).append(i)
            for index in groups.values():
                total += draws(matrix[index], n_boot, seed).sum()
    return float(total)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("references")
    parser.add_argument("predictions")
    parser.add_argument("--bootstrap", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(floor(args.references, args.predictions, args.bootstrap, args.seed))


if __name__ == "__main__":
    main()
