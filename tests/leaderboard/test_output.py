"""``leaderboard build`` owns only what it wrote (issue 10 items 1, 4, 5, 6): a manifest, a
lock, temp files of killed builds removed, cache documents checked before use."""

from __future__ import annotations

import fcntl
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import need

need("matplotlib", "threadpoolctl")

from evoxtral_bench.output import BUILD  # noqa: E402

LOCK, MANIFEST = BUILD.lock, BUILD.manifest
from tests.leaderboard.fixtures import ROOT, site_files, verified_entry  # noqa: E402


def _submissions(root: Path) -> Path:
    for slug, seed, drop in (("sys-a", 1, 0.2), ("sys-b", 2, 0.6)):
        verified_entry(root, slug, seed, tag_drop=drop)
    return root


def _build(cli, submissions: Path, out: Path) -> tuple[int, str, str]:
    return cli("leaderboard", "build", "--submissions", submissions, "--out", out, "--no-progress", "--jobs", "1")


def _published(out: Path) -> dict[str, bytes]:
    return {k: v for k, v in site_files(out).items() if not k.startswith(".")}


def test_a_non_empty_out_without_a_manifest_is_refused(tmp_path, cli):
    out = tmp_path / "home"
    (out / ".cache").mkdir(parents=True)
    (out / ".cache" / "other-tool.json").write_text("{}")
    code, _, err = _build(cli, _submissions(tmp_path / "subs"), out)
    assert code == 2 and "is not empty" in err and MANIFEST in err
    # issue 25 item 27: the lock was left behind in the refused folder
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*")) == [".cache", ".cache/other-tool.json"]


def test_a_build_never_follows_a_link_out_of_its_folder(tmp_path, cli):
    """Issue 25 item 18: a manifest listing ``link/victim.txt`` with ``site/link`` a link to
    another folder deleted ``victim.txt`` there; a file or folder of the site replaced by a link
    out was written through."""
    subs, out, elsewhere = _submissions(tmp_path / "subs"), tmp_path / "site", tmp_path / "elsewhere"
    assert _build(cli, subs, out)[0] == 0
    elsewhere.mkdir()
    (elsewhere / "victim.txt").write_text("keep")
    (elsewhere / "target.html").write_text("keep")
    (out / "link").symlink_to(elsewhere)
    manifest = json.loads((out / MANIFEST).read_text())
    (out / MANIFEST).write_text(json.dumps({**manifest, "files": [*manifest["files"], "link/victim.txt"]}))
    (out / "index.html").unlink()
    (out / "index.html").symlink_to(elsewhere / "target.html")
    code, _, err = _build(cli, subs, out)
    assert code == 0, err
    assert sorted(p.name for p in elsewhere.iterdir()) == ["target.html", "victim.txt"]
    assert (elsewhere / "victim.txt").read_text() == "keep" and (elsewhere / "target.html").read_text() == "keep"
    assert not (out / "index.html").is_symlink() and "<html" in (out / "index.html").read_text()
    assert "link/victim.txt" not in json.loads((out / MANIFEST).read_text())["files"]

    before = _published(out)
    plots = out / "plots"
    plots.rename(elsewhere / "plots")
    plots.symlink_to(elsewhere / "plots")
    (elsewhere / "plots" / "espeak-v1" / "forest_tag_f1.svg").write_text("mine")
    code, _, err = _build(cli, subs, out)
    assert code == 2 and "'plots/espeak-v1' is a link out of the folder" in err, err
    assert (elsewhere / "plots" / "espeak-v1" / "forest_tag_f1.svg").read_text() == "mine"
    assert {k: v for k, v in _published(out).items() if not k.startswith("plots/")} == {k: v for k, v in before.items() if not k.startswith("plots/")}


def test_rebuilds_touch_only_their_own_files_and_modes_follow_the_umask(tmp_path, cli):
    subs, out = _submissions(tmp_path / "subs"), tmp_path / "site"
    old = os.umask(0o022)
    try:
        assert _build(cli, subs, out)[0] == 0
    finally:
        os.umask(old)
    for path in out.rglob("*"):
        if path.is_file() and path.name != LOCK:
            assert stat.S_IMODE(path.stat().st_mode) & 0o044 == 0o044, path  # readable by a web server's user
    manifest = json.loads((out / MANIFEST).read_text())["files"]
    cache_name = next(f for f in manifest if f.startswith(".cache/")).split("/")[1]
    foreign = {"entries/foreign.txt": "x", "entries/sys-a/mine.txt": "x", ".cache/other.json": "{}", "notes.tmp": "x", ".x.tmp": "x"}
    leftovers = [".index.html.abcd1234.tmp", f".{MANIFEST}.abcd1234.tmp", "plots/espeak-v1/.forest_tag_f1.svg.abcd1234.tmp", f".cache/.{cache_name}.abcd1234.tmp"]
    for relative, text in [*foreign.items(), *((r, "x") for r in leftovers)]:
        (out / relative).write_text(text)
    (subs / "sys-a" / "meta.yaml").unlink()
    (subs / "sys-a" / "predictions.jsonl").unlink()
    (subs / "sys-a").rmdir()
    code, out_text, err = _build(cli, subs, out)
    assert code == 0, err
    for relative, text in foreign.items():
        assert (out / relative).read_text() == text, relative
    for relative in leftovers:
        assert not (out / relative).exists(), relative
    assert not (out / "entries" / "sys-a" / "results.json").exists()
    assert (out / "entries" / "sys-b" / "results.json").exists()


def test_concurrent_builds_into_one_folder_wait_for_each_other(tmp_path, cli):
    subs, out = _submissions(tmp_path / "subs"), tmp_path / "site"
    assert _build(cli, subs, out)[0] == 0  # warm cache: a rebuild takes a few seconds
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    command = [sys.executable, "-m", "evoxtral_bench", "leaderboard", "build", "--submissions", str(subs), "--out", str(out), "--no-progress", "--jobs", "1"]
    with open(out / LOCK, "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        other = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        with pytest.raises(subprocess.TimeoutExpired):
            other.wait(timeout=6)  # an unlocked rebuild takes about 3 s
        fcntl.flock(held, fcntl.LOCK_UN)
    assert other.wait(timeout=120) == 0


def test_bad_cache_documents_are_rescored_not_published(tmp_path, cli):
    subs, out = _submissions(tmp_path / "subs"), tmp_path / "site"
    assert _build(cli, subs, out)[0] == 0
    first = _published(out)
    cache = sorted(p for p in (out / ".cache").glob("*.json") if "results" in json.loads(p.read_text())["document"])
    assert len(cache) == 2  # one score document per verified entry (pair tests, rank intervals and figures apart)
    wrapped = [json.loads(p.read_text()) for p in cache]

    def tampered(w: dict) -> str:
        doc = json.loads(json.dumps(w))
        doc["document"]["results"]["metrics"]["tag_f1"]["value"] = 0.999
        return json.dumps(doc)

    rounds = [
        ["[]", tampered(wrapped[1])],
        ["{}", json.dumps({**wrapped[1], "document": float("nan")})],
        [None, json.dumps({"key": wrapped[1]["key"]})],
        [tampered(wrapped[0]), json.dumps({**wrapped[1], "key": "0" * 64})],
        ["NaN", None],
    ]
    for texts in rounds:
        for path, text in zip(cache, texts):
            if text is None:  # a folder where the document should be
                path.unlink()
                path.mkdir()
            else:
                if path.is_dir():
                    path.rmdir()
                path.write_text(text)
        (out / "index.html").write_text("damaged")  # else the unchanged inputs stop the build before the cache
        code, report, err = _build(cli, subs, out)
        assert code == 0, err
        assert "(0 from the cache)" in report
        assert _published(out) == first
