"""RAFT's top-p sampling (:func:`training.families.whisper.nucleus`) against transformers' own
warpers, on random logits: the same nucleus and the same probabilities, also where the nucleus
is wider than the candidates looked at first."""

from __future__ import annotations

from tests.helpers import need

need("torch", "transformers", "peft")

import pytest  # noqa: E402
import torch  # noqa: E402
from transformers.generation.logits_process import TemperatureLogitsWarper, TopPLogitsWarper  # noqa: E402

from training.families.whisper import nucleus  # noqa: E402


@pytest.mark.parametrize(("temperature", "top_p"), [(0.7, 0.9), (1.0, 0.5), (1.3, 0.99), (0.2, 0.9)])
def test_nucleus_is_transformers_temperature_then_top_p(temperature: float, top_p: float) -> None:
    generator = torch.Generator().manual_seed(0)
    logits = torch.randn(8, 3000, generator=generator) * 3
    logits[0] *= 10  # peaked: a nucleus of one or two tokens
    logits[1] *= 0.01  # nearly flat: the nucleus is much wider than the candidates
    logits[2, 100:] = float("-inf")  # suppressed tokens
    expected = TopPLogitsWarper(top_p)(None, TemperatureLogitsWarper(temperature)(None, logits.clone())).softmax(-1)
    weights, ids = nucleus(logits, temperature, top_p, candidates=16)
    got = torch.zeros_like(expected).scatter_add_(1, ids, weights)
    got /= got.sum(-1, keepdim=True)
    assert torch.equal(got > 0, expected > 0)  # the same tokens can be drawn
    assert torch.allclose(got, expected, atol=1e-6)
    assert ids.shape[1] > 16  # the wide rows were sorted whole


def test_sampled_tokens_follow_the_nucleus_distribution() -> None:
    """20,000 draws from a 5-token distribution: the frequencies match the renormalized
    nucleus (chi-square, p > 0.001) and nothing outside it is drawn."""
    from scipy.stats import chisquare

    probs = torch.tensor([0.4, 0.3, 0.2, 0.06, 0.04])
    logits = probs.log().expand(20_000, -1)
    weights, ids = nucleus(logits, 1.0, 0.85, candidates=3)
    draws = ids.gather(-1, torch.multinomial(weights, 1, generator=torch.Generator().manual_seed(1))).squeeze(-1)
    counts = torch.bincount(draws, minlength=5)
    assert counts[3:].sum() == 0  # mass above token 3 is 0.9 >= 0.85: outside the nucleus
    kept = probs[:3] / probs[:3].sum()
    assert chisquare(counts[:3].numpy(), (kept * 20_000).numpy()).pvalue > 1e-3
