"""Scoring options and the signature that pins them (sacreBLEU-style), built in one place.

:class:`Options` holds every option that can change a number or what it means (the audio
track the predictions were made on), and nothing else; a :class:`Signature` is made from the
options and the references by :meth:`Signature.build` and nowhere else. Two results are
comparable when their signatures are equal.
"""

from __future__ import annotations

from dataclasses import dataclass

from evoxtral_bench._version import __version__
from evoxtral_bench.errors import InputError, shown
from evoxtral_bench.scoring import adapters, normalize, position
from evoxtral_bench.scoring.tags import tag_table
from evoxtral_bench.tracks import BENCHMARK_VERSIONS, REFERENCE_SETS, TEXT_ONLY, TRACK_NAMES, TRACKS, ReferenceSetSpec

BENCHMARK_NAME = "evoxtral-bench"
BENCHMARK_VERSION = 1
"""Bumped when the meaning of a number changes (a metric's definition, the grammar)."""
MAX_BOOTSTRAP = 10**6
"""The most bootstrap resamples (``--bootstrap``)."""
UNSPECIFIED = "unspecified"
"""The track of results scored without ``--track``: written as such, so that no result claims
a track it was not given (docs/spec.md §12)."""
TRACK_CHOICES = (*TRACK_NAMES, TEXT_ONLY)
"""The values ``--track`` accepts: a registered track, or ``none`` for predictions made from text."""


def masked_track(track: str) -> str:
    """The track of a system's ``--masked`` predictions: the registered ``-masked`` twin of
    ``track`` (``neural-v1`` -> ``neural-v1-masked``); ``none`` and ``unspecified`` stay as they are.

    :class:`InputError` for a track that is itself masked or has no registered masked twin.
    """
    if track in (TEXT_ONLY, UNSPECIFIED):
        return track
    if TRACKS[track].masked:
        raise InputError(
            f"--track {track} is a masked track; with --masked give the full track ({TRACKS[track].full}): "
            "the masked predictions are for its masked twin"
        )
    twins = [t.name for t in TRACKS.values() if t.masked and t.full == track]
    if not twins:
        full = [t.full for t in TRACKS.values() if t.masked]
        raise InputError(f"--track {track} has no registered masked twin; --masked needs a track that has one: {', '.join(full)}")
    return twins[0]


@dataclass(frozen=True)
class Options:
    """Every option that can change a number, and the track that says what was transcribed;
    all of it goes into the :class:`Signature`.

    ``strict`` (missing ids are errors) is not here: it decides whether a file is scored,
    never what a score is.
    """

    normalizer: str = "basic"
    legacy: bool = False
    adapter: str | None = None
    lenient: bool = False
    n_boot: int = 1000
    seed: int = 0
    ci: float = 0.95
    track: str = UNSPECIFIED
    benchmark_version: int | None = None
    """None: the version of the track's reference set (1 without a registered track)."""

    @property
    def version(self) -> int:
        """The benchmark version the numbers are for (docs/spec.md §6.9)."""
        if self.benchmark_version is not None:
            return self.benchmark_version
        return REFERENCE_SETS[TRACKS[self.track].references].benchmark_version if self.track in TRACKS else BENCHMARK_VERSION

    @property
    def reference_set(self) -> ReferenceSetSpec:
        """The shipped reference set scored when no references are given."""
        return BENCHMARK_VERSIONS[self.version]

    @property
    def renderings(self) -> int:
        """Renderings of each shipped test script on the track (1 without a registered track)."""
        return TRACKS[self.track].renderings if self.track in TRACKS else 1

    def check(self) -> None:
        """Raise :class:`InputError` for an impossible combination or value."""
        if self.normalizer not in normalize.names():
            raise InputError(f"unknown normalizer {self.normalizer!r}; expected one of {', '.join(normalize.names())}")
        if self.adapter is not None and self.adapter not in adapters.names():
            raise InputError(f"unknown adapter {self.adapter!r}; expected one of {', '.join(adapters.names())}")
        if not 0 < self.ci < 1:
            raise InputError(f"--ci must be between 0 and 1 (exclusive), got {self.ci}")
        if not 0 <= self.n_boot <= MAX_BOOTSTRAP:
            raise InputError(f"--bootstrap must be between 0 and {MAX_BOOTSTRAP:,}, got {_short(self.n_boot)}")
        if self.seed < 0:
            raise InputError(f"--seed must be 0 or more, got {_short(self.seed)}")
        if self.lenient and not self.adapter:
            raise InputError("--lenient only applies together with --adapter")
        if self.legacy and self.normalizer != "basic":
            raise InputError("--legacy uses the paper's own text handling; drop --normalizer")
        if self.track not in (*TRACK_CHOICES, UNSPECIFIED):
            raise InputError(f"unknown --track {shown(self.track, 40)}; expected one of {', '.join(TRACK_CHOICES)}")
        if self.benchmark_version is not None:
            if self.benchmark_version not in BENCHMARK_VERSIONS:
                versions = ", ".join(map(str, BENCHMARK_VERSIONS))
                raise InputError(f"unknown --benchmark-version {shown(self.benchmark_version, 20)}; expected one of {versions}")
            if self.track in TRACKS and REFERENCE_SETS[TRACKS[self.track].references].benchmark_version != self.benchmark_version:
                own = REFERENCE_SETS[TRACKS[self.track].references].benchmark_version
                raise InputError(
                    f"--track {self.track} renders the version-{own} references; drop --benchmark-version or give {own}"
                )
        if self.legacy and self.version != 1:
            raise InputError("--legacy scores the paper's version-1 metrics; it does not apply to benchmark version 2")


OPTION_NAMES: dict[str, str] = {
    "normalizer": "normalizer",
    "legacy": "legacy",
    "adapter": "adapter",
    "lenient": "lenient",
    "bootstrap": "n_boot",
    "seed": "seed",
    "ci": "ci",
    "track": "track",
    "benchmark_version": "benchmark_version",
}
"""Public keyword (API argument, CLI ``--flag``) -> :class:`Options` field."""


OPTION_TYPES: dict[str, str] = {
    "normalizer": "str",
    "legacy": "bool",
    "adapter": "str?",
    "lenient": "bool",
    "bootstrap": "int",
    "seed": "int",
    "ci": "float",
    "track": "str",
    "benchmark_version": "int?",
    "split": "str?",
    "strict": "bool",
    "workers": "int",
}
"""The type of every public option (API keyword; ``str?``, ``int?``: or None): the scoring
options of :data:`OPTION_NAMES` and the run options ``split``, ``strict``, ``workers``."""
_EXPECTED = {
    "str": "a string",
    "str?": "a string or None",
    "bool": "True or False",
    "int": "an integer",
    "int?": "an integer or None",
    "float": "a number",
}


def typed(name: str, value: object) -> object:
    """``value`` of option ``name`` as the plain Python type :data:`OPTION_TYPES` gives it, or an
    :class:`InputError` naming the option. A numpy scalar is converted first (``np.float32(0.9)``
    is the float it holds, ``np.True_`` is True); a bool option takes only a bool (``"no"`` is
    refused, not read as true); an int option refuses a bool and a float; a float option takes
    an int or a float."""
    kind = OPTION_TYPES[name]
    if hasattr(value, "item") and type(value).__module__ == "numpy":  # a numpy scalar: the Python value it holds
        value = value.item()
    if kind.endswith("?") and value is None:
        return None
    base = kind.rstrip("?")
    ok = {
        "str": isinstance(value, str),
        "bool": isinstance(value, bool),
        "int": isinstance(value, int) and not isinstance(value, bool),
        "float": isinstance(value, (int, float)) and not isinstance(value, bool),
    }[base]
    if not ok:
        raise InputError(f"option {name} must be {_EXPECTED[kind]}, got {shown(value, 40)} ({type(value).__name__})")
    return {"str": str, "bool": bool, "int": int, "float": float}[base](value)  # subclasses -> the plain type


def options_from(**keywords: object) -> Options:
    """Checked :class:`Options` from public keywords (``bootstrap=``, ``ci=``, …): each value's
    type by :func:`typed`, then the values (:meth:`Options.check`); unknown keywords are an
    :class:`InputError`. The API and the CLI both build options here."""
    unknown = sorted(set(keywords) - set(OPTION_NAMES))
    if unknown:
        raise InputError(f"unknown scoring option(s) {', '.join(unknown)}; expected {', '.join(OPTION_NAMES)}")
    options = Options(**{OPTION_NAMES[k]: typed(k, v) for k, v in keywords.items()})
    options.check()
    return options


def run_options(*, split: object = None, strict: object = False, workers: object = 1) -> tuple[str | None, bool, int]:
    """The API's options outside the signature, checked like :func:`options_from`'s:
    ``split`` (None or a label), ``strict``, ``workers`` (1 or more)."""
    checked_split, checked_strict, checked_workers = typed("split", split), typed("strict", strict), typed("workers", workers)
    if checked_workers < 1:
        raise InputError(f"workers must be 1 or more, got {_short(checked_workers)}")
    return checked_split, checked_strict, checked_workers


def _short(value: int) -> str:
    """An integer for a message: long ones cut to their first digits and their length."""
    text = str(value)
    return text if len(text) <= 20 else f"{text[:12]}… ({len(text)} digits)"


@dataclass(frozen=True)
class Signature:
    """Everything that identifies a number: benchmark, references, options, scorer version.

    ``tolerance`` is the word-gap tolerance of the position-aware tag F1 (``tag_f1_pos``);
    ``track`` the audio track the predictions were made on (:data:`UNSPECIFIED` when not given).
    """

    references_sha256: str
    split: str
    n: int
    track: str
    normalizer: str
    legacy: bool
    adapter: str | None
    lenient: bool
    tag_table_version: int
    n_boot: int
    seed: int
    ci: float
    tolerance: int = position.TOLERANCE
    version: str = __version__
    benchmark: str = BENCHMARK_NAME
    benchmark_version: int = BENCHMARK_VERSION
    groups: int | None = None
    """Resampling units (scripts) when the references group utterances; None: each utterance."""

    @classmethod
    def build(cls, *, references_sha256: str, split: str, n: int, options: Options, groups: int | None = None) -> Signature:
        """The one place a signature is made from options."""
        return cls(
            references_sha256=references_sha256,
            split=split,
            n=n,
            track=options.track,
            normalizer="legacy" if options.legacy else options.normalizer,
            legacy=options.legacy,
            adapter=options.adapter,
            lenient=options.lenient,
            tag_table_version=tag_table().version,
            n_boot=options.n_boot,
            seed=options.seed,
            ci=options.ci,
            tolerance=position.TOLERANCE,
            benchmark_version=options.version,
            groups=groups,
        )

    def format(self) -> str:
        """One line, e.g. ``evoxtral-bench:1|refs:d84b6526c610|split:test|track:espeak-v1|n:128|…|version:0.2.0``."""
        parts = [
            f"{self.benchmark}:{self.benchmark_version}",
            f"refs:{self.references_sha256[:12]}",
            f"split:{self.split}",
            f"track:{self.track}",
            f"n:{self.n}",
            *([f"scripts:{self.groups}"] if self.groups is not None else []),
            f"norm:{self.normalizer}",
            f"legacy:{'yes' if self.legacy else 'no'}",
            f"adapter:{self.adapter or 'none'}",
            f"lenient:{'yes' if self.lenient else 'no'}",
            f"tags:{self.tag_table_version}",
            f"tol:{self.tolerance}",
            f"boot:{self.n_boot}",
            f"seed:{self.seed}",
            f"ci:{self.ci!r}",  # repr: the shortest text that reads back as the same float
            f"version:{self.version}",
        ]
        return "|".join(parts)

    def __str__(self) -> str:
        return self.format()

    def config(self) -> dict:
        """The ``config`` block of the results document."""
        return {
            "track": self.track,
            "normalizer": self.normalizer,
            "legacy": self.legacy,
            "adapter": self.adapter,
            "lenient": self.lenient,
            "tag_table_version": self.tag_table_version,
            "position_tolerance": self.tolerance,
            "bootstrap": {"n": self.n_boot, "seed": self.seed, "ci": self.ci},
            **self._version_2(),
        }

    def _version_2(self) -> dict:
        """The ``config`` keys of benchmark version 2 (none in version 1, whose documents are frozen)."""
        if self.benchmark_version < 2 and self.groups is None:
            return {}
        from evoxtral_bench.scoring.metrics import headline  # numpy: not needed by a version-1 signature

        return {"headline": headline(self.benchmark_version).name, "resampling_unit": "script" if self.groups is not None else "utterance"}

    @classmethod
    def from_document(cls, benchmark: dict, config: dict, line: str) -> Signature:
        """Rebuild from a results document's ``benchmark``, ``config`` and ``signature``."""
        fields = dict(part.split(":", 1) for part in line.split("|")[1:])
        boot = config["bootstrap"]
        return cls(
            references_sha256=benchmark["references_sha256"],
            split=benchmark["split"],
            n=benchmark["n"],
            track=config["track"],
            normalizer=config["normalizer"],
            legacy=config["legacy"],
            adapter=config["adapter"],
            lenient=config["lenient"],
            tag_table_version=config["tag_table_version"],
            n_boot=boot["n"],
            seed=boot["seed"],
            ci=boot["ci"],
            tolerance=config["position_tolerance"],
            version=fields["version"],
            benchmark=benchmark["name"],
            benchmark_version=benchmark["version"],
            groups=int(fields["scripts"]) if "scripts" in fields else None,
        )
