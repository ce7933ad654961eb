"""The model backends of ``evoxtral-bench run``: a registry, one small module each.

``--model KIND:TARGET`` picks the module :data:`BACKENDS` names for ``KIND``; ``TARGET`` is what
that module loads (a folder, a URL, a model id, ``module:function``). Each module defines

* ``OPTIONS``: ``{name: Option}``, the ``-o NAME=VALUE`` settings it takes (typed, with a default);
* ``load(target, options) -> Backend``.

A :class:`Backend` transcribes ``batch_size`` clips per call and describes itself for
``run.json`` (:meth:`Backend.provenance`: the model, a content hash of its weights or the
model a server reported, and every decoding option). It raises
:class:`~evoxtral_bench.errors.InputError` for what the user can fix: a target that is not a
model, a server that does not answer or answers garbage, a missing key.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from evoxtral_bench.errors import InputError
from evoxtral_bench.runner.audio import Clip

BACKENDS: Mapping[str, str] = {
    "transformers": "evoxtral_bench.runner.backends.transformers",
    "ct2": "evoxtral_bench.runner.backends.ct2",
    "openai": "evoxtral_bench.runner.backends.openai",
    "elevenlabs": "evoxtral_bench.runner.backends.elevenlabs",
    "python": "evoxtral_bench.runner.backends.python",
}
"""Backend kind -> its module."""
EXAMPLES = {
    "transformers": "transformers:PATH (a local transformers speech-to-text folder or hub id)",
    "ct2": "ct2:PATH (a CTranslate2 Whisper folder)",
    "openai": "openai:URL (an OpenAI-compatible server, e.g. http://localhost:8000/v1)",
    "elevenlabs": "elevenlabs:scribe_v1",
    "python": "python:MODULE:FUNCTION",
}


@dataclass(frozen=True)
class Option:
    """One ``-o NAME=VALUE`` setting: its type (str, int, float or bool), default and meaning;
    ``operational``: it changes how the clips are sent (concurrency, retries, timeouts, the key's
    variable), never a transcript, so a run may be resumed with another value."""

    type: type
    default: object
    help: str
    choices: tuple[str, ...] = ()
    operational: bool = False


@dataclass(frozen=True)
class Output:
    """A transcript, with the words and their times (seconds) when the backend gives them, and
    the model's own text when the backend rewrote it (``raw``, e.g. another event markup)."""

    text: str
    words: list[dict] | None = field(default=None)
    raw: str | None = None


class Backend(Protocol):
    batch_size: int
    deterministic: bool

    def transcribe(self, clips: Sequence[Clip]) -> list[str | Output]: ...

    def provenance(self) -> dict: ...


def split_spec(spec: str) -> tuple[str, str]:
    """``KIND:TARGET`` -> (kind, target); :class:`InputError` for an unknown kind or no target."""
    kind, sep, target = spec.partition(":")
    if kind not in BACKENDS:
        choices = "; ".join(EXAMPLES.values())
        raise InputError(f"--model {spec!r}: unknown backend {kind!r}; expected one of: {choices}")
    if not sep or not target:
        raise InputError(f"--model {spec!r}: nothing after '{kind}:'; expected {EXAMPLES[kind]}")
    return kind, target


def options_of(kind: str) -> Mapping[str, Option]:
    return importlib.import_module(BACKENDS[kind]).OPTIONS


def _value(kind: str, name: str, option: Option, text: str) -> object:
    where = f"-o {name}={text} ({kind})"
    if option.type is bool:
        if text.lower() not in ("true", "false", "1", "0", "yes", "no"):
            raise InputError(f"{where}: expected true or false")
        return text.lower() in ("true", "1", "yes")
    try:
        value = option.type(text)
    except ValueError:
        raise InputError(f"{where}: expected {option.type.__name__}") from None
    if option.choices and value not in option.choices:
        raise InputError(f"{where}: expected one of {', '.join(option.choices)}")
    return value


def resolve_options(kind: str, assignments: Sequence[str]) -> dict[str, object]:
    """Every option of ``kind``: defaults, then each ``NAME=VALUE`` (typed, checked)."""
    declared = options_of(kind)
    values = {name: option.default for name, option in declared.items()}
    for text in assignments:
        name, sep, raw = text.partition("=")
        name = name.strip().replace("-", "_")
        if not sep:
            raise InputError(f"-o {text!r}: expected NAME=VALUE")
        if name not in declared:
            known = ", ".join(declared) or "none"
            raise InputError(f"-o {text!r}: the {kind} backend has no option {name!r}; its options: {known}")
        values[name] = _value(kind, name, declared[name], raw.strip())
    return values


def output_options(kind: str, values: dict[str, object]) -> dict[str, object]:
    """The options of ``values`` that can change a transcript (not the operational ones)."""
    declared = options_of(kind)
    return {name: value for name, value in values.items() if not declared[name].operational}


def load(spec: str, assignments: Sequence[str] = ()) -> Backend:
    """The backend ``spec`` names, loaded with its options."""
    kind, target = split_spec(spec)
    options = resolve_options(kind, assignments)
    return importlib.import_module(BACKENDS[kind]).load(target, options)


def options_help() -> str:
    """Every backend's options, for ``run --help``."""
    lines = []
    for kind in BACKENDS:
        lines.append(f"{EXAMPLES[kind]}:")
        for name, option in options_of(kind).items():
            choices = f" ({'|'.join(option.choices)})" if option.choices else ""
            default = str(option.default).lower() if option.type is bool else str(option.default)
            default = default if len(default) <= 40 else default[:37] + "..."
            lines.append(f"  -o {name}={default}{choices}: {option.help}")
    return "\n".join(lines)
