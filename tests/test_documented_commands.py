"""Every ``evoxtral-bench`` command that the README, the submission guide, the dataset card or
the site shows parses as shown, and those that run offline in a second do run (exit 0), so a
stale instruction fails CI (issue 25 item 3)."""

from __future__ import annotations

import html
import re
import shlex
import shutil
from pathlib import Path

import pytest

from evoxtral_bench.cli.app import UsageError, _Exit, build_parser, main

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "tests" / "data" / "example_preds.jsonl"


def _sources() -> list[Path]:
    """Where a user reads commands: the READMEs, the PR template and the workflows, the dataset
    card (it is the Hub page), and the site (its templates and the Python that writes pages)."""
    fixed = ["README.md", "submissions/README.md", "leaderboard/README.md", ".github/pull_request_template.md"]
    paths = [ROOT / p for p in fixed] + [ROOT / "evoxtral_bench/corpus/data/DATASET_CARD.md"]
    paths += sorted((ROOT / ".github/workflows").glob("*.yml"))
    paths += sorted(p for p in (ROOT / "leaderboard/templates").rglob("*") if p.is_file())
    paths += sorted((ROOT / "evoxtral_bench/leaderboard").glob("*.py"))
    return paths


def _fenced(text: str) -> list[str]:
    """The lines of the shell and YAML code blocks of a Markdown text (continuations joined)."""
    lang, out = None, []
    for line in text.splitlines():
        if line.strip().startswith("```"):
            lang = (line.strip()[3:].strip() or "text") if lang is None else None
        elif lang in ("bash", "sh", "yaml"):
            out.append(line)
    return "\n".join(out).replace("\\\n", " ").splitlines()


def shown_commands(path: Path) -> list[str]:
    """Each ``evoxtral-bench …`` command in ``path``: in shell blocks (split at ``&&``, ``|``,
    ``;``, comments and redirections dropped, a workflow's ``run:`` too), in Markdown code spans
    and in HTML ``<code>`` elements."""
    text = path.read_text(encoding="utf-8")
    found = []
    lines = _fenced(text) if path.suffix == ".md" else text.splitlines() if path.suffix == ".yml" else []
    for line in lines:
        line = re.sub(r"^\s*-?\s*run:\s*", "", re.sub(r"\s+#.*$", "", line))
        for part in re.split(r"&&|\|\||;|\|", line):
            part = re.sub(r"\s*>>?\s*\S+\s*$", "", part.strip())
            if part.startswith("evoxtral-bench "):
                found.append(part)
    found += re.findall(r"`(evoxtral-bench [^`]+)`", text)
    found += [html.unescape(c) for c in re.findall(r"<code>(evoxtral-bench .*?)</code>", text, re.S)]
    return [" ".join(c.split()) for c in found]


PLACEHOLDERS = {
    "<slug>": "my-model",
    "SLUG": "my-model",
    "FILE": "predictions.jsonl",
    "PREDS": "preds.jsonl",
    "MASKED_PREDS": "preds.masked.jsonl",
    "A": "a.jsonl",
    "B": "b.jsonl",
    "TRACK": "espeak-v1",
    "NAME": "espeak-v1",
    "SPLIT": "test",
    "$split": "test",
    "DIR": "dir",
    "OUT": "out",
    "REPO": "user/repo",
    "<base branch's submissions>": "base",
    "...": None,
}
"""What a reader puts in place of the placeholders the documents use."""

FRAGMENTS = {
    "evoxtral-bench compare --bootstrap B": "names the option whose resamples the ranking reuses",
    "evoxtral-bench score --track NAME": "names the option that says the track",
    "evoxtral-bench score --format json": "names the output the site links (results.json)",
}
"""Shown commands that name an option in a sentence rather than give a command to run (each must
still name options the command has)."""


def _tokens(command: str) -> list[str]:
    for text, value in PLACEHOLDERS.items():
        if " " in text:
            command = command.replace(text, value or "")
    out = []
    for token in shlex.split(command)[1:]:
        value = PLACEHOLDERS.get(token, token)
        if value is not None:
            out.append(value)
    return out


def _all_shown() -> list[tuple[str, str]]:
    return sorted({(str(p.relative_to(ROOT)), c) for p in _sources() for c in shown_commands(p)})


def _parse(tokens: list[str]) -> None:
    try:
        build_parser().parse_args(tokens)
    except _Exit as exc:  # --help
        assert exc.status == 0


def _parses(tokens: list[str]) -> bool:
    try:
        build_parser().parse_args(tokens)
    except (UsageError, _Exit):
        return False
    return True


def _is_command_name(tokens: list[str]) -> bool:
    """``evoxtral-bench score`` or ``evoxtral-bench leaderboard build``: a command named in a
    sentence; it must exist (its ``--help`` works)."""
    return len(tokens) <= 2 and all(re.fullmatch(r"[a-z-]+", t) for t in tokens)


def test_the_documents_show_commands():
    shown = _all_shown()
    assert len(shown) >= 40
    assert ("leaderboard/templates/index.html", "evoxtral-bench leaderboard check") in shown  # the site's own instructions are read
    assert any(src == "README.md" and c.startswith("evoxtral-bench compare submissions/") for src, c in shown)  # a span over two lines


@pytest.mark.parametrize("source, command", _all_shown())
def test_every_shown_command_parses_as_shown(source, command, capsys):
    tokens = _tokens(command)
    if _is_command_name(tokens):
        try:
            _parse([*tokens, "--help"])
        except UsageError as exc:
            pytest.fail(f"{source}: `{command}` names no command: {exc}")
        return
    if command in FRAGMENTS:  # an option named in a sentence: the option must exist
        path = [t for t in tokens if not t.startswith("-")][:1]
        _parse([*path, "--help"])
        assert all(option in capsys.readouterr().out for option in tokens if option.startswith("--")), command
        return
    try:
        _parse(tokens)
    except UsageError as exc:
        pytest.fail(f"{source}: `{command}` does not run as shown:\n{exc}")


RUN = {
    ("validate",),
    ("score",),
    ("compare",),
    ("tags",),
    ("data", "validate"),
    ("data", "stats"),
    ("leaderboard", "check"),
    ("leaderboard", "new"),
    ("leaderboard", "oracle"),
}
"""The commands that run offline in about a second (the others: synthesis, export, building the
site, the legacy import, are parsed above and run by their own tests)."""


def _runnable() -> list[str]:
    out = []
    for _, command in _all_shown():
        tokens = _tokens(command)
        path = tuple(t for t in tokens[:2] if re.fullmatch(r"[a-z-]+", t))
        if command in FRAGMENTS or "--help" in tokens or not (path[:1] in RUN or path[:2] in RUN):
            continue
        if _is_command_name(tokens) and not _parses(tokens):
            continue  # a command named in a sentence (`evoxtral-bench score`), not one to run
        if "--run" in tokens:  # the folder of a finished `evoxtral-bench run` (tests/runner make one)
            continue
        if "--references" not in tokens:  # a references file of the reader's own (the legacy bench50)
            out.append(command)
    return sorted(set(out))


INPUT_OPTIONS = ("--predictions", "--masked")


def _inputs(tokens: list[str]) -> list[str]:
    """The prediction files a command reads (positional ``*.jsonl`` and ``--predictions``/``--masked``)."""
    return [t for i, t in enumerate(tokens) if t.endswith(".jsonl") and (i == 0 or not tokens[i - 1].startswith("--") or tokens[i - 1] in INPUT_OPTIONS)]


def test_the_commands_that_run_offline_run_as_shown(tmp_path, monkeypatch, capsys):
    commands = _runnable()
    assert {tuple(c.split()[1:3]) for c in commands} >= {("tags",), ("data", "validate"), ("leaderboard", "check")}
    assert {c.split()[1] for c in commands} >= {"validate", "score", "compare", "data", "leaderboard"}
    shutil.copytree(ROOT / "submissions", tmp_path / "submissions")
    monkeypatch.chdir(tmp_path)
    for command in commands:
        tokens = _tokens(command)
        for name in _inputs(tokens):  # the reader's own predictions: the example file stands in for them
            if not Path(name).exists():
                Path(name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(EXAMPLE, name)
        if tokens[:2] == ["leaderboard", "new"]:
            shutil.rmtree(Path("submissions") / tokens[2], ignore_errors=True)  # each `new` starts afresh
        if tokens[:1] in (["score"], ["compare"]) and "--bootstrap" not in tokens:
            tokens += ["--bootstrap", "50"]  # the numbers are not what is checked here
        code = main(tokens)
        err = capsys.readouterr().err
        assert code == 0, f"`{command}` exits {code}:\n{err[-2000:]}"


NEEDS_EXTRA = {("leaderboard", "build"): "leaderboard", ("leaderboard", "summary"): "leaderboard", ("data", "export"): "data"}
"""Commands that stop with "needs '…': pip install 'evoxtral-bench[EXTRA]'" on the base install
(``cli/leaderboard.py`` ``_require_build_extra``, ``corpus/export.py``)."""
_INSTALL_RE = re.compile(r"""pip install (?:-e )?["']?(?:\.|evoxtral-bench)\[([a-z,]+)\]""")


@pytest.mark.parametrize("source", ["README.md", "submissions/README.md"])
def test_a_section_that_shows_a_command_needing_an_extra_installs_it_first(source):
    text = (ROOT / source).read_text(encoding="utf-8")
    for section in re.split(r"\n(?=## )", text):
        heading = section.splitlines()[0]
        for (group, command), extra in NEEDS_EXTRA.items():
            run = re.search(rf"^\s*evoxtral-bench {group} {command}", section, re.M)  # a command line to run, not prose
            if run is None:
                continue
            installed = {e for m in _INSTALL_RE.finditer(section[: run.start()]) for e in m.group(1).split(",")}
            assert extra in installed, f"{source}, section {heading!r}: `evoxtral-bench {group} {command}` needs pip install -e \".[{extra}]\" before it"
