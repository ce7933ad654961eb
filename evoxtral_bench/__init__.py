"""Evoxtral-Bench: scoring for expressive tagged transcription.

    >>> import evoxtral_bench
    >>> r = evoxtral_bench.score(predictions={"u1": "[sighs] I NEVER said that."},
    ...                          references=[{"id": "u1", "tagged_text": "[sighs] I NEVER said that."}])
    >>> r["tag_f1"].value, r["wer"].value
    (1.0, 0.0)

See docs/spec.md for every definition.
"""

from evoxtral_bench._version import __version__
from evoxtral_bench.api import Validation, compare, load_references, score, utterance_metrics, validate
from evoxtral_bench.corpus.synth import MANIFEST as SYNTHESIS_MANIFEST
from evoxtral_bench.errors import InputError, InputWarning
from evoxtral_bench.files import jsonl_text, sha256_file, write_bytes, write_jsonl, write_text
from evoxtral_bench.leaderboard.oracle import plain_text
from evoxtral_bench.scoring.core import ReferenceSet, UtteranceScore
from evoxtral_bench.scoring.metrics import METRICS, MetricDef
from evoxtral_bench.scoring.options import Options, Signature
from evoxtral_bench.scoring.results import Comparison, Delta, Estimate, Gap, Grounding, Results, TagScore
from evoxtral_bench.scoring.submission import Problem
from evoxtral_bench.scoring.tags import Transcript, emphasis_tokens, parse, tag_table

__all__ = [
    "METRICS",
    "Comparison",
    "Delta",
    "Estimate",
    "Gap",
    "Grounding",
    "InputError",
    "InputWarning",
    "MetricDef",
    "Options",
    "Problem",
    "ReferenceSet",
    "Results",
    "SYNTHESIS_MANIFEST",
    "Signature",
    "TagScore",
    "Transcript",
    "UtteranceScore",
    "Validation",
    "__version__",
    "compare",
    "emphasis_tokens",
    "jsonl_text",
    "load_references",
    "parse",
    "plain_text",
    "score",
    "sha256_file",
    "tag_table",
    "utterance_metrics",
    "validate",
    "write_bytes",
    "write_jsonl",
    "write_text",
]
