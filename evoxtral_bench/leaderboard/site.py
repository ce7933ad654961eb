"""HTML pages from ``leaderboard/templates`` (string.Template); every submitted string escaped."""

from __future__ import annotations

import html
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from string import Template

from evoxtral_bench.errors import InputError
from evoxtral_bench.leaderboard.entries import OPTIONS
from evoxtral_bench.leaderboard.plots import PLOTS
from evoxtral_bench.leaderboard.samples import diff_html
from evoxtral_bench.leaderboard.standings import Standing
from evoxtral_bench.leaderboard.ties import RULE
from evoxtral_bench.reporters import is_percent, label
from evoxtral_bench.scoring.core import ReferenceSet
from evoxtral_bench.scoring.metrics import METRIC_NAMES, METRICS

ASSETS = Path(str(resources.files("evoxtral_bench.leaderboard.assets")))
"""Templates and static files: the top-level ``leaderboard/`` folder, carried by the wheel as
the package ``evoxtral_bench.leaderboard.assets`` (see pyproject.toml)."""
STATIC = ("style.css", "leaderboard.js")


@dataclass(frozen=True)
class Context:
    """What every page shows about the benchmark run."""

    signature: str
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


def _header() -> str:
    cells = [
        '<th scope="col" data-sort="num" data-first="ascending" aria-sort="none"><button type="button">Rank</button></th>',
        '<th scope="col" class="text" data-sort="text" data-first="ascending" aria-sort="none"><button type="button">Entry</button></th>',
        '<th scope="col" data-sort="num" data-first="ascending" aria-sort="none" title="parameters, billions"><button type="button">Params (B)</button></th>',
    ]
    for name in METRIC_NAMES:
        hib = METRICS[name].higher_is_better
        title = f"{label(name)}: {'higher' if hib else 'lower'} is better"
        first = "descending" if hib else "ascending"
        cells.append(
            f'<th scope="col" data-sort="num" data-first="{first}" aria-sort="none" title="{_h(title)}">'
            f'<button type="button">{METRICS[name].short} {_arrow(hib)}</button></th>'
        )
    return "".join(cells)


def _rank_cell(standing: Standing, shared: set[int]) -> str:
    if standing.rank is None:
        return '<td class="rank" data-value=""><span class="missing" title="reported entries are not ranked">–</span></td>'
    if standing.rank in shared:
        p = standing.above["p_value"] if standing.tied else None
        title = f"statistically tied on tag F1 (p = {p:.3f} against the entry above)" if p is not None else "statistically tied on tag F1 with the entry below"
        return f'<td class="rank tied" data-value="{standing.rank}" title="{_h(title)}">={standing.rank}</td>'
    return f'<td class="rank" data-value="{standing.rank}">{standing.rank}</td>'


def _row(standing: Standing, shared: set[int]) -> str:
    meta = standing.entry.meta
    kind = meta.kind
    sub = [meta.organization, meta.base_model, meta.date]
    if meta.averaging:
        sub.append(meta.averaging)
    params = "" if meta.params_b is None else f"{meta.params_b:g}"
    params_html = params or '<span class="missing">—</span>'
    cells = [
        _rank_cell(standing, shared),
        f'<td class="entry" data-value="{_h(meta.name)}"><a href="entries/{standing.slug}/index.html">{_h(meta.name)}</a>'
        f'<span class="badge {kind}">{kind}</span><span class="sub">{" · ".join(_h(s) for s in sub)}</span></td>',
        f'<td class="num" data-value="{params}">{params_html}</td>',
    ]
    for name in METRIC_NAMES:
        metric = standing.metrics[name]
        cells.append(f'<td class="num" data-value="{_sort_value(metric)}">{_value_html(name, metric, 1)}</td>')
    return f'<tr data-slug="{standing.slug}" data-kind="{kind}" data-size="{size_bin(meta.params_b)}">' + "".join(cells) + "</tr>"


def _rows(standings: list[Standing], columns: int, empty: str) -> str:
    if not standings:
        return f'<tr><td class="empty" colspan="{columns}">{empty}</td></tr>'
    ranks = [s.rank for s in standings if s.rank is not None]
    shared = {r for r in ranks if ranks.count(r) > 1}
    return "\n".join(_row(s, shared) for s in standings)


def _figures() -> str:
    figures = []
    for name, caption in PLOTS.items():
        wide = ' class="wide"' if name == "per_tag_f1.svg" else ""
        figures.append(f'<figure{wide}><img src="plots/{name}" alt="{_h(caption)}"><figcaption>{_h(caption)}</figcaption></figure>')
    return '<div class="grid">' + "\n".join(figures) + "</div>"


def _page(title: str, root: str, content: str, context: Context) -> bytes:
    return (
        _template("page.html")
        .substitute(
            title=_h(title),
            root=root,
            content=content,
            signature=_h(context.signature),
            references_sha256=_h(context.references_sha256),
            scorer=_h(context.scorer),
        )
        .encode("utf-8")
    )


def index_page(verified: list[Standing], reported: list[Standing], context: Context) -> bytes:
    columns = 3 + len(METRIC_NAMES)
    counts = f"{len(verified)} verified, {len(reported)} reported"
    content = _template("index.html").substitute(
        n=context.n,
        split=_h(context.split),
        n_boot=OPTIONS.n_boot,
        seed=OPTIONS.seed,
        counts=counts,
        tie_rule=_h(RULE),
        header=_header(),
        columns=columns,
        verified_rows=_rows(verified, columns, "No verified entries yet."),
        reported_rows=_rows(reported, columns, "No reported entries."),
        figures=_figures(),
    )
    return _page("Evoxtral-Bench leaderboard", "", content, context)


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
    ("command", "Command"),
    ("notes", "Notes"),
)


def _meta_html(standing: Standing) -> str:
    meta = standing.entry.meta
    rows = []
    for key, field_label in _META_FIELDS:
        value = getattr(meta, key)
        if value is None:
            continue
        if key == "url":
            shown = f'<a href="{_h(value)}" rel="nofollow noopener noreferrer">{_h(value)}</a>'
        elif key == "command":
            shown = f"<code>{_h(value)}</code>"
        elif key == "params_b":
            shown = f"{value:g} B"
        else:
            shown = _h(value)
        rows.append(f"    <dt>{field_label}</dt><dd>{shown}</dd>")
    return "\n".join(rows)


def _table(header: list[str], rows: list[str]) -> str:
    head = "".join(f'<th scope="col">{h}</th>' for h in header)
    return f'<table class="data"><thead><tr>{head}</tr></thead><tbody>\n' + "\n".join(rows) + "\n</tbody></table>"


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
        ("Tag macro-F1 and position-aware tag F1", "tag F1 when the tag must sit in the same word gap (@0) or within one word (@1) of the reference", _metrics_table(results["extras"])),
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


def entry_page(standing: Standing, refs: ReferenceSet, context: Context) -> bytes:
    meta = standing.entry.meta
    if standing.entry.verified:
        notice = f"Verified: re-scored here from its predictions · rank {standing.rank} among the verified entries"
        if standing.above is not None:
            gap = "statistically tied" if standing.tied else "a significant gap"
            notice += f" · tag F1 {100 * standing.above['delta']:.2f} points below the entry above it (paired bootstrap p = {standing.above['p_value']:.3f}: {gap})"
        notice = f'<p class="note">{notice}</p>'
        metrics, details, title = _metrics_table(standing.metrics), _details(standing, refs), "Metrics"
    else:
        notice = (
            '<p class="notice"><strong>Reported, not verified.</strong> These numbers are quoted from the source below'
            + (f" ({_h(meta.averaging)})" if meta.averaging else "")
            + "; they were not re-scored here, so they are not comparable with the verified entries and are never ranked.</p>"
        )
        metrics, details, title = _metrics_table(standing.metrics, interval=False), "", "Reported metrics"
    content = _template("entry.html").substitute(
        name=_h(meta.name),
        badge=f'<span class="badge {meta.kind}">{meta.kind}</span>',
        organization=_h(meta.organization),
        notice=notice,
        meta=_meta_html(standing),
        metrics_title=title,
        metrics=metrics,
        details=details,
    )
    return _page(f"{meta.name} · Evoxtral-Bench", "../../", content, context)


def render(verified: list[Standing], reported: list[Standing], refs: ReferenceSet, context: Context) -> dict[str, bytes]:
    """Relative path -> bytes for the pages and static assets."""
    files = {f"assets/{name}": _asset(f"static/{name}") for name in STATIC}
    files["index.html"] = index_page(verified, reported, context)
    for standing in verified + reported:
        files[f"entries/{standing.slug}/index.html"] = entry_page(standing, refs, context)
    return files
