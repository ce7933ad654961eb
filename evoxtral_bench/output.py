"""Ownership of an output folder: a lock and a manifest of what the tool wrote there.

``leaderboard build``, ``data synthesize`` and ``data export`` write folders by one rule (docs/spec.md
§8.7). A tool only ever deletes or replaces files that it recorded in its manifest (for a build
``.evoxtral-build.json``); it refuses a non-empty folder without one. The manifest is rewritten
to claim files *before* they are written, so a run killed half-way leaves a record of everything
it may have left, temp files included (``.<name>.<random>.tmp`` next to a claimed file). The lock
(``flock``) makes concurrent runs into the same folder run one after the other; it is created
only once the folder is known to be the tool's. Every path used stays inside the folder: a link
is never followed out of it (a claimed path whose folder is a link out is refused; a listed file
reached through one is not deleted), and a claimed file is replaced as an entry (a link, a FIFO
or a device in its place is replaced, never written through).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from evoxtral_bench.errors import InputError
from evoxtral_bench.files import TMP_SUFFIX, check_not_input, inside, json_text, sha256_bytes, write_bytes, write_text


@dataclass(frozen=True)
class Owner:
    """A tool that owns output folders: its name (recorded in the manifest) and its two files."""

    tool: str
    manifest: str
    lock: str


BUILD = Owner("evoxtral-bench leaderboard build", ".evoxtral-build.json", ".evoxtral-build.lock")
SYNTHESIS = Owner("evoxtral-bench data synthesize", ".evoxtral-synthesize.json", ".evoxtral-synthesize.lock")
EXPORT = Owner("evoxtral-bench data export", ".evoxtral-export.json", ".evoxtral-export.lock")


class OutputDir:
    """The output folder of one run, used as a context manager (holds the lock)."""

    def __init__(self, folder: str | os.PathLike, owner: Owner = BUILD, *, option: str = "--out") -> None:
        if not os.fspath(folder).strip():
            raise InputError(f"{option} needs a folder; got an empty name")
        self.folder = Path(folder)
        self.owner = owner
        self.option = option
        self.previous: set[str] = set()
        self.claimed: set[str] = set()
        self.stamp: dict = {}
        self._lock_fd: int | None = None
        self._created_folder = self._created_lock = False

    def __enter__(self) -> OutputDir:
        try:
            import fcntl
        except ImportError:  # not POSIX: no lock; concurrent runs into one folder are unsafe
            fcntl = None
        try:
            self._created_folder = not self.folder.exists() and not self.folder.is_symlink()
            if not self._created_folder and not self.folder.is_dir():
                raise InputError(f"{self.option} {self.folder}: exists and is not a folder")
            self.folder.mkdir(parents=True, exist_ok=True)
            self._refuse_foreign()  # before the lock exists: a refused folder is left as it was
            try:
                self._lock_fd = os.open(self.folder / self.owner.lock, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o666)
                self._created_lock = True
            except FileExistsError:
                self._lock_fd = os.open(self.folder / self.owner.lock, os.O_RDWR)
            if fcntl is not None:
                fcntl.flock(self._lock_fd, fcntl.LOCK_EX)  # waits for another run into the same folder
            self.previous = self._read_manifest()
        except BaseException as exc:
            self.__exit__(type(exc), exc, None)
            if isinstance(exc, OSError):
                raise InputError(f"{self.option} {self.folder}: {exc.strerror or exc}") from exc
            raise
        self.claimed = set(self.previous)
        return self

    def __exit__(self, kind: type | None, *exc: object) -> None:
        """Release the lock; after a failure that wrote nothing (no manifest), remove the lock and
        the folder if this run created them, so that a refused or failed run leaves no trace."""
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # releases the lock
            self._lock_fd = None
        manifest = self.folder / self.owner.manifest
        if kind is not None and not manifest.exists() and not manifest.is_symlink():
            if self._created_lock:
                (self.folder / self.owner.lock).unlink(missing_ok=True)
            if self._created_folder and self.folder.is_dir() and not any(self.folder.iterdir()):
                self.folder.rmdir()

    def _refuse_foreign(self) -> None:
        """Refuse a non-empty folder that holds no manifest of this tool."""
        path = self.folder / self.owner.manifest
        if path.exists() or path.is_symlink():
            return
        others = sorted(p.name for p in self.folder.iterdir() if p.name != self.owner.lock)
        if others:
            shown = ", ".join(others[:3]) + (" …" if len(others) > 3 else "")
            raise InputError(
                f"{self.option} {self.folder} is not empty ({shown}) and holds no {self.owner.manifest} from an earlier "
                f"run of {self.owner.tool}; choose a new or empty folder (it only replaces what it wrote)"
            )

    def _read_manifest(self) -> set[str]:
        path = self.folder / self.owner.manifest
        if not path.exists() and not path.is_symlink():
            return set()
        try:
            if path.is_symlink() or not path.is_file():
                raise ValueError("not a regular file")
            document = json.loads(path.read_text(encoding="utf-8"))
            files = document["files"] if isinstance(document, dict) and document.get("tool") == self.owner.tool else None
            if not isinstance(files, list):
                raise ValueError(f"not a manifest of {self.owner.tool}")
            clean = {self._relative(f) for f in files}
            if None in clean:
                raise ValueError("a listed path is not a relative path inside the folder")
            stamp = document.get("stamp")
            self.stamp = stamp if isinstance(stamp, dict) else {}
        except (OSError, ValueError, RecursionError) as exc:
            raise InputError(f"{path}: unreadable ownership manifest ({exc}); remove the folder or choose another") from None
        return clean  # type: ignore[return-value]

    def _relative(self, value: object) -> str | None:
        """``value`` if it is a clean relative POSIX path inside the folder, else None."""
        if not isinstance(value, str) or not value or "\\" in value or "\0" in value:
            return None
        if PurePosixPath(value).is_absolute() or any(part in ("", ".", "..") for part in value.split("/")):
            return None
        return None if value in (self.owner.manifest, self.owner.lock) else value

    def _write_manifest(self, files: Iterable[str], stamp: dict | None = None) -> None:
        """Write the manifest unless it already says exactly this (a rerun writes nothing).
        ``stamp`` (:meth:`up_to_date`) is kept until a run finishes with a new one; a claim
        made during a run drops it (the folder is then not known to be complete)."""
        document: dict = {"tool": self.owner.tool, "files": sorted(files)}
        if stamp:
            document["stamp"] = stamp
        text = json_text(document)
        path = self.folder / self.owner.manifest
        try:
            if path.read_text(encoding="utf-8") == text:
                return
        except (OSError, UnicodeDecodeError):
            pass
        write_text(path, text)

    def _inside(self, relative: str) -> bool:
        """Whether the folder holding ``relative`` is this folder or inside it, links resolved."""
        parent = (self.folder / relative).parent
        return os.path.realpath(parent) == os.path.realpath(self.folder) or inside(self.folder, parent)

    def owns(self, relative: str) -> bool:
        """Whether an earlier run recorded ``relative`` as its output."""
        return relative in self.previous

    def claim(self, relatives: Iterable[str]) -> None:
        """Record ``relatives`` as this run's before writing them; refuse (before anything is
        written) a path that is not clean or whose folder is a link out of the output folder."""
        relatives = set(relatives)
        if any(self._relative(relative) is None for relative in relatives):
            raise ValueError(f"not relative paths inside the folder: {sorted(relatives)!r}")  # a bug of the caller
        for folder, names in sorted(_by_folder(relatives).items()):  # each folder checked once
            if not self._inside(f"{folder}/{names[0]}" if folder else names[0]):
                raise InputError(
                    f"{self.option} {self.folder}: {folder!r} is a link out of the folder (or lies in one); remove the "
                    "link: nothing is written through a link out of the output folder"
                )
        new = relatives - self.claimed
        if new:
            self.claimed |= new
            self.stamp = {}
            self._write_manifest(self.claimed)

    def refuse_inputs(self, inputs: Iterable[str | os.PathLike | None], relatives: Iterable[str]) -> None:
        """Raise :class:`InputError` if one of the outputs ``relatives`` (or the manifest) is one of
        ``inputs``: writing it would overwrite what was read (:func:`.files.check_not_input`)."""
        inputs = [p for p in inputs if p is not None and os.path.exists(p)]
        for relative in sorted({*relatives, self.owner.manifest}) if inputs else ():
            check_not_input(self.folder / relative, inputs, option=self.option)

    def write(self, relative: str, data: bytes, *, durable: bool = True) -> bool:
        """Write a claimed file atomically, unless it already holds exactly ``data``; whatever
        is in its place (a link, a FIFO) is replaced, never followed or written to.
        ``durable=False``: no fsync (:func:`.files.write_bytes`), for a run whose stamp records
        each file's sha256, so that a file a crash emptied is found and written again."""
        if relative not in self.claimed:
            raise ValueError(f"{relative!r} was not claimed")  # a bug of the caller
        if not self._inside(relative):
            raise InputError(f"{self.option} {self.folder}: {relative!r} lies in a link out of the folder; remove the link")
        path = self.folder / relative
        if path.is_file() and not path.is_symlink() and path.stat().st_size == len(data) and path.read_bytes() == data:
            return False
        write_bytes(path, data, replace=True, durable=durable)
        return True

    def move(self, source: str | os.PathLike, relative: str) -> None:
        """Move a finished file (on the same file system) to a claimed path, replacing the entry
        there as :meth:`write` does."""
        if relative not in self.claimed:
            raise ValueError(f"{relative!r} was not claimed")  # a bug of the caller
        if not self._inside(relative):
            raise InputError(f"{self.option} {self.folder}: {relative!r} lies in a link out of the folder; remove the link")
        path = self.folder / relative
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            os.replace(source, path)
        except OSError as exc:
            raise InputError(f"cannot write {path}: {exc.strerror or exc}") from exc

    def remove_temp_files(self) -> None:
        """Delete temp files (``.<name>.<8 characters>.tmp``) left next to claimed files by a
        run that was killed; each folder is listed once."""
        tail = 9 + len(TMP_SUFFIX)  # ".<8 random characters>" + ".tmp"
        for folder, names in _by_folder([*self.claimed, self.owner.manifest]).items():
            directory = self.folder / folder
            if not directory.is_dir() or directory.is_symlink() or not self._inside(f"{folder}/x" if folder else "x"):
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
        """The stamp of the last finished run when it was made from ``inputs`` (a digest of
        everything a run reads) and every output file it records still has its sha256; else None."""
        stamp = self.stamp
        digests = stamp.get("sha256")
        if stamp.get("inputs") != inputs or not isinstance(digests, dict) or set(digests) - self.previous:
            return None
        for relative, digest in digests.items():
            path = self.folder / relative
            try:
                if not self._inside(relative) or path.is_symlink() or not path.is_file() or sha256_bytes(path.read_bytes()) != digest:
                    return None
            except OSError:
                return None
        return stamp

    def finish(self, written: set[str], stamp: dict | None = None) -> None:
        """Delete what earlier runs wrote that this one did not; record ``written`` only, with
        ``stamp`` (for a build: the inputs digest, the check's warnings, the sha256 of each output
        file). A listed file reached through a link out of the folder is not deleted."""
        for relative in sorted(self.claimed - written):
            if not self._inside(relative):
                continue
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
