"""Sample utterances for an entry page: worst and best by the ranking metric, with a word-level diff."""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence

import numpy as np
from markupsafe import Markup, escape

from evoxtral_bench.leaderboard.ranking import columns
from evoxtral_bench.scoring import normalize
from evoxtral_bench.scoring.core import ReferenceSet, System, utterance_metrics
from evoxtral_bench.scoring.metrics import MetricDef
from evoxtral_bench.scoring.tags import TAG_RE, emphasis_tokens, tag_table

PER_SIDE = 5
_TOKEN_RE = re.compile(rf"{TAG_RE.pattern}|[^\s\[\]]+|[\[\]]")


def pick(system: System, refs: ReferenceSet, counts: Sequence[Sequence[int]], metric: MetricDef, per_side: int = PER_SIDE) -> dict:
    """Ids of the ``per_side`` worst and best utterances by the ranking metric ``metric``, computed
    from ``counts``, the per-utterance counts the ranks use (:func:`.ranking.headline_counts`);
    ties: WER, then order.

    Only utterances where the ranking metric is defined (a tag on either side) are candidates;
    best excludes the worst, so a small set gives fewer best than worst. Each pick carries the
    ranking metric (``score``), position-free tag F1 and WER of its utterance.
    """
    names = columns(metric)
    headline, defined = metric.formula(dict(zip(names, np.asarray(counts, dtype=np.float64).reshape(-1, len(names)).T)))
    scores = utterance_metrics(predictions=system.texts, references=[r.tagged_text for r in refs.rows])
    rows = [
        {"id": ref.id, "score": float(headline[i]), "tag_f1": s["tag_f1"].value, "wer": s["wer"].value, "index": i}
        for i, (ref, s) in enumerate(zip(refs.rows, scores))
        if defined[i]
    ]
    worst = sorted(rows, key=lambda r: (r["score"], -r["wer"], r["index"]))[:per_side]
    taken = {r["id"] for r in worst}
    best = sorted((r for r in rows if r["id"] not in taken), key=lambda r: (-r["score"], r["wer"], r["index"]))[:per_side]
    strip = lambda picked: [{k: r[k] for k in ("id", "score", "tag_f1", "wer")} for r in picked]  # noqa: E731
    return {"worst": strip(worst), "best": strip(best)}


def _tokens(text: str) -> list[str]:
    return [m.group(0) for m in _TOKEN_RE.finditer(text)]


def _key(token: str) -> tuple[str, bool]:
    """What must match for two tokens to count as equal: canonical tag, or word and emphasis."""
    tag = TAG_RE.fullmatch(token)
    if tag:
        return f"[{tag_table().canonicalize(tag.group(1))}]", True
    return normalize.basic(token), bool(emphasis_tokens(token))


def _mark(tokens: list[str], changed: str | None) -> Markup:
    out = []
    for token in tokens:
        text = Markup('<span class="tag">{}</span>').format(token) if TAG_RE.fullmatch(token) else escape(token)
        out.append(Markup("<{0}>{1}</{0}>").format(Markup(changed), text) if changed else text)
    return Markup(" ").join(out)


def diff_html(reference: str, prediction: str) -> tuple[Markup, Markup]:
    """Both texts as HTML (Markup: every token escaped); words and tags missing from the other side in ``<del>``/``<ins>``.

    Tokens compare as the scorer sees them: tags by canonical label, words after ``basic``
    normalization, with emphasis (CAPS) kept as a difference.
    """
    ref_tokens, pred_tokens = _tokens(reference), _tokens(prediction)
    matcher = difflib.SequenceMatcher(a=[_key(t) for t in ref_tokens], b=[_key(t) for t in pred_tokens], autojunk=False)
    ref_html, pred_html = [], []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        equal = op == "equal"
        ref_html.append(_mark(ref_tokens[i1:i2], None if equal else "del"))
        pred_html.append(_mark(pred_tokens[j1:j2], None if equal else "ins"))
    return Markup(" ").join(p for p in ref_html if p), Markup(" ").join(p for p in pred_html if p)
