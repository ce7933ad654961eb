"""``meta.yaml`` of a leaderboard entry: schema, with every problem as file:line: field: message."""

from __future__ import annotations

import datetime as dt
import math
import os
import re
import unicodedata
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from evoxtral_bench.errors import InputError, shown, type_name
from evoxtral_bench.scoring.metrics import METRIC_NAMES
from evoxtral_bench.scoring.options import TRACK_CHOICES
from evoxtral_bench.scoring.submission import Problems, text_problem
from evoxtral_bench.tracks import TEXT_ONLY

MAX_META_BYTES = 64 * 1024
PLACEHOLDER = "TODO:"
"""Text values starting with this are placeholders from ``leaderboard new``: a warning, not an
error, but ``leaderboard check`` does not say OK while one is left."""
PLACEHOLDER_LEFT = "still a placeholder"
"""How the warning for a placeholder value starts (``leaderboard check`` counts them)."""
KINDS = ("verified", "reported")
_DATE_RE = re.compile(r"\d{4}(-\d{2}(-\d{2})?)?")


@dataclass(frozen=True)
class Meta:
    """The validated fields of one meta.yaml (``None``: absent or null)."""

    name: str
    organization: str
    url: str | None
    base_model: str
    params_b: float | None
    license: str
    date: str
    kind: str
    track: str
    source: str | None = None
    reported_metrics: dict[str, float | None] | None = None
    averaging: str | None = None
    command: str | None = None
    machine: str | None = None
    notes: str | None = None
    reference: bool = False
    in_distribution: bool | None = None
    test_size: int | None = None
    baseline: str | None = None

    def as_dict(self) -> dict:
        return asdict(self)


MAX_EXPANDED_NODES = 10_000
"""The most nodes a meta.yaml may hold once its aliases are expanded (no "billion laughs")."""
MAX_DEPTH = 20
"""The deepest nesting of lists and mappings in a meta.yaml."""
MAX_NUMBER_CHARS = 40
"""The longest number literal read from a meta.yaml."""

_CORE = "tag:yaml.org,2002:"
_CORE_RESOLVERS: dict[str, re.Pattern] = {
    "null": re.compile(r"~|null|Null|NULL|"),
    "bool": re.compile(r"true|True|TRUE|false|False|FALSE"),
    "int": re.compile(r"[-+]?(0|[1-9][0-9]*)|0o[0-7]+|0x[0-9a-fA-F]+"),
    "float": re.compile(r"[-+]?(\.[0-9]+|(0|[1-9][0-9]*)(\.[0-9]*)?)([eE][-+]?[0-9]+)?|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)"),
}
"""YAML 1.2 core-schema scalars; anything else plain is a string (no sexagesimal ``1:30``, no
octal ``02026``, no ``yes``/``on`` booleans, no timestamps). An integer with a leading zero is
kept as text, so ``date: 02026`` is refused rather than read as another year."""
_SCALARS = {_CORE + name for name in (*_CORE_RESOLVERS, "str")}
_COLLECTIONS = {_CORE + "seq", _CORE + "map"}


class _Loader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 core-schema implicit types (see :data:`_CORE_RESOLVERS`)."""


_Loader.yaml_implicit_resolvers = {}
for _name, _regexp in _CORE_RESOLVERS.items():
    _Loader.add_implicit_resolver(_CORE + _name, re.compile(f"^(?:{_regexp.pattern})$"), None)
_Loader.add_implicit_resolver(_CORE + "null", re.compile(r"^$"), [""])


def _construct_int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int:
    text = node.value
    if text.startswith(("0o", "0x")):
        return int(text[2:], 8 if text[1] == "o" else 16)
    return int(text)


_Loader.add_constructor(_CORE + "int", _construct_int)
_Loader.add_constructor(_CORE + "bool", lambda loader, node: node.value.lower() == "true")


class _FastLoader(getattr(yaml, "CSafeLoader", _Loader)):
    """:class:`_Loader`'s types on libyaml's parser (several times faster; a file it refuses is
    read again by :class:`_Loader`, whose messages say where and why)."""

    yaml_implicit_resolvers = _Loader.yaml_implicit_resolvers
    yaml_constructors = _Loader.yaml_constructors


FAST_DEPTH = 200
"""Nesting that libyaml's C composer is trusted with (thousands crash it; MAX_DEPTH still applies)."""


def _shallow(text: str) -> bool:
    """True when no node of ``text`` can nest more than :data:`FAST_DEPTH` levels (a conservative bound).

    libyaml's composer recurses in C: before libyaml 0.2.5 nothing limits its depth, and a few
    thousand ``[`` crash the interpreter (a segfault, not an exception). Nesting comes from flow
    brackets, and in block style from indentation and the ``-``, ``?``, ``:`` indicators on a line.
    """
    flow = text.count("[") + text.count("{")
    if flow > FAST_DEPTH:
        return False
    block = max((2 * (len(line) - len(line.lstrip())) + line.count("-") + line.count("?") + line.count(":") for line in text.splitlines()), default=0)
    return flow + block + 2 <= FAST_DEPTH


def _check_nodes(root: yaml.Node) -> tuple[int | None, str] | None:
    """(line, reason) when a composed document cannot be constructed safely, else None.

    Walks the node graph without recursion; aliases count as often as they are expanded.
    """
    sizes: dict[int, int] = {}
    stack: list[tuple[yaml.Node, int, bool]] = [(root, 1, False)]
    while stack:
        node, depth, done = stack.pop()
        if done:
            children = [n for pair in node.value for n in pair] if isinstance(node, yaml.MappingNode) else node.value
            sizes[id(node)] = 1 + sum(sizes[id(c)] for c in children)
            if sizes[id(node)] > MAX_EXPANDED_NODES:
                return None, f"more than {MAX_EXPANDED_NODES:,} values once aliases are expanded"
            continue
        line = node.start_mark.line + 1
        if id(node) in sizes:
            continue
        if depth > MAX_DEPTH:
            return line, f"nested more than {MAX_DEPTH} levels deep"
        if isinstance(node, yaml.ScalarNode):
            if node.tag not in _SCALARS:
                return line, f"the tag {shown(node.tag)} is not allowed; write plain values"
            kind = node.tag[len(_CORE):]
            if kind != "str" and not _CORE_RESOLVERS[kind].fullmatch(node.value):
                return line, f"{shown(node.value)} is not a YAML {kind}"
            if kind in ("int", "float") and len(node.value) > MAX_NUMBER_CHARS:
                return line, f"a number of {len(node.value):,} characters; at most {MAX_NUMBER_CHARS}"
            sizes[id(node)] = 1
            continue
        if node.tag not in _COLLECTIONS:
            return line, f"the tag {shown(node.tag)} is not allowed; write plain values"
        children = [n for pair in node.value for n in pair] if isinstance(node, yaml.MappingNode) else node.value
        stack.append((node, depth, True))
        stack.extend((c, depth + 1, False) for c in children if id(c) not in sizes)
    return None


class _Invalid(ValueError):
    """A field value that does not fit the schema; the message says what was expected."""


def _text(limit: int, *, multiline: bool = False) -> Callable[[object], str]:
    def check(value: object) -> str:
        if not isinstance(value, str):
            raise _Invalid(f"expected a string, got {type_name(value, dialect='yaml')}")
        value = value.strip()
        if not value:
            raise _Invalid("empty; expected a non-empty string")
        if len(value) > limit:
            raise _Invalid(f"{len(value)} characters long; at most {limit}")
        if not multiline and "\n" in value:
            raise _Invalid("spans several lines; expected one line")
        reason = text_problem(value)
        if reason:
            raise _Invalid(reason)
        hidden = next((i for i, ch in enumerate(value) if unicodedata.category(ch) == "Cf"), None)
        if hidden is not None:
            raise _Invalid(f"invisible format character U+{ord(value[hidden]):04X} at character {hidden + 1}; remove it")
        return value

    return check


def _nullable(check: Callable[[object], object]) -> Callable[[object], object]:
    return lambda value: None if value is None else check(value)


def _url(value: object) -> str:
    text = _text(500)(value)
    try:
        parts = urlsplit(text)
        valid = parts.scheme in ("http", "https") and bool(parts.hostname) and (parts.port or 0) >= 0
    except ValueError:  # a stray bracket ("Invalid IPv6 URL"), a bad IPv6 address, a port out of range
        valid = False
    if not valid or any(c.isspace() for c in text):
        raise _Invalid(f"{text!r} is not an http(s) URL")
    return text


def _params_b(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _Invalid(f"expected a number of parameters in billions (e.g. 4.8) or null, got {type_name(value, dialect='yaml')}")
    if not math.isfinite(value) or value <= 0:
        raise _Invalid(f"expected a positive number, got {value}")
    return float(value)


def _date(value: object) -> str:
    text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    if not isinstance(text, str) or not _DATE_RE.fullmatch(text):
        shown = repr(text) if isinstance(text, str) else type_name(value, dialect="yaml")
        raise _Invalid(f"expected a date YYYY-MM-DD (or YYYY-MM, YYYY), got {shown}")
    try:
        dt.date.fromisoformat((text + "-01-01")[:10])
    except ValueError:
        raise _Invalid(f"{text!r} is not a calendar date") from None
    return text


def check_date(text: str, option: str = "--date") -> str:
    """``text`` if it is a date as ``meta.yaml`` takes it (YYYY-MM-DD, YYYY-MM or YYYY, a calendar
    date), else an :class:`InputError` naming ``option``."""
    try:
        return _date(text)
    except _Invalid as exc:
        raise InputError(f"{option}: {exc}") from None


def _kind(value: object) -> str:
    if value not in KINDS:
        raise _Invalid(f"expected one of {', '.join(KINDS)}, got {shown(value)}")
    return str(value)


def _bool(value: object) -> bool:
    if not isinstance(value, bool):
        raise _Invalid(f"expected true or false, got {type_name(value, dialect='yaml')}")
    return value


def _test_size(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Invalid(f"expected a positive integer (the test utterances behind the quoted numbers), got {type_name(value, dialect='yaml')}")
    if value < 1:
        raise _Invalid(f"expected a positive integer, got {value}")
    return value


BASELINES = ("text-prior",)
"""Values of ``baseline:``: ``text-prior`` marks the track's text-only prior (no audio), the floor
every ranked entry of the track is tested against (docs/spec.md §8.5)."""


def _baseline(value: object) -> str:
    if value not in BASELINES:
        raise _Invalid(f"expected {', '.join(BASELINES)} (the track's text-only prior, its table's floor), got {shown(value)}")
    return str(value)


def _track(value: object) -> str:
    if value not in TRACK_CHOICES:
        raise _Invalid(f"expected an audio track, one of {', '.join(TRACK_CHOICES)}; got {shown(value)}")
    return str(value)


def _metric(value: object) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise _Invalid(f"expected a number in [0, 1] or null (not reported), got {type_name(value, dialect='yaml')}")
    if not 0 <= value <= 1:
        raise _Invalid(f"{value} is outside [0, 1]; write percentages as fractions (6.64% -> 0.0664)")
    return float(value)


FIELDS: dict[str, Callable[[object], object]] = {
    "name": _text(120),
    "organization": _text(120),
    "url": _nullable(_url),
    "base_model": _text(120),
    "params_b": _nullable(_params_b),
    "license": _text(120),
    "date": _date,
    "kind": _kind,
    "source": _text(500),
    "reported_metrics": lambda value: value,  # checked key by key in _reported_metrics
    "averaging": _text(120),
    "command": _text(2000, multiline=True),
    "machine": _text(500),
    "notes": _text(2000, multiline=True),
    "reference": _bool,
    "in_distribution": _bool,
    "track": _track,
    "test_size": _test_size,
    "baseline": _baseline,
}
REQUIRED = ("name", "organization", "url", "base_model", "params_b", "license", "date", "kind", "track")
TRACK_HELP = f"the audio track the predictions were made on: one of {', '.join(TRACK_CHOICES)} ({TEXT_ONLY}: made from text, no audio)"
REPLACED = {"audio": f"replaced by track; write track: NAME, {TRACK_HELP}"}
"""Fields of earlier versions of the schema, with what to write instead."""


def _compose(path: Path, display: str, problems: Problems) -> tuple[yaml.MappingNode, dict] | None:
    """The root mapping node (for line numbers) and its constructed value, or None."""
    try:
        with path.open("rb") as fh:  # never more than the limit in memory
            data = fh.read(MAX_META_BYTES + 1)
            size = os.fstat(fh.fileno()).st_size
    except OSError as exc:
        problems.error(display, None, None, f"cannot read the file: {exc.strerror or exc}")
        return None
    if len(data) > MAX_META_BYTES:
        problems.error(display, None, None, f"{max(size, len(data)):,} bytes; a meta.yaml is at most {MAX_META_BYTES:,}")
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        problems.error(display, data[: exc.start].count(b"\n") + 1, None, f"invalid UTF-8 (byte 0x{data[exc.start]:02x})")
        return None
    if _shallow(text):
        fast = _FastLoader(text)
        try:
            node = fast.get_single_node()
            if isinstance(node, yaml.MappingNode) and not _check_nodes(node):
                return node, fast.construct_document(node)
        except (yaml.YAMLError, RecursionError, ValueError):
            pass  # read again below, for the message
        finally:
            fast.dispose()
    loader = None
    try:
        loader = _Loader(text)
        node = loader.get_single_node()
        if not isinstance(node, yaml.MappingNode):
            line = node.start_mark.line + 1 if node is not None else None
            problems.error(display, line, None, "expected a mapping of fields (name: …, kind: …)")
            return None
        unsafe = _check_nodes(node)
        if unsafe:
            problems.error(display, unsafe[0], None, f"invalid YAML: {unsafe[1]}")
            return None
        return node, loader.construct_document(node)
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow (control, U+FFFE)
        line = text[: exc.position].count("\n") + 1
        problems.error(display, line, None, f"invalid YAML: character U+{exc.character if isinstance(exc.character, int) else ord(exc.character):04X} is not allowed")
        return None
    except RecursionError:
        problems.error(display, None, None, "invalid YAML: nested too deeply")
        return None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problems.error(display, mark.line + 1 if mark else None, None, f"invalid YAML: {exc.problem or exc.context}")
        return None
    except (yaml.YAMLError, ValueError) as exc:
        problems.error(display, None, None, f"invalid YAML: {shown(str(exc), 200)}")
        return None
    finally:
        if loader is not None:
            loader.dispose()


def _key_lines(node: yaml.MappingNode, display: str, problems: Problems, prefix: str = "") -> dict[str, int] | None:
    """Line of each key; reports duplicate and non-string keys (None if any)."""
    lines: dict[str, int] = {}
    ok = True
    for key_node, _ in node.value:
        line = key_node.start_mark.line + 1
        key = key_node.value
        if not isinstance(key_node, yaml.ScalarNode) or key_node.tag != "tag:yaml.org,2002:str":
            problems.error(display, line, prefix.rstrip(".") or None, f"field names must be plain strings, got {'a YAML ' + type(key_node).__name__ if not isinstance(key, str) else shown(key)}")
            ok = False
        elif key in lines:
            problems.error(display, line, prefix + key, f"duplicate field (first on line {lines[key]})")
            ok = False
        else:
            lines[key] = line
    return lines if ok else None


def _reported_metrics(node: yaml.Node, value: object, line: int, display: str, problems: Problems) -> dict[str, float | None] | None:
    """The seven quoted metrics; ``line`` is that of the ``reported_metrics:`` key."""
    if not isinstance(value, dict) or not isinstance(node, yaml.MappingNode):
        problems.error(display, line, "reported_metrics", f"expected a mapping of the seven metrics, got {type_name(value, dialect='yaml')}")
        return None
    lines = _key_lines(node, display, problems, "reported_metrics.")
    if lines is None:
        return None
    out: dict[str, float | None] = {}
    for key in value:
        if key not in METRIC_NAMES:
            problems.error(display, lines[key], f"reported_metrics.{key}", f"unknown metric; expected {', '.join(METRIC_NAMES)}")
    for name in METRIC_NAMES:
        if name not in value:
            problems.error(display, line, f"reported_metrics.{name}", "missing; give a number in [0, 1], or null when the source does not report it")
            continue
        try:
            out[name] = _metric(value[name])
        except _Invalid as exc:
            problems.error(display, lines[name], f"reported_metrics.{name}", str(exc))
    if len(out) == len(METRIC_NAMES) and all(v is None for v in out.values()):
        problems.error(display, line, "reported_metrics", "every metric is null; a reported entry needs at least one number")
    return out


def read_meta(path: Path, display: str, problems: Problems) -> Meta | None:
    """Validate one meta.yaml; every problem goes to ``problems``; None if there was any."""
    before = len(problems.errors)
    composed = _compose(path, display, problems)
    if composed is None:
        return None
    node, raw = composed
    lines = _key_lines(node, display, problems)
    if lines is None:
        return None
    values: dict[str, object] = {}
    nodes = {k.value: v for k, v in node.value}
    for key, value in raw.items():
        if key in REPLACED:
            problems.error(display, lines[key], key, REPLACED[key])
            continue
        if key not in FIELDS:
            problems.error(display, lines[key], key, f"unknown field; allowed: {', '.join(FIELDS)}")
            continue
        try:
            values[key] = FIELDS[key](value)
        except _Invalid as exc:
            problems.error(display, lines[key], key, str(exc))
    for key in REQUIRED:
        if key == "track" and "audio" in raw:
            continue  # reported once, on the audio line
        if key not in raw:
            hint = " — use null when unknown" if key in ("url", "params_b") else f": {TRACK_HELP}" if key == "track" else ""
            problems.error(display, None, key, f"missing (required){hint}")
    if values.get("track") == TEXT_ONLY and raw.get("reference") is not True:
        problems.error(
            display, lines["track"], "track",
            f"{TEXT_ONLY}: predictions made without audio are a reference row; add reference: true (or give the track they were made on)",
        )
    kind = values.get("kind")
    if kind == "reported":
        for key in ("source", "reported_metrics"):
            if key not in raw:
                problems.error(display, None, key, "missing (required for kind: reported)")
        if "reported_metrics" in raw:
            values["reported_metrics"] = _reported_metrics(nodes["reported_metrics"], raw["reported_metrics"], lines["reported_metrics"], display, problems)
    elif kind == "verified":
        if "reported_metrics" in raw:
            problems.error(display, lines["reported_metrics"], "reported_metrics", "only for kind: reported; a verified entry is scored from its predictions.jsonl")
        if "in_distribution" not in raw:
            problems.error(
                display, None, "in_distribution",
                "missing (required for kind: verified): true if the system was trained or tuned on this benchmark's train split, else false",
            )
    if "baseline" in raw and (kind != "verified" or raw.get("reference") is True):
        problems.error(
            display, lines["baseline"], "baseline",
            "only a ranked entry (kind: verified, not reference: true) can be its track's floor; drop baseline:",
        )
    if len(problems.errors) > before:
        return None
    for key, value in values.items():
        if isinstance(value, str) and value.startswith(PLACEHOLDER):
            problems.warning(display, lines[key], key, f"{PLACEHOLDER_LEFT} ({value!r}); fill it in before submitting")
    return Meta(**values)  # type: ignore[arg-type]
