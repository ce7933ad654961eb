"""The public Python API: thin functions over the scoring core (docs/spec.md).

``predictions`` and ``references`` each accept a JSONL path, a mapping id -> text, or a
sequence of records (``{"id", "prediction"}`` / ``{"id", "tagged_text", "split"?, …}``);
``references=None`` is the shipped corpus (split ``test`` unless ``split`` says otherwise).
Every problem in the inputs is collected first; if any is an error, one :class:`InputError`
carries them all (``err.problems``, each ``file:line: field: message``). Warnings are issued
as :class:`InputWarning`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

from evoxtral_bench.errors import InputError, InputWarning
from evoxtral_bench.scoring import core
from evoxtral_bench.scoring.core import ReferenceSet, UtteranceScore
from evoxtral_bench.scoring.options import Options, masked_track, options_from, run_options
from evoxtral_bench.scoring.results import Comparison, Results
from evoxtral_bench.scoring.submission import Problem, Problems, Source

References = Source | ReferenceSet | None


def _raise_or_warn(problems: Problems) -> None:
    if problems.errors:
        raise InputError(problems=problems.errors)
    for problem in problems.warnings:
        warnings.warn(str(problem), InputWarning, stacklevel=3)


def load_references(
    references: Source | None = None, *, split: str | None = None, track: str | None = None, benchmark_version: int | None = None
) -> ReferenceSet:
    """Read, validate and select references once, to score several systems against them.

    Without ``references``: the shipped reference set of ``track`` (its renderings as
    utterances) or of ``benchmark_version`` (default: v1, the corpus's test split)."""
    checked = options_from(**({"track": track} if track else {}), benchmark_version=benchmark_version)
    split, _, _ = run_options(split=split)
    problems = Problems()
    refs = _references(references, split, problems, checked)
    _raise_or_warn(problems)
    assert refs is not None
    return refs


def _references(references: References, split: str | None, problems: Problems, options: Options) -> ReferenceSet | None:
    if isinstance(references, ReferenceSet):
        return references
    return core.load_references(
        references, split, problems, legacy=options.legacy, reference_set=options.reference_set, renderings=options.renderings
    )


def score(
    *,
    predictions: Source,
    references: References = None,
    split: str | None = None,
    strict: bool = False,
    masked: Source | None = None,
    workers: int = 1,
    **options: object,
) -> Results:
    """Score one system: the seven metrics with intervals, per-tag scores, breakdowns, extras.

    ``options`` (docs/spec.md §7): ``normalizer`` ("basic"), ``legacy`` (False), ``adapter``
    (None), ``lenient`` (False), ``bootstrap`` resamples (1000; 0: no intervals), ``seed`` (0),
    ``ci`` level (0.95), ``track``: the audio track the predictions were made on (a registered
    name or "none"; default "unspecified", docs/spec.md §12). ``strict`` makes ids missing from
    the predictions an error. ``masked``: the same system's predictions on the track's masked
    twin, which adds ``results.grounding`` (the gap). ``workers`` = 2 counts the two prediction
    sets in two processes (same numbers; from 20,000 utterances; a script using it on macOS or
    Windows needs the ``if __name__ == "__main__":`` guard of :mod:`multiprocessing`).
    """
    checked = options_from(**options)
    split, strict, workers = run_options(split=split, strict=strict, workers=workers)
    if masked is not None:
        masked_track(checked.track)  # an input error before any file is read
    problems = Problems()
    refs = _references(references, split, problems, checked)
    system = core.load_system(predictions, refs, checked, problems, strict=strict) if refs else None
    other = None
    if refs and masked is not None:
        other = core.load_system(masked, refs, checked, problems, strict=strict, label="<masked>")
    _raise_or_warn(problems)
    assert refs is not None and system is not None and (masked is None or other is not None)
    return core.score_with_grounding(system, other, refs, checked, workers=workers)


def compare(
    *,
    a: Source,
    b: Source,
    references: References = None,
    split: str | None = None,
    strict: bool = False,
    workers: int = 1,
    **options: object,
) -> Comparison:
    """Paired bootstrap of A − B on the same resamples: Δ, its interval and p-value per metric
    (the options and ``workers`` are those of :func:`score`)."""
    checked = options_from(**options)
    split, strict, workers = run_options(split=split, strict=strict, workers=workers)
    problems = Problems()
    refs = _references(references, split, problems, checked)
    systems = [core.load_system(s, refs, checked, problems, strict=strict, label=f"<{n}>") for s, n in ((a, "a"), (b, "b"))] if refs else []
    _raise_or_warn(problems)
    assert refs is not None
    return core.compare(systems[0], systems[1], refs, checked, workers=workers)


@dataclass(frozen=True)
class Validation:
    """Every problem found in a submission; ``valid`` when none is an error."""

    problems: tuple[Problem, ...]
    predictions: int

    @property
    def valid(self) -> bool:
        return not any(p.severity == "error" for p in self.problems)

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "error")

    @property
    def warnings(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "warning")


def validate(
    *,
    predictions: Source,
    references: References = None,
    split: str | None = None,
    adapter: str | None = None,
    lenient: bool = False,
    strict: bool = False,
    track: str | None = None,
) -> Validation:
    """Check a submission and return every problem (never raises for the submission's problems);
    ``track`` picks the shipped references as :func:`score` does."""
    options = options_from(adapter=adapter, lenient=lenient, **({"track": track} if track else {}))
    split, strict, _ = run_options(split=split, strict=strict)
    problems = Problems()
    refs = _references(references, split, problems, options)
    system = core.load_system(predictions, refs, options, problems, strict=strict, report_oov=True) if refs else None
    return Validation(tuple(problems.items), system.n_predictions if system else 0)


def utterance_metrics(*, predictions: list[str], references: list[str], normalizer: str = "basic") -> list[UtteranceScore]:
    """Each (prediction, reference) pair scored on its own with the corpus definitions."""
    return core.utterance_metrics(predictions=predictions, references=references, normalizer=options_from(normalizer=normalizer).normalizer)
