"""``leaderboard build``: the site, its downloads, the cache, determinism, ranks, escaping.

Build speed is measured by benchmarks/leaderboard_build.py, not here."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import re
import shlex
import shutil

from tests.helpers import need  # noqa: E402

need("matplotlib")

import numpy as np
import pytest
import scipy.stats
import yaml

from evoxtral_bench.cli.app import main
from evoxtral_bench.leaderboard import plots, ranking
from evoxtral_bench.leaderboard.entries import OPTIONS, shipped_test_references
from evoxtral_bench.leaderboard.plots import pareto_front
from evoxtral_bench.leaderboard.ranking import holm
from evoxtral_bench.leaderboard.samples import diff_html
from evoxtral_bench.leaderboard.site import paragraphs, params_text
from evoxtral_bench.scoring.core import build_table, load_system
from evoxtral_bench.scoring.metrics import TAG_F1_POS
from evoxtral_bench.scoring.submission import Problems
from tests.leaderboard.fixtures import (
    INJECTION_PREDICTION,
    PAYLOAD,
    REPORTED_META,
    SUBMISSIONS,
    SYNTHETIC,
    all_rows,
    holm_by_closed_testing,
    make_submissions,
    repository_kinds,
    site_files,
    track_table,
    verified_entry,
)


def build(cli, submissions, out) -> str:
    code, out_text, err = cli("leaderboard", "build", "--submissions", submissions, "--out", out, "--no-progress")
    assert code == 0, err
    return out_text


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The repository's entries plus synthetic and hostile ones, built once for this module."""
    root = tmp_path_factory.mktemp("leaderboard")
    submissions = make_submissions(root / "submissions")
    assert main(["leaderboard", "build", "--submissions", str(submissions), "--out", str(root / "site"), "--no-progress"]) == 0
    return submissions, root / "site"


def tbody(html: str, kind: str) -> str:
    return re.search(rf'<tbody class="rows" data-kind="{kind}">(.*?)</tbody>', html, re.S).group(1)


def test_repository_site(tmp_path, cli):
    kinds = repository_kinds()
    verified = sorted(slug for slug, kind in kinds.items() if kind == "verified")
    out = build(cli, SUBMISSIONS, tmp_path / "site")
    assert f"{len(verified)} verified and {len(kinds) - len(verified)} reported entries; {len(verified)} scored" in out
    site = tmp_path / "site"
    for name in ("index.html", "leaderboard.json", "leaderboard.csv", "assets/style.css", "assets/leaderboard.js"):
        assert (site / name).is_file()
    tracks = ["neural-v2", "espeak-v1", "espeak-v2", "neural-v1", "elevenlabs-v3"]  # the featured track, then registry order; only the tracks with entries
    assert sorted(p.name for p in (site / "plots").iterdir()) == sorted(tracks)
    for track in tracks:
        assert sorted(p.name for p in (site / "plots" / track).iterdir()) == sorted(plots.FILES)  # each figure wide and narrow
    machine = yaml.safe_load((SUBMISSIONS / "whisper-tiny-en-neural-v2" / "meta.yaml").read_text(encoding="utf-8"))["machine"]
    assert f"<dt>Machine</dt><dd>{machine}</dd>" in (site / "entries/whisper-tiny-en-neural-v2/index.html").read_text(encoding="utf-8")
    for slug, kind in kinds.items():
        assert (site / "entries" / slug / "index.html").is_file()
        assert (site / "entries" / slug / "results.json").is_file() == (kind == "verified")
    board = json.loads((site / "leaderboard.json").read_text(encoding="utf-8"))
    assert [t["track"] for t in board["tracks"]] == tracks
    assert sorted({**all_rows(board, "verified"), **all_rows(board, "reference")}) == verified
    oracle = all_rows(board, "reference")["oracle-plain"]
    assert oracle["metrics"]["wer"]["value"] == 0 and oracle["metrics"]["tag_f1"]["value"] == 0 and oracle["track"] == "none"
    paper = track_table(board, "elevenlabs-v3")
    assert [r["slug"] for r in paper["reported"]] == ["paper-evoxtral-rl", "paper-evoxtral-sft", "paper-base-voxtral"]
    assert paper["verified"] == [] and track_table(board)["reported"] == []
    assert all("rank" not in r for r in paper["reported"]) and all(r["track"] == "elevenlabs-v3" for r in paper["reported"])
    for table in board["tracks"]:  # the rows made from text are reference rows of every table on their (v1) references
        text_rows = [r["slug"] for r in table["reference"] if r["track"] == "none"]
        made_from_text = [s for s in verified if yaml.safe_load((SUBMISSIONS / s / "meta.yaml").read_text(encoding="utf-8"))["track"] == "none"]
        assert sorted(text_rows) == (sorted(made_from_text) if table["references"]["version"] == 1 else [])
    html = (site / "index.html").read_text(encoding="utf-8")
    rows = "".join(re.findall(r'<tbody class="rows" data-kind="(?:verified|reference)">(.*?)</tbody>', html, re.S))  # every track's table
    assert all(f'data-slug="{slug}"' in rows for slug in verified)
    assert 'data-track="elevenlabs-v3"' in html and html.index('id="track-neural-v2"') < html.index('id="track-espeak-v1"') < html.index('id="track-elevenlabs-v3"')
    assert all(t["signature"] in html and f"|track:{t['track']}|" in t["signature"] for t in board["tracks"])
    assert all(t["references"]["references_sha256"] in html for t in board["tracks"])
    assert {t["track"]: t["metric"] for t in board["tracks"]} == {
        t: "tag_f1_anchored" if t in ("espeak-v2", "neural-v2") else "tag_f1_pos" for t in tracks
    }  # each table ranked by its benchmark version's headline
    assert {t["track"]: (t["references"]["references"], t["references"]["n"]) for t in board["tracks"]} == {
        t: ("evoxtral_bench/corpus/data/test-v2.jsonl", 1536 if t == "neural-v2" else 768) if t in ("espeak-v2", "neural-v2") else ("evoxtral_bench/corpus/data/corpus.jsonl", 128)
        for t in tracks
    }
    assert 'href="leaderboard.json"' in html and 'href="leaderboard.csv"' in html
    assert "corrected together by Holm–Bonferroni at α = 0.05" in html
    # reference rows are shown apart and never ranked; the misplaced oracle wins tag F1, not the headline
    references = sorted(s for s in verified if yaml.safe_load((SUBMISSIONS / s / "meta.yaml").read_text(encoding="utf-8")).get("reference"))
    reference, ranked = all_rows(board, "reference"), track_table(board)["verified"]
    assert sorted(reference) == references and {"oracle-plain", "oracle-tags-misplaced"} <= set(references)
    assert all("rank" not in r for r in reference.values()) and 'data-kind="reference"' in html
    misplaced = reference["oracle-tags-misplaced"]["metrics"]
    assert misplaced["tag_f1"]["value"] == 1.0 and misplaced["tag_f1_pos"]["value"] < 0.1
    ranks = {r["slug"]: r["rank"] for r in ranked}
    assert ranks["whisper-tiny-en-tagger"] == 1 and ranks["whisper-tiny-en"] > 1  # the tagger beats plain Whisper


def test_results_json_is_the_score_output(tmp_path, cli):
    build(cli, SUBMISSIONS, tmp_path / "site")
    site_doc = json.loads((tmp_path / "site/entries/oracle-plain/results.json").read_text(encoding="utf-8"))
    code, out, _ = cli("score", SUBMISSIONS / "oracle-plain/predictions.jsonl", "--format", "json", "--track", "none")
    assert code == 0
    cli_doc = json.loads(out)
    assert site_doc["submission"]["path"] == "oracle-plain/predictions.jsonl"
    assert site_doc["benchmark"]["references"] == "evoxtral_bench/corpus/data/corpus.jsonl"
    for doc in (site_doc, cli_doc):
        del doc["submission"]["path"], doc["benchmark"]["references"]
    assert site_doc == cli_doc


def test_oracle_command_regenerates_the_predictions(tmp_path, cli):
    command = re.search(r"^command: (.+)$", (SUBMISSIONS / "oracle-plain/meta.yaml").read_text(encoding="utf-8"), re.M).group(1)
    args = shlex.split(command)
    assert args[:4] == ["evoxtral-bench", "leaderboard", "oracle", "plain"]
    args[args.index("--out") + 1] = str(tmp_path / "plain.jsonl")
    assert cli(*args[1:])[0] == 0
    assert (tmp_path / "plain.jsonl").read_bytes() == (SUBMISSIONS / "oracle-plain/predictions.jsonl").read_bytes()


def test_rebuild_rescores_nothing_and_is_byte_identical(tmp_path, cli):
    submissions = tmp_path / "submissions"
    for slug in ("a", "b", "c"):
        verified_entry(submissions, slug, seed=len(slug) + ord(slug), tag_drop=0.3)
    shutil.copytree(SUBMISSIONS / "paper-evoxtral-rl", submissions / "paper-evoxtral-rl")
    site = tmp_path / "site"
    assert "3 scored (0 from the cache), 3 pairs compared (3 tested" in build(cli, submissions, site)
    first = site_files(site)
    assert "up to date" in build(cli, submissions, site) and site_files(site) == first  # the same inputs: nothing read
    (site / "index.html").write_bytes(b"damaged")  # an output changed: a full build, from the cache
    assert "0 scored (3 from the cache), 3 pairs compared (0 tested, the rest from the cache); 1 files written" in build(cli, submissions, site)
    assert site_files(site) == first
    build(cli, submissions, tmp_path / "elsewhere")  # a cold build elsewhere gives the same bytes
    assert site_files(tmp_path / "elsewhere") == first
    assert not any(b"<dc:date>" in data for name, data in first.items() if name.endswith(".svg"))

    verified_entry(submissions, "d", seed=7, tag_drop=0.5)  # one entry added: its 3 pairs are tested, no other
    assert "1 scored (3 from the cache), 6 pairs compared (3 tested" in build(cli, submissions, site)
    shutil.rmtree(submissions / "d")
    verified_entry(submissions, "b", seed=99, tag_drop=0.9)  # one entry changes: only it is re-scored and re-tested
    assert "1 scored (2 from the cache), 3 pairs compared (2 tested" in build(cli, submissions, site)
    meta = submissions / "c/meta.yaml"
    meta.write_text(meta.read_text(encoding="utf-8").replace("organization: ", "organization: Renamed "), encoding="utf-8")
    assert "0 scored (3 from the cache)" in build(cli, submissions, site)  # a meta edit re-scores nothing
    build(cli, submissions, tmp_path / "cold")  # but every page is what a cold build writes (cached bodies included)
    pages = lambda folder: {k: v for k, v in site_files(folder).items() if not k.startswith(".")}  # noqa: E731
    assert pages(site) == pages(tmp_path / "cold") and b"Renamed " in pages(site)["entries/c/index.html"]
    shutil.rmtree(submissions / "c")  # an entry leaves: its pages and cache documents go too
    (submissions / "a/predictions.jsonl").unlink()  # and one becomes reported: its results go
    (submissions / "a/meta.yaml").write_text(yaml.safe_dump(REPORTED_META), encoding="utf-8")
    build(cli, submissions, site)
    assert not (site / "entries/c").exists()
    assert sorted(p.name for p in (site / "entries/a").iterdir()) == ["index.html"]
    tables = len(json.loads((site / "leaderboard.json").read_text(encoding="utf-8"))["tracks"])
    assert tables == 2  # espeak-v1 (the verified entry b, the reported a) and elevenlabs-v3 (the paper's)
    # the one scored entry's document, one figures document per track table, the rank intervals
    # of the one table with a ranked entry (no pair: no pair document), the text of its results.json,
    # and the body of each entry page
    pages = len(list((site / "entries").glob("*/index.html")))
    assert len(list((site / ".cache").glob("*.json"))) == 1 + tables + 1 + 1 + pages


def test_warm_rebuild_draws_no_plot_and_a_change_redraws(tmp_path, cli, monkeypatch):
    from evoxtral_bench.leaderboard import plots

    drawn = []
    render = plots.render
    monkeypatch.setattr(plots, "render", lambda board, metric: drawn.append(1) or render(board, metric))
    submissions = tmp_path / "submissions"
    for slug in ("a", "b"):
        verified_entry(submissions, slug, seed=ord(slug), tag_drop=0.3)
    site = tmp_path / "site"
    build(cli, submissions, site)
    first = site_files(site)
    assert len(drawn) == 1
    assert "0 files written" in build(cli, submissions, site)  # warm: the figures come from the cache
    assert len(drawn) == 1 and site_files(site) == first
    figure = "plots/espeak-v1/per_tag_f1.svg"
    assert figure in first
    (site / figure).write_bytes(b"damaged")  # a damaged figure is rewritten, not redrawn
    build(cli, submissions, site)
    assert len(drawn) == 1 and site_files(site) == first
    verified_entry(submissions, "b", seed=99, tag_drop=0.9)  # an entry changes: the figures are redrawn
    build(cli, submissions, site)
    assert len(drawn) == 2 and site_files(site)[figure] != first[figure]


def test_ranks_agree_with_compare_and_holm_by_brute_force(built, cli):
    from scipy import stats

    from tests.leaderboard.test_ranking import delta_method_by_gradient

    submissions, site = built
    doc = json.loads((site / "leaderboard.json").read_text(encoding="utf-8"))
    table = track_table(doc)
    board, pairs = table["verified"], table["pairs"]
    slugs = sorted(r["slug"] for r in board)
    assert len(pairs) == len(slugs) * (len(slugs) - 1) // 2 and doc["ranking"]["correction"] == "holm"
    refs = shipped_test_references(Problems())
    options = dataclasses.replace(OPTIONS, track="espeak-v1")
    counts = {}
    for slug in slugs:
        system = load_system(str(submissions / slug / "predictions.jsonl"), refs, options, Problems())
        counts[slug] = np.asarray(ranking.headline_counts(build_table(system.texts, refs, options)[0], TAG_F1_POS), dtype=float)
    for pair in pairs:  # Δ is the one `compare` reports; p the textbook delta method's t-test
        a, b = (submissions / pair[side] / "predictions.jsonl" for side in ("a", "b"))
        code, out, _ = cli("compare", a, b, "--bootstrap", 0, "--format", "json", "--track", "espeak-v1")
        assert code == 0
        assert pair["delta"] == json.loads(out)["metrics"]["tag_f1_pos"]["delta"]
        delta, se = delta_method_by_gradient(counts[pair["a"]], counts[pair["b"]])
        assert pair["delta"] == pytest.approx(delta, rel=1e-12) and pair["se"] == pytest.approx(se, rel=1e-9)
        assert pair["p_value"] == pytest.approx(2 * stats.t.sf(abs(delta) / se, len(refs.rows) - 1), rel=1e-6, abs=1e-300)
    significant = holm_by_closed_testing([p["p_value"] for p in pairs], 0.05)
    assert [p["significant"] for p in pairs] == significant
    value = {r["slug"]: r["metrics"]["tag_f1_pos"]["value"] for r in board}
    for row in board:
        better = sorted(
            (p["a"] if p["b"] == row["slug"] else p["b"])
            for p, sig in zip(pairs, significant)
            if sig and row["slug"] in (p["a"], p["b"]) and value[p["a"] if p["b"] == row["slug"] else p["b"]] > value[row["slug"]]
        )
        assert row["rank"] == 1 + len(better) and sorted(row["significantly_better"]) == better
        low, high = row["rank_interval"]
        assert 1 <= low <= high <= len(board)
    assert True in significant and False in significant  # the fixture exercises both outcomes
    html = (site / "index.html").read_text(encoding="utf-8")
    ranks = [r["rank"] for r in board]
    for row in board:  # a shared rank shows =k
        cell = re.search(rf'<tr data-slug="{row["slug"]}"[^>]*><td class="rank[^"]*" data-value="{row["rank"]}"[^>]*>([^<]+)<span class="ci">([^<]+)</span></td>', html)
        assert cell.group(1) == (f"={row['rank']}" if ranks.count(row["rank"]) > 1 else str(row["rank"]))
        low, high = row["rank_interval"]  # and its rank interval under it
        assert cell.group(2) == (f"{low}–{high}" if low != high else str(low))


def test_every_submitted_string_is_escaped(built):
    submissions, site = built
    pages = [site / "index.html", site / "entries/hostile/index.html", site / "entries/hostile-reported/index.html", site / "compare/espeak-v1.html"]
    for page in pages:
        html = page.read_text(encoding="utf-8")
        assert "window.__pwned" in html  # the payload is shown …
        assert "<script>window" not in html and "<img src=x" not in html and "<svg" not in html  # … as text only
        assert 'href="javascript:' not in html and 'href="https://example.org/"><script>' not in html
        assert html.count("<script") == 1  # the site's own script
    entry = (site / "entries/hostile/index.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;window.__pwned=4&lt;/script&gt;" in entry  # predictions in the samples
    assert "[&lt;img src=x onerror=window.__pwned=5&gt;]" in entry  # an OOV tag in the per-tag table
    rows = list(csv.DictReader(io.StringIO((site / "leaderboard.csv").read_text(encoding="utf-8"))))
    hostile = next(r for r in rows if r["slug"] == "hostile")
    assert hostile["organization"] == "'=1+1 " + PAYLOAD  # no spreadsheet formula
    preds = (site / "entries/hostile/predictions.jsonl").read_text(encoding="utf-8")
    assert json.loads(preds.splitlines()[0])["prediction"] == INJECTION_PREDICTION


def test_table_is_complete_without_javascript(built):
    submissions, site = built
    html = (site / "index.html").read_text(encoding="utf-8")
    slugs = sorted(p.name for p in submissions.iterdir() if p.is_dir())
    assert sorted(set(re.findall(r'<tr data-slug="([^"]+)"', html))) == slugs
    assert '<form id="filters" class="filters" hidden>' in html  # shown by the script only
    for slug, (_, _, params_b) in SYNTHETIC.items():
        size = {0.5: "lt1", 3: "1to10", 7: "1to10", 24: "gt10", None: "unknown"}[params_b]
        assert f'<tr data-slug="{slug}" data-kind="verified" data-size="{size}">' in html
    assert html.count("↑") >= 4 and html.count("↓") >= 3


def test_build_refuses_broken_entries(tmp_path, cli):
    verified_entry(tmp_path / "submissions", "ok", seed=1, tag_drop=0.3)
    (tmp_path / "submissions/ok/meta.yaml").write_text("name: x\n", encoding="utf-8")
    code, _, err = cli("leaderboard", "build", "--submissions", tmp_path / "submissions", "--out", tmp_path / "site")
    assert code == 2 and "organization: missing (required)" in err and "nothing built" in err
    assert not (tmp_path / "site").exists()


def test_pareto_front_and_holm():
    assert pareto_front([(5.0, 60.0), (4.0, 70.0), (6.0, 80.0), (7.0, 75.0), (4.0, 50.0)]) == [1, 2]
    # sorted: 0.005 <= 0.05/4 and 0.01 <= 0.05/3 are rejected; 0.03 > 0.05/2 stops the procedure
    assert holm([0.01, 0.04, 0.03, 0.005]) == [True, False, False, True]
    assert holm([]) == []


def test_sample_diff_marks_words_tags_and_emphasis():
    reference, prediction = diff_html("[sighs] I NEVER said that, <b>ok</b>.", "[sighing] I never said that [laughs] <b>ok</b>")
    assert reference == '<span class="tag">[sighs]</span> I <del>NEVER</del> said that, &lt;b&gt;ok&lt;/b&gt;.'
    assert prediction == '<span class="tag">[sighing]</span> I <ins>never</ins> said that <ins><span class="tag">[laughs]</span></ins> &lt;b&gt;ok&lt;/b&gt;'


def test_notes_render_as_paragraphs_and_params_consistently():
    folded = "One line\nfolded by YAML with `python -m training x`.\n\nA second <b>paragraph</b>."
    assert paragraphs(folded) == (
        "<p>One line folded by YAML with <code>python -m training x</code>.</p><p>A second &lt;b&gt;paragraph&lt;/b&gt;.</p>"
    )
    assert paragraphs("an `unmatched backtick") == "<p>an `unmatched backtick</p>"
    assert [params_text(p) for p in (0.0393, 0.039, 0.5, 4.8, 24, None)] == ["39.3 M", "39 M", "500 M", "4.8 B", "24 B", ""]


def test_reported_page_names_its_averaging_and_size_and_no_signature(built):
    _, site = built
    page = (site / "entries/paper-evoxtral-rl/index.html").read_text(encoding="utf-8")
    assert "per-utterance (paper) averaging, on 50 test utterances" in page
    assert "carry no scoring signature" in page and "Every score on this page carries" not in page
    verified = (site / "entries/sys-mid/index.html").read_text(encoding="utf-8")
    assert "Every score on this page carries this signature" in verified


def test_csv_carries_the_headline_and_the_new_fields(built):
    _, site = built
    rows = {r["slug"]: r for r in csv.DictReader(io.StringIO((site / "leaderboard.csv").read_text(encoding="utf-8")))}
    board = json.loads((site / "leaderboard.json").read_text(encoding="utf-8"))
    for row in all_rows(board, "verified").values():
        assert rows[row["slug"]]["rank"] == str(row["rank"]) and rows[row["slug"]]["reference"] == "False"
        assert float(rows[row["slug"]]["tag_f1_pos"]) == row["metrics"]["tag_f1_pos"]["value"]
    assert rows["oracle-plain"]["reference"] == "True" and rows["oracle-plain"]["rank"] == ""
    assert rows["paper-evoxtral-rl"]["tag_f1_pos"] == "" and rows["paper-evoxtral-rl"]["track"] == "elevenlabs-v3"
    assert rows["sys-mid"]["in_distribution"] == "False"


def test_pareto_front_is_drawn_only_with_two_or_more_points(built, tmp_path, cli):
    _, site = built
    board = track_table(json.loads((site / "leaderboard.json").read_text(encoding="utf-8")))["verified"]
    points = [(r["metrics"]["wer"]["value"], r["metrics"]["tag_f1_pos"]["value"]) for r in board]
    svg = (site / "plots/espeak-v1/wer_vs_tag_f1.svg").read_text(encoding="utf-8")
    assert ('id="pareto-front"' in svg) == (len(pareto_front(points)) >= 2)
    for row in board:  # every point and its label carry the entry's slug
        assert f'id="point-{row["slug"]}"' in svg and f'id="label-{row["slug"]}"' in svg
    single = tmp_path / "single"
    verified_entry(single, "only", 1, tag_drop=0.2)  # one entry: one point on the front, no line
    build(cli, single, tmp_path / "site")
    svg = (tmp_path / "site/plots/espeak-v1/wer_vs_tag_f1.svg").read_text(encoding="utf-8")
    assert 'id="point-only"' in svg and 'id="pareto-front"' not in svg


def test_sample_utterances_are_picked_by_the_ranking_metric(tmp_path, cli):
    """Half the utterances carry every tag but in the wrong gap (position-free tag F1 = 1, WER 0):
    picked by tag F1 they would all be "best"; by the ranking metric none is. The golden order
    comes from scoring each utterance alone through the public API (an independent path)."""
    import random

    from evoxtral_bench.api import score
    from evoxtral_bench.leaderboard.oracle import corrupt, misplaced_text
    from tests.leaderboard.fixtures import VERIFIED_META, reference_rows, write_entry

    rows = reference_rows()
    rng = random.Random(7)
    predictions = [
        {"id": i, "prediction": misplaced_text(t, random.Random(i)) if n % 2 == 0 else corrupt(t, rng, tag_drop=0.3)}
        for n, (i, t) in enumerate(rows)
    ]
    write_entry(tmp_path / "submissions", "mixed", {**VERIFIED_META, "name": "Mixed"}, predictions)
    build(cli, tmp_path / "submissions", tmp_path / "site")
    cached = [json.loads(p.read_text(encoding="utf-8"))["document"] for p in (tmp_path / "site/.cache").glob("*.json")]
    picked = next(d["samples"] for d in cached if "samples" in d)
    by_id = {i: (t, p["prediction"]) for (i, t), p in zip(rows, predictions)}
    alone = {}
    for i, (reference, prediction) in by_id.items():
        extras = score(predictions=[{"id": i, "prediction": prediction}], references=[{"id": i, "tagged_text": reference}], bootstrap=0).extras
        if extras["tag_f1_pos"].defined:
            alone[i] = extras["tag_f1_pos"].value
    best = [s["id"] for s in picked["best"]]
    misplaced_ids = {i for n, (i, _) in enumerate(rows) if n % 2 == 0}
    assert best and not set(best) & misplaced_ids  # by tag F1 all five were misplaced ones
    assert [s["score"] for s in picked["best"]] == pytest.approx([alone[i] for i in best])
    top = sorted((v for i, v in alone.items() if i not in {s["id"] for s in picked["worst"]}), reverse=True)[: len(best)]
    assert [s["score"] for s in picked["best"]] == pytest.approx(top)
    assert [s["score"] for s in picked["worst"]] == pytest.approx(sorted(alone.values())[: len(picked["worst"])])
    page = (tmp_path / "site/entries/mixed/index.html").read_text(encoding="utf-8")
    assert "Best utterances by Tag F1 (position ±1)" in page
    assert f"{best[0]} · Pos. F1 {100 * picked['best'][0]['score']:.1f}" in page


def test_compare_view_is_the_rankings_pairs_both_ways(built):
    """Each track's matrix shows every pair of leaderboard.json (which the ranks come from) in
    both directions: Δ(a, b) in row a, −Δ in row b, the same p and Holm verdict."""
    _, site = built
    board = json.loads((site / "leaderboard.json").read_text(encoding="utf-8"))
    for table in board["tracks"]:
        html = (site / "compare" / f"{table['track']}.html").read_text(encoding="utf-8")
        cells = {}
        for slug, row in re.findall(r'<tr id="row-([^"]+)" data-slug="[^"]+">(.*?)</tr>', html, re.S):
            pattern = r'data-column="([^"]+)" data-delta="([^"]+)" data-ci-low="([^"]+)" data-ci-high="([^"]+)" data-p="([^"]+)" data-significant="(true|false)"'
            for column, delta, low, high, p, significant in re.findall(pattern, row):
                cells[(slug, column)] = (float(delta), float(p), significant == "true", float(low), float(high))
        ranked = [r["slug"] for r in table["verified"]]
        assert len(cells) == len(ranked) * (len(ranked) - 1) == 2 * len(table["pairs"])
        t = scipy.stats.t.ppf(0.975, 128 - 1)  # v1: each of the 128 test utterances is its own unit
        for pair in table["pairs"]:
            half = t * pair["se"]
            delta, p, significant, low, high = cells[(pair["a"], pair["b"])]
            assert (delta, p, significant) == (pair["delta"], pair["p_value"], pair["significant"])
            assert (low, high) == pytest.approx((pair["delta"] - half, pair["delta"] + half), abs=1e-12)
            assert (p < 0.05) == (low > 0 or high < 0)  # the interval goes with the pair's own test
            assert cells[(pair["b"], pair["a"])] == (-delta, p, significant, -high, -low)
        for row in table["verified"]:  # linked from the entry's page, at its row
            page = (site / "entries" / row["slug"] / "index.html").read_text(encoding="utf-8")
            assert f'href="../../compare/{table["track"]}.html#row-{row["slug"]}"' in page
            assert f'id="row-{row["slug"]}"' in html
    index = (site / "index.html").read_text(encoding="utf-8")
    assert all(f'href="compare/{t["track"]}.html"' in index for t in board["tracks"])


def test_reported_rows_are_apart_with_their_size_and_averaging(built):
    _, site = built
    html = (site / "index.html").read_text(encoding="utf-8")
    for one in re.findall(r'<table class="board" data-track=.*?</table>', html, re.S):
        assert 'data-kind="reported" data-size' not in one  # no reported row in a track's table
    reported = re.search(r'<table class="board reported-table" data-section="reported">.*?</table>', html, re.S).group(0)
    row = re.search(r'<tr data-slug="paper-evoxtral-rl".*?</tr>', reported, re.S).group(0)
    assert ">50<" in row and "per-utterance (paper)" in row and "Zou (2026)" in row and "elevenlabs-v3" in row
    for header in ("Source", "Test size", "Averaging"):
        assert f'<button type="button">{header}</button>' in reported
    board = json.loads((site / "leaderboard.json").read_text(encoding="utf-8"))
    rows = [r for t in board["tracks"] for kind in ("verified", "reference", "reported") for r in t[kind]]
    for r in rows:
        if r["kind"] == "verified":
            assert (r["n"], r["averaging"]) == (128, "corpus-level"), r["slug"]
        else:
            assert (r["n"], r["averaging"]) == (r["meta"]["test_size"], r["meta"]["averaging"]), r["slug"]
    paper = next(r for r in rows if r["slug"] == "paper-evoxtral-rl")
    assert (paper["n"], paper["averaging"]) == (50, "per-utterance (paper)")
    table = {r["slug"]: r for r in csv.DictReader(io.StringIO((site / "leaderboard.csv").read_text(encoding="utf-8")))}
    assert (table["sys-mid"]["n"], table["sys-mid"]["averaging"]) == ("128", "corpus-level")
    assert (table["paper-evoxtral-rl"]["n"], table["paper-evoxtral-rl"]["averaging"]) == ("50", "per-utterance (paper)")


def test_label_placement_keeps_labels_apart_inside_and_off_the_points():
    """Nine points in a tight cluster and one in a corner: every label box lands inside the area,
    off every other label and every point (checked pairwise, by brute force)."""
    points = [(100.0 + 3 * (i % 3), 100.0 + 3 * (i // 3)) for i in range(9)] + [(198.0, 198.0)]
    sizes = [(10.0, 12.0)] * len(points)
    area = (0.0, 0.0, 200.0, 200.0)
    offsets = plots.place_labels(points, sizes, area, marker=2.0)
    boxes = [(x + dx - w / 2, y + dy - h / 2, x + dx + w / 2, y + dy + h / 2) for (x, y), (dx, dy), (w, h) in zip(points, offsets, sizes)]
    dots = [(x - 2, y - 2, x + 2, y + 2) for x, y in points]
    apart = lambda a, b: a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1]  # noqa: E731
    assert all(area[0] <= b[0] and b[2] <= area[2] and area[1] <= b[1] and b[3] <= area[3] for b in boxes)
    assert all(apart(a, b) for i, a in enumerate(boxes) for b in boxes[i + 1 :])
    assert all(apart(a, d) for a in boxes for d in dots)


def _place_labels_by_loop(points, sizes, area, marker=4.0):
    """The placement rule of :func:`plots.place_labels` written as a plain loop over every box
    (the reference its bulk numpy version must equal exactly, float for float)."""
    placed, out = [], []
    dots = [(x - marker, y - marker, x + marker, y + marker) for x, y in points]
    overlap = lambda a, b: max(0.0, min(a[2], b[2]) - max(a[0], b[0])) * max(0.0, min(a[3], b[3]) - max(a[1], b[1]))  # noqa: E731
    for (x, y), (w, h) in zip(points, sizes):
        best, best_cost = None, float("inf")
        for radius in (8.0, 13.0, 20.0, 30.0, 42.0, 56.0):
            for dx, dy in [(1, 0), (1, 1), (0, 1), (-1, 1), (-1, 0), (-1, -1), (0, -1), (1, -1)]:
                norm = (dx * dx + dy * dy) ** 0.5
                cx = x + dx / norm * (radius + w / 2 * abs(dx) / norm)
                cy = y + dy / norm * (radius + h / 2 * abs(dy) / norm)
                box = (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
                outside = max(0.0, area[0] - box[0]) + max(0.0, box[2] - area[2]) + max(0.0, area[1] - box[1]) + max(0.0, box[3] - area[3])
                cost = 1e6 * outside + sum(overlap(box, o) for o in placed + dots)
                if cost < best_cost:
                    best, best_cost = (cx - x, cy - y, box), cost
            if best_cost == 0:
                break
        placed.append(best[2])
        out.append(best[:2])
    return out


@pytest.mark.parametrize("seed", range(6))
def test_label_placement_equals_the_plain_loop_when_crowded(seed):
    """Crowded points (many overlaps, so the least-overlap choice decides): the bulk version
    places every label exactly where the plain loop over all boxes does."""
    rng = np.random.default_rng(seed)
    n, side = (10, 40, 120, 5, 60, 200)[seed], (30.0, 80.0, 150.0, 300.0, 60.0, 400.0)[seed]
    points = [(float(x), float(y)) for x, y in rng.uniform(0, side, size=(n, 2)).round(seed % 2 * 3)]
    sizes = [(float(w), 13.0) for w in rng.choice([9.8, 16.6, 23.4], size=n)]
    area = (2.0, 2.0, side + 2.0, 0.8 * side)
    assert plots.place_labels(points, sizes, area) == _place_labels_by_loop(points, sizes, area)
