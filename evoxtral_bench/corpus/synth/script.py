"""A tagged transcript as a rendering script: its spoken words and tag cues, with character offsets.

Both backends use the same reading of the tags (docs/spec.md §1) to report where each tag was rendered:

* **style** tags (``whispers``, ``shouts``, ``angry``, ...) govern a *clause*: the words from the
  tag up to the end of the sentence (``.``, ``!``, ``?``, ``…``) or up to the next style tag,
  whichever comes first; sound tags and ``[pause]`` inside a clause do not end it, and stacked
  style tags with no word between them (``[whispers] [scared] ...``) govern the same clause;
* **sound** tags (``laughs``, ``sighs``, ``gasps``, ``clears throat``) and ``[pause]`` happen at
  their position; ``[crying]`` is a sound followed by a tearful clause;
* ``[stammers]`` governs the next word.

Words are the whitespace-separated tokens of the tag-free text with surrounding punctuation
removed; tokens without a letter or digit are not words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from evoxtral_bench.errors import InputError
from evoxtral_bench.scoring.tags import emphasis_tokens, parse

SOUND_TAGS = frozenset({"laughs", "sighs", "gasps", "crying", "clears throat"})
STYLE_TAGS = frozenset(
    {"whispers", "shouts", "angry", "excited", "sad", "calm", "nervous", "scared", "frustrated", "confused", "crying"}
)
RENDERED_TAGS = SOUND_TAGS | STYLE_TAGS | {"pause", "stammers"}
"""Every tag the offline backend can render: the 17 canonical tags."""
MAX_SCRIPT_CHARS = 2_000
"""The longest tagged transcript one clip renders, in characters (corpus scripts: at most 456)."""
MAX_SCRIPT_WORDS = 200
"""The most words one clip renders (corpus scripts: 12-80; 250 words and 32 tags took 10 s and
490 MB offline, 1,000 words 47 s and 1.65 GB)."""
MAX_SCRIPT_TAGS = 32
"""The most tags one clip renders (corpus scripts: at most 8)."""

_TOKEN = re.compile(r"\S+")
_WORD = re.compile(r"\w(?:.*\w)?", re.DOTALL)  # a token less its leading and trailing punctuation
_SENTENCE_END = re.compile(r"(?:[.!?]+|…)[\"'”’)]*(?=\s|\[|$)")


@dataclass(frozen=True)
class Word:
    """A spoken word as written (``"SINGLE"``, ``"don't"``), at ``text[start:end]`` of the transcript."""

    text: str
    start: int
    end: int
    emphasis: bool


@dataclass(frozen=True)
class Cue:
    """One tag at ``text[start:end]``; it governs ``text[start:scope_end]`` and the words in ``words``.

    ``words`` is empty for sound tags and ``[pause]`` (it starts at the next word), the next word for
    ``[stammers]`` and the clause for style tags.
    """

    label: str
    start: int
    end: int
    scope_end: int
    words: range


@dataclass(frozen=True)
class Script:
    """A parsed tagged transcript: ``text`` is the transcript exactly as given."""

    text: str
    words: tuple[Word, ...]
    cues: tuple[Cue, ...]

    @property
    def oov_labels(self) -> list[str]:
        """Labels of the tags that are not among the canonical ones the backends render."""
        return [c.label for c in self.cues if c.label not in RENDERED_TAGS]

    def require_rendered(self, backend: str) -> None:
        """Raise :class:`InputError` for a tag the rule-based ``backend`` cannot render (anything
        but the 17 canonical tags)."""
        if self.oov_labels:
            raise InputError(
                f"tag(s) {', '.join(map(repr, self.oov_labels))} are not canonical; the {backend} backend renders "
                "only the 17 canonical tags (evoxtral-bench tags)"
            )


def read_script(text: str) -> Script:
    """Split a tagged transcript into words and tag cues (character offsets into ``text``).

    Raises :class:`InputError` for a transcript longer than one clip renders
    (:data:`MAX_SCRIPT_CHARS`, :data:`MAX_SCRIPT_WORDS`, :data:`MAX_SCRIPT_TAGS`), checked
    before any work that grows faster than the text.
    """
    if len(text) > MAX_SCRIPT_CHARS:
        raise InputError(f"'tagged_text' has {len(text):,} characters; one clip renders at most {MAX_SCRIPT_CHARS:,}: split it into several rows")
    transcript = parse(text)
    if len(transcript.tags) > MAX_SCRIPT_TAGS:
        raise InputError(f"'tagged_text' has {len(transcript.tags):,} tags; one clip renders at most {MAX_SCRIPT_TAGS}: split it into several rows")
    words: list[Word] = []
    spans: list[tuple[str, int, int]] = []  # (label, start, end) of each tag
    offset = 0
    for i, chunk in enumerate(transcript.chunks):
        for token in _TOKEN.finditer(chunk):
            core = _WORD.search(token.group())
            if core:
                start = offset + token.start() + core.start()
                words.append(Word(core.group(), start, start + len(core.group()), bool(emphasis_tokens(core.group()))))
        offset += len(chunk)
        if i < len(transcript.tags):
            tag = transcript.tags[i]
            spans.append((tag.label, offset, offset + len(tag.raw) + 2))
            offset += len(tag.raw) + 2
    if len(words) > MAX_SCRIPT_WORDS:
        raise InputError(f"'tagged_text' has {len(words):,} words; one clip renders at most {MAX_SCRIPT_WORDS:,}: split it into several rows")
    cues = tuple(_cue(text, words, spans, i) for i in range(len(spans)))
    return Script(text, tuple(words), cues)


def _cue(text: str, words: list[Word], spans: list[tuple[str, int, int]], index: int) -> Cue:
    label, start, end = spans[index]
    first = next((i for i, w in enumerate(words) if w.start >= end), len(words))
    if label in STYLE_TAGS:
        limit = next(
            (s for lab, s, _ in spans[index + 1 :] if lab in STYLE_TAGS and any(end <= w.start < s for w in words)),
            len(text),
        )
        sentence = _SENTENCE_END.search(text, words[first].start if first < len(words) else end, limit)
        scope_end = sentence.end() if sentence else limit
        last = next((i for i, w in enumerate(words) if w.start >= scope_end), len(words))
        return Cue(label, start, end, scope_end, range(first, max(first, last)))
    if label == "stammers" and first < len(words):
        return Cue(label, start, end, words[first].end, range(first, first + 1))
    return Cue(label, start, end, end, range(first, first))
