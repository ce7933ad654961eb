"""Oracle predictions built from the references, as baselines for the leaderboard."""

from __future__ import annotations

import json

from ..scoring import ReferenceSet
from ..tags import emphasis_tokens, parse

ORACLES = ("plain",)


def plain_text(tagged: str) -> str:
    """The reference's words with every tag removed and CAPS emphasis lowercased."""
    return " ".join(t.lower() if emphasis_tokens(t) else t for t in parse(tagged).text.split())


def plain(refs: ReferenceSet) -> str:
    """JSONL: a perfect plain transcript of every reference (WER 0, tag F1 0, emphasis F1 0)."""
    return "".join(json.dumps({"id": r.id, "prediction": plain_text(r.tagged_text)}, ensure_ascii=False) + "\n" for r in refs.rows)
