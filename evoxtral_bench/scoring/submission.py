"""Reading and validating predictions and references (docs/spec.md §6).

Every problem is collected as a :class:`Problem` (file, line, field, message) instead of
stopping at the first one; the CLI reports them through a text or JSON reporter and chooses
the exit code. Nothing here exits the process.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from evoxtral_bench.errors import shown, type_name
from evoxtral_bench.files import json_loads, jsonl_text, sha256_bytes, sha256_file
from evoxtral_bench.scoring.tags import bracket_problems, malformed_spans

MAX_LINE_BYTES = 1 << 20
"""A line longer than this (1 MiB) is rejected unparsed."""
SHOWN_MARKUP_LINES = 20
"""Lines with malformed markup listed one by one in the warnings (the rest are counted)."""


@dataclass(frozen=True)
class Problem:
    """One finding. ``line`` is 1-based; ``None`` for whole-file findings."""

    path: str
    line: int | None
    field: str | None
    message: str
    severity: str = "error"  # or "warning"

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}:" if self.line else f"{self.path}:"
        what = f" {self.field}:" if self.field else ""
        tag = "" if self.severity == "error" else " warning:"
        return f"{where}{tag}{what} {self.message}"

    def as_dict(self) -> dict:
        return {
            "path": self.path,
            "line": self.line,
            "field": self.field,
            "message": self.message,
            "severity": self.severity,
        }


MAX_ERRORS_PER_FILE = 1000
"""Errors listed per file; further ones are counted, not kept (memory stays bounded)."""


@dataclass
class Problems:
    """An ordered collection of problems (at most :data:`MAX_ERRORS_PER_FILE` errors per file)."""

    items: list[Problem] = field(default_factory=list)
    _per_file: dict[str, int] = field(default_factory=dict, repr=False, compare=False)

    def error(self, path: str, line: int | None, field_: str | None, message: str) -> None:
        count = self._per_file.get(path, 0) + 1
        self._per_file[path] = count
        if count <= MAX_ERRORS_PER_FILE:
            self.items.append(Problem(path, line, field_, message))
        elif count == MAX_ERRORS_PER_FILE + 1:
            self.items.append(Problem(path, None, None, f"more than {MAX_ERRORS_PER_FILE:,} errors; the rest are not listed"))

    def warning(self, path: str, line: int | None, field_: str | None, message: str) -> None:
        self.items.append(Problem(path, line, field_, message, "warning"))

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.items if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.items if p.severity == "warning"]


class Reference(NamedTuple):
    """One reference row (a tuple: cheap to make for millions of rows)."""

    id: str
    tagged_text: str
    splits: tuple[str, ...]
    domain: str | None
    slice: str | None
    line: int
    group: str | None = None  # the resampling cluster (the script of a rendering); None: the row alone


class Prediction(NamedTuple):
    id: str
    text: str  # after the adapter, if any
    line: int


@dataclass(frozen=True)
class PredictionFile:
    """The scored predictions of one file, with the ids it lacks and those it had in excess,
    and the number of malformed markup spans it holds (scored as punctuation)."""

    predictions: dict[str, Prediction]
    missing: list[str]
    extra: list[str]
    malformed_spans: int = 0


@dataclass
class _Markup:
    """Malformed markup found in one file: errors with ``strict``, else warnings (one per line,
    up to :data:`SHOWN_MARKUP_LINES`, then a count)."""

    strict: bool
    spans: int = 0
    lines: int = 0

    def check(self, path: str, number: int, name: str, value: str, problems: Problems) -> bool:
        """False when ``value`` must not be scored (malformed markup under ``strict``)."""
        spans = malformed_spans(value)
        if not spans:
            return True
        if self.strict:
            reasons = bracket_problems(value) or [f"{shown(spans[0], 24)} forms no tag"]
            problems.error(path, number, name, "; ".join(reasons) + " (--strict)")
            return False
        self.spans += len(spans)
        self.lines += 1
        if self.lines <= SHOWN_MARKUP_LINES:
            listed = ", ".join(shown(s, 24) for s in spans[:3]) + (" …" if len(spans) > 3 else "")
            problems.warning(path, number, name, f"malformed tag markup {listed} scored as punctuation (--strict: an error)")
        return True

    def summary(self, path: str, problems: Problems) -> None:
        if self.lines > SHOWN_MARKUP_LINES:
            problems.warning(
                path, None, None, f"{self.spans} malformed tag spans on {self.lines} lines scored as punctuation "
                f"(the first {SHOWN_MARKUP_LINES} lines are listed)"
            )


def _no_duplicate_keys(pairs: list[tuple[str, object]]) -> dict:
    obj = dict(pairs)
    if len(obj) == len(pairs):  # the common case: no key twice
        return obj
    seen: dict[str, object] = {}
    for key, value in pairs:
        if key in seen:
            raise ValueError(f"duplicate key {key!r} in one object")
        seen[key] = value
    return seen


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not valid JSON")


_DECODER = json.JSONDecoder(object_pairs_hook=_no_duplicate_keys, parse_constant=_reject_constant)
"""Strict JSON for a line: no key twice in one object, no NaN or Infinity."""


def _decode(line: str) -> object:
    """The JSON value of one line. A line that is one object and nothing else (the common case)
    goes to the decoder's C scanner alone; any other line, or one the scanner refuses, to the
    whole decoder, which also words the error."""
    if line[:1] == "{" and line[-1:] == "}":
        try:
            obj, end = _DECODER.scan_once(line, 0)
        except (StopIteration, ValueError, RecursionError):
            pass
        else:
            if end == len(line):
                return obj
    return json_loads(line, decoder=_DECODER)


Source = str | os.PathLike | Mapping[str, Any] | Sequence[Mapping[str, Any]]
"""Predictions or references: a JSONL path, a mapping id -> text, or a sequence of records."""


@dataclass(frozen=True)
class Records:
    """The objects of a source with their 1-based line (or item) numbers, and its identity."""

    label: str  # the path as given, or e.g. "<predictions>" for rows in memory
    sha256: str
    items: Iterable[tuple[int, dict]]  # read once, in order (a file is streamed as validated)


def read_records(source: Source, problems: Problems, *, text_field: str, label: str) -> Records:
    """Read a source into numbered objects, recording every problem (nothing is raised).

    A path is read as JSONL. A mapping ``{id: text}`` becomes records ``{"id", text_field}``;
    a sequence holds records (mappings) as they would appear on JSONL lines. The sha256 of an
    in-memory source is that of its records written as JSONL (``json.dumps`` per line).
    """
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        return Records(path, sha256_file(path) if Path(path).is_file() else "", _json_lines(path, problems))
    if isinstance(source, Mapping):
        rows = [{"id": key, text_field: value} for key, value in source.items()]
    elif isinstance(source, Sequence) and not isinstance(source, (bytes, bytearray)):
        rows = list(source)
    else:
        problems.error(label, None, None, f"expected a path, a mapping of id to text or a sequence of records, got {type(source).__name__}")
        return Records(label, "", [])
    items: list[tuple[int, dict]] = []
    lines: list[str] = []
    for number, row in enumerate(rows, start=1):
        if not isinstance(row, Mapping):
            problems.error(label, number, None, f"expected a record (mapping), got {type(row).__name__}")
            continue
        try:  # the line the record would be in a file: its share of the sha256
            lines.append(jsonl_text([row], default=repr))
        except (ValueError, RecursionError) as exc:  # a record that contains itself, or nesting too deep to write
            reason = "it contains itself (a circular reference)" if isinstance(exc, ValueError) else "it is nested too deep"
            problems.error(label, number, None, f"the record cannot be written as a JSON line: {reason}")
            continue
        items.append((number, dict(row)))
    return Records(label, sha256_bytes("".join(lines).encode("utf-8", "surrogatepass")), items)


def _json_lines(path: str, problems: Problems) -> Iterator[tuple[int, dict]]:
    """Yield (line number, object) for each well-formed non-blank line; record the rest.

    The file is streamed: memory holds one line (at most :data:`MAX_LINE_BYTES`) at a time.
    """
    p = Path(path)
    if not p.exists():
        problems.error(path, None, None, "file not found")
        return
    if not p.is_file():
        problems.error(path, None, None, "not a regular file")
        return
    try:
        fh = p.open("rb")
    except OSError as exc:
        problems.error(path, None, None, f"cannot read file: {exc.strerror}")
        return
    crlf_lines: list[int] = []
    content = False
    with fh:
        for number, raw, length in _raw_lines(fh, path, problems):
            if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
                problems.error(path, 1, None, "file starts with a UTF-8 byte-order mark (BOM); save it as UTF-8 without BOM")
                raw, length = raw[3:], length - 3
            if raw.endswith(b"\r"):
                crlf_lines.append(number)
                raw, length = raw[:-1], length - 1
            if length > MAX_LINE_BYTES:
                content = True
                problems.error(path, number, None, f"line is {length:,} bytes long; the limit is {MAX_LINE_BYTES:,}")
                continue
            if not raw.strip():
                continue
            content = True
            obj = _json_object(path, number, raw, problems)
            if obj is not None:
                yield number, obj
    if not content:
        problems.error(path, None, None, "file is empty: expected one JSON object per line")
        return
    if crlf_lines:
        extra = f" ({len(crlf_lines)} lines in all)" if len(crlf_lines) > 1 else ""
        problems.error(path, crlf_lines[0], None, f"line ends with CR LF (Windows line ending){extra}; use LF")


def _raw_lines(fh, path: str, problems: Problems) -> Iterator[tuple[int, bytes, int]]:
    """(number, bytes without the newline, full length) of each line; an over-long line's bytes
    are cut at the limit and the rest skipped unread into memory."""
    number = 0
    while True:
        try:
            raw = fh.readline(MAX_LINE_BYTES + 2)
        except OSError as exc:
            problems.error(path, number + 1, None, f"cannot read file: {exc.strerror}")
            return
        if not raw:
            return
        number += 1
        if raw.endswith(b"\n"):
            yield number, raw[:-1], len(raw) - 1
            continue
        length = len(raw)
        if length == MAX_LINE_BYTES + 2:  # longer than the limit: count the rest of the line
            while True:
                block = fh.readline(1 << 16)
                length += len(block)
                if not block or block.endswith(b"\n"):
                    length -= block.endswith(b"\n")
                    break
        yield number, raw, length


def _json_object(path: str, number: int, raw: bytes, problems: Problems) -> dict | None:
    """The JSON object on one line, or None after recording why not."""
    nul = raw.find(b"\x00")
    if nul >= 0:
        problems.error(path, number, None, f"NUL byte at column {nul + 1}; is this a text file?")
        return None
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        problems.error(path, number, None, f"invalid UTF-8 at column {exc.start + 1} (byte 0x{raw[exc.start]:02x})")
        return None
    try:
        obj = _decode(line)
    except json.JSONDecodeError as exc:
        problems.error(path, number, None, f"invalid JSON: {exc.msg} (column {exc.colno})")
        return None
    except ValueError as exc:
        problems.error(path, number, None, f"invalid JSON: {exc}")
        return None
    if not isinstance(obj, dict):
        problems.error(path, number, None, f"expected a JSON object, got {type_name(obj)}")
        return None
    return obj


_CONTROL_RE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
"""Unicode category Cc (C0 and C1 controls) except tab and newline."""


def text_problem(value: str, *, controls: bool = True) -> str | None:
    """A reason why a string cannot be scored as text, or None; ``controls=False`` allows
    control characters (the paper's code scored them)."""
    if not value.isascii():  # ASCII has no lone surrogate
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            return f"invalid Unicode: lone surrogate \\u{ord(value[exc.start]):04x} at character {exc.start + 1}"
    found = _CONTROL_RE.search(value) if controls else None
    if found:
        return f"control character U+{ord(found.group()):04X} at character {found.start() + 1}"
    return None


def _string_field(path: str, number: int, obj: dict, name: str, problems: Problems, *, required: bool, controls: bool = True) -> str | None:
    value = obj.get(name)
    if type(value) is str and value.isascii() and not (controls and _CONTROL_RE.search(value)):
        return value  # the common case: what text_problem would accept, without the call
    if name not in obj:
        if required:
            problems.error(path, number, name, f"missing; expected a string field {name!r}")
        return None
    if not isinstance(value, str):
        problems.error(path, number, name, f"expected a string, got {type_name(value)}")
        return None
    reason = text_problem(value, controls=controls)
    if reason:
        problems.error(path, number, name, reason)
        return None
    return value


def _id_field(path: str, number: int, obj: dict, problems: Problems, seen: dict[str, int], known: set[str] | None = None) -> str | None:
    """The id of a line; duplicates are found among the ids in ``known`` (all when None), so an
    unknown id costs no memory."""
    value = _string_field(path, number, obj, "id", problems, required=True)
    if value is None:
        return None
    if not value.strip():
        problems.error(path, number, "id", "empty; expected a non-empty string")
        return None
    if value != value.strip():
        problems.error(path, number, "id", f"{value!r} has leading or trailing whitespace")
        return None
    if value in seen:
        problems.error(path, number, "id", f"duplicate id {value!r} (first on line {seen[value]})")
        return None
    if known is None or value in known:
        seen[value] = number
    return value


def _tagged_field(
    path: str, number: int, obj: dict, name: str, problems: Problems, adapt=None, markup: _Markup | None = None, *, legacy: bool = False
) -> str | None:
    """The text of a tagged field; malformed markup is checked by ``markup`` (None: not at all);
    ``legacy`` allows control characters, as the paper's code did."""
    value = _string_field(path, number, obj, name, problems, required=True, controls=not legacy)
    if value is None:
        return None
    if adapt is not None:
        value = adapt(value)
    if markup is not None and not markup.check(path, number, name, value, problems):
        return None
    return value


def read_references(records: Records, problems: Problems, *, legacy: bool = False) -> list[Reference]:
    """Validate reference records (``id``, ``tagged_text``; optional ``split``, ``domain``, ``slice``,
    ``group``: rows with the same group are resampled together).

    ``split`` is a label or a list of labels (a row may belong to e.g. ``test`` and ``bench50``).
    Malformed markup in a reference is an error, except with ``legacy`` (the paper's code
    scored any text).
    """
    out: list[Reference] = []
    seen: dict[str, int] = {}
    shared: dict = {}
    path = records.label
    markup = None if legacy else _Markup(strict=True)
    for number, obj in records.items:
        rid = _id_field(path, number, obj, problems, seen)
        text = _tagged_field(path, number, obj, "tagged_text", problems, markup=markup, legacy=legacy)
        split = obj.get("split")
        splits: tuple[str, ...] = ()
        if isinstance(split, str):
            splits = (split,)
        elif isinstance(split, list) and split and all(isinstance(s, str) for s in split):
            splits = tuple(split)
        elif split is not None:
            problems.error(path, number, "split", f"expected a string or a list of strings, got {type_name(split)}")
            continue
        domain = _string_field(path, number, obj, "domain", problems, required=False)
        slice_ = _string_field(path, number, obj, "slice", problems, required=False)
        group = _string_field(path, number, obj, "group", problems, required=False)
        if rid is not None and text is not None:
            # one object per distinct label: millions of rows share a handful of them
            out.append(
                Reference(
                    rid, text, shared.setdefault(splits, splits), shared.setdefault(domain, domain), shared.setdefault(slice_, slice_), number, group
                )
            )
    return out


def select_split(references: list[Reference], split: str | None) -> list[Reference]:
    """Rows carrying ``split``; all rows when ``split`` is None or no row has split labels."""
    if split is None or not any(r.splits for r in references):
        return references
    return [r for r in references if split in r.splits]


def _scored(scope: str, split: str) -> str:
    return f"split {split} of {scope}" if split != "all" else scope


def _unknown_id(pid: str, scope: str, split: str) -> str:
    """The message for an id that no reference row has, with the two ways out."""
    scoring = f"; scoring its split {split}" if split != "all" else ""
    return (
        f"{shown(pid)} is not an id of {scope} (in any split{scoring}): use the ids of those references, "
        "or give the references your ids come from with --references FILE (and --split LABEL)"
    )


def _nothing_scored(extra: list[str], known_ids: Mapping[str, tuple[str, ...]], scope: str, split: str, n: int) -> str:
    """The message for a file with no prediction for any of the ``n`` scored ids."""
    where = _scored(scope, split)
    if not extra:
        return f"no prediction for any of the {n:,} ids of {where}: nothing to score"
    by_split = Counter(label for pid in extra for label in known_ids[pid] or ("(no split label)",))
    splits = ", ".join(f"{label} ({count:,})" for label, count in sorted(by_split.items(), key=lambda kv: (-kv[1], kv[0])))
    labelled = [label for label, _ in by_split.most_common() if label != "(no split label)"]
    fix = f"score them with --split {labelled[0]}, or " if labelled else ""
    return f"none of the {len(extra):,} predictions is for an id of {where}: their ids are of split {splits}; {fix}predict the {n:,} ids of {where}"


def read_predictions(
    records: Records,
    problems: Problems,
    *,
    scored_ids: set[str],
    known_ids: Mapping[str, tuple[str, ...]],
    adapt: Callable[[str], str] | None = None,
    strict: bool = False,
    legacy: bool = False,
    scope: str = "the references",
    split: str = "all",
) -> PredictionFile:
    """Read ``{"id", "prediction"}`` lines, keeping the ids in ``scored_ids`` (those of ``split``
    in ``scope``; ``known_ids`` maps every id of ``scope`` to its split labels).

    An id outside ``known_ids`` is an error; one that is known but not scored (another split)
    is a warning, and a file none of whose predictions is scored is an error naming the splits
    its ids belong to. Ids of ``scored_ids`` missing from the file are a warning (an error with
    ``strict``) and are scored as empty predictions by the caller. Malformed markup is scored
    as punctuation with a warning (an error with ``strict``, never with ``legacy``).
    """
    out: dict[str, Prediction] = {}
    seen: dict[str, int] = {}
    extra: list[str] = []
    path = records.label
    markup = _Markup(strict=strict and not legacy)
    for number, obj in records.items:
        pid = _id_field(path, number, obj, problems, seen, known_ids)
        text = _tagged_field(path, number, obj, "prediction", problems, adapt, markup, legacy=legacy)
        if pid is None:
            continue
        if pid not in known_ids:
            problems.error(path, number, "id", _unknown_id(pid, scope, split))
        elif pid not in scored_ids:
            extra.append(pid)
        elif text is not None:
            out[pid] = Prediction(pid, text, number)
    markup.summary(path, problems)
    if not out and scored_ids and not any(p.path == path for p in problems.errors):
        problems.error(path, None, "id", _nothing_scored(extra, known_ids, scope, split, len(scored_ids)))
    elif extra:
        problems.warning(path, None, None, f"{len(extra)} predictions for ids outside the scored split were ignored (first: {extra[0]!r})")
    broken = any(p.path == path for p in problems.errors)
    missing = sorted(scored_ids - seen.keys())
    if missing and not broken:
        listed = ", ".join(repr(m) for m in missing[:5]) + (" …" if len(missing) > 5 else "")
        message = f"{len(missing)} ids have no prediction: {listed}"
        if strict:
            problems.error(path, None, "id", message + " (--strict)")
        else:
            problems.warning(path, None, "id", message + "; they are scored as empty predictions")
    return PredictionFile(out, missing, extra, markup.spans)
