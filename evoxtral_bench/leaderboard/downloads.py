"""``leaderboard.json`` and ``leaderboard.csv``: every entry; one table per audio track, ranked,
reference and reported rows apart."""

from __future__ import annotations

import csv
import io
import json
import re

import numpy as np

from evoxtral_bench.leaderboard.entries import OPTIONS
from evoxtral_bench.leaderboard.ranking import ALPHA, CORRECTION, RANK_BOOT, RANK_CI, RULE, TEST, rank_metric
from evoxtral_bench.leaderboard.standings import Ranked, Standing, TrackTable, shown_metrics
from evoxtral_bench.reporters import to_json
from evoxtral_bench.scoring.metrics import METRIC_NAMES

META_COLUMNS = ("name", "organization", "url", "base_model", "params_b", "license", "date", "averaging", "track", "in_distribution")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_SEPARATORS = re.compile(r"[,;|\t\r\n]")


def _metrics(standing: Standing) -> dict:
    keys = ("value", "ci_low", "ci_high", "defined")
    return {name: {k: metric[k] for k in keys} for name, metric in standing.metrics.items()}


CORPUS_LEVEL = "corpus-level"
"""The averaging of every verified row: counts summed over the utterances, then each ratio."""


def basis(standing: Standing) -> tuple[int | None, str | None]:
    """(n, averaging) of a row's numbers: the utterances scored here and ``corpus-level`` for a
    verified row; the source's test size and averaging, as stated (None: not stated), for a
    reported one."""
    if standing.entry.verified:
        return standing.results["benchmark"]["n"], CORPUS_LEVEL
    return standing.entry.meta.test_size, standing.entry.meta.averaging


def _row(standing: Standing) -> dict:
    n, averaging = basis(standing)
    row: dict = {"slug": standing.slug, "kind": standing.entry.meta.kind, "track": standing.entry.track, "n": n, "averaging": averaging}
    if standing.rank is not None:
        row["rank"] = standing.rank
        row["rank_interval"] = list(standing.rank_interval) if standing.rank_interval else None
        row["significantly_better"] = list(standing.better)
        row["floor"] = standing.floor
        row["above_floor"] = standing.above_floor
    row["meta"] = standing.entry.meta.as_dict()
    row["metrics"] = _metrics(standing)
    if standing.entry.verified:
        row["results"] = f"entries/{standing.slug}/results.json"
        row["predictions"] = f"entries/{standing.slug}/predictions.jsonl"
        if standing.results and standing.results.get("grounding"):
            row["masked_predictions"] = f"entries/{standing.slug}/predictions.masked.jsonl"
            row["grounding"] = grounding_summary(standing.results["grounding"])
    return row


def grounding_summary(section: dict) -> dict:
    """Per metric of a results document's grounding section: full, masked, the gap full − masked
    with its interval and p-value, and the grounded share (flat, for a table column)."""
    out = {}
    for name, g in section["metrics"].items():
        gap = g["gap"]
        out[name] = {
            "full": g["full"]["value"],
            "masked": g["masked"]["value"],
            "gap": gap["delta"],
            "ci_low": gap["ci_low"],
            "ci_high": gap["ci_high"],
            "p_value": gap["p_value"],
            "grounded_share": g["grounded_share"],
        }
    return out


def _pairs_text(board: Ranked, indent: int) -> str:
    """Every pair of ``board`` as a JSON list with one pair per line, each line exactly what
    ``json.dumps({"a", "b", "delta", "se", "p_value", "significant"}, ensure_ascii=False)`` gives
    (a test checks it), formatted directly from the columns: a thousand entries make half a
    million pairs."""
    pairs = board.pairs
    if not len(pairs):
        return "[]"
    if not all(np.isfinite(x).all() for x in (pairs.delta, pairs.se, pairs.p_value)):
        raise ValueError("a pair's Δ, se or p is not a finite number")  # a bug: JSON has no NaN
    names = [json.dumps(slug, ensure_ascii=False) for slug in board.compared]
    pad = " " * (indent + 2)
    verdicts = ("false", "true")
    lines = [
        f'{pad}{{"a": {names[a]}, "b": {names[b]}, "delta": {d!r}, "se": {s!r}, "p_value": {p!r}, "significant": {verdicts[v]}}}'
        for a, b, d, s, p, v in zip(*(c.tolist() for c in (pairs.a, pairs.b, pairs.delta, pairs.se, pairs.p_value, pairs.significant)))
    ]
    return "[\n" + ",\n".join(lines) + "\n" + " " * indent + "]"


def _table(table: TrackTable, references: dict, signature: str, pairs: object) -> dict:
    board = table.ranked
    return {
        "track": table.track,
        "description": table.description,
        "recipe_hash": table.recipe_hash,
        "references": references,
        "metric": table.metric.name,
        "signature": signature,
        "floor": board.floor,
        "pairs": pairs,
        "verified": [_row(s) for s in board.ranked],
        "reference": [_row(s) for s in board.references],
        "reported": [_row(s) for s in table.reported],
    }


def leaderboard_json(references: dict[str, dict], signatures: dict[str, str], scorer: str, tables: list[TrackTable]) -> str:
    """The whole leaderboard as one JSON document: the ranking rule, then one table per audio
    track (registry order) with its references (``references[track]``: path, sha256, split,
    n, benchmark version, scripts, renderings), its ranking ``metric`` (the headline of that
    version), its signature, its ranked rows in rank order, reference rows (those made from text
    in every table on their references), reported rows, and every pair compared within the
    track (Δ = a − b on the table's metric, its se, raw p-value, significant after the Holm
    correction); each ranked row carries its rank interval and, when the track has a floor entry,
    its test against the floor (``above_floor``)."""
    marks = [f"\0pairs:{i}\0" for i in range(len(tables))]
    text = to_json(
        {
            "scorer": scorer,
            "ranking": {
                "metric": "each table's: the headline of its references' benchmark version (tracks[].metric)",
                "test": TEST,
                "alpha": ALPHA,
                "correction": CORRECTION,
                "rank_interval": {"resamples": RANK_BOOT, "ci": RANK_CI, "seed": OPTIONS.seed},
                "rule": RULE,
            },
            "tracks": [_table(t, references[t.track], signatures[t.track], mark) for t, mark in zip(tables, marks)],
        }
    )
    for mark, table in zip(marks, tables):  # each table's pairs, one per line, where its mark stands
        text = text.replace(json.dumps(mark), _pairs_text(table.ranked, 6), 1)
    return text


def _cell(value: object) -> object:
    """Neutralize text a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@`` …) at
    its start or after any character a spreadsheet may split cells on (``,;|`` tab, newline);
    every text cell is also quoted (:data:`csv.QUOTE_NONNUMERIC`)."""
    if isinstance(value, str) and any(part.lstrip(" ").startswith(_FORMULA_START) for part in _SEPARATORS.split(value)):
        return "'" + value
    return "" if value is None else value


def _once(rows: list[tuple[Standing, TrackTable]]) -> list[tuple[Standing, TrackTable]]:
    seen: dict[str, tuple[Standing, TrackTable]] = {}
    for standing, table in rows:
        seen.setdefault(standing.slug, (standing, table))
    return list(seen.values())


def leaderboard_csv(tables: list[TrackTable]) -> str:
    """One row per entry (verified, then reported; an entry in several tables once, from the
    first): kind, reference, rank (within its track) with its interval, the table's ranking
    metric, slug, ``n`` and the averaging of its numbers (:func:`basis`), metadata (with the
    track; ``averaging`` is the row's, ``corpus-level`` for a verified one), the floor test
    (``floor`` true for the track's floor entry; ``above_floor`` true/false with Δ and p for the
    other ranked rows, empty otherwise), then each metric with its interval: the ranking metrics
    of the tables and, for version-2 tables, the headline of each tag family (empty where a row's
    table does not carry it), then the seven."""
    verified = _once([(s, t) for t in tables for s in t.ranked.verified])
    reported = _once([(s, t) for t in tables for s in t.reported])
    names = [*dict.fromkeys(n for t in tables for n in shown_metrics(t.version) if n not in METRIC_NAMES), *METRIC_NAMES] if tables else [rank_metric(1).name, *METRIC_NAMES]
    header = ["kind", "reference", "rank", "rank_low", "rank_high", "rank_metric", "slug", "n", *META_COLUMNS]
    header += ["floor", "above_floor", "above_floor_delta", "above_floor_p"]
    for name in names:
        header += [name, f"{name}_ci_low", f"{name}_ci_high"]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_NONNUMERIC)
    writer.writerow(header)
    empty = {"value": None, "ci_low": None, "ci_high": None}
    for standing, table in verified + reported:
        meta = standing.entry.meta.as_dict()
        low, high = standing.rank_interval or (None, None)
        above = standing.above_floor or {}
        floor = standing.floor if standing.rank is not None else None
        n, meta["averaging"] = basis(standing)
        row = [meta["kind"], meta["reference"], standing.rank, low, high, table.metric.name, standing.slug, n, *(meta[c] for c in META_COLUMNS)]
        row += [floor, above.get("significant"), above.get("delta"), above.get("p_value")]
        for name in names:
            m = standing.metrics.get(name, empty)
            row += [m["value"], m["ci_low"], m["ci_high"]]
        writer.writerow([_cell(v) for v in row])
    return buffer.getvalue()
