"""Ownership of ``leaderboard build``'s output folder: a lock and a manifest of what it wrote.

A build only ever deletes or replaces files that a build recorded in the manifest
(``.evoxtral-build.json``); it refuses a non-empty folder without one. The manifest is
rewritten to claim files *before* they are written, so a build killed half-way leaves a
record of everything it may have left, temp files included (``.<name>.<random>.tmp`` next to
a claimed file). The lock (``.evoxtral-build.lock``, ``flock``) makes concurrent builds into
the same folder run one after the other.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

from evoxtral_bench.errors import InputError
from evoxtral_bench.files import TMP_SUFFIX, json_text, sha256_bytes, write_text

MANIFEST = ".evoxtral-build.json"
LOCK = ".evoxtral-build.lock"
_TOOL = "evoxtral-bench leaderboard build"


def _relative(value: object) -> str | None:
    """``value`` if it is a clean relative POSIX path inside the folder, else None."""
    if not isinstance(value, str) or not value or "\\" in value or "\0" in value:
        return None
    path = PurePosixPath(value)
    if path.is_absolute() or any(part in ("", ".", "..") for part in value.split("/")) or value in (MANIFEST, LOCK):
        return None
    return value


class OutputDir:
    """The output folder of one build, used as a context manager (holds the lock)."""

    def __init__(self, folder: str | os.PathLike) -> None:
        self.folder = Path(folder)
        self.previous: set[str] = set()
        self.claimed: set[str] = set()
        self.stamp: dict = {}
        self._lock_fd: int | None = None

    def __enter__(self) -> OutputDir:
        try:
            import fcntl
        except ImportError:  # not POSIX: no lock; concurrent builds into one folder are unsafe
            fcntl = None
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            if not self.folder.is_dir():
                raise InputError(f"--out {self.folder}: not a folder")
            self._lock_fd = os.open(self.folder / LOCK, os.O_RDWR | os.O_CREAT, 0o666)
            if fcntl is not None:
                fcntl.flock(self._lock_fd, fcntl.LOCK_EX)  # waits for another build into the same folder
        except OSError as exc:
            self.__exit__(None, None, None)
            raise InputError(f"--out {self.folder}: {exc.strerror or exc}") from exc
        try:
            self.previous = self._read_manifest()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        self.claimed = set(self.previous)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # releases the lock
            self._lock_fd = None

    def _read_manifest(self) -> set[str]:
        path = self.folder / MANIFEST
        if not path.exists() and not path.is_symlink():
            others = sorted(p.name for p in self.folder.iterdir() if p.name != LOCK)
            if others:
                shown = ", ".join(others[:3]) + (" …" if len(others) > 3 else "")
                raise InputError(
                    f"--out {self.folder} is not empty ({shown}) and holds no {MANIFEST} from an earlier build; "
                    "choose a new or empty folder (a build only replaces what a build wrote)"
                )
            return set()
        try:
            if path.is_symlink() or not path.is_file():
                raise ValueError("not a regular file")
            document = json.loads(path.read_text(encoding="utf-8"))
            files = document["files"] if isinstance(document, dict) and document.get("tool") == _TOOL else None
            if not isinstance(files, list):
                raise ValueError("not a build manifest")
            clean = {_relative(f) for f in files}
            if None in clean:
                raise ValueError("a listed path is not a relative path inside the folder")
            stamp = document.get("stamp")
            self.stamp = stamp if isinstance(stamp, dict) else {}
        except (OSError, ValueError, RecursionError) as exc:
            raise InputError(f"{path}: unreadable build manifest ({exc}); remove the folder or choose another") from None
        return clean  # type: ignore[return-value]

    def _write_manifest(self, files: Iterable[str], stamp: dict | None = None) -> None:
        """Write the manifest unless it already says exactly this (a rebuild writes nothing).
        ``stamp`` (:meth:`up_to_date`) is kept until a build finishes with a new one; a claim
        made during a build drops it (the folder is then not known to be complete)."""
        document: dict = {"tool": _TOOL, "files": sorted(files)}
        if stamp:
            document["stamp"] = stamp
        text = json_text(document)
        path = self.folder / MANIFEST
        try:
            if path.read_text(encoding="utf-8") == text:
                return
        except (OSError, UnicodeDecodeError):
            pass
        write_text(path, text)

    def owns(self, relative: str) -> bool:
        """Whether an earlier build recorded ``relative`` as its output."""
        return relative in self.previous

    def claim(self, relatives: Iterable[str]) -> None:
        """Record ``relatives`` as this build's before writing them."""
        new = set(relatives) - self.claimed
        if new:
            self.claimed |= new
            self.stamp = {}
            self._write_manifest(self.claimed)

    def remove_temp_files(self) -> None:
        """Delete temp files (``.<name>.<8 characters>.tmp``) left next to claimed files by a
        build that was killed; each folder is listed once."""
        tail = 9 + len(TMP_SUFFIX)  # ".<8 random characters>" + ".tmp"
        for folder, names in _by_folder([*self.claimed, MANIFEST]).items():
            directory = self.folder / folder
            if not directory.is_dir() or directory.is_symlink():
                continue
            wanted = set(names)
            with os.scandir(directory) as found:
                for entry in found:
                    name = entry.name
                    if (
                        name.startswith(".")
                        and name.endswith(TMP_SUFFIX)
                        and len(name) > tail + 1
                        and name[-tail] == "."
                        and name[1:-tail] in wanted
                        and entry.is_file(follow_symlinks=False)
                    ):
                        os.unlink(entry.path)

    def up_to_date(self, inputs: str) -> dict | None:
        """The stamp of the last finished build when it was made from ``inputs`` (a digest of
        everything a build reads) and every output file it records still has its sha256; else None."""
        stamp = self.stamp
        digests = stamp.get("sha256")
        if stamp.get("inputs") != inputs or not isinstance(digests, dict) or set(digests) - self.previous:
            return None
        for relative, digest in digests.items():
            path = self.folder / relative
            try:
                if path.is_symlink() or not path.is_file() or sha256_bytes(path.read_bytes()) != digest:
                    return None
            except OSError:
                return None
        return stamp

    def finish(self, written: set[str], stamp: dict | None = None) -> None:
        """Delete what earlier builds wrote that this one did not; record ``written`` only, with
        ``stamp`` (the inputs digest, the check's warnings, the sha256 of each output file)."""
        for relative in sorted(self.claimed - written):
            path = self.folder / relative
            if path.is_symlink() or path.is_file():
                path.unlink()
            parent = path.parent
            while parent != self.folder and parent.is_dir() and not parent.is_symlink() and not any(parent.iterdir()):
                parent.rmdir()
                parent = parent.parent
        self.claimed = set(written)
        self.stamp = stamp or {}
        self._write_manifest(written, stamp)


def _by_folder(relatives: Iterable[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for relative in relatives:
        folder, _, name = relative.rpartition("/")
        out.setdefault(folder, []).append(name)
    return out
