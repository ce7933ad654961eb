"""Tagged transcripts (docs/spec.md §1): parsing, label canonicalization, emphasis words.

A tagged transcript is text with inline ``[label]`` tags and CAPITALIZED emphasis words.
:func:`parse` splits it into the text chunks between tags and the tags themselves, with each
label mapped through the versioned alias table shipped in ``scoring/tags.toml``.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

TAG_RE = re.compile(r"\[([^\[\]\n]{1,40})\]")
"""A well-formed tag: 1-40 characters without brackets or a newline, between brackets."""

_SPACES_RE = re.compile(r"\s+")


@dataclass(frozen=True, eq=False)
class TagTable:
    """The versioned tag vocabulary: canonical labels, aliases and adapter tables."""

    version: int
    canonical: dict[str, str]  # label -> one-line gloss, in the benchmark's order
    aliases: dict[str, str]
    adapters: dict[str, dict]
    families: dict[str, tuple[str, tuple[str, ...]]]  # family -> (its label, its canonical labels)

    @property
    def family_of(self) -> dict[str, int]:
        """Canonical label -> the index of its family (in :attr:`families` order)."""
        return {tag: i for i, (_, tags) in enumerate(self.families.values()) for tag in tags}

    def canonicalize(self, raw: str) -> str:
        """Canonical label for a raw tag label; an unknown label comes back normalized (OOV)."""
        return _canonicalize(raw, self)

    def is_canonical(self, label: str) -> bool:
        return label in self.canonical


def strip_format_chars(text: str) -> str:
    """``text`` without Unicode format characters (category Cf: zero-width joiners, bidi marks),
    which would make a label look like another one."""
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cf") if not text.isascii() else text


@lru_cache(maxsize=4096)
def _canonicalize(raw: str, table: TagTable) -> str:
    label = _SPACES_RE.sub(" ", strip_format_chars(unicodedata.normalize("NFKC", raw)).lower()).strip()
    return table.aliases.get(label, label)


@lru_cache(maxsize=1)
def tag_table() -> TagTable:
    """The tag table shipped with the package (``evoxtral_bench/scoring/tags.toml``; TOML, read by
    the standard library: a cold start imports no YAML parser)."""
    raw = tomllib.loads(Path(__file__).with_name("tags.toml").read_text("utf-8"))
    return TagTable(
        version=int(raw["version"]),
        canonical=dict(raw["canonical"]),
        aliases=dict(raw["aliases"]),
        adapters=dict(raw["adapters"]),
        families={name: (family["label"], tuple(family["tags"])) for name, family in raw["families"].items()},
    )


class Tag(NamedTuple):
    """One tag occurrence. ``position`` is the index of the text chunk that follows it."""

    label: str
    raw: str
    oov: bool
    position: int


@dataclass(frozen=True)
class Transcript:
    """A parsed tagged transcript: ``len(chunks) == len(tags) + 1``; tag i sits before chunk i+1."""

    chunks: tuple[str, ...]
    tags: tuple[Tag, ...]

    @property
    def text(self) -> str:
        """The words with every tag replaced by a space (docs/spec.md §2 step 1)."""
        return " ".join(self.chunks)

    @property
    def labels(self) -> list[str]:
        return [t.label for t in self.tags]


def split_tags(text: str, table: TagTable | None = None) -> tuple[list[str], list[str], list[str]]:
    """The text chunks, canonical labels and raw labels of a tagged transcript (see :func:`parse`)."""
    if "[" not in text:
        return [text], [], []
    table = table or tag_table()
    parts = TAG_RE.split(text)  # chunk, raw label, chunk, ..., chunk
    raws = parts[1::2]
    labels = [_canonicalize(raw, table) for raw in raws]
    if all(labels):
        return parts[0::2], labels, raws
    # "[ ]", or only format characters: punctuation, not a tag; its text stays in the chunk
    chunks: list[str] = []
    kept: list[str] = []
    kept_raws: list[str] = []
    pending = parts[0]
    for i, (raw, label) in enumerate(zip(raws, labels)):
        following = parts[2 * i + 2]
        if label:
            chunks.append(pending)
            kept.append(label)
            kept_raws.append(raw)
            pending = following
        else:
            pending = f"{pending}[{raw}]{following}"
    chunks.append(pending)
    return chunks, kept, kept_raws


def parse(text: str, table: TagTable | None = None) -> Transcript:
    """Parse a tagged transcript.

    The malformed-markup rule: a tag is a :data:`TAG_RE` match whose label has a visible
    character; any other ``[`` or ``]`` is punctuation and stays in the text (unbalanced,
    nested, empty, over-long or multi-line brackets; see :func:`malformed_spans`).
    """
    table = table or tag_table()
    chunks, labels, raws = split_tags(text, table)
    canonical = table.canonical
    tags = tuple(Tag(label, raw, label not in canonical, i + 1) for i, (label, raw) in enumerate(zip(labels, raws)))
    return Transcript(chunks=tuple(chunks), tags=tags)


_STRAY_RE = re.compile(r"\[[^\[\]]*\]|[\[\]]")


def malformed_spans(text: str, table: TagTable | None = None) -> list[str]:
    """The bracket spans of ``text`` that form no tag (scored as punctuation by :func:`parse`):
    a ``[`` with what follows up to the next ``]`` when no other bracket comes first (``[]``,
    ``[ ]``, an over-long or multi-line label), else the lone ``[`` or ``]``."""
    if "[" not in text and "]" not in text:
        return []
    chunks = split_tags(text, table)[0]
    return [m.group(0) for chunk in chunks if "[" in chunk or "]" in chunk for m in _STRAY_RE.finditer(chunk)]


def bracket_problems(text: str) -> list[str]:
    """Describe malformed tag markup: unbalanced, nested, empty, over-long or multi-line tags.

    Returns an empty list for well-formed text. Used by the submission validator; the parser
    itself is lenient (docs/spec.md §1).
    """
    problems: list[str] = []
    depth = 0
    open_at = -1
    for i, ch in enumerate(text):
        if ch == "[":
            if depth:
                problems.append(f"nested '[' at character {i + 1} inside the tag opened at character {open_at + 1}")
                return problems
            depth, open_at = 1, i
        elif ch == "]":
            if not depth:
                problems.append(f"']' at character {i + 1} closes no tag")
                return problems
            depth = 0
            label = text[open_at + 1 : i]
            if not label.strip():
                problems.append(f"empty tag '[]' at character {open_at + 1}")
            elif "\n" in label:
                problems.append(f"tag at character {open_at + 1} spans a line break")
            elif len(label) > 40:
                problems.append(f"tag label at character {open_at + 1} is {len(label)} characters long (at most 40)")
    if depth:
        problems.append(f"'[' at character {open_at + 1} is never closed")
    return problems


def emphasis_tokens(text: str) -> list[str]:
    """Emphasis words of tag-free text: all letters uppercase, at least two letters (docs/spec.md §1).

    Returns the raw tokens; callers normalize them (lowercase, punctuation) before comparing.
    """
    # str.isupper() is False when a cased letter is lowercase or none is cased: a cheap filter
    candidates = [t for t in text.split() if t.isupper()]
    if text.isascii():  # every letter of an ASCII candidate is a capital
        return [t for t in candidates if _TWO_CAPITALS_RE.search(t)]
    out = []
    for token in candidates:
        letters = [c for c in token if c.isalpha()]
        if len(letters) >= 2 and all(c.isupper() for c in letters):
            out.append(token)
    return out


_TWO_CAPITALS_RE = re.compile(r"[A-Z].*[A-Z]")
