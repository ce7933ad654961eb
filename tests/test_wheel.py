"""The built wheel carries everything the installed commands need (run outside the checkout)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run(args: list[str], cwd: Path, *, keep_path: bool = False) -> subprocess.CompletedProcess:
    """Run ``args``; without PYTHONPATH (the checkout must not be what runs) unless ``keep_path``
    (the build: it runs with the running interpreter's own build tools, wherever they are)."""
    env = {k: v for k, v in os.environ.items() if k != "EVOXTRAL_BENCH_DEBUG" and (keep_path or k != "PYTHONPATH")}
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, env=env, timeout=600)


def venv_seeing_installed_dependencies(env_dir: Path) -> Path:
    """A fresh venv (no system site packages) that also sees what the interpreter running the
    tests imports from, wherever the dependencies were installed: a venv, the base interpreter,
    the user site, a ``.pth`` or PYTHONPATH. Its own site-packages comes first, so the wheel
    installed there wins; the running interpreter's ``sys.path`` folders are added after it as
    plain paths, except any holding ``evoxtral_bench`` (the checkout, an editable install), and
    their ``.pth`` files are not processed. Nothing is downloaded. Returns the venv's python."""
    venv.EnvBuilder(system_site_packages=False, with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    own = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], capture_output=True, text=True, check=True)
    seen = [p for p in dict.fromkeys(sys.path) if p and Path(p).is_dir() and not (Path(p) / "evoxtral_bench").exists()]
    (Path(own.stdout.strip()) / "_running_environment.pth").write_text("".join(f"{p}\n" for p in seen), encoding="utf-8")
    return python


def test_installed_wheel_runs_every_command_outside_the_checkout(tmp_path):
    dist = tmp_path / "dist"
    built = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(dist), str(ROOT)], tmp_path, keep_path=True)
    assert built.returncode == 0, built.stderr
    (wheel,) = dist.glob("evoxtral_bench-*.whl")

    env_dir = tmp_path / "venv"
    python = venv_seeing_installed_dependencies(env_dir)
    installed = _run([str(python), "-m", "pip", "install", "--no-deps", "--no-index", "--ignore-installed", "-q", str(wheel)], tmp_path)
    assert installed.returncode == 0, installed.stderr

    work = tmp_path / "elsewhere"
    work.mkdir()
    where = _run([str(python), "-c", "import evoxtral_bench; print(evoxtral_bench.__file__)"], work)
    assert where.stdout.strip().startswith(str(env_dir)), where.stdout  # the wheel, not the checkout

    cli = [str(python), "-m", "evoxtral_bench"]
    example = ROOT / "tests" / "data" / "example_preds.jsonl"
    other = ROOT / "submissions" / "oracle-plain" / "predictions.jsonl"
    score = _run([*cli, "score", str(example), "--format", "json", "--bootstrap", "50"], work)
    assert score.returncode == 0, score.stderr
    assert json.loads(score.stdout)["benchmark"]["n"] == 128
    for args in (
        ["validate", str(example)],
        ["compare", str(example), str(other), "--bootstrap", "50"],
        ["tags"],
        ["data", "validate"],
        ["data", "stats"],
        ["leaderboard", "check", "--submissions", str(ROOT / "submissions")],
        ["leaderboard", "build", "--submissions", str(ROOT / "submissions"), "--out", str(work / "site"), "--no-progress", "--jobs", "1"],
    ):
        done = _run([*cli, *args], work)
        assert done.returncode == 0, (args, done.stderr[-2000:])
    assert (work / "site" / "index.html").is_file()
    assert {p.name for p in (work / "site" / "assets").iterdir()} >= {"style.css", "leaderboard.js"}
