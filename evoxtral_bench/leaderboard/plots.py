"""The site's figures as deterministic SVG (fixed hash salt, no date): verified entries only."""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np

from evoxtral_bench.files import compact_json, sha256_bytes
from evoxtral_bench.leaderboard.standings import Ranked, Standing
from evoxtral_bench.scoring.metrics import MetricDef
from evoxtral_bench.scoring.tags import tag_table

PLOTS: tuple[str, ...] = ("wer_vs_tag_f1.svg", "forest_tag_f1.svg", "per_tag_f1.svg")
"""The figures of each track (the file names are stable; the first two show the table's ranking metric)."""


def captions(metric: MetricDef) -> dict[str, str]:
    """Each figure's caption for a table ranked by ``metric``."""
    return {
        "wer_vs_tag_f1.svg": f"WER against {metric.label} with 95% intervals, every entry named (grey squares: reference rows); "
        "the dashed line joins the Pareto front",
        "forest_tag_f1.svg": f"{metric.label} with 95% intervals, in rank order (=k: a shared rank; the colour changes with the rank); "
        "reference rows in grey, unranked",
        "per_tag_f1.svg": "Per-tag F1 of each verified entry (grey: tag neither predicted nor in the references)",
    }
_RC = {
    "svg.hashsalt": "evoxtral-bench",
    "svg.fonttype": "path",
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
}
_ACCENT, _SECOND, _MUTED = "#3558a8", "#d07a1f", "#9aa3b2"


def _label(standing: Standing, width: int = 28) -> str:
    """An entry's name, cut to ``width``; every caller draws it with ``parse_math=False``
    (a ``$`` is a dollar sign, never matplotlib mathtext)."""
    name = standing.entry.meta.name
    return name if len(name) <= width else name[: width - 1] + "…"


def _pct(metric: dict) -> tuple[float, float, float]:
    """Value and the two error-bar lengths, in percent."""
    value = 100 * metric["value"]
    lo = 100 * metric["ci_low"] if metric["ci_low"] is not None else value
    hi = 100 * metric["ci_high"] if metric["ci_high"] is not None else value
    return value, value - lo, hi - value


def _svg(figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None})
    return buffer.getvalue()


def _empty(axes, text: str = "no verified entries yet") -> None:
    axes.text(0.5, 0.5, text, ha="center", va="center", transform=axes.transAxes, color=_MUTED)
    axes.set_xticks([])
    axes.set_yticks([])


def pareto_front(points: list[tuple[float, float]]) -> list[int]:
    """Indices of the points not dominated in (lower x, higher y), by increasing x."""
    front: list[int] = []
    best_y = -math.inf
    for i in sorted(range(len(points)), key=lambda i: (points[i][0], -points[i][1])):
        if points[i][1] > best_y:
            front.append(i)
            best_y = points[i][1]
    return front


def _scatter(figure, board: Ranked, metric: MetricDef) -> None:
    axes = figure.subplots()
    rows = board.verified
    if not rows:
        return _empty(axes)
    wer = [_pct(r.metrics["wer"]) for r in rows]
    f1 = [_pct(r.metrics[metric.name]) for r in rows]
    for reference, color, marker, name in ((False, _ACCENT, "o", "ranked entry"), (True, _MUTED, "s", "reference row")):
        index = [i for i, r in enumerate(rows) if r.reference == reference]
        if not index:
            continue
        axes.errorbar(
            [wer[i][0] for i in index], [f1[i][0] for i in index],
            xerr=[[wer[i][1] for i in index], [wer[i][2] for i in index]], yerr=[[f1[i][1] for i in index], [f1[i][2] for i in index]],
            fmt="none", ecolor=_MUTED, elinewidth=1, capsize=2,
        )
        for k, i in enumerate(index):  # one marker per entry, so each carries its slug (gid) in the SVG
            axes.plot([wer[i][0]], [f1[i][0]], marker, color=color, markersize=5, label=None if k else name, gid=f"point-{rows[i].slug}")
    ranked = [i for i, r in enumerate(rows) if not r.reference]
    front = [ranked[k] for k in pareto_front([(wer[i][0], f1[i][0]) for i in ranked])]
    if len(front) >= 2:
        axes.step([wer[i][0] for i in front], [f1[i][0] for i in front], where="post", linestyle="--", color=_SECOND, label="Pareto front", gid="pareto-front")
    # every point named; by position (lower first), labels alternate below and above
    right = max(5.0, 1.15 * max(w[0] + w[2] for w in wer))
    for k, i in enumerate(sorted(range(len(rows)), key=lambda i: (wer[i][0], f1[i][0], rows[i].slug))):
        left = wer[i][0] > 0.55 * right  # right half: the label goes to the left of its point
        axes.annotate(
            _label(rows[i], 30), (wer[i][0], f1[i][0]), textcoords="offset points", xytext=(-6 if left else 6, 3 if k % 2 else -10),
            ha="right" if left else "left", fontsize=7, gid=f"label-{rows[i].slug}", parse_math=False,
        )
    left_edge = min(w[0] - w[1] for w in wer)
    left_edge = -0.02 * right if left_edge < 0.3 * right else left_edge - 0.05 * (right - left_edge)
    axes.set_xlim(left_edge, right)  # zoomed to the points, so that close entries spread out
    low, high = min(f[0] - f[1] for f in f1), max(f[0] + f[2] for f in f1)
    pad = max(3.0, 0.08 * (high - low))
    axes.set_ylim(max(-2.0, low - pad), min(102.0, high + pad))
    axes.set_xlabel("WER (%)  ↓ lower is better")
    axes.set_ylabel(f"{metric.label} (%)  ↑")
    axes.grid(True, color="#e3e6ec", linewidth=0.6)
    axes.legend(loc="best", frameon=False, fontsize=8)


def rank_text(standing: Standing, shared: bool) -> str:
    """``3``, ``=3`` for a shared rank, or ``ref.`` for a reference row."""
    if standing.rank is None:
        return "ref."
    return f"={standing.rank}" if shared else str(standing.rank)


def shared_ranks(board: Ranked) -> set[int]:
    """Ranks held by more than one entry."""
    ranks = [s.rank for s in board.ranked]
    return {r for r in ranks if ranks.count(r) > 1}


def _forest(figure, board: Ranked, metric: MetricDef) -> None:
    axes = figure.subplots()
    rows = board.verified
    if not rows:
        return _empty(axes)
    shared = shared_ranks(board)
    ranks = sorted({r.rank for r in board.ranked})
    colors = [_MUTED if row.rank is None else (_ACCENT if ranks.index(row.rank) % 2 == 0 else _SECOND) for row in rows]
    for color in dict.fromkeys(colors):  # one call per colour: drawing is per artist
        index = [y for y, c in enumerate(colors) if c == color]
        points = [_pct(rows[y].metrics[metric.name]) for y in index]
        axes.errorbar(
            [p[0] for p in points], index, xerr=[[p[1] for p in points], [p[2] for p in points]],
            fmt="s" if color == _MUTED else "o", color=color, ecolor=color, capsize=3, markersize=5,
        )
    axes.set_yticks(range(len(rows)), [f"{rank_text(r, r.rank in shared)}  {_label(r, 40)}" for r in rows], parse_math=False)
    for tick, row in zip(axes.get_yticklabels(), rows):
        tick.set_gid(f"forest-label-{row.slug}")
    axes.set_ylim(len(rows) - 0.5, -0.5)
    axes.set_xlim(-2, 102)
    axes.set_xlabel(f"{metric.label} (%) with 95% interval  ↑")
    axes.grid(True, axis="x", color="#e3e6ec", linewidth=0.6)


def _heatmap(figure, board: Ranked, metric: MetricDef) -> None:
    from matplotlib import colormaps

    axes = figure.subplots()
    rows = board.verified
    if not rows:
        return _empty(axes)
    labels = list(tag_table().canonical)
    grid = np.full((len(rows), len(labels)), np.nan)
    support = {label: 0 for label in labels}
    for i, row in enumerate(rows):
        for j, label in enumerate(labels):
            tag = row.results["per_tag"].get(label)
            if tag is not None:
                grid[i, j] = tag["f1"]["value"]
                support[label] = tag["support"]
    colors = colormaps["viridis"].with_extremes(bad="#d9dde5")
    image = axes.imshow(np.ma.masked_invalid(grid), cmap=colors, vmin=0, vmax=1, aspect="auto")
    axes.set_xticks(range(len(labels)), [f"{label} ({support[label]})" for label in labels], rotation=50, ha="right", parse_math=False)
    axes.set_yticks(range(len(rows)), [_label(r) for r in rows], parse_math=False)
    axes.tick_params(length=0)
    for spine in axes.spines.values():
        spine.set_visible(False)
    if len(rows) <= 25:
        for i in range(len(rows)):
            for j in range(len(labels)):
                if not np.isnan(grid[i, j]):
                    axes.text(j, i, f"{grid[i, j]:.2f}", ha="center", va="center", fontsize=7, color="white" if grid[i, j] < 0.6 else "black")
    figure.colorbar(image, ax=axes, fraction=0.03, pad=0.02, label="F1")


def code_version() -> str:
    """What draws the figures: this module's source and the matplotlib version."""
    from importlib.metadata import version

    return f"{sha256_bytes(Path(__file__).read_bytes())}:{version('matplotlib')}"


def inputs(board: Ranked, metric: MetricDef) -> str:
    """Everything the figures show, as stable JSON: the ranking metric, each verified row's name,
    slug, rank and results (in board order, ranked rows first). Equal inputs and code draw equal figures."""
    rows = [{"slug": s.slug, "name": s.entry.meta.name, "rank": s.rank, "results": s.results} for s in board.verified]
    return compact_json({"metric": metric.name, "ranked": len(board.ranked), "rows": rows})


def render(board: Ranked, metric: MetricDef) -> dict[str, bytes]:
    """File name -> SVG bytes for the three figures (ranked rows, then reference rows), the first
    two on the table's ranking ``metric``."""
    import matplotlib
    from matplotlib.figure import Figure

    n = len(board.verified)
    out = {}
    with matplotlib.rc_context(_RC):
        for name, draw, size, layout in (
            # fixed margins for the scatter: constrained layout costs as much as drawing its labels
            ("wer_vs_tag_f1.svg", _scatter, (6.4, 4.8), None),
            ("forest_tag_f1.svg", _forest, (7.2, 1.2 + 0.3 * max(n, 1)), "constrained"),
            ("per_tag_f1.svg", _heatmap, (9.0, 2.0 + 0.3 * max(n, 1)), "constrained"),
        ):
            figure = Figure(figsize=size, layout=layout)
            if layout is None:
                figure.subplots_adjust(left=0.1, right=0.97, bottom=0.11, top=0.97)
            draw(figure, board, metric)
            out[name] = _svg(figure)
    return out
