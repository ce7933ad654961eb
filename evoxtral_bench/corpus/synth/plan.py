"""A clip's rendering plan: the transcript cut into speech runs, non-verbal sounds and silences.

Cuts fall at tags, at clause ends, around CAPS-emphasized words (spoken on their own, stressed)
and before stuttered words (``[stammers]`` or a written ``W-well``), so that every part is
spoken in one style. Stacked style tags combine (:func:`~evoxtral_bench.corpus.synth.styles.stacked`).

A *masked* plan (the counterfactual ``-masked`` track) keeps the words and the non-verbal sounds'
places but takes every cue out of the speech: style tags and CAPS are spoken neutrally, stutters
are not repeated, a ``[pause]`` is dropped (its length is still drawn, so that the random stream,
and with it every sound's length, matches the full plan) and speech runs join across the dropped
tags. The renderer then replaces each sound by room tone of the same length (:data:`MASKED`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import reduce

import numpy as np

from evoxtral_bench.corpus.synth.script import SOUND_TAGS, STYLE_TAGS, Script, Word
from evoxtral_bench.corpus.synth.styles import NEUTRAL, STYLES, Style, emphasized, stacked

_WRITTEN_STUTTER = re.compile(r"^(?:(\w{1,3})-)+(?=\w)")
_TOKEN_END = re.compile(r"[\s\[]")
PAUSE_S = (0.6, 1.0)
"""Range of a ``[pause]``'s silence, seconds (drawn per pause)."""
MASKED = {
    "sounds": "laughs, sighs, gasps, crying and clears throat replaced by room tone of the same length",
    "styles": "every delivery and emotion tag spoken neutrally",
    "stutters": "no onset repetitions ([stammers] and written W-well)",
    "pauses": "[pause] silences removed",
    "emphasis": "CAPS words spoken unstressed",
}
"""What a masked rendering takes out (key: description); each manifest entry of a masked track lists the keys."""
SPLICED = {**MASKED, "sounds": "laughs, sighs, gasps, crying and clears throat cut out; the speech runs on across them"}
"""What a spliced masked rendering (``neural-v2-masked``, docs/spec.md §12.7) takes out."""


def pause_v1(rng: np.random.Generator) -> float:
    """A ``[pause]``'s length, seconds: uniform over :data:`PAUSE_S` (espeak-v1, neural-v1, neural-v2 train)."""
    return float(rng.uniform(*PAUSE_S))


def pause_v2(rng: np.random.Generator) -> float:
    """A ``[pause]``'s length, seconds, for held-out event generators (neural-v2 test): log-normal with
    median 0.75 s and log-sd 0.35, clipped to 0.4-1.5 s."""
    return float(np.clip(rng.lognormal(np.log(0.75), 0.35), 0.4, 1.5))


@dataclass
class Speech:
    """Words spoken in one espeak-ng call: ``text`` as espeak-ng reads it, with each word's offsets."""

    text: str
    style: Style
    words: list[tuple[int, int, int]]  # (word index, start, end) in ``text``
    stutter: int = 0  # onset repeats before the first word
    written_stutter: bool = False  # the written word shows the stutter ("W-well")


@dataclass
class Sound:
    """A non-verbal sound: the label of its tag (``laughs``, ``crying``, ...)."""

    label: str


@dataclass
class Silence:
    """A ``[pause]``: ``seconds`` of digital silence."""

    seconds: float


Part = Speech | Sound | Silence


@dataclass
class Plan:
    """The parts in order, and for each cue the index of the first part at or after it."""

    parts: list[Part] = field(default_factory=list)
    cue_parts: list[int] = field(default_factory=list)


def make_plan(
    script: Script,
    rng: np.random.Generator,
    *,
    masked: bool = False,
    splice: bool = False,
    pause: Callable[[np.random.Generator], float] = pause_v1,
) -> Plan:
    """Cut the transcript into parts at tags, clause ends, emphasized words and stuttered words.

    ``masked``: the counterfactual plan (module docstring); the words are the same. ``splice``
    (with ``masked``): the sounds are left out of the plan too, so the speech runs on across them
    and no gap marks where they were. ``pause`` draws a ``[pause]``'s length in seconds.
    """
    text, cues, words = script.text, script.cues, script.words
    stammered = {c.words[0] for c in cues if c.label == "stammers" and c.words}
    written = {i: written_stutter(w.text)[1] for i, w in enumerate(words)}
    edges = {0, len(text)}
    for cue in cues:
        edges |= {cue.start, cue.end, cue.scope_end}
    for i, word in enumerate(() if masked else words):  # masked: no cut for CAPS or stutters
        if word.emphasis:
            edges |= {word.start, _token_end(text, word.end)}
        if written[i] or i in stammered:
            edges.add(word.start)
    tag_at = {cue.start: k for k, cue in enumerate(cues)}
    plan = Plan(cue_parts=[0] * len(cues))
    spoken_until = -1  # where the last speech part's text ends
    points = sorted(edges)
    for a, b in zip(points, points[1:]):
        k = tag_at.get(a)
        if k is not None and cues[k].end == b:
            plan.cue_parts[k] = len(plan.parts)
            if cues[k].label in SOUND_TAGS and not (masked and splice):
                plan.parts.append(Sound(cues[k].label))
            elif cues[k].label == "pause":
                seconds = pause(rng)  # drawn when masked too: same random stream
                if not masked:
                    plan.parts.append(Silence(seconds))
            if masked and (splice or cues[k].label not in SOUND_TAGS) and spoken_until == a:
                spoken_until = b  # the tag is not heard: the speech runs on across it
            continue
        inside = [i for i, w in enumerate(words) if a <= w.start < b]
        last = plan.parts[-1] if plan.parts else None
        if not inside:
            if isinstance(last, Speech) and spoken_until == a:
                last.text += text[a:b]
                spoken_until = b
            continue
        active = [] if masked else [c for c in cues if c.label in STYLE_TAGS and c.end <= a < c.scope_end]
        style = reduce(stacked, (STYLES[c.label] for c in active), NEUTRAL)
        if words[inside[0]].emphasis and not masked:
            style = emphasized(style)
        repeats = 0 if masked else max(written[inside[0]], 2 if inside[0] in stammered else 0)
        piece = text[a:b]
        if style.question and any(b == c.scope_end for c in active):
            piece = _as_question(piece)
        if isinstance(last, Speech) and last.style == style and spoken_until == a and not repeats:
            _append(last, piece, a, inside, words)
        else:
            part = Speech("", style, [], stutter=repeats, written_stutter=bool(written[inside[0]]) and not masked)
            _append(part, piece, a, inside, words)
            plan.parts.append(part)
        spoken_until = b
    return plan


def _append(part: Speech, piece: str, offset: int, inside: Sequence[int], words: Sequence[Word]) -> None:
    """Add ``piece`` (transcript text starting at ``offset``) to ``part``, words in their spoken form."""
    cursor = 0
    for i in inside:
        word = words[i]
        part.text += piece[cursor : word.start - offset]
        spoken = written_stutter(word.text)[0]
        part.words.append((i, len(part.text), len(part.text) + len(spoken)))
        part.text += spoken
        cursor = word.end - offset
    part.text += piece[cursor:]


def written_stutter(word: str) -> tuple[str, int]:
    """``("well", 1)`` for ``"W-well"``, ``("but", 2)`` for ``"b-b-but"``; otherwise the word and 0."""
    match = _WRITTEN_STUTTER.match(word)
    if not match:
        return word, 0
    rest = word[match.end() :]
    prefixes = match.group().split("-")[:-1]
    if not all(rest.lower().startswith(p.lower()) for p in prefixes):
        return word, 0
    return rest, len(prefixes)


def _token_end(text: str, position: int) -> int:
    """End of the token (word plus trailing punctuation) that reaches ``position``."""
    match = _TOKEN_END.search(text, position)
    return match.start() if match else len(text)


def _as_question(piece: str) -> str:
    """End a clause on a question mark (espeak-ng's rising contour)."""
    stripped = piece.rstrip()
    if stripped.endswith("."):
        return stripped[:-1] + "?" + piece[len(stripped) :]
    if stripped and not stripped.endswith(("?", "!", "…")):
        return stripped + "?" + piece[len(stripped) :]
    return piece
