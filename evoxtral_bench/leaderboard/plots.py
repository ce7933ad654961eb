"""The site's figures as deterministic SVG (fixed hash salt, no date): verified entries only."""

from __future__ import annotations

import io
import math

import numpy as np

from evoxtral_bench.leaderboard.standings import Standing
from evoxtral_bench.leaderboard.ties import TIE_METRIC
from evoxtral_bench.scoring.tags import tag_table

PLOTS = {
    "wer_vs_tag_f1.svg": "WER against tag F1 with 95% intervals; the dashed line joins the Pareto front (named)",
    "forest_tag_f1.svg": "Tag F1 with 95% intervals, in rank order; the colour changes where a group of tied entries ends",
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


def _scatter(figure, rows: list[Standing]) -> None:
    axes = figure.subplots()
    if not rows:
        return _empty(axes)
    wer = [_pct(r.metrics["wer"]) for r in rows]
    f1 = [_pct(r.metrics[TIE_METRIC]) for r in rows]
    axes.errorbar(
        [w[0] for w in wer], [f[0] for f in f1],
        xerr=[[w[1] for w in wer], [w[2] for w in wer]], yerr=[[f[1] for f in f1], [f[2] for f in f1]],
        fmt="o", color=_ACCENT, ecolor=_MUTED, elinewidth=1, capsize=2, markersize=5, label="verified entry",
    )
    front = pareto_front([(w[0], f[0]) for w, f in zip(wer, f1)])
    axes.step([wer[i][0] for i in front], [f1[i][0] for i in front], where="post", linestyle="--", color=_SECOND, label="Pareto front")
    for k, i in enumerate(front):  # alternate above and below: neighbours on the front are close
        axes.annotate(_label(rows[i]), (wer[i][0], f1[i][0]), textcoords="offset points", xytext=(6, 4 if k % 2 else -11), fontsize=8, parse_math=False)
    right = max(5.0, 1.1 * max(w[0] + w[2] for w in wer))
    axes.set_xlim(-0.02 * right, right)
    axes.set_ylim(-2, 102)
    axes.set_xlabel("WER (%)  ↓ lower is better")
    axes.set_ylabel("Tag F1 (%)  ↑ higher is better")
    axes.grid(True, color="#e3e6ec", linewidth=0.6)
    axes.legend(loc="best", frameon=False, fontsize=8)


def _forest(figure, rows: list[Standing]) -> None:
    axes = figure.subplots()
    if not rows:
        return _empty(axes)
    group = 0
    for y, row in enumerate(rows):
        group += 0 if row.tied else 1
        value, lo, hi = _pct(row.metrics[TIE_METRIC])
        color = _ACCENT if group % 2 else _SECOND
        axes.errorbar([value], [y], xerr=[[lo], [hi]], fmt="o", color=color, ecolor=color, capsize=3, markersize=5)
    axes.set_yticks(range(len(rows)), [f"{r.rank}. {_label(r)}" for r in rows], parse_math=False)
    axes.set_ylim(len(rows) - 0.5, -0.5)
    axes.set_xlim(-2, 102)
    axes.set_xlabel("Tag F1 (%) with 95% interval  ↑")
    axes.grid(True, axis="x", color="#e3e6ec", linewidth=0.6)


def _heatmap(figure, rows: list[Standing]) -> None:
    from matplotlib import colormaps

    axes = figure.subplots()
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


def render(verified: list[Standing]) -> dict[str, bytes]:
    """File name -> SVG bytes for the three figures."""
    import matplotlib
    from matplotlib.figure import Figure

    n = len(verified)
    out = {}
    with matplotlib.rc_context(_RC):
        for name, draw, size in (
            ("wer_vs_tag_f1.svg", _scatter, (6.4, 4.4)),
            ("forest_tag_f1.svg", _forest, (6.4, 1.2 + 0.3 * max(n, 1))),
            ("per_tag_f1.svg", _heatmap, (9.0, 2.0 + 0.3 * max(n, 1))),
        ):
            figure = Figure(figsize=size, layout="constrained")
            draw(figure, verified)
            out[name] = _svg(figure)
    return out
