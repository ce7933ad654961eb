"""The project's license travels with it: LICENSE (Apache-2.0, verbatim) and NOTICE in the
repository and the wheel; the corpus license (CC BY 4.0) in the dataset card and the export."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import zipfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
APACHE_2_SHA256 = "c71d239df91726fc519c6eb72d318ec65820627232b2f796219e87dcf35d0ab4"
"""sha256 of https://www.apache.org/licenses/LICENSE-2.0.txt, the license's official text."""


def _card_license() -> str:
    card = (ROOT / "evoxtral_bench/corpus/data/DATASET_CARD.md").read_text(encoding="utf-8")
    front = card.split("---\n")[1]
    return yaml.safe_load(front)["license"]


def test_license_is_the_apache_text_and_notice_names_the_bundled_material():
    assert hashlib.sha256((ROOT / "LICENSE").read_bytes()).hexdigest() == APACHE_2_SHA256
    notice = (ROOT / "NOTICE").read_text(encoding="utf-8")
    for named in ("Apache License, Version 2.0", "CC BY 4.0", "corpus.jsonl", "Whisper tiny.en", "MIT", "Zou (2026)"):
        assert named in notice, named
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert 'license = "Apache-2.0"' in pyproject and 'license-files = ["LICENSE", "NOTICE"]' in pyproject


def test_corpus_license_is_the_same_in_the_card_and_the_export_code():
    from evoxtral_bench.corpus.export import LICENSE

    assert _card_license() == LICENSE == "cc-by-4.0"
    assert "CC BY 4.0" in (ROOT / "evoxtral_bench/corpus/data/DATASET_CARD.md").read_text(encoding="utf-8")


def test_wheel_carries_license_notice_and_the_corpus_card(tmp_path):
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = tmp_path.glob("evoxtral_bench-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        (info,) = {n.split("/")[0] for n in names if n.split("/")[0].endswith(".dist-info")}
        assert archive.read(f"{info}/licenses/LICENSE") == (ROOT / "LICENSE").read_bytes()
        assert archive.read(f"{info}/licenses/NOTICE") == (ROOT / "NOTICE").read_bytes()
        metadata = archive.read(f"{info}/METADATA").decode("utf-8")
        assert "evoxtral_bench/corpus/data/DATASET_CARD.md" in names
    assert "License-Expression: Apache-2.0" in metadata
    assert "License-File: LICENSE" in metadata and "License-File: NOTICE" in metadata
