"""The README's commands are the ones CI runs, and its Python example runs as written."""

import doctest
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def readme_commands() -> list[str]:
    return re.findall(r"```bash\n(.+?)\n```", (ROOT / "README.md").read_text(encoding="utf-8"))


def test_ci_runs_the_readme_test_command():
    test_command = readme_commands()[1]
    assert test_command.startswith("bash scripts/install-system-packages.sh && pip install torch==2.13.0 && ")
    assert test_command.endswith("&& ruff check . && python -m pytest")
    ci_lines = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert ci_lines[-1] == test_command  # the last thing CI does, exactly as written


def test_readme_python_example_runs_verbatim_as_a_doctest():
    blocks = re.findall(r"```python\n(.+?)```", (ROOT / "README.md").read_text(encoding="utf-8"), re.S)
    assert blocks, "the README has a Python example"
    parser, runner = doctest.DocTestParser(), doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    for i, block in enumerate(blocks):
        test = parser.get_doctest(block, {}, f"README.md python block {i + 1}", "README.md", 0)
        assert test.examples, "the example is written as a doctest (>>> lines)"
        result = runner.run(test)
        assert result.failed == 0, f"README.md python block {i + 1}: {result.failed} of {result.attempted} examples failed"


def test_no_file_outside_the_repository_is_cited():
    import subprocess

    outside = "SPEC" + ".md"  # the first contract, which lived outside the repository
    found = subprocess.run(["git", "grep", "-n", outside, "--", ":!docs"], cwd=ROOT, capture_output=True, text=True)
    assert found.stdout == ""
    assert (ROOT / "docs" / "spec.md").is_file() and "docs/spec.md" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_score_command_uses_a_shipped_file():
    first = readme_commands()[0]
    assert first == "pip install -e . && evoxtral-bench score tests/data/example_preds.jsonl"
    assert (ROOT / "tests" / "data" / "example_preds.jsonl").is_file()


def test_readme_names_every_base_dependency_and_why():
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10: tomli, a base dependency there
        import tomli as tomllib

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    paragraph = text[text.index("The base install (`pip install -e .`)") :].split("\n\n", 1)[0]
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    names = {re.match(r"[A-Za-z0-9_.-]+", d).group(0).lower() for d in deps}
    for name in names:
        assert re.search(rf"`{re.escape(name)}` \(", paragraph), f"the README's base-install paragraph does not say why {name} is needed"


def test_readme_names_every_package_of_every_extra():
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10: tomli, a base dependency there
        import tomli as tomllib

    text = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["optional-dependencies"]
    for extra, deps in extras.items():
        listed = re.search(rf"`\[{extra}\]` \(([^()]*)\)", text)
        assert listed, f"the README does not list the [{extra}] extra's packages"
        for dep in deps:
            name = re.match(r"[A-Za-z0-9_.-]+", dep).group(0).lower()
            assert name in listed.group(1).lower(), f"the README's [{extra}] list lacks {name}"
