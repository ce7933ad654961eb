"""Oracle predictions built from the references, as baselines for the leaderboard."""

from __future__ import annotations

import random
import re
from itertools import accumulate

from evoxtral_bench.files import jsonl_text
from evoxtral_bench.scoring import normalize
from evoxtral_bench.scoring.core import ReferenceSet
from evoxtral_bench.scoring.tags import emphasis_tokens, parse

ORACLES = ("plain", "misplaced")


def plain_text(tagged: str) -> str:
    """The reference's words with every tag removed and CAPS emphasis lowercased."""
    return " ".join(t.lower() if emphasis_tokens(t) else t for t in parse(tagged).text.split())


def plain(refs: ReferenceSet) -> str:
    """JSONL: a perfect plain transcript of every reference (WER 0, tag F1 0, emphasis F1 0)."""
    return jsonl_text({"id": r.id, "prediction": plain_text(r.tagged_text)} for r in refs.rows)


def misplaced_text(tagged: str, rng: random.Random) -> str:
    """The reference with every tag moved to another word gap, chosen at random.

    Gaps are counted in normalized words (those the position-aware metric aligns), so each
    tag really lands somewhere else; words, emphasis and the tags' labels are unchanged.
    """
    transcript = parse(tagged)
    tokens = transcript.text.split()
    # normalized words before each whitespace-token boundary 0..len(tokens)
    before = list(accumulate((len(normalize.basic(t).split()) for t in tokens), initial=0))
    token_gap_of_chunk = list(accumulate((len(c.split()) for c in transcript.chunks), initial=0))
    placed: list[list[str]] = [[] for _ in range(len(tokens) + 1)]
    for tag in transcript.tags:
        original = before[token_gap_of_chunk[tag.position]]
        choices = [g for g in range(len(tokens) + 1) if before[g] != original]
        placed[rng.choice(choices) if choices else token_gap_of_chunk[tag.position]].append(f"[{tag.raw}]")
    out: list[str] = []
    for gap, token in enumerate(tokens + [None]):
        out.extend(placed[gap])
        if token is not None:
            out.append(token)
    return " ".join(out)


def misplaced(refs: ReferenceSet, seed: int = 0) -> str:
    """JSONL: every reference with its tags moved to other gaps (seeded per id): position-free
    tag F1 stays 1 while the position-aware scores fall."""
    return jsonl_text(
        {"id": r.id, "prediction": misplaced_text(r.tagged_text, random.Random(f"{seed}:{r.id}"))} for r in refs.rows
    )


NOISE_LABELS = ("sighs", "laughs", "pause", "gasps", "nervous", "whispers")
_TOKEN = re.compile(r"\[[^\]]+\]|\S+")


def corrupt(
    text: str,
    rng: random.Random,
    *,
    tag_drop: float = 0.25,
    tag_swap: float = 0.10,
    word_drop: float = 0.04,
    word_sub: float = 0.04,
    caps_drop: float = 0.30,
    invent: float = 0.02,
    labels: tuple[str, ...] = NOISE_LABELS,
) -> str:
    """A plausible system output made from a reference (seeded ``rng``), for examples and tests.

    One draw r per token: a tag is dropped (r < tag_drop) or relabelled (r < tag_drop +
    tag_swap); a word is dropped (r < word_drop), reversed and lowercased (r < word_drop +
    word_sub), or, if in CAPS, lowercased (r < caps_drop); after each kept token a tag is
    invented with probability ``invent``. The defaults made ``tests/data/example_preds.jsonl``.
    """
    out = []
    for token in _TOKEN.findall(text):
        r = rng.random()
        if token.startswith("["):
            if r < tag_drop:
                continue
            if r < tag_drop + tag_swap:
                out.append(f"[{rng.choice(labels)}]")
                continue
        elif r < word_drop:
            continue
        elif r < word_drop + word_sub:
            token = token[::-1].lower()
        elif token.isupper() and r < caps_drop:
            token = token.lower()
        out.append(token)
        if rng.random() < invent:
            out.append(f"[{rng.choice(labels)}]")
    return " ".join(out)
