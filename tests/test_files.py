"""files.write_bytes: the umask's mode, the replaced file's mode, writing through devices (items 2, 3)."""

import os
import stat

import pytest

from evoxtral_bench.errors import InputError
from evoxtral_bench.files import write_bytes, write_text


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_new_files_follow_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        write_text(tmp_path / "a.txt", "x")
        os.umask(0o027)
        write_text(tmp_path / "b.txt", "x")
    finally:
        os.umask(old)
    assert _mode(tmp_path / "a.txt") == 0o644
    assert _mode(tmp_path / "b.txt") == 0o640


def test_a_replaced_file_keeps_its_mode(tmp_path):
    path = tmp_path / "results.json"
    path.write_text("old")
    path.chmod(0o604)
    write_text(path, "new")
    assert path.read_text() == "new" and _mode(path) == 0o604


def test_a_symlink_is_kept_and_its_target_replaced(tmp_path):
    target = tmp_path / "target.txt"
    target.write_text("old")
    link = tmp_path / "link.txt"
    link.symlink_to(target)
    write_text(link, "new")
    assert link.is_symlink() and target.read_text() == "new"


def test_a_fifo_is_written_through_not_replaced(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        write_bytes(fifo, b"hello")
        assert os.read(reader, 100) == b"hello"
    finally:
        os.close(reader)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_a_link_to_a_device_is_written_through(tmp_path):
    link = tmp_path / "null"  # a link, so that a failing version replaces the link, not /dev/null
    link.symlink_to("/dev/null")
    write_bytes(link, b"x")
    assert link.is_symlink() and stat.S_ISCHR(os.stat("/dev/null").st_mode)


@pytest.mark.parametrize("where", ["dir", "under_file", "proc"])
def test_unwritable_targets_are_input_errors_naming_the_path(tmp_path, where):
    (tmp_path / "file").write_text("x")
    path = {"dir": tmp_path, "under_file": tmp_path / "file" / "x", "proc": "/proc/self/x"}[where]
    with pytest.raises(InputError, match=f"cannot write {path}: "):
        write_text(path, "x")


def test_a_full_disk_is_an_input_error(tmp_path):
    link = tmp_path / "full"
    link.symlink_to("/dev/full")
    with pytest.raises(InputError, match=f"cannot write {link}: No space left on device"):
        write_bytes(link, b"x")
