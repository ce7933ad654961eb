"""``leaderboard.json`` and ``leaderboard.csv``: every entry, verified and reported apart."""

from __future__ import annotations

import csv
import io
import re

from evoxtral_bench.leaderboard.standings import Standing
from evoxtral_bench.leaderboard.ties import RULE, TIE_ALPHA, TIE_METRIC
from evoxtral_bench.reporters import to_json
from evoxtral_bench.scoring.metrics import METRIC_NAMES

META_COLUMNS = ("name", "organization", "url", "base_model", "params_b", "license", "date", "averaging")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_SEPARATORS = re.compile(r"[,;|\t\r\n]")


def _metrics(standing: Standing) -> dict:
    keys = ("value", "ci_low", "ci_high", "defined")
    return {name: {k: standing.metrics[name][k] for k in keys} for name in METRIC_NAMES}


def _row(standing: Standing) -> dict:
    row: dict = {"slug": standing.slug, "kind": standing.entry.meta.kind}
    if standing.entry.verified:
        row["rank"] = standing.rank
        row["tied_with_above"] = standing.tied
        row["tag_f1_vs_above"] = standing.above
    row["meta"] = standing.entry.meta.as_dict()
    row["metrics"] = _metrics(standing)
    if standing.entry.verified:
        row["results"] = f"entries/{standing.slug}/results.json"
        row["predictions"] = f"entries/{standing.slug}/predictions.jsonl"
    return row


def leaderboard_json(benchmark: dict, signature: str, scorer: str, verified: list[Standing], reported: list[Standing]) -> str:
    """The whole leaderboard as one JSON document (verified in rank order, then reported)."""
    return to_json(
        {
            "benchmark": benchmark,
            "signature": signature,
            "scorer": scorer,
            "ties": {"metric": TIE_METRIC, "alpha": TIE_ALPHA, "rule": RULE},
            "verified": [_row(s) for s in verified],
            "reported": [_row(s) for s in reported],
        }
    )


def _cell(value: object) -> object:
    """Neutralize text a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@`` …) at
    its start or after any character a spreadsheet may split cells on (``,;|`` tab, newline);
    every text cell is also quoted (:data:`csv.QUOTE_NONNUMERIC`)."""
    if isinstance(value, str) and any(part.lstrip(" ").startswith(_FORMULA_START) for part in _SEPARATORS.split(value)):
        return "'" + value
    return "" if value is None else value


def leaderboard_csv(verified: list[Standing], reported: list[Standing]) -> str:
    """One row per entry: kind, rank, slug, metadata, then each metric with its interval."""
    header = ["kind", "rank", "slug", *META_COLUMNS]
    for name in METRIC_NAMES:
        header += [name, f"{name}_ci_low", f"{name}_ci_high"]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_NONNUMERIC)
    writer.writerow(header)
    for standing in verified + reported:
        meta = standing.entry.meta.as_dict()
        row = [meta["kind"], standing.rank, standing.slug, *(meta[c] for c in META_COLUMNS)]
        for name in METRIC_NAMES:
            m = standing.metrics[name]
            row += [m["value"], m["ci_low"], m["ci_high"]]
        writer.writerow([_cell(v) for v in row])
    return buffer.getvalue()
