"""The README's commands are the ones CI runs."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def readme_commands() -> list[str]:
    return re.findall(r"```bash\n(.+?)\n```", (ROOT / "README.md").read_text(encoding="utf-8"))


def test_ci_runs_the_readme_test_command():
    test_command = readme_commands()[1]
    assert test_command.startswith("pip install torch==2.13.0 && ")
    ci_lines = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert test_command in ci_lines


def test_readme_score_command_uses_a_shipped_file():
    first = readme_commands()[0]
    assert first == "pip install -e . && evoxtral-bench score tests/data/example_preds.jsonl"
    assert (ROOT / "tests" / "data" / "example_preds.jsonl").is_file()
