"""Hostile meta.yaml (issue 10 items 8, 9 and the YAML part of "Also"): every entry's problems
are listed with exit 2 in bounded time and memory; YAML 1.2 core-schema scalars only."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest
import yaml

from tests.leaderboard.fixtures import REPORTED_META, write_entry

BASE = yaml.safe_dump(REPORTED_META, sort_keys=False, allow_unicode=True)
LAUGHS = "".join(
    f"{b}: &{b} [{', '.join([f'*{a}'] * 9)}]\n" for a, b in zip("abcdefgh", "bcdefghi")
)

CASES = {
    "control": (BASE.replace("name: ", "name: X\x07"), "character U+0007 is not allowed"),
    "fffe": (BASE.replace("name: ", "name: X\ufffe"), "character U+FFFE is not allowed"),
    "empty-int": (BASE.replace("params_b: 3", "params_b: !!int"), "'' is not a YAML int"),
    "timestamp": (BASE.replace("date: '2026-01-02'", "date: !!timestamp soon"), "tag:yaml.org,2002:timestamp' is not allowed"),
    "bool": (BASE + "notes: !!bool maybe\n", "'maybe' is not a YAML bool"),
    "big-int": (BASE.replace("params_b: 3", "params_b: " + "9" * 400), "a number of 400 characters"),
    "nested": (BASE + "notes: " + "[" * 30_000 + "]" * 30_000 + "\n", "nested too deeply"),
    # a libyaml before 0.2.5 has no depth limit: these crashed the interpreter (issue 23's CI, exit 139)
    "nested-block": (BASE + "notes:\n" + "- " * 30_000 + "x\n", "nested too deeply"),
    "nested-keys": (BASE + "notes:\n" + "? " * 30_000 + "x\n", "nested too deeply"),
    "laughs": ("a: &a [x, x, x, x, x, x, x, x, x]\n" + LAUGHS + BASE, "values once aliases are expanded"),
    "octal-date": (BASE.replace("date: '2026-01-02'", "date: 02026"), "date: expected a date YYYY-MM-DD (or YYYY-MM, YYYY), got '02026'"),
    "sexagesimal": (BASE.replace("params_b: 3", "params_b: 1:30"), "params_b: expected a number of parameters in billions (e.g. 4.8) or null, got a string"),
    "format-char": (BASE.replace("name: ", "name: Si\u200dghs "), "name: invisible format character U+200D"),
    "yes-is-text": (BASE.replace("license: MIT", "license: yes"), None),
    # issue 25 item 14: urlsplit raised ValueError (exit 1) for these
    "url-bracket": (BASE.replace("https://example.org/model", "https://github.co[m/x"), "url: 'https://github.co[m/x' is not an http(s) URL"),
    "url-ipv6": (BASE.replace("https://example.org/model", "https://[zz]/"), "url: 'https://[zz]/' is not an http(s) URL"),
    "url-port": (BASE.replace("https://example.org/model", "https://example.org:99999/"), "is not an http(s) URL"),
    "url-ipv6-ok": (BASE.replace("https://example.org/model", "https://[::1]:8080/x"), None),
}


def test_every_hostile_meta_is_reported_and_the_check_goes_on(tmp_path, cli):
    root = tmp_path / "subs"
    assert "date: '2026-01-02'" in BASE and "params_b: 3" in BASE and "license: MIT" in BASE
    assert "url: https://example.org/model" in BASE
    for slug, (text, _) in CASES.items():
        write_entry(root, slug, text)
    start = time.monotonic()
    code, out, err = cli("leaderboard", "check", "--submissions", root)
    assert time.monotonic() - start < 30
    assert code == 2 and "bug" not in err, err
    for slug, (_, message) in CASES.items():
        found = [row for row in err.splitlines() if row.startswith(f"{root / slug}/meta.yaml:")]
        if message is None:
            assert found == [], found
        else:
            assert any(message in row for row in found), (slug, found)
    assert "2 entries (0 verified, 2 reported) valid" in err


@pytest.mark.parametrize(("text", "value"), [("1.5", 1.5), ("0x10", 16), ("0o17", 15), ("+2", 2), ("1e3", 1000.0)])
def test_core_schema_numbers(tmp_path, text, value):
    from evoxtral_bench.leaderboard.meta import read_meta
    from evoxtral_bench.scoring.submission import Problems

    path = tmp_path / "meta.yaml"
    path.write_text(BASE.replace("params_b: 3", f"params_b: {text}"), encoding="utf-8")
    problems = Problems()
    meta = read_meta(path, "meta.yaml", problems)
    assert problems.items == [] and meta.params_b == value


def _depth(text: str) -> int:
    """Deepest node of ``text``, composed by the pure-Python loader and walked without recursion."""
    from evoxtral_bench.leaderboard.meta import _Loader

    loader = _Loader(text)
    try:
        stack, deepest = [(loader.get_single_node(), 1)], 0
    finally:
        loader.dispose()
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if isinstance(node, yaml.MappingNode):
            stack += [(n, depth + 1) for pair in node.value for n in pair]
        elif isinstance(node, yaml.SequenceNode):
            stack += [(n, depth + 1) for n in node.value]
    return deepest


@pytest.mark.parametrize("style", ["flow", "flow-map", "block", "compact", "keys", "mapping", "mixed"])
def test_libyaml_never_sees_a_document_nested_beyond_its_bound(style):
    """_shallow must be conservative: a document nested deeper than FAST_DEPTH is never handed
    to libyaml's recursive C composer (the depth is measured by the Python loader, not the bound)."""
    from evoxtral_bench.leaderboard.meta import FAST_DEPTH, _shallow

    def build(n: int) -> str:
        return {
            "flow": "a: " + "[" * n + "]" * n,
            "flow-map": "a: " + "{b: " * n + "c" + "}" * n,
            "block": "a:\n" + "".join(" " * i + "- \n" for i in range(n)) + " " * n + "x",
            "compact": "a:\n" + "- " * n + "x",
            "keys": "a:\n" + "? " * n + "x",
            "mapping": "".join(" " * i + f"k{i}:\n" for i in range(n)) + " " * n + "x",
            "mixed": "a:\n" + "".join(" " * (2 * i) + "- b:\n" for i in range(n // 2)) + " " * n + "- x",
        }[style]

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(20 * FAST_DEPTH)  # the Python composer recurses a few frames a level
    try:
        depths = [_depth(build(n)) for n in range(1, 2 * FAST_DEPTH + 2, 7)]
    finally:
        sys.setrecursionlimit(limit)
    assert max(depths) > FAST_DEPTH  # the builder nests as meant
    for n, depth in zip(range(1, 2 * FAST_DEPTH + 2, 7), depths):
        if depth > FAST_DEPTH:
            assert not _shallow(build(n)), (style, n, depth)
    assert _shallow(build(5))  # and a shallow document keeps the fast path


def test_libyaml_reads_every_shipped_meta_as_the_python_loader_does():
    """read_meta parses with libyaml and reads a file it refuses again with the pure-Python loader
    (whose messages the cases above check): both must give the same values for valid files."""
    from evoxtral_bench.leaderboard.meta import _FastLoader, _Loader

    assert yaml.__with_libyaml__ and issubclass(_FastLoader, yaml.CSafeLoader)  # else this test compares a loader with itself
    texts = [p.read_text(encoding="utf-8") for p in sorted(Path("submissions").glob("*/meta.yaml"))]
    texts += [text for text, message in CASES.values() if message is None]
    texts += ["a: 0x10\nb: 0o17\nc: +2\nd: 1e3\ne: .inf\nf: ~\ng: TRUE\nh: yes\ni: 1:30\nj: '007'\nk: 02026\n"]
    assert len(texts) > 10
    for text in texts:
        assert yaml.load(text, Loader=_FastLoader) == yaml.load(text, Loader=_Loader), text
