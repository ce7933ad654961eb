"""RAFT's reward (paper eq. 1), computed with the benchmark's own metric code.

    R = w_wer · (1 − WER) + w_f1 · tag F1 + w_hal · (1 − hallucination rate),  0.4 / 0.4 / 0.2

per utterance, from :func:`evoxtral_bench.utterance_metrics` (the corpus definitions applied
to one utterance; looked up on the package at call time, so there is one implementation of the
metrics). A per-utterance ratio can be undefined; the conventions, chosen so that a
perfect transcript earns R = 1:

* WER undefined (no reference words): 0 if the prediction has no words either (no word errors
  after tag removal and the benchmark's ``basic`` normalization), else 1. WER is clipped to [0, 1]
  (insertions can push it above 1).
* tag F1 undefined (no tags in the reference or the prediction): 1.
* hallucination rate undefined (no predicted tags): 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import evoxtral_bench

from .config import RaftConfig


@dataclass(frozen=True)
class Weights:
    wer: float = 0.4
    tag_f1: float = 0.4
    hallucination: float = 0.2

    @classmethod
    def from_config(cls, cfg: RaftConfig) -> Weights:
        return cls(cfg.reward_wer, cfg.reward_tag_f1, cfg.reward_hallucination)


@dataclass(frozen=True)
class Reward:
    """One utterance's reward and the three terms it was made of (after the conventions)."""

    reward: float
    wer: float
    tag_f1: float
    hallucination: float


def rewards(predictions: Sequence[str], references: Sequence[str], weights: Weights = Weights()) -> list[Reward]:
    """The reward of each (prediction, reference) pair."""
    metrics = evoxtral_bench.utterance_metrics(predictions=list(predictions), references=list(references))
    out = []
    for m in metrics:
        if m["wer"].defined:
            wer = min(max(m["wer"].value, 0.0), 1.0)
        else:
            wer = 0.0 if m.counts["word_errors"] == 0 else 1.0
        tag_f1 = m["tag_f1"].value if m["tag_f1"].defined else 1.0
        hallucination = m["tag_hallucination_rate"].value if m["tag_hallucination_rate"].defined else 0.0
        value = weights.wer * (1 - wer) + weights.tag_f1 * tag_f1 + weights.hallucination * (1 - hallucination)
        out.append(Reward(reward=value, wer=wer, tag_f1=tag_f1, hallucination=hallucination))
    return out
