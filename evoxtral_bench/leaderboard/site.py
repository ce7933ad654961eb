"""HTML pages from ``leaderboard/templates`` (string.Template); every submitted string escaped."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from string import Template

from evoxtral_bench.errors import InputError
from evoxtral_bench.leaderboard.entries import OPTIONS
from evoxtral_bench.leaderboard.plots import PLOTS, rank_text, shared_ranks
from evoxtral_bench.leaderboard.ranking import RANK_METRIC, RULE
from evoxtral_bench.leaderboard.samples import diff_html
from evoxtral_bench.leaderboard.standings import Standing, TrackTable, track_description
from evoxtral_bench.reporters import is_percent, label
from evoxtral_bench.scoring.core import ReferenceSet
from evoxtral_bench.scoring.metrics import METRIC_NAMES, METRICS

ASSETS = Path(str(resources.files("evoxtral_bench.leaderboard.assets")))
"""Templates and static files: the top-level ``leaderboard/`` folder, carried by the wheel as
the package ``evoxtral_bench.leaderboard.assets`` (see pyproject.toml)."""
STATIC = ("style.css", "leaderboard.js")
TABLE_METRICS: tuple[str, ...] = (RANK_METRIC, "tag_f1", "wer", "emphasis_f1", "tag_hallucination_rate")
"""The metric columns of the main table (the rest are on each entry's page and in the downloads)."""


@dataclass(frozen=True)
class Context:
    """What every page shows about the benchmark run."""

    references_sha256: str
    scorer: str
    split: str
    n: int


def _h(value: object) -> str:
    return html.escape(str(value), quote=True)


def _asset(relative: str) -> bytes:
    path = ASSETS / relative
    if not path.is_file():
        raise InputError(f"{path}: leaderboard template not found; build the site from a source checkout (pip install -e .)")
    return path.read_bytes()


def _template(name: str) -> Template:
    return Template(_asset(f"templates/{name}").decode("utf-8"))


def params_text(params_b: float | None) -> str:
    """Parameters with three significant digits, in millions under 1 B: ``39.3 M``, ``4.8 B``."""
    if params_b is None:
        return ""
    return f"{1000 * params_b:.3g} M" if params_b < 1 else f"{params_b:.3g} B"


def paragraphs(text: str) -> str:
    """Free text as HTML paragraphs: blank lines part them, other line breaks are spaces, and
    ```code``` spans become ``<code>`` (everything else escaped)."""
    out = []
    for block in re.split(r"\n\s*\n", text.strip()):
        joined = " ".join(block.split())
        parts = joined.split("`")
        if len(parts) % 2 == 0:  # an unmatched backtick: no code spans
            parts = [joined]
        body = "".join(f"<code>{_h(p)}</code>" if i % 2 else _h(p) for i, p in enumerate(parts))
        out.append(f"<p>{body}</p>")
    return "".join(out)


def size_bin(params_b: float | None) -> str:
    if params_b is None:
        return "unknown"
    return "lt1" if params_b < 1 else "1to10" if params_b <= 10 else "gt10"


def _number(name: str, value: float, digits: int) -> str:
    return f"{100 * value:.{digits}f}" if is_percent(name) else f"{value:.{digits}f}"


def _value_html(name: str, metric: dict, digits: int, *, interval: bool = True) -> str:
    if metric["value"] is None:
        return '<span class="v missing" title="not reported">—</span>'
    if not metric["defined"]:
        return '<span class="v undefined" title="undefined: zero denominator">n/a</span>'
    text = f'<span class="v">{_number(name, metric["value"], digits)}</span>'
    if interval and metric["ci_low"] is not None:
        text += f'<span class="ci">{_number(name, metric["ci_low"], digits)}–{_number(name, metric["ci_high"], digits)}</span>'
    return text


def _sort_value(metric: dict) -> str:
    return "" if metric["value"] is None or not metric["defined"] else repr(metric["value"])


def _arrow(higher_is_better: bool) -> str:
    return f'<span class="better" aria-hidden="true">{"↑" if higher_is_better else "↓"}</span>'


def _th(text: str, sort: str, first: str, title: str | None = None, css: str | None = None) -> str:
    extra = (f' class="{css}"' if css else "") + (f' title="{_h(title)}"' if title else "")
    return f'<th scope="col"{extra} data-sort="{sort}" data-first="{first}" aria-sort="none"><button type="button">{text}</button></th>'


def _header() -> str:
    cells = [_th("Rank", "num", "ascending"), _th("Entry", "text", "ascending", css="text")]
    for name in TABLE_METRICS:
        hib = METRICS[name].higher_is_better
        title = f"{label(name)}: {'higher' if hib else 'lower'} is better" + (" · the ranking metric" if name == RANK_METRIC else "")
        cells.append(_th(f"{METRICS[name].short} {_arrow(hib)}", "num", "descending" if hib else "ascending", title, "headline" if name == RANK_METRIC else None))
    cells += [
        _th(
            "Gap",
            "num",
            "descending",
            "grounding gap: tag F1 on the full audio minus tag F1 on the masked track (events silenced), "
            "with its paired-bootstrap interval; about 0 for a system that guesses tags from the words",
        ),
        _th("Track", "text", "ascending", "the audio track the predictions were made on (none: made from text)", "text"),
        _th("Params", "num", "ascending", "parameters (M: millions, B: billions)"),
        _th("In-dist.", "num", "descending", "trained or tuned on this benchmark's train split (•), or not (–); —: not stated"),
    ]
    return "".join(cells)


def _group(standing: Standing) -> str:
    """The table section of a row: verified (ranked), reference (verified reference rows) or reported."""
    return "reference" if standing.reference and standing.entry.verified else standing.entry.meta.kind


def _rank_cell(standing: Standing, shared: set[int]) -> str:
    if standing.reference:
        return '<td class="rank" data-value=""><span class="missing" title="reference row: shown for comparison, never ranked">ref.</span></td>'
    if standing.rank is None:
        return '<td class="rank" data-value=""><span class="missing" title="reported entries are not ranked">–</span></td>'
    better = len(standing.better)
    title = f"{better} {'entry' if better == 1 else 'entries'} significantly better on {label(RANK_METRIC)} (paired delta-method test, Holm-corrected)"
    if standing.rank in shared:
        title += "; this rank is shared"
    interval = ""
    if standing.rank_interval is not None:
        low, high = standing.rank_interval
        title += f"; 95% bootstrap rank interval {low}–{high}"
        interval = f'<span class="ci">{low}–{high}</span>' if low != high else f'<span class="ci">{low}</span>'
    css = "rank tied" if standing.rank in shared else "rank"
    return f'<td class="{css}" data-value="{standing.rank}" title="{_h(title)}">{rank_text(standing, standing.rank in shared)}{interval}</td>'


def _floor_badge(standing: Standing) -> str:
    """``floor`` on the track's floor row; ``not above floor`` on a ranked row not significantly above it."""
    if standing.floor:
        return '<span class="badge floor" title="this track\'s text-only prior (no audio): the floor of the table">floor</span>'
    above = standing.above_floor
    if above is None or above["significant"]:
        return ""
    title = f"not significantly above the floor: Δ = {above['delta'] * 100:+.1f} points, p = {above['p_value']:.3g} (Holm-corrected with the ranks)"
    return f'<span class="badge floor-mark" title="{_h(title)}">not above floor</span>'


def _in_distribution(value: bool | None) -> str:
    if value is None:
        return '<td class="num" data-value=""><span class="missing" title="not stated">—</span></td>'
    if value:
        return '<td class="num indist" data-value="1" title="trained or tuned on this benchmark\'s train split">•</td>'
    return '<td class="num" data-value="0" title="not trained on this benchmark\'s train split">–</td>'


def _gap_cell(standing: Standing) -> str:
    """The grounding gap on tag F1 (full − masked) with its interval, or — without a masked run."""
    section = (standing.results or {}).get("grounding")
    if not section:
        return '<td class="num" data-value=""><span class="missing" title="no masked-track predictions">—</span></td>'
    gap = section["metrics"]["tag_f1"]["gap"]
    title = f"p = {gap['p_value']:.3f}" if gap["p_value"] is not None else "no bootstrap"
    text = f'<span class="v">{_number("tag_f1", gap["delta"], 1)}</span>'
    if gap["ci_low"] is not None:
        text += f'<span class="ci">{_number("tag_f1", gap["ci_low"], 1)}–{_number("tag_f1", gap["ci_high"], 1)}</span>'
    return f'<td class="num" data-value="{gap["delta"]!r}" title="{title}">{text}</td>'


def _row(standing: Standing, shared: set[int]) -> str:
    meta = standing.entry.meta
    kind = meta.kind
    sub = [meta.organization, meta.base_model, meta.date]
    if meta.averaging:
        sub.append(meta.averaging)
    params = "" if meta.params_b is None else repr(meta.params_b)
    params_html = _h(params_text(meta.params_b)) or '<span class="missing">—</span>'
    cells = [
        _rank_cell(standing, shared),
        f'<td class="entry" data-value="{_h(meta.name)}"><a href="entries/{standing.slug}/index.html">{_h(meta.name)}</a>'
        f'<span class="badge {kind}">{kind}</span>' + ('<span class="badge reference">reference</span>' if meta.reference else "") + _floor_badge(standing)
        + f'<span class="sub">{" · ".join(_h(s) for s in sub)}</span></td>',
    ]
    for name in TABLE_METRICS:
        metric = standing.metrics[name]
        css = "num headline" if name == RANK_METRIC else "num"
        cells.append(f'<td class="{css}" data-value="{_sort_value(metric)}">{_value_html(name, metric, 1)}</td>')
    cells += [
        _gap_cell(standing),
        f'<td class="track" data-value="{_h(meta.track)}">{_h(meta.track)}</td>',
        f'<td class="num" data-value="{params}">{params_html}</td>',
        _in_distribution(meta.in_distribution),
    ]
    floor = ' class="floor"' if standing.floor else ""
    return f'<tr data-slug="{standing.slug}"{floor} data-kind="{_group(standing)}" data-size="{size_bin(meta.params_b)}">' + "".join(cells) + "</tr>"


def _rows(standings: list[Standing], columns: int, empty: str, shared: set[int] | None = None) -> str:
    if not standings:
        return f'<tr><td class="empty" colspan="{columns}">{empty}</td></tr>'
    return "\n".join(_row(s, shared or set()) for s in standings)


def _figures(track: str) -> str:
    figures = []
    for name, caption in PLOTS.items():
        wide = ' class="wide"' if name == "per_tag_f1.svg" else ""
        figures.append(
            f'<figure{wide}><div class="scroll"><img src="plots/{_h(track)}/{name}" alt="{_h(caption)}"></div><figcaption>{_h(caption)}</figcaption></figure>'
        )
    return '<div class="grid">' + "\n".join(figures) + "</div>"


def _page(title: str, root: str, content: str, context: Context, footer: str) -> bytes:
    return (
        _template("page.html")
        .substitute(title=_h(title), root=root, content=content, footer=footer, references_sha256=_h(context.references_sha256), scorer=_h(context.scorer))
        .encode("utf-8")
    )


def _track_section(table: TrackTable, signature: str) -> str:
    """One track's heading (name, description, recipe hash, signature), table and plots."""
    columns = 6 + len(TABLE_METRICS)
    board = table.ranked
    recipe = f" · recipe <code>{_h(table.recipe_hash)}</code>" if table.recipe_hash else ""
    floor = next((s for s in board.ranked if s.floor), None)
    if floor is None:
        floor_text = "No floor: this track has no text-only prior entry."
    else:
        below = [s for s in board.ranked if s.above_floor is not None and not s.above_floor["significant"]]
        floor_text = (
            f'Floor: <a href="entries/{floor.slug}/index.html">{_h(floor.entry.meta.name)}</a> (text-only prior, no audio). '
            f"{len(below)} of {len(board.ranked) - 1} other ranked {'entry is' if len(board.ranked) == 2 else 'entries are'} not significantly above it."
        )
    return _template("track.html").substitute(
        floor=floor_text,
        track=_h(table.track),
        description=_h(table.description),
        recipe=recipe,
        signature=_h(signature),
        headline=_h(label(RANK_METRIC)),
        header=_header(),
        columns=columns,
        counts=f"{len(board.ranked)} ranked, {len(board.references)} reference, {len(table.reported)} reported",
        verified_rows=_rows(board.ranked, columns, "No ranked entries on this track.", shared_ranks(board)),
        reference_rows=_rows(board.references, columns, "No reference rows."),
        reported_rows=_rows(table.reported, columns, "No reported entries on this track."),
        figures=_figures(table.track),
    )


def index_page(tables: list[TrackTable], signatures: dict[str, str], context: Context) -> bytes:
    content = _template("index.html").substitute(
        n=context.n,
        split=_h(context.split),
        n_boot=OPTIONS.n_boot,
        seed=OPTIONS.seed,
        tracks_list=", ".join(f'<a href="#track-{_h(t.track)}"><code>{_h(t.track)}</code></a>' for t in tables) or "none yet",
        rank_rule=_h(RULE),
        headline=_h(label(RANK_METRIC)),
        tracks="\n".join(_track_section(t, signatures[t.track]) for t in tables) or '<p class="note">No entries yet.</p>',
    )
    footer = (
        "Every verified score on this page carries the signature printed above its track's table "
        "(two results are comparable when their signatures are equal)."
    )
    return _page("Evoxtral-Bench leaderboard", "", content, context, footer)


_META_FIELDS = (
    ("organization", "Organization"),
    ("url", "URL"),
    ("base_model", "Base model"),
    ("params_b", "Parameters"),
    ("license", "License"),
    ("date", "Date"),
    ("kind", "Kind"),
    ("source", "Source"),
    ("averaging", "Averaging"),
    ("test_size", "Test utterances"),
    ("track", "Audio track"),
    ("in_distribution", "In-distribution"),
    ("reference", "Reference row"),
    ("command", "Command"),
    ("notes", "Notes"),
)


def _meta_html(standing: Standing) -> str:
    meta = standing.entry.meta
    rows = []
    for key, title in _META_FIELDS:
        value = getattr(meta, key)
        if value is None:
            continue
        if key == "url":
            shown = f'<a href="{_h(value)}" rel="nofollow noopener noreferrer">{_h(value)}</a>'
        elif key == "command":
            shown = f"<code>{_h(value)}</code>"
        elif key == "params_b":
            shown = _h(params_text(value))
        elif key == "notes":
            shown = paragraphs(value)
        elif key == "track":
            shown = f"<code>{_h(value)}</code> · {_h(track_description(value))}"
        elif key == "in_distribution":
            shown = "yes: trained or tuned on this benchmark's train split" if value else "no"
        elif key == "reference":
            if not value:
                continue
            shown = "yes: shown for comparison, never ranked"
        else:
            shown = _h(value)
        css = ' class="prose"' if key == "notes" else ""
        rows.append(f"    <dt>{title}</dt><dd{css}>{shown}</dd>")
    return "\n".join(rows)


def _table(header: list[str], rows: list[str]) -> str:
    head = "".join(f'<th scope="col">{h}</th>' for h in header)
    return f'<div class="table-wrap"><table class="data"><thead><tr>{head}</tr></thead><tbody>\n' + "\n".join(rows) + "\n</tbody></table></div>"


def _metrics_table(group: dict, *, interval: bool = True) -> str:
    rows = []
    for name, metric in group.items():
        heading = f"{label(name)} {_arrow(metric['higher_is_better'])}"
        value = _value_html(name, metric, 2, interval=False)
        ci = ""
        if metric["ci_low"] is not None and metric["defined"]:
            ci = f"{_number(name, metric['ci_low'], 2)} – {_number(name, metric['ci_high'], 2)}"
        rows.append(f"<tr><td>{heading}</td><td>{value}</td>" + (f"<td>{ci}</td>" if interval else "") + "</tr>")
    header = ["Metric", "Value (%)"] + (["95% interval"] if interval else [])
    return _table(header, rows)


def _per_tag(results: dict) -> str:
    rows = []
    for tag_label, tag in sorted(results["per_tag"].items(), key=lambda kv: (-kv[1]["support"], kv[0])):
        cells = [_value_html("p", tag["precision"], 1, interval=False), _value_html("r", tag["recall"], 1, interval=False), _value_html("f", tag["f1"], 1)]
        oov = "" if tag["canonical"] else ' class="oov"'
        rows.append(f"<tr{oov}><td>[{_h(tag_label)}]</td>" + "".join(f"<td>{c}</td>" for c in cells) + f"<td>{tag['support']}</td><td>{tag['predicted']}</td></tr>")
    return _table(["Tag", "Precision", "Recall", "F1 (95% interval)", "Support", "Predicted"], rows)


def _breakdown(groups: dict) -> str:
    rows = []
    for name, group in groups.items():
        cells = "".join(f"<td>{_value_html(m, group['metrics'][m], 1)}</td>" for m in METRIC_NAMES)
        rows.append(f"<tr><td>{_h(name)}</td><td>{group['n']}</td>{cells}</tr>")
    header = ["Group", "n"] + [f"{METRICS[m].short} {METRICS[m].arrow}" for m in METRIC_NAMES]
    return _table(header, rows)


def _grounding(section: dict) -> str:
    rows = []
    for name, g in section["metrics"].items():
        gap = g["gap"]
        ci = "" if gap["ci_low"] is None else f"{_number(name, gap['ci_low'], 2)} – {_number(name, gap['ci_high'], 2)}"
        p = "—" if gap["p_value"] is None else f"{gap['p_value']:.3f}"
        share = "—" if g["grounded_share"] is None else f"{100 * g['grounded_share']:.1f}"
        cells = [
            _value_html(name, g["full"], 2, interval=False),
            _value_html(name, g["masked"], 2, interval=False),
            f'<span class="v">{_number(name, gap["delta"], 2)}</span>',
            ci,
            p,
            share,
        ]
        rows.append(f"<tr><td>{label(name)} {_arrow(gap['higher_is_better'])}</td>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    return _table(["Metric", "Full (%)", "Masked (%)", "Gap (points)", "95% interval of gap", "p", "Grounded share (%)"], rows)


def _samples(standing: Standing, refs: ReferenceSet) -> str:
    texts = {r.id: (r.tagged_text, p) for r, p in zip(refs.rows, standing.entry.system.texts)}
    parts = []
    for side, title in (("worst", "Worst utterances by tag F1"), ("best", "Best utterances by tag F1")):
        parts.append(f"<div><h3>{title}</h3>")
        for sample in standing.samples[side]:
            reference, prediction = diff_html(*texts[sample["id"]])
            parts.append(
                f'<div class="sample"><h4>{_h(sample["id"])} · tag F1 {100 * sample["tag_f1"]:.1f} · WER {100 * sample["wer"]:.1f}</h4>'
                f'<p><span class="who">reference</span>{reference}</p><p><span class="who">prediction</span>{prediction or "<em>(empty)</em>"}</p></div>'
            )
        if not standing.samples[side]:
            parts.append('<p class="note">No utterance left to show.</p>')
        parts.append("</div>")
    return '<div class="two">' + "\n".join(parts) + "</div>"


def _details(standing: Standing, refs: ReferenceSet) -> str:
    results = standing.results
    sections = [
        (
            "Tag macro-F1 and position-aware tag F1",
            f"{_h(label(RANK_METRIC))}: the ranking metric (optimal one-to-one matching within one word gap); "
            "@0 / @1: the same word gap / within one word",
            _metrics_table(results["extras"]),
        ),
        ("Per tag", "support = reference count; the interval is for F1", _per_tag(results)),
    ]
    if results.get("grounding"):
        sections.append(
            (
                "Grounding gap",
                "the same system on the masked audio track (every audible tag taken out, the words kept); gap = full − masked, "
                "paired bootstrap; grounded share = 1 − masked / full",
                _grounding(results["grounding"]),
            )
        )
    for key, title in (("slice", "By slice"), ("domain", "By domain")):
        if key in results["breakdowns"]:
            sections.append((title, "values in %, 95% interval beneath", _breakdown(results["breakdowns"][key])))
    sections.append(("Sample predictions", "reference against prediction: <del>missing or different</del>, <ins>inserted or different</ins>; tags and CAPS emphasis count", _samples(standing, refs)))
    out = [f'<section><h2>{title} <span class="note">{note}</span></h2>\n{body}\n</section>' for title, note, body in sections]
    out.append(
        '<section><h2>Files</h2><p><a href="results.json">results.json</a> (the output of <code>evoxtral-bench score --format json</code>) · '
        '<a href="predictions.jsonl">predictions.jsonl</a> · '
        + ('<a href="predictions.masked.jsonl">predictions.masked.jsonl</a> · ' if results.get("grounding") else "")
        + f"signature <code>{_h(results['signature'])}</code></p></section>"
    )
    return "\n".join(out)


def _verified_notice(standing: Standing) -> str:
    if standing.reference:
        return '<p class="note">Verified and re-scored here, but a <strong>reference row</strong> (built from the references, not a system): shown for comparison, never ranked.</p>'
    better = ", ".join(standing.better)
    detail = f"significantly better on {_h(label(RANK_METRIC))}: {_h(better)}" if better else f"no entry is significantly better on {_h(label(RANK_METRIC))}"
    interval = ""
    if standing.rank_interval is not None:
        interval = f", 95% rank interval {standing.rank_interval[0]}–{standing.rank_interval[1]}"
    floor = ""
    if standing.floor:
        floor = " · this entry is its track's floor (the text-only prior, no audio)"
    elif standing.above_floor is not None:
        above = standing.above_floor
        verdict = "significantly above" if above["significant"] else "<strong>not</strong> significantly above"
        floor = f" · {verdict} its track's floor (the text-only prior): Δ = {above['delta'] * 100:+.1f} points, p = {above['p_value']:.3g}"
    return (
        f'<p class="note">Verified: re-scored here from its predictions · rank {standing.rank}{interval} '
        f"(1 + the number of entries significantly better, paired delta-method test with Holm correction over all pairs) · {detail}{floor}</p>"
    )


def _reported_notice(meta) -> str:
    basis = []
    if meta.averaging:
        basis.append(f"{_h(meta.averaging)} averaging")
    basis.append(f"on {meta.test_size} test utterances of the source's own bench" if meta.test_size else "on the source's own test set (size not stated)")
    return (
        '<p class="notice"><strong>Reported, not verified.</strong> These numbers are quoted from the source below ('
        + ", ".join(basis)
        + "); they were not re-scored here, carry no scoring signature, are not comparable with the verified entries "
        "and are never ranked.</p>"
    )


def entry_page(standing: Standing, refs: ReferenceSet, context: Context) -> bytes:
    meta = standing.entry.meta
    if standing.entry.verified:
        notice = _verified_notice(standing)
        metrics, details, title = _metrics_table(standing.metrics), _details(standing, refs), "Metrics"
    else:
        notice = _reported_notice(meta)
        quoted = {k: v for k, v in standing.metrics.items() if k != RANK_METRIC}
        metrics, details, title = _metrics_table(quoted, interval=False), "", "Reported metrics"
    content = _template("entry.html").substitute(
        name=_h(meta.name),
        badge=f'<span class="badge {meta.kind}">{meta.kind}</span>' + ('<span class="badge reference">reference</span>' if meta.reference else ""),
        organization=_h(meta.organization),
        notice=notice,
        meta=_meta_html(standing),
        metrics_title=title,
        metrics=metrics,
        details=details,
    )
    if standing.entry.verified:
        footer = (
            "Every score on this page carries this signature (two results are comparable when it is equal):<br>"
            f'<code class="signature">{_h(standing.results["signature"])}</code>'
        )
    else:
        footer = (
            "The numbers on this page are quoted from their source and carry no scoring signature; the verified "
            "entries of this leaderboard carry the signature of their track's table."
        )
    return _page(f"{meta.name} · Evoxtral-Bench", "../../", content, context, footer)


def render(tables: list[TrackTable], signatures: dict[str, str], refs: ReferenceSet, context: Context) -> dict[str, bytes]:
    """Relative path -> bytes for the pages and static assets (one page per entry, even for a
    reference row made from text that is shown in every track's table)."""
    files = {f"assets/{name}": _asset(f"static/{name}") for name in STATIC}
    files["index.html"] = index_page(tables, signatures, context)
    for table in tables:
        for standing in table.ranked.verified + table.reported:
            files[f"entries/{standing.slug}/index.html"] = entry_page(standing, refs, context)
    return files
