"""``python -m training text-prior``: a baseline that never hears the audio.

It reads a plain transcript (words only: the gold words of a split, or an ASR system's) and
writes tags into its word gaps and CAPS onto its words, from what the words alone suggest
("Oh my gosh" before ``[gasps]``). It measures how much of the task is guessable from text:
its tag F1 should not change between the full audio track and the masked one (the grounding gap,
docs/spec.md §10), since it never sees either.

Model (scikit-learn, trained on the train split's scripts only, tuned on the validation split's):

* **tags**: one logistic regression per canonical tag over the word gaps of an utterance (gap g
  = before word g; ``len(words)`` = after the last). A gap's features are the two words on each
  side (lowercased, punctuation stripped), the punctuation around it, whether it starts the
  utterance or a sentence, the words of the clause that follows it and every word of the utterance
  (a small weight), all through :class:`~sklearn.feature_extraction.DictVectorizer`.
  Decoding: per utterance and tag, the best gap if its probability passes the tag's threshold.
* **emphasis**: one logistic regression over words (the word, its neighbours, its punctuation,
  its position); a word is written in capitals when its probability passes a threshold.

Training input is what the model sees at test time: the script with every tag removed and its
CAPS lowercased (:func:`evoxtral_bench.plain_text`). Thresholds are chosen on the
validation split by coordinate ascent on the benchmark's own corpus tag F1 and emphasis F1
(:func:`evoxtral_bench.score`, no bootstrap). liblinear with a fixed seed: same inputs, same bytes.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import accumulate
from pathlib import Path

import numpy as np

import evoxtral_bench
from evoxtral_bench import InputError, emphasis_tokens, parse, plain_text, tag_table, write_jsonl

SEED = 0
C_TAGS, C_EMPHASIS = 0.5, 1.0
"""Inverse regularization strengths of the two logistic regressions."""
UTTERANCE_WEIGHT, CLAUSE_WEIGHT = 0.3, 0.6
"""Feature values of the utterance's and the following clause's bag of words."""
THRESHOLDS = tuple(round(x, 2) for x in np.arange(0.1, 0.96, 0.1))
"""The grid of decision thresholds tried on the validation split."""
_STRIP = re.compile(r"^\W+|\W+$")
_SENTENCE_END = (".", "!", "?", "…")


@dataclass(frozen=True)
class Example:
    """One utterance for the model: its plain tokens, and (for training) tags per gap and CAPS per token."""

    id: str
    tokens: tuple[str, ...]
    gap_tags: tuple[tuple[str, ...], ...] = ()
    emphasis: tuple[bool, ...] = ()


def from_script(row_id: str, tagged: str) -> Example:
    """A training example: the plain tokens and, per gap, the labels of the tags written there."""
    transcript = parse(tagged)
    tokens = tuple(plain_text(tagged).split())
    gap_of_chunk = list(accumulate((len(c.split()) for c in transcript.chunks), initial=0))
    gaps: list[list[str]] = [[] for _ in range(len(tokens) + 1)]
    for tag in transcript.tags:
        gaps[gap_of_chunk[tag.position]].append(tag.label)
    emphasis = tuple(bool(emphasis_tokens(t)) for t in transcript.text.split())
    return Example(row_id, tokens, tuple(tuple(g) for g in gaps), emphasis)


def _word(token: str) -> str:
    return _STRIP.sub("", token.lower())


def _tail(token: str) -> str:
    """The punctuation that ends a token ('' for none)."""
    stripped = token.rstrip("\"'”’)")
    return stripped[len(stripped.rstrip(",.;:!?…—–-")) :][:1]


def gap_features(tokens: Sequence[str]) -> list[dict[str, float]]:
    """Features of each gap 0..len(tokens) of one utterance."""
    words = [_word(t) for t in tokens]
    n = len(tokens)
    utterance = {f"utt={w}": UTTERANCE_WEIGHT for w in words if w}
    out = []
    for g in range(n + 1):
        f: dict[str, float] = dict(utterance)
        f["bias"] = 1.0
        f[f"prev={words[g - 1] if g else '<s>'}"] = 1.0
        f[f"prev2={words[g - 2] if g > 1 else '<s>'}"] = 1.0
        f[f"next={words[g] if g < n else '</s>'}"] = 1.0
        f[f"next2={words[g + 1] if g + 1 < n else '</s>'}"] = 1.0
        f[f"nextbi={words[g] if g < n else '</s>'}_{words[g + 1] if g + 1 < n else '</s>'}"] = 1.0
        f[f"punct={_tail(tokens[g - 1]) if g else '<s>'}"] = 1.0
        if g == 0 or _tail(tokens[g - 1]) in _SENTENCE_END:
            f["sentence_start"] = 1.0
        if g == n:
            f["end"] = 1.0
        for k in range(g, min(n, g + 12)):
            if words[k]:
                f[f"clause={words[k]}"] = CLAUSE_WEIGHT
            if _tail(tokens[k]) in _SENTENCE_END:
                break
        f["position"] = g / max(n, 1)
        out.append(f)
    return out


def word_features(tokens: Sequence[str]) -> list[dict[str, float]]:
    """Features of each token of one utterance for the emphasis classifier."""
    words = [_word(t) for t in tokens]
    n = len(tokens)
    out = []
    for i, w in enumerate(words):
        f = {
            "bias": 1.0,
            f"w={w}": 1.0,
            f"prev={words[i - 1] if i else '<s>'}": 1.0,
            f"next={words[i + 1] if i + 1 < n else '</s>'}": 1.0,
            f"punct={_tail(tokens[i])}": 1.0,
            f"len={min(len(w), 8)}": 1.0,
            "position": i / max(n, 1),
        }
        out.append(f)
    return out


@dataclass
class TextPrior:
    """The fitted model: vectorizers, one classifier per tag, the emphasis classifier, thresholds."""

    labels: list[str]
    gap_vectorizer: object
    tag_models: dict[str, object]  # a fitted LogisticRegression, or a float for a label seen never (or always)
    word_vectorizer: object
    emphasis_model: object
    tag_thresholds: dict[str, float]
    emphasis_threshold: float

    def gap_probabilities(self, examples: Sequence[Example]) -> list[np.ndarray]:
        """Per utterance, a (gaps × labels) matrix of tag probabilities."""
        feats = [gap_features(e.tokens) for e in examples]
        x = _csr32(self.gap_vectorizer.transform([f for fs in feats for f in fs]))
        columns = np.column_stack([_probability(self.tag_models[label], x) for label in self.labels])
        bounds = list(accumulate((len(fs) for fs in feats), initial=0))
        return [columns[a:b] for a, b in zip(bounds, bounds[1:])]

    def emphasis_probabilities(self, examples: Sequence[Example]) -> list[np.ndarray]:
        """Per utterance, the probability of each token being CAPS-emphasized."""
        feats = [word_features(e.tokens) for e in examples]
        flat = [f for fs in feats for f in fs]
        probs = self.emphasis_model.predict_proba(_csr32(self.word_vectorizer.transform(flat)))[:, 1] if flat else np.zeros(0)
        bounds = list(accumulate((len(fs) for fs in feats), initial=0))
        return [probs[a:b] for a, b in zip(bounds, bounds[1:])]

    def predict(self, examples: Sequence[Example]) -> list[str]:
        """The tagged transcripts."""
        gaps, emphasis = self.gap_probabilities(examples), self.emphasis_probabilities(examples)
        return [
            decode(e.tokens, g, p, self.labels, self.tag_thresholds, self.emphasis_threshold)
            for e, g, p in zip(examples, gaps, emphasis)
        ]


def decode(
    tokens: Sequence[str],
    gap_probs: np.ndarray,
    emphasis_probs: np.ndarray,
    labels: Sequence[str],
    tag_thresholds: dict[str, float],
    emphasis_threshold: float,
) -> str:
    """Write each label at its most probable gap when that passes its threshold, and CAPS."""
    placed: list[list[str]] = [[] for _ in range(len(tokens) + 1)]
    for j, label in enumerate(labels):
        best = int(np.argmax(gap_probs[:, j]))
        if gap_probs[best, j] >= tag_thresholds[label]:
            placed[best].append(f"[{label}]")
    pieces: list[str] = []
    for i, token in enumerate(tokens):
        pieces.extend(placed[i])
        pieces.append(token.upper() if emphasis_probs[i] >= emphasis_threshold and len(_word(token)) >= 2 else token)
    pieces.extend(placed[len(tokens)])
    return " ".join(pieces)


def _probability(model: object, x) -> np.ndarray:
    """P(positive) of each row of ``x``; a constant model (a float) gives that value everywhere."""
    if isinstance(model, float):
        return np.full(x.shape[0], model)
    return model.predict_proba(x)[:, 1]


def _csr32(x):
    """``x`` as CSR with 32-bit indices (liblinear rejects the 64-bit ones DictVectorizer may give)."""
    x = x.tocsr()
    x.indices, x.indptr = x.indices.astype(np.int32), x.indptr.astype(np.int32)
    return x


def _split(name: str) -> list[Example]:
    return [from_script(r.id, r.tagged_text) for r in evoxtral_bench.load_references(split=name).rows]


def fit(train: Sequence[Example]) -> TextPrior:
    """Fit the tag and emphasis classifiers on ``train`` (thresholds 0.5 until tuned)."""
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression

    labels = list(tag_table().canonical)
    gap_vectorizer = DictVectorizer()
    x = _csr32(gap_vectorizer.fit_transform([f for e in train for f in gap_features(e.tokens)]))
    y = [set(g) for e in train for g in e.gap_tags]
    tag_models = {}
    for label in labels:
        target = np.array([label in tags for tags in y], dtype=int)
        if target.min() == target.max():  # never (or always) seen: a constant, no classifier
            tag_models[label] = float(target[0]) if len(target) else 0.0
            continue
        model = LogisticRegression(C=C_TAGS, solver="liblinear", class_weight="balanced", random_state=SEED, max_iter=1000)
        tag_models[label] = model.fit(x, target)
    word_vectorizer = DictVectorizer()
    xw = _csr32(word_vectorizer.fit_transform([f for e in train for f in word_features(e.tokens)]))
    yw = np.array([flag for e in train for flag in e.emphasis], dtype=int)
    emphasis_model = LogisticRegression(C=C_EMPHASIS, solver="liblinear", class_weight="balanced", random_state=SEED, max_iter=1000)
    emphasis_model.fit(xw, yw)
    return TextPrior(labels, gap_vectorizer, tag_models, word_vectorizer, emphasis_model, dict.fromkeys(labels, 0.5), 0.5)


def tune(model: TextPrior, validation: Sequence[Example], rounds: int = 1) -> dict:
    """Choose the thresholds on ``validation`` (coordinate ascent on corpus tag F1, then emphasis F1)."""
    gaps, emphasis = model.gap_probabilities(validation), model.emphasis_probabilities(validation)
    refs = evoxtral_bench.load_references(split="validation")

    def _f1(texts: Sequence[str], _: object, metric: str) -> float:
        preds = {e.id: p for e, p in zip(validation, texts)}
        return evoxtral_bench.score(predictions=preds, references=refs, bootstrap=0)[metric].value

    def predictions() -> list[str]:
        return [
            decode(e.tokens, g, p, model.labels, model.tag_thresholds, model.emphasis_threshold)
            for e, g, p in zip(validation, gaps, emphasis)
        ]

    best = _f1(predictions(), validation, "tag_f1")
    for _ in range(rounds):
        for label in model.labels:
            for value in THRESHOLDS:
                kept = model.tag_thresholds[label]
                model.tag_thresholds[label] = value
                found = _f1(predictions(), validation, "tag_f1")
                if found > best:
                    best = found
                else:
                    model.tag_thresholds[label] = kept
    scores = {}
    for value in THRESHOLDS:
        model.emphasis_threshold = value
        scores[value] = _f1(predictions(), validation, "emphasis_f1")
    model.emphasis_threshold = max(THRESHOLDS, key=lambda v: (scores[v], -v))
    return {"validation_tag_f1": round(best, 4), "validation_emphasis_f1": round(scores[model.emphasis_threshold], 4)}


def read_input(path: str | Path, split: str, track: str | None = None, limit: int | None = None) -> list[Example]:
    """The plain transcripts to tag: a predictions JSONL for the ids of ``split`` of the shipped
    references (those of ``track``'s reference set when given, e.g. v2 for ``espeak-v2``; the
    first ``limit`` by id when given, the clips of ``evoxtral-bench run --limit``), validated like
    a submission (a missing id is an error). Tags in it are dropped."""
    refs = evoxtral_bench.load_references(split=split, track=track)
    if limit is not None:
        if limit < 1:
            raise InputError(f"--limit: expected at least 1, got {limit}")
        rows = sorted(refs.rows, key=lambda r: r.id)[:limit]
        records = [{"id": r.id, "tagged_text": r.tagged_text, "split": list(r.splits)} | ({"group": r.group} if r.group else {}) for r in rows]
        refs = evoxtral_bench.load_references(records, split=split, track=track)
    report = evoxtral_bench.validate(predictions=str(path), references=refs, strict=True)
    if not report.valid:
        raise InputError(problems=report.errors)
    with open(path, encoding="utf-8") as fh:
        texts = {row["id"]: row["prediction"] for row in map(json.loads, filter(str.strip, fh))}
    return [Example(r.id, tuple(parse(texts[r.id]).text.split())) for r in refs.rows]


def run(input_path: str | Path, out: str | Path, split: str = "test", track: str | None = None, limit: int | None = None) -> dict:
    """Train on the train split, tune on validation, tag ``input_path`` and write ``out``; return
    (and print) the summary: thresholds and validation scores."""
    examples = read_input(input_path, split, track, limit)
    model = fit(_split("train"))
    summary = tune(model, _split("validation"))
    write_jsonl(out, ({"id": e.id, "prediction": p} for e, p in zip(examples, model.predict(examples))))
    summary.update(
        predictions=len(examples),
        tag_thresholds=model.tag_thresholds,
        emphasis_threshold=model.emphasis_threshold,
    )
    print(f"wrote {out}: {json.dumps(summary)}", file=sys.stderr)
    return summary


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--input", required=True, metavar="FILE", help="plain transcripts to tag: a predictions JSONL ({id, prediction}) for every id of --split")
    parser.add_argument("--out", required=True, metavar="FILE", help="tagged predictions JSONL to write")
    parser.add_argument("--split", default="test", help="split of the shipped corpus that --input covers (default test)")
    parser.add_argument("--track", help="the track --input was transcribed on: its reference set's ids (e.g. espeak-v2: the v2 test set)")
    parser.add_argument("--limit", type=int, metavar="N", help="--input covers only the first N ids of --split (as `evoxtral-bench run --limit N`)")


def run_command(args: argparse.Namespace) -> dict:
    return run(args.input, args.out, args.split, args.track, args.limit)
