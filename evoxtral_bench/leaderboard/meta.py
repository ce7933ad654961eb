"""``meta.yaml`` of a leaderboard entry: schema, with every problem as file:line: field: message."""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from evoxtral_bench.errors import type_name
from evoxtral_bench.scoring.metrics import METRIC_NAMES
from evoxtral_bench.scoring.submission import Problems, text_problem

MAX_META_BYTES = 64 * 1024
PLACEHOLDER = "TODO:"
"""Text values starting with this are placeholders from ``leaderboard new``: a warning, not an error."""
KINDS = ("verified", "reported")
AUDIO_TRACKS = ("offline", "elevenlabs", "none", "other")
"""Which audio the predictions come from: the offline (espeak-ng) or ElevenLabs rendering of the
corpus, none (built from the text, e.g. an oracle), or other (say which in ``notes``)."""
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
    source: str | None = None
    reported_metrics: dict[str, float | None] | None = None
    averaging: str | None = None
    command: str | None = None
    notes: str | None = None
    reference: bool = False
    in_distribution: bool | None = None
    audio: str | None = None
    test_size: int | None = None

    def as_dict(self) -> dict:
        return asdict(self)


class _Loader(yaml.SafeLoader):
    """SafeLoader that leaves dates as text, so the schema checks them with a line number."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


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
        return value

    return check


def _nullable(check: Callable[[object], object]) -> Callable[[object], object]:
    return lambda value: None if value is None else check(value)


def _url(value: object) -> str:
    text = _text(500)(value)
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc or any(c.isspace() for c in text):
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


def _kind(value: object) -> str:
    if value not in KINDS:
        raise _Invalid(f"expected one of {', '.join(KINDS)}, got {value!r}")
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


def _audio(value: object) -> str:
    if value not in AUDIO_TRACKS:
        raise _Invalid(f"expected one of {', '.join(AUDIO_TRACKS)}, got {value!r}")
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
    "notes": _text(2000, multiline=True),
    "reference": _bool,
    "in_distribution": _bool,
    "audio": _audio,
    "test_size": _test_size,
}
REQUIRED = ("name", "organization", "url", "base_model", "params_b", "license", "date", "kind")


def _compose(path: Path, display: str, problems: Problems) -> tuple[yaml.MappingNode, dict] | None:
    """The root mapping node (for line numbers) and its constructed value, or None."""
    data = path.read_bytes()
    if len(data) > MAX_META_BYTES:
        problems.error(display, None, None, f"{len(data):,} bytes; a meta.yaml is at most {MAX_META_BYTES:,}")
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        problems.error(display, data[: exc.start].count(b"\n") + 1, None, f"invalid UTF-8 (byte 0x{data[exc.start]:02x})")
        return None
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if not isinstance(node, yaml.MappingNode):
            line = node.start_mark.line + 1 if node is not None else None
            problems.error(display, line, None, "expected a mapping of fields (name: …, kind: …)")
            return None
        return node, loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problems.error(display, mark.line + 1 if mark else None, None, f"invalid YAML: {exc.problem or exc.context}")
        return None
    except (yaml.YAMLError, ValueError) as exc:  # e.g. an explicit !!timestamp that is no date
        problems.error(display, None, None, f"invalid YAML: {exc}")
        return None
    finally:
        loader.dispose()


def _key_lines(node: yaml.MappingNode, display: str, problems: Problems, prefix: str = "") -> dict[str, int] | None:
    """Line of each key; reports duplicate and non-string keys (None if any)."""
    lines: dict[str, int] = {}
    ok = True
    for key_node, _ in node.value:
        line = key_node.start_mark.line + 1
        key = key_node.value
        if not isinstance(key_node, yaml.ScalarNode) or key_node.tag != "tag:yaml.org,2002:str":
            problems.error(display, line, prefix.rstrip(".") or None, f"field names must be plain strings, got {key!r}")
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
        if key not in FIELDS:
            problems.error(display, lines[key], key, f"unknown field; allowed: {', '.join(FIELDS)}")
            continue
        try:
            values[key] = FIELDS[key](value)
        except _Invalid as exc:
            problems.error(display, lines[key], key, str(exc))
    for key in REQUIRED:
        if key not in raw:
            problems.error(display, None, key, "missing (required)" + (" — use null when unknown" if key in ("url", "params_b") else ""))
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
    if len(problems.errors) > before:
        return None
    for key, value in values.items():
        if isinstance(value, str) and value.startswith(PLACEHOLDER):
            problems.warning(display, lines[key], key, f"still a placeholder ({value!r}); fill it in before submitting")
    return Meta(**values)  # type: ignore[arg-type]
