"""``leaderboard summary``: a pull request's entries, scored and ranked beside the current ones.

Compares two submissions folders (the base branch's and the pull request's): entries whose
files differ are *changed*; every entry of the new folder is shown in its new order with its
rank before and after, one Markdown table per audio track (a CI job summary).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from evoxtral_bench.leaderboard.build import Board
from evoxtral_bench.leaderboard.plots import rank_text, shared_ranks
from evoxtral_bench.leaderboard.site import table_metrics
from evoxtral_bench.leaderboard.standings import Standing, TrackTable
from evoxtral_bench.reporters import is_percent
from evoxtral_bench.scoring.metrics import METRICS


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file() and not p.is_symlink()} if folder.is_dir() else {}


def _slugs(root: Path) -> list[str]:
    if not root.is_dir():
        return []
    return sorted(d.name for d in os.scandir(root) if d.is_dir(follow_symlinks=False) and not d.name.startswith("."))


def changed(before: Path | None, after: Path) -> tuple[list[str], list[str]]:
    """(added or modified slugs, removed slugs) of ``after`` against ``before`` (None: all new)."""
    old = set(_slugs(before)) if before is not None else set()
    new = _slugs(after)
    touched = [s for s in new if s not in old or _files(after / s) != _files(before / s)]  # type: ignore[operator]
    return touched, sorted(old - set(new))


def _value(name: str, metric: dict) -> str:
    if metric["value"] is None:
        return "—"
    if not metric["defined"]:
        return "n/a"
    return f"{100 * metric['value']:.1f}" if is_percent(name) else f"{metric['value']:.2f}"


def _rank(standing: Standing, table: TrackTable) -> str:
    if standing.rank is None and not standing.reference:
        return "–"
    return rank_text(standing, standing.rank in shared_ranks(table.ranked))


def _rows(table: TrackTable) -> list[Standing]:
    return table.ranked.verified + table.reported


def markdown(after: Board, before: Board | None, touched: list[str], removed: list[str], warnings: Sequence[str] = ()) -> str:
    """One Markdown table per track: its entries in their new order, changed ones in bold, rank
    before (in the same track) and now; then the check's warnings (e.g. placeholders left in a
    meta.yaml), if any."""
    old = {(t.track, s.slug): (s, t) for t in before.tables for s in _rows(t)} if before is not None else {}
    lines: list[str] = []
    for table in after.tables:
        shown = table_metrics(table.version)
        header = ["Entry", "Kind", "Rank", "Was", *(f"{METRICS[m].short} {METRICS[m].arrow}" for m in shown)]
        lines += ["", f"### Track `{table.track}`", "", f"Ranked by {table.metric.label} (benchmark version {table.version}).", ""]
        lines += ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
        for standing in _rows(table):
            name = f"**{standing.slug}** (changed)" if standing.slug in touched else standing.slug
            kind = "reference" if standing.reference else standing.entry.meta.kind
            was = _rank(*old[table.track, standing.slug]) if (table.track, standing.slug) in old else "new"
            cells = [name, kind, _rank(standing, table), was]
            cells += [_value(m, standing.metrics[m]) for m in shown]
            lines.append("| " + " | ".join(cells) + " |")
    head = [
        "## Leaderboard entries in this change",
        "",
        f"Changed: {', '.join(f'`{s}`' for s in touched) or 'none'}" + (f" · removed: {', '.join(f'`{s}`' for s in removed)}" if removed else ""),
        "",
        "Ranked within each audio track by the headline of its benchmark version; values in %. Rank = 1 + the number of entries "
        "of the same track significantly better (paired delta-method test, Holm-corrected over the track's pairs at α = 0.05). "
        "Reference rows and reported entries are never ranked; reference rows made from text (track none) are in every table "
        "on the version-1 references.",
    ]
    if warnings:
        lines += ["", "Warnings from `evoxtral-bench leaderboard check`:", ""] + [f"- `{w}`" for w in warnings]
    return "\n".join(head + lines) + "\n"
