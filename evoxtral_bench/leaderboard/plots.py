"""The site's figures as deterministic SVG (fixed hash salt, no date): verified entries only."""

from __future__ import annotations

import io
import math
from collections import Counter
from pathlib import Path

import numpy as np

from evoxtral_bench.files import compact_json, sha256_bytes
from evoxtral_bench.leaderboard.standings import Ranked, Standing
from evoxtral_bench.scoring.metrics import MetricDef
from evoxtral_bench.scoring.tags import tag_table

PLOTS: tuple[str, ...] = ("wer_vs_tag_f1.svg", "forest_tag_f1.svg", "per_tag_f1.svg")
"""Each track's figures (stable file names; the first two show the table's ranking metric, whatever
it is). Every figure is drawn twice: for a wide column and, as :func:`narrow`, for a phone (about
3.6 inches wide, so that its text renders near its size in points); the page picks one by the
screen's width."""


def captions(metric: MetricDef) -> dict[str, str]:
    """Each figure's caption in a table ranked by ``metric``."""
    return {
        "wer_vs_tag_f1.svg": f"WER against {metric.label} with 95% intervals, each entry marked by its key letter (grey squares: "
        "reference rows); the dashed line joins the Pareto front",
        "forest_tag_f1.svg": f"{metric.label} with 95% intervals, in rank order (=k: a shared rank; the colour changes with the rank); "
        "reference rows in grey, unranked",
        "per_tag_f1.svg": "Per-tag F1 (%) of each verified entry, support in brackets (grey: tag neither predicted nor in the references)",
    }


def _short(metric: MetricDef) -> str:
    """A narrow figure's axis name of ``metric`` (``Pos. F1`` -> ``Pos. tag F1``)."""
    return metric.short.removesuffix(" F1") + " tag F1"
NARROW_BELOW_PX = 600
"""Screens at most this wide (CSS px) get the narrow figures."""
MIN_FONT_PT = 9
"""No text in a figure is smaller (at a phone's width, the narrow figure renders at about 1 CSS px
per 0.75 pt, so this is about 12 px)."""
_RC = {
    "svg.hashsalt": "evoxtral-bench",
    "svg.fonttype": "none",  # text stays text: selectable, searchable and measurable in a browser
    "font.family": "DejaVu Sans",
    "font.size": 10,
    "axes.labelsize": 10,
    "xtick.labelsize": MIN_FONT_PT,
    "ytick.labelsize": MIN_FONT_PT,
    "legend.fontsize": MIN_FONT_PT,
    "axes.spines.top": False,
    "axes.spines.right": False,
}
_ACCENT, _SECOND, _MUTED = "#3558a8", "#d07a1f", "#9aa3b2"
NARROW_WIDTH = 3.4
"""Inches: the narrow figures' width (326 px; a 390 px phone shows them about 340 px wide)."""
NARROW_FITS = 8
"""Up to this many verified rows, the narrow heat map is :data:`NARROW_WIDTH` wide; with more, it
grows (0.24 inch a column) and the page lets it scroll in its box rather than shrink its text."""


def narrow(name: str) -> str:
    """The file name of a figure's phone-sized rendering: ``x.svg`` -> ``x.narrow.svg``."""
    return name.removesuffix(".svg") + ".narrow.svg"


FILES: tuple[str, ...] = tuple(f for name in PLOTS for f in (name, narrow(name)))
"""Every file :func:`render` writes."""


def key_letter(index: int) -> str:
    """The key of the ``index``-th verified row (0-based): A … Z, AA, AB, …"""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


PLOT_MAX = 30
"""Ranked rows the figures show: the best ``PLOT_MAX`` (by rank order), so that a table of a
thousand entries draws figures a reader can read, in seconds; every row is in the table."""


def shown(board: Ranked) -> list[Standing]:
    """The rows the figures draw: the first :data:`PLOT_MAX` ranked rows, then the reference rows."""
    return board.ranked[:PLOT_MAX] + board.references


def keys(board: Ranked) -> dict[str, str]:
    """slug -> key letter of every :func:`shown` row, in board order (ranked rows by rank, then
    reference rows): the letters the figures mark entries with, listed under them on the page."""
    return {s.slug: key_letter(i) for i, s in enumerate(shown(board))}


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


_DIRECTIONS = [(1, 0), (1, 1), (0, 1), (-1, 1), (-1, 0), (-1, -1), (0, -1), (1, -1)]
_RADII = (8.0, 13.0, 20.0, 30.0, 42.0, 56.0)
_LEADER_FROM = 13.0
"""Points: labels placed this far from their point or farther get a leader line."""


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    """Area shared by two (x0, y0, x1, y1) boxes."""
    return max(0.0, min(a[2], b[2]) - max(a[0], b[0])) * max(0.0, min(a[3], b[3]) - max(a[1], b[1]))


def place_labels(
    points: list[tuple[float, float]], sizes: list[tuple[float, float]], area: tuple[float, float, float, float], marker: float = 4.0
) -> list[tuple[float, float]]:
    """Label offsets (points, from each label's point to its centre) that keep every label inside
    ``area`` and off the other labels and the points, where it can: for each point in turn, the
    first of 8 directions × growing radii whose box collides with nothing placed; else the one
    with the least overlap. ``points`` and ``area`` are in points of the figure, ``sizes`` the
    labels' (width, height) in points, ``marker`` the half-size of a point's box."""
    dots = np.array([(x - marker, y - marker, x + marker, y + marker) for x, y in points]).reshape(-1, 4)
    placed = np.empty((len(points), 4))
    out = []
    for k, ((x, y), (w, h)) in enumerate(zip(points, sizes)):
        others = np.concatenate((placed[:k], dots))  # the labels placed so far, then the points
        best, best_cost = None, math.inf
        for radius in _RADII:
            for dx, dy in _DIRECTIONS:
                norm = math.hypot(dx, dy)
                cx = x + dx / norm * (radius + w / 2 * abs(dx) / norm)
                cy = y + dy / norm * (radius + h / 2 * abs(dy) / norm)
                box = (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
                outside = max(0.0, area[0] - box[0]) + max(0.0, box[2] - area[2]) + max(0.0, area[1] - box[1]) + max(0.0, box[3] - area[3])
                cost = 1e6 * outside + _overlaps(box, others)
                if cost < best_cost:
                    best, best_cost = (cx - x, cy - y, box), cost
            if best_cost == 0:
                break
        dx, dy, box = best
        placed[k] = box
        out.append((dx, dy))
    return out


def _overlaps(box: tuple[float, float, float, float], others: np.ndarray) -> float:
    """The sum of :func:`_overlap` of ``box`` with each row of ``others``, added in row order:
    the same float as the plain loop (the zero areas, computed in bulk, add nothing)."""
    widths = np.minimum(box[2], others[:, 2]) - np.maximum(box[0], others[:, 0])
    heights = np.minimum(box[3], others[:, 3]) - np.maximum(box[1], others[:, 1])
    hit = (widths > 0) & (heights > 0)
    return sum(_overlap(box, tuple(o)) for o in others[hit].tolist())


def _scatter(figure, board: Ranked, metric: MetricDef, wide: bool) -> None:
    axes = figure.subplots()
    rows = shown(board)
    if not rows:
        return _empty(axes)
    letters = keys(board)
    wer = [_pct(r.metrics["wer"]) for r in rows]
    f1 = [_pct(r.metrics[metric.name]) for r in rows]
    for reference, color, marker, name in ((False, _ACCENT, "o", "ranked entry"), (True, _MUTED, "s", "reference row")):
        index = [i for i, r in enumerate(rows) if r.reference == reference]
        if not index:
            continue
        axes.errorbar(
            [wer[i][0] for i in index], [f1[i][0] for i in index],
            xerr=[[wer[i][1] for i in index], [wer[i][2] for i in index]], yerr=[[f1[i][1] for i in index], [f1[i][2] for i in index]],
            fmt="none", ecolor=_MUTED, elinewidth=1, capsize=2, alpha=0.7,
        )
        for k, i in enumerate(index):  # one marker per entry, so each carries its slug (gid) in the SVG
            axes.plot([wer[i][0]], [f1[i][0]], marker, color=color, markersize=5, label=None if k else name, gid=f"point-{rows[i].slug}")
    ranked = [i for i, r in enumerate(rows) if not r.reference]
    front = [ranked[k] for k in pareto_front([(wer[i][0], f1[i][0]) for i in ranked])]
    if len(front) >= 2:
        axes.step([wer[i][0] for i in front], [f1[i][0] for i in front], where="post", linestyle="--", color=_SECOND, label="Pareto front", gid="pareto-front")
    right = max(5.0, 1.15 * max(w[0] + w[2] for w in wer))
    left_edge = min(w[0] - w[1] for w in wer)
    left_edge = -0.02 * right if left_edge < 0.3 * right else left_edge - 0.05 * (right - left_edge)
    axes.set_xlim(left_edge, right)  # zoomed to the points, so that close entries spread out
    low, high = min(f[0] - f[1] for f in f1), max(f[0] + f[2] for f in f1)
    pad = max(3.0, 0.08 * (high - low))
    axes.set_ylim(max(-2.0, low - pad), min(102.0, high + pad))
    axes.set_xlabel("WER (%)  ↓ lower is better")
    axes.set_ylabel(f"{metric.label} (%)  ↑" if wide else f"{_short(metric)} (%)  ↑")
    axes.grid(True, color="#e3e6ec", linewidth=0.6)
    axes.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), ncols=3 if wide else 2, frameon=False, borderaxespad=0.2, handlelength=1.5, columnspacing=1.0)
    # every point marked by its key letter, placed off the other labels and points (leader lines when far)
    to_points = axes.transData + figure.dpi_scale_trans.inverted()  # data -> inches
    at = [tuple(72 * v for v in to_points.transform((w[0], f[0]))) for w, f in zip(wer, f1)]
    box = axes.get_position()
    width, height = figure.get_size_inches()
    area = (72 * box.x0 * width + 2, 72 * box.y0 * height + 2, 72 * box.x1 * width - 2, 72 * box.y1 * height - 2)
    size = MIN_FONT_PT + 1
    sizes = [(0.68 * size * len(letters[r.slug]) + 3, size + 3) for r in rows]
    order = sorted(range(len(rows)), key=lambda i: (-f1[i][0], wer[i][0], rows[i].slug))
    offsets = place_labels([at[i] for i in order], [sizes[i] for i in order], area)
    for i, (dx, dy) in zip(order, offsets):
        far = math.hypot(dx, dy) >= _LEADER_FROM + max(sizes[i]) / 2
        axes.annotate(
            letters[rows[i].slug], (wer[i][0], f1[i][0]), textcoords="offset points", xytext=(dx, dy), ha="center", va="center",
            fontsize=size, fontweight="bold", color="#1c2230", gid=f"label-{rows[i].slug}", parse_math=False,
            arrowprops={"arrowstyle": "-", "color": _MUTED, "linewidth": 0.7, "shrinkA": 5, "shrinkB": 2} if far else None,
        )


def rank_text(standing: Standing, shared: bool) -> str:
    """``3``, ``=3`` for a shared rank, or ``ref.`` for a reference row."""
    if standing.rank is None:
        return "ref."
    return f"={standing.rank}" if shared else str(standing.rank)


def shared_ranks(board: Ranked) -> set[int]:
    """Ranks held by more than one entry."""
    return {rank for rank, n in Counter(s.rank for s in board.ranked).items() if n > 1}


def _forest(figure, board: Ranked, metric: MetricDef, wide: bool) -> None:
    axes = figure.subplots()
    rows = shown(board)
    if not rows:
        return _empty(axes)
    shared = shared_ranks(board)
    letters = keys(board)
    ranks = sorted({r.rank for r in board.ranked[:PLOT_MAX]})
    colors = [_MUTED if row.rank is None else (_ACCENT if ranks.index(row.rank) % 2 == 0 else _SECOND) for row in rows]
    for color in dict.fromkeys(colors):  # one call per colour: drawing is per artist
        index = [y for y, c in enumerate(colors) if c == color]
        points = [_pct(rows[y].metrics[metric.name]) for y in index]
        axes.errorbar(
            [p[0] for p in points], index, xerr=[[p[1] for p in points], [p[2] for p in points]],
            fmt="s" if color == _MUTED else "o", color=color, ecolor=color, capsize=3, markersize=5,
        )
    width = 34 if wide else 16
    axes.set_yticks(range(len(rows)), [f"{letters[r.slug]}  {rank_text(r, r.rank in shared)}  {_label(r, width)}" for r in rows], parse_math=False)
    for tick, row in zip(axes.get_yticklabels(), rows):
        tick.set_gid(f"forest-label-{row.slug}")
    axes.set_ylim(len(rows) - 0.5, -0.5)
    axes.set_xlim(-2, 102)
    axes.set_xlabel(f"{metric.label} (%) with 95% interval  ↑" if wide else f"{_short(metric)} (%), 95% interval  ↑")
    axes.grid(True, axis="x", color="#e3e6ec", linewidth=0.6)


def _heatmap(figure, board: Ranked, metric: MetricDef, wide: bool) -> None:
    """Entries × tags on a wide figure; tags × entries (columns: key letters, no colour bar) on a
    narrow one, so that a phone shows it whole for up to :data:`NARROW_FITS` entries. Cells: F1 in %."""
    from matplotlib import colormaps

    axes = figure.subplots()
    rows = shown(board)
    if not rows:
        return _empty(axes)
    letters = keys(board)
    labels = list(tag_table().canonical)
    grid = np.full((len(rows), len(labels)), np.nan)
    support = {label: 0 for label in labels}
    for i, row in enumerate(rows):
        for j, label in enumerate(labels):
            tag = row.results["per_tag"].get(label)
            if tag is not None:
                grid[i, j] = tag["f1"]["value"]
                support[label] = tag["support"]
    tag_names = [f"{label} ({support[label]})" for label in labels]
    entry_names = [f"{letters[r.slug]}  {_label(r)}" for r in rows] if wide else [letters[r.slug] for r in rows]
    if not wide:
        grid = grid.T
    colors = colormaps["viridis"].with_extremes(bad="#d9dde5")
    image = axes.imshow(np.ma.masked_invalid(grid), cmap=colors, vmin=0, vmax=1, aspect="auto")
    if wide:
        axes.set_xticks(range(len(labels)), tag_names, rotation=50, ha="right", rotation_mode="anchor", parse_math=False)
        axes.set_yticks(range(len(rows)), entry_names, parse_math=False)
    else:
        axes.set_xticks(range(len(rows)), entry_names, parse_math=False)
        axes.xaxis.tick_top()
        axes.set_yticks(range(len(labels)), tag_names, parse_math=False)
    axes.tick_params(length=0)
    for spine in axes.spines.values():
        spine.set_visible(False)
    if len(rows) <= 25:
        for i in range(grid.shape[0]):
            for j in range(grid.shape[1]):
                if not np.isnan(grid[i, j]):
                    axes.text(j, i, f"{100 * grid[i, j]:.0f}", ha="center", va="center", fontsize=MIN_FONT_PT, color="white" if grid[i, j] < 0.6 else "black")
    if wide:
        figure.colorbar(image, ax=axes, fraction=0.03, pad=0.02, label="F1 (%)", format=lambda v, _: f"{100 * v:.0f}")


def code_version() -> str:
    """What draws the figures: this module's source and the matplotlib version."""
    from importlib.metadata import version

    return f"{sha256_bytes(Path(__file__).read_bytes())}:{version('matplotlib')}"


def inputs(board: Ranked, metric: MetricDef) -> str:
    """Everything the figures show, as stable JSON: the ranking metric, the shared ranks, and each
    :func:`shown` row's name, slug, rank and results (in board order). Equal inputs and code draw equal figures."""
    rows = [{"slug": s.slug, "name": s.entry.meta.name, "rank": s.rank, "results": s.results} for s in shown(board)]
    shared = sorted(shared_ranks(board) & {s.rank for s in shown(board)})  # "=k" marks a rank held beyond the shown rows too
    return compact_json({"metric": metric.name, "shared": shared, "rows": rows})


def render(board: Ranked, metric: MetricDef) -> dict[str, bytes]:
    """File name -> SVG bytes for the three figures, each wide and :func:`narrow` (ranked rows,
    then reference rows), the first two on the table's ranking ``metric``."""
    import matplotlib
    from matplotlib.figure import Figure

    n = len(shown(board))
    out = {}
    with matplotlib.rc_context(_RC):
        for name, draw, wide_size, narrow_size in (
            ("wer_vs_tag_f1.svg", _scatter, (6.4, 4.8), (NARROW_WIDTH, 3.9)),
            ("forest_tag_f1.svg", _forest, (6.4, 1.4 + 0.3 * max(n, 1)), (NARROW_WIDTH, 1.3 + 0.3 * max(n, 1))),
            ("per_tag_f1.svg", _heatmap, (9.0, 2.4 + 0.3 * max(n, 1)), (NARROW_WIDTH if n <= NARROW_FITS else 1.5 + 0.24 * n, 1.0 + 0.27 * len(tag_table().canonical))),
        ):
            for file, wide, size in ((name, True, wide_size), (narrow(name), False, narrow_size)):
                # fixed margins for the scatter: its labels are placed before drawing, in the final axes
                figure = Figure(figsize=size, layout=None if draw is _scatter else "constrained")
                if draw is _scatter:
                    figure.subplots_adjust(left=0.11 if wide else 0.19, right=0.97, bottom=0.11 if wide else 0.13, top=0.92 if wide else 0.88)
                draw(figure, board, metric, wide)
                out[file] = _svg(figure)
    return out
