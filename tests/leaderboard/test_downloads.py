"""leaderboard.json's pair lines are formatted directly (half a million at a thousand entries):
each must be exactly what json.dumps writes for the same pair."""

from __future__ import annotations

import json

import numpy as np

from evoxtral_bench.leaderboard.downloads import _pairs_text
from evoxtral_bench.leaderboard.ranking import Pairs
from evoxtral_bench.leaderboard.standings import Ranked


def test_pair_lines_are_json_dumps_of_each_pair():
    rng = np.random.default_rng(0)
    floats = [0.0, -0.0, 1.0, 5e-324, 1e-300, 1e16, 123456789.125, 0.1 + 0.2, 2.0**-1074, 1.7976931348623157e308]
    floats += rng.normal(size=40).tolist() + (rng.random(16) * 1e-12).tolist()
    slugs = ("a", "é-unicode", 'quote"back\\slash', "x" * 80, *(f"s{i}" for i in range(8)))  # 12 entries: 66 pairs
    n = len(floats)
    pairs = Pairs(len(slugs), floats, [abs(f) for f in reversed(floats)], [min(1.0, abs(floats[(3 * i) % n])) for i in range(n)], [bool(i % 3) for i in range(n)])
    assert len(pairs) == n
    text = _pairs_text(Ranked([], [], pairs, slugs), 6)
    lines = text.split("\n")
    assert lines[0] == "[" and lines[-1] == "      ]" and len(lines) == n + 2
    expected = [{"a": slugs[p.a], "b": slugs[p.b], "delta": p.delta, "se": p.se, "p_value": p.p_value, "significant": p.significant} for p in pairs]
    for line, pair in zip(lines[1:-1], expected):
        assert line.rstrip(",") == " " * 8 + json.dumps(pair, ensure_ascii=False, allow_nan=False)
    assert json.loads(text) == expected
    assert _pairs_text(Ranked([], [], Pairs(1, [], [], [], []), ("a",)), 6) == "[]"
