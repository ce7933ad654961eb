"""Small shared file helpers: atomic writes, JSONL, sha256 (each exists only here)."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import stat
from collections.abc import Callable, Iterable
from pathlib import Path

from evoxtral_bench.errors import InputError

TMP_SUFFIX = ".tmp"
"""Temporary files are ``.<name>.<random>.tmp`` next to the file they will replace."""


def _umask() -> int:
    """The process umask (read by setting it and putting it back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_bytes(path: str | os.PathLike, data: bytes, *, replace: bool = False, durable: bool = True) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never half.

    A regular file (or a symlink to one: its target) is replaced atomically and keeps its mode;
    a new file gets ``0o666`` less the umask. Anything else that exists (a device such as
    ``/dev/stdout``, a FIFO) is written through, never replaced. With ``replace=True`` (a file
    of an output folder a tool owns, :mod:`evoxtral_bench.output`) the entry itself is replaced
    whatever it is: a link is replaced, not followed, a FIFO or a device is not written to. An
    OS refusal (full disk, a directory or a file in the way, no permission) is an
    :class:`InputError` naming the path. ``durable=False`` skips the fsync before the rename (a few
    ms a file): for outputs whose bytes a later run checks and rewrites (a build's site).
    """
    try:
        _write_bytes(Path(path), data, replace, durable)
    except OSError as exc:
        raise InputError(f"cannot write {os.fspath(path)}: {exc.strerror or exc}") from exc


def _write_bytes(path: Path, data: bytes, replace: bool, durable: bool = True) -> None:
    try:
        st = path.lstat() if replace else path.stat()  # stat follows symlinks
    except FileNotFoundError:
        st = None
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
    if st is not None and not stat.S_ISREG(st.st_mode) and not replace:  # a device, a FIFO: write through
        with open(path, "wb") as fh:
            fh.write(data)
        return
    if path.is_symlink() and not replace:
        path = Path(os.path.realpath(path))
    mode = stat.S_IMODE(st.st_mode) if st is not None and stat.S_ISREG(st.st_mode) else 0o666 & ~_umask()
    path.parent.mkdir(parents=True, exist_ok=True)
    import tempfile  # here: its import (random, hashlib's sha512) is 5 ms of every cold start, and scoring to stdout never writes

    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=TMP_SUFFIX)
    try:
        with os.fdopen(fd, "wb") as fh:
            if hasattr(os, "fchmod"):
                os.fchmod(fh.fileno(), mode)
            fh.write(data)
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text(path: str | os.PathLike, text: str, *, replace: bool = False) -> None:
    """UTF-8 text version of :func:`write_bytes` (newlines written as ``\\n``)."""
    write_bytes(path, text.encode("utf-8"), replace=replace)


def jsonl_text(rows: Iterable[object], *, default: Callable[[object], object] | None = None) -> str:
    """Rows as JSONL: one ``json.dumps(row, ensure_ascii=False)`` per line, each ending in a newline
    (``default`` as in :func:`json.dumps`, for values JSON cannot hold)."""
    return "".join(json.dumps(row, ensure_ascii=False, default=default) + "\n" for row in rows)


def write_jsonl(path: str | os.PathLike, rows: Iterable[object]) -> None:
    """Write rows as JSONL atomically (see :func:`jsonl_text`)."""
    write_text(path, jsonl_text(rows))


def sha256_bytes(data: bytes) -> str:
    """Hex sha256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: str | os.PathLike) -> str:
    """Hex sha256 of a file's bytes, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def same_file(a: str | os.PathLike | None, b: str | os.PathLike | None) -> bool:
    """Whether two paths name one existing file (through links); False if either is missing."""
    if a is None or b is None:
        return False
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def check_not_input(output: str | os.PathLike, inputs: Iterable[str | os.PathLike | None], *, option: str = "--out") -> None:
    """Raise :class:`InputError` if ``output`` is one of ``inputs`` (the same file, through links
    and hard links): writing it would overwrite what was read."""
    for path in inputs:
        if same_file(path, output):
            raise InputError(f"{option} {os.fspath(output)} is the input file {os.fspath(path)}; it would be overwritten")


def json_loads(text: str | bytes, *, decoder: json.JSONDecoder | None = None) -> object:
    """``json.loads`` (or ``decoder.decode``: one decoder built once for many lines), with nesting
    too deep for Python's recursion limit reported as a :class:`json.JSONDecodeError` (one bad
    line stays one problem, never a crash)."""
    try:
        return json.loads(text) if decoder is None else decoder.decode(text if isinstance(text, str) else text.decode("utf-8"))
    except RecursionError:
        doc = text if isinstance(text, str) else text.decode("utf-8", "replace")
        raise json.JSONDecodeError("arrays or objects nested too deeply", doc, 0) from None


def read_regular(path: str | os.PathLike, *, what: str, limit: int, name: str | None = None) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes, or an :class:`InputError` that
    starts with ``name`` (default: the path).

    A FIFO, a device (``/dev/zero``) or a folder is refused before it is opened, so reading
    never blocks or runs without end.
    """
    name = os.fspath(path) if name is None else name
    try:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode):
            raise InputError(f"{name}: cannot read the {what}: not a regular file")
        if st.st_size > limit:
            raise InputError(f"{name}: the {what} is larger than {limit:,} bytes")
        with open(path, "rb") as fh:
            data = fh.read(limit + 1)
    except OSError as exc:
        raise InputError(f"{name}: cannot read the {what}: {exc.strerror or exc}") from exc
    if len(data) > limit:
        raise InputError(f"{name}: the {what} is larger than {limit:,} bytes")
    return data


def inside(folder: str | os.PathLike, path: str | os.PathLike) -> bool:
    """Whether ``path`` lies inside ``folder`` once every link in both is resolved (the folder
    itself is not inside)."""
    root, target = os.path.realpath(folder), os.path.realpath(path)
    try:
        return target != root and os.path.commonpath([root, target]) == root
    except ValueError:  # different drives
        return False


def json_text(document: object) -> str:
    """Stable JSON: insertion order, 2-space indent, UTF-8 (not escaped), no NaN, trailing newline."""
    return json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def compact_json(document: object) -> str:
    """Stable JSON on one line (insertion order, UTF-8, no NaN): what :func:`json_text` holds,
    written by json's C encoder (several times faster), for machine-read files and digests."""
    return json.dumps(document, ensure_ascii=False, allow_nan=False, separators=(",", ":")) + "\n"
