"""The leaderboard per audio track: one table per track, ranks within a track, text rows in every
table, the track in leaderboard.json, the cache key and the summary (docs/spec.md §8, §12)."""

from __future__ import annotations

import json
import re
import shutil

from tests.helpers import need

need("matplotlib")

import yaml  # noqa: E402

from evoxtral_bench.tracks import TRACKS  # noqa: E402
from tests.leaderboard.fixtures import SUBMISSIONS, all_rows, track_table, verified_entry  # noqa: E402


def _build(cli, submissions, site) -> str:
    code, out, err = cli("leaderboard", "build", "--submissions", submissions, "--out", site, "--no-progress")
    assert code == 0, err
    return out


def _two_tracks(root):
    """Two espeak-v1 entries, one neural-v1 entry far better than both, and a text reference row."""
    verified_entry(root, "esp-a", 1, tag_drop=0.30)
    verified_entry(root, "esp-b", 2, tag_drop=0.90)
    verified_entry(root, "neu-a", 3, tag_drop=0.0, track="neural-v1")
    shutil.copytree(SUBMISSIONS / "oracle-plain", root / "oracle-plain")
    return root


def test_two_tracks_two_tables_ranked_apart(tmp_path, cli):
    submissions = _two_tracks(tmp_path / "submissions")
    site = tmp_path / "site"
    assert "1 pair compared" in _build(cli, submissions, site)  # esp-a vs esp-b only
    board = json.loads((site / "leaderboard.json").read_text(encoding="utf-8"))
    assert [t["track"] for t in board["tracks"]] == ["espeak-v1", "neural-v1"]  # registry order
    espeak, neural = track_table(board, "espeak-v1"), track_table(board, "neural-v1")
    assert [r["slug"] for r in espeak["verified"]] == ["esp-a", "esp-b"] and [r["rank"] for r in espeak["verified"]] == [1, 2]
    assert [r["slug"] for r in neural["verified"]] == ["neu-a"] and neural["verified"][0]["rank"] == 1 and neural["pairs"] == []
    assert all("neu-a" not in (p["a"], p["b"]) for p in espeak["pairs"])  # never compared across tracks
    assert espeak["verified"][0]["significantly_better"] == []  # neu-a is better, but on another track
    for table in (espeak, neural):
        assert [r["slug"] for r in table["reference"]] == ["oracle-plain"] and "rank" not in table["reference"][0]
        assert table["description"] == TRACKS[table["track"]].description and table["recipe_hash"] == TRACKS[table["track"]].recipe_hash
        assert f"|track:{table['track']}|" in table["signature"]
    assert all_rows(board, "verified")["neu-a"]["track"] == "neural-v1"
    results = json.loads((site / "entries/neu-a/results.json").read_text(encoding="utf-8"))
    assert results["config"]["track"] == "neural-v1" and "|track:neural-v1|" in results["signature"]
    assert "|track:none|" in json.loads((site / "entries/oracle-plain/results.json").read_text(encoding="utf-8"))["signature"]

    html = (site / "index.html").read_text(encoding="utf-8")
    sections = re.findall(r'<section class="track" id="track-([^"]+)".*?</section>', html, re.S)
    assert sections == ["espeak-v1", "neural-v1"]
    neural_html = re.search(r'<section class="track" id="track-neural-v1".*?</section>', html, re.S).group(0)
    assert TRACKS["neural-v1"].recipe_hash in neural_html and "esp-a" not in neural_html and 'data-slug="oracle-plain"' in neural_html
    assert re.search(r'<tr data-slug="neu-a"[^>]*><td class="rank" data-value="1"', neural_html)
    assert html.count('<table class="board"') == 2 and "track-elevenlabs-v3" not in html  # no table without entries
    for track in ("espeak-v1", "neural-v1"):
        assert (site / "plots" / track / "forest_tag_f1.svg").is_file()


def test_changing_the_track_rescores_and_moves_the_entry(tmp_path, cli):
    submissions = _two_tracks(tmp_path / "submissions")
    site = tmp_path / "site"
    _build(cli, submissions, site)
    assert "up to date" in _build(cli, submissions, site)
    meta = submissions / "esp-b/meta.yaml"
    meta.write_text(meta.read_text(encoding="utf-8").replace("track: espeak-v1", "track: neural-v1"), encoding="utf-8")
    assert "1 scored (3 from the cache)" in _build(cli, submissions, site)  # the cache key holds the track
    board = json.loads((site / "leaderboard.json").read_text(encoding="utf-8"))
    assert [r["slug"] for r in track_table(board, "neural-v1")["verified"]] == ["neu-a", "esp-b"]
    assert [r["rank"] for r in track_table(board, "espeak-v1")["verified"]] == [1]


def test_only_text_rows_get_one_none_table(tmp_path, cli):
    submissions = tmp_path / "submissions"
    shutil.copytree(SUBMISSIONS / "oracle-plain", submissions / "oracle-plain")
    _build(cli, submissions, tmp_path / "site")
    board = json.loads((tmp_path / "site/leaderboard.json").read_text(encoding="utf-8"))
    assert [t["track"] for t in board["tracks"]] == ["none"] and board["tracks"][0]["recipe_hash"] is None


def test_summary_groups_by_track(tmp_path, cli):
    submissions = _two_tracks(tmp_path / "submissions")
    code, out, err = cli("leaderboard", "summary", "--submissions", submissions)
    assert code == 0, err
    espeak, neural = out.split("### Track `espeak-v1`")[1].split("### Track `neural-v1`")
    assert "esp-a" in espeak and "neu-a" not in espeak and "neu-a" in neural and "esp-a" not in neural
    assert "oracle-plain" in espeak and "oracle-plain" in neural
    row = next(line for line in neural.splitlines() if line.startswith("| **neu-a**"))
    assert row.split(" | ")[2] == "1"


def test_entry_page_names_its_track(tmp_path, cli):
    submissions = _two_tracks(tmp_path / "submissions")
    _build(cli, submissions, tmp_path / "site")
    page = (tmp_path / "site/entries/neu-a/index.html").read_text(encoding="utf-8")
    assert "<dt>Audio track</dt><dd><code>neural-v1</code>" in page and "|track:neural-v1|" in page
    meta = yaml.safe_load((submissions / "neu-a/meta.yaml").read_text(encoding="utf-8"))
    assert meta["track"] == "neural-v1"


def test_the_featured_track_gets_the_first_table():
    from types import SimpleNamespace

    from evoxtral_bench.leaderboard.standings import tracks_of
    from evoxtral_bench.tracks import FEATURED, TRACK_NAMES

    assert FEATURED == "neural-v2" and TRACK_NAMES.index(FEATURED) > 0  # not first by registry order alone
    entries = [SimpleNamespace(track=t) for t in ("neural-v1", "none", "neural-v2", "espeak-v1")]
    assert tracks_of(entries) == ["neural-v2", "espeak-v1", "neural-v1"]
    assert tracks_of(entries[:2]) == ["neural-v1"]  # without it, registry order
