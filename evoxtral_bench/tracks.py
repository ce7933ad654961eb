"""Audio tracks: named, versioned rendering recipes of the corpus (docs/spec.md §12).

A track says how the benchmark audio was made: the synthesis backend, the voices of each split,
the seed, and whether it is the counterfactual ``-masked`` twin (every audible tag taken out).
A system's predictions are for one track; results, the signature and the leaderboard carry its
name. Scoring needs no audio: a track changes what was transcribed, never the references.

A recipe never changes under its name: a new rendering is a new name (``neural-v2``). The
recipe hash (:attr:`Track.recipe_hash`) is written into every synthesis manifest entry, so a
folder of audio says which recipe made it.

This module is light (no numpy): the scorer's signature and ``leaderboard check`` use it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

SPLITS = ("train", "validation", "test")
TEXT_ONLY = "none"
"""The track of an entry whose predictions come from no audio (an oracle built from the text)."""


@dataclass(frozen=True)
class Track:
    """One rendering recipe. ``voices`` maps each split to the backend's voice pool for it."""

    name: str
    backend: str
    voices: Mapping[str, tuple[str, ...]]
    seed: int = 0
    masked: bool = False
    description: str = ""
    settings: Mapping[str, object] = field(default_factory=lambda: MappingProxyType({}))
    references: str = "v1"
    """The reference set (:data:`REFERENCE_SETS`) whose test scripts the test audio renders."""
    renderings: int = 1
    """How many times each test script is rendered (by different test voices); from 2 on, a
    test utterance is (script, rendering) and the bootstrap resamples scripts."""

    def recipe(self) -> dict:
        """Everything that decides the audio, as JSON-ready data (the name and prose excluded).

        ``references`` and ``renderings`` are written only when they differ from v1's single
        rendering, so the recipes (and hashes) of the v1 tracks are what they always were."""
        out = {
            "backend": self.backend,
            "masked": self.masked,
            "seed": self.seed,
            "settings": dict(self.settings),
            "voices": {split: list(self.voices[split]) for split in SPLITS},
        }
        if self.references != "v1" or self.renderings != 1:
            out.update(references=self.references, renderings=self.renderings)
        return out

    @property
    def recipe_hash(self) -> str:
        """sha256 of the canonical JSON of :meth:`recipe` (first 16 hex digits)."""
        text = json.dumps(self.recipe(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]

    def rendering_pool(self, split: str, rendering: int = 0) -> tuple[str, ...]:
        """The voices a clip of ``split`` draws from: for rendering ``rendering`` (1-based) of a test
        script of a track that renders each test script several times, the ``rendering``-th of
        :attr:`renderings` equal consecutive groups of the test pool; otherwise the split's pool."""
        pool = self.voices[split]
        if split != "test" or self.renderings == 1:
            return pool
        size = len(pool) // self.renderings
        return pool[(rendering - 1) * size : rendering * size]

    def events(self, split: str) -> str:
        """The family of event generators of ``split`` (``settings["events"]``; default ``rule-v1``)."""
        return str(dict(self.settings.get("events", {})).get(split, "rule-v1"))

    @property
    def full(self) -> str:
        """The track a masked track is the twin of (itself when not masked)."""
        return self.name.removesuffix("-masked")


@dataclass(frozen=True)
class ReferenceSetSpec:
    """A versioned set of test references (docs/spec.md §6.9): the shipped file, its split and
    the benchmark version it defines (whose headline metric is ``scoring.metrics.headline``)."""

    name: str
    file: str  # in evoxtral_bench/corpus/data
    split: str
    benchmark_version: int


REFERENCE_SETS: Mapping[str, ReferenceSetSpec] = MappingProxyType(
    {
        s.name: s
        for s in (
            ReferenceSetSpec("v1", "corpus.jsonl", "test", 1),
            ReferenceSetSpec("v2", "test-v2.jsonl", "test", 2),
        )
    }
)
"""Every reference set by name. v1 is the 128-script test split of the corpus (frozen: the v1
tracks and their entries are scored on it); v2 is 768 test scripts (v1's 128 and 640 more)."""
BENCHMARK_VERSIONS: Mapping[int, ReferenceSetSpec] = MappingProxyType({s.benchmark_version: s for s in REFERENCE_SETS.values()})


def rendering_id(script_id: str, rendering: int, renderings: int) -> str:
    """The utterance id of rendering ``rendering`` (1-based) of a test script: the script id
    itself for a track that renders each script once, ``<script>.<k>`` otherwise."""
    return script_id if renderings == 1 else f"{script_id}.{rendering}"


def _all(voices: tuple[str, ...]) -> Mapping[str, tuple[str, ...]]:
    return MappingProxyType({split: voices for split in SPLITS})


ESPEAK_VOICES = ("en-us", "en-us+m3", "en-us+f2", "en-us+f4", "en", "en+m4", "en+f3", "en-gb-x-rp+f5")
"""espeak-ng voice files + variants of ``espeak-v1`` (``en`` is British English); each clip's base
pitch is drawn unless a pool entry gives it as ``@NN``."""
NEURAL_TRAIN_VOICES = ("hibari:heart",)
NEURAL_TEST_VOICES = ("piper:en_US-joe-medium",)
NEURAL_V2_TRAIN_VOICES = (
    "kokoro:jm_kumo",
    "kokoro:jf_alpha",
    "kokoro:jf_gongitsune",
    "kokoro:jm_kumo*0.7+jf_alpha*0.3",
)
"""Kokoro-82M style vectors (and a blend) of ``neural-v2`` train and validation (docs/spec.md §12.7)."""
NEURAL_V2_TEST_VOICES = (
    "piper:en_US-joe-medium",
    "hibari:heart",
    "kokoro:jf_nezumi",
    "kokoro:jf_tebukuro",
)
"""The held-out ``neural-v2`` test voices: two groups of two (the fast engines, then Kokoro style
vectors no train voice uses); rendering 1 of a test script draws from the first group, rendering 2
from the second (:meth:`Track.rendering_pool`), so the two renderings of a script always have
different voices and engines."""
ELEVENLABS_VOICES = (
    "JBFqnCBsd6RMkjVDRZzb",  # George
    "21m00Tcm4TlvDq8ikWAM",  # Rachel
    "EXAVITQu4vr4xnSDxMaL",  # Sarah
    "TX3LPaxmHKxFdv7VOQHJ",  # Liam
    "XrExE9yKIg1WjnnlVkGX",  # Matilda
    "pNInz6obpgDQGcFmaJgB",  # Adam
)
"""Public premade ElevenLabs voices of ``elevenlabs-v3``, assigned per clip by a hash of id and seed."""

_ESPEAK = dict(backend="offline", voices=_all(ESPEAK_VOICES))
_NEURAL = dict(
    backend="neural",
    voices=MappingProxyType(
        {"train": NEURAL_TRAIN_VOICES, "validation": NEURAL_TRAIN_VOICES, "test": NEURAL_TEST_VOICES}
    ),
)
_NEURAL_V2 = dict(
    backend="neural",
    voices=MappingProxyType(
        {"train": NEURAL_V2_TRAIN_VOICES, "validation": NEURAL_V2_TRAIN_VOICES, "test": NEURAL_V2_TEST_VOICES}
    ),
    references="v2",
    renderings=2,
)
_NEURAL_V2_SETTINGS = {"events": {"train": "rule-v1", "validation": "rule-v1", "test": "voiced-v2"}}
TRACKS: Mapping[str, Track] = MappingProxyType(
    {
        t.name: t
        for t in (
            Track(
                "espeak-v1",
                **_ESPEAK,
                description="espeak-ng formant voices (8 voice variants, drawn per clip) with audible tags drawn by rule",
            ),
            Track(
                "espeak-v1-masked",
                **_ESPEAK,
                masked=True,
                description="espeak-v1 with every audible tag taken out, the words kept",
            ),
            Track(
                "espeak-v2",
                **_ESPEAK,
                references="v2",
                description="espeak-v1's recipe rendering the v2 test set (768 scripts; train and validation as espeak-v1)",
            ),
            Track(
                "espeak-v2-masked",
                **_ESPEAK,
                references="v2",
                masked=True,
                description="espeak-v2 with every audible tag taken out, the words kept",
            ),
            Track(
                "neural-v1",
                **_NEURAL,
                description=(
                    "neural voices with audible, varied tags; train and validation spoken by hibari 'heart' "
                    "(female), test by the held-out Piper en_US-joe-medium (male)"
                ),
            ),
            Track(
                "neural-v1-masked",
                **_NEURAL,
                masked=True,
                description="neural-v1 with every audible tag taken out, the words kept",
            ),
            Track(
                "neural-v2",
                **_NEURAL_V2,
                settings=MappingProxyType(_NEURAL_V2_SETTINGS),
                description=(
                    "Kokoro-82M voices (2 female, 2 male) for train and validation; each test script spoken twice by "
                    "4 held-out voices (Piper joe, hibari heart, Kokoro nezumi, tebukuro) with event sounds from "
                    "generators train never uses"
                ),
            ),
            Track(
                "neural-v2-masked",
                **_NEURAL_V2,
                masked=True,
                settings=MappingProxyType({**_NEURAL_V2_SETTINGS, "splice": True}),
                description="neural-v2 with every audible tag taken out and the sounds cut out (no gap where they were)",
            ),
            Track(
                "elevenlabs-v3",
                backend="elevenlabs",
                voices=_all(ELEVENLABS_VOICES),
                description="ElevenLabs eleven_v3 (the paper's audio); needs a key and the network",
            ),
        )
    }
)
"""Every registered track by name (the ``--track`` choices)."""
TRACK_NAMES = tuple(TRACKS)
FEATURED = "neural-v2"
"""The track of the site's first table and of the README's examples: held-out voices, held-out
event generators and a masked twin without a timing leak (docs/spec.md §12.7)."""


def get_track(name: str) -> Track:
    """The registered track called ``name``; ``KeyError`` naming the choices otherwise."""
    try:
        return TRACKS[name]
    except KeyError:
        raise KeyError(f"unknown audio track {name!r}; choose one of: {', '.join(TRACK_NAMES)}") from None
