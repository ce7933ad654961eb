"""Submitted strings reach the figures and the CSV as written (issue 10 items 10 and 19)."""

from __future__ import annotations

import csv
import io

from tests.helpers import need

need("matplotlib", "threadpoolctl")

from evoxtral_bench.leaderboard import downloads, plots  # noqa: E402
from tests.leaderboard.fixtures import verified_entry  # noqa: E402


def test_mathtext_in_names_is_drawn_literally(tmp_path, cli):
    assert plots._RC["svg.fonttype"] == "none"  # text stays text in the SVG
    subs = tmp_path / "subs"
    verified_entry(subs, "broken-math", 1, tag_drop=0.3, name=r"Model $\foo$ v2")
    verified_entry(subs, "valid-math", 2, tag_drop=0.5, name=r"Net $x^2$")
    code, _, err = cli("leaderboard", "build", "--submissions", subs, "--out", tmp_path / "site", "--no-progress")
    assert code == 0, err
    for name in ("forest_tag_f1.svg", plots.narrow("forest_tag_f1.svg"), "per_tag_f1.svg"):  # the scatter shows key letters
        svg = (tmp_path / "site" / "plots" / "espeak-v1" / name).read_text(encoding="utf-8")
        assert r"Model $\foo$ v2" in svg and r"Net $x^2$" in svg, name


def test_formula_after_a_separator_is_neutralized_and_quoted():
    assert downloads._cell(";=1+1") == "';=1+1"
    assert downloads._cell("Lab, -2+3") == "'Lab, -2+3"
    assert downloads._cell("plain text") == "plain text"
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_NONNUMERIC).writerow([downloads._cell(";=1+1"), 1.5])
    assert buffer.getvalue() == "\"';=1+1\",1.5\n"
    # a spreadsheet that splits on ";" sees one quoted cell starting with "'", never "=1+1"
    assert next(csv.reader(io.StringIO(buffer.getvalue()), delimiter=";"))[0].startswith("'")
