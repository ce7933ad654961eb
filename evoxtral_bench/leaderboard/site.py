"""HTML pages from the Jinja2 templates in ``leaderboard/templates``, with autoescaping: every
value a template inserts is HTML-escaped unless it is :class:`markupsafe.Markup` (made only by
:func:`paragraphs` and :func:`.samples.diff_html`, which escape what they wrap)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup, escape

from evoxtral_bench.errors import InputError
from evoxtral_bench.files import compact_json, sha256_bytes
from evoxtral_bench.leaderboard import pairwise, plots
from evoxtral_bench.leaderboard.entries import OPTIONS
from evoxtral_bench.leaderboard.plots import captions, rank_text, shared_ranks
from evoxtral_bench.leaderboard.ranking import RULE, rank_metric
from evoxtral_bench.leaderboard.samples import diff_html
from evoxtral_bench.leaderboard.standings import Standing, TrackTable, reported_order, track_description
from evoxtral_bench.reporters import is_percent, label
from evoxtral_bench.scoring.metrics import METRIC_NAMES, METRICS, MetricDef, family_headlines

_CHECKOUT = Path(__file__).resolve().parents[2] / "leaderboard"
_IN_CHECKOUT = (_CHECKOUT.parent / "pyproject.toml").is_file() and (_CHECKOUT / "templates").is_dir()
ASSETS = _CHECKOUT if _IN_CHECKOUT else Path(str(resources.files("evoxtral_bench.leaderboard.assets")))
"""Templates and static files: the top-level ``leaderboard/`` folder, carried by the wheel as
the package ``evoxtral_bench.leaderboard.assets`` (see pyproject.toml). A source checkout uses
its own folder (an editable install elsewhere would otherwise map the package to its folder)."""
TEMPLATES = ASSETS / "templates"
STATIC = ("style.css", "leaderboard.js")


def table_metrics(version: int) -> tuple[str, ...]:
    """The metric columns of a track's table on benchmark ``version`` (the rest are on each entry's
    page and in the downloads): its ranking metric first, then (version 2) the headline of each tag family."""
    return (rank_metric(version).name, *(m.name for m in family_headlines(version)), "tag_f1", "wer", "emphasis_f1", "tag_hallucination_rate")


REPORTED_METRICS: tuple[str, ...] = table_metrics(1)[1:]
"""The metric columns of the reported entries' table: a track table's, less the ranking metric,
which no source quotes."""


@dataclass(frozen=True)
class Context:
    """What every page shows about the benchmark run: the sha256 of the references whose scores
    it shows (each track's table names its own) and the scorer."""

    references_sha256: tuple[str, ...]
    scorer: str


def _asset(relative: str) -> bytes:
    path = ASSETS / relative
    if not path.is_file():
        raise InputError(f"{path}: leaderboard template not found; build the site from a source checkout (pip install -e .)")
    return path.read_bytes()


def params_text(params_b: float | None) -> str:
    """Parameters with three significant digits, in millions under 1 B: ``39.3 M``, ``4.8 B``."""
    if params_b is None:
        return ""
    return f"{1000 * params_b:.3g} M" if params_b < 1 else f"{params_b:.3g} B"


def paragraphs(text: str) -> Markup:
    """Free text as HTML paragraphs: blank lines part them, other line breaks are spaces, and
    ```code``` spans become ``<code>`` (everything else escaped)."""
    out = []
    for block in re.split(r"\n\s*\n", text.strip()):
        joined = " ".join(block.split())
        parts = joined.split("`")
        if len(parts) % 2 == 0:  # an unmatched backtick: no code spans
            parts = [joined]
        body = Markup("").join(Markup("<code>{}</code>").format(p) if i % 2 else escape(p) for i, p in enumerate(parts))
        out.append(Markup("<p>{}</p>").format(body))
    return Markup("").join(out)


def size_bin(params_b: float | None) -> str:
    if params_b is None:
        return "unknown"
    return "lt1" if params_b < 1 else "1to10" if params_b <= 10 else "gt10"


def _number(name: str, value: float, digits: int) -> str:
    return f"{100 * value:.{digits}f}" if is_percent(name) else f"{value:.{digits}f}"


def _signed(delta: float) -> str:
    """A difference of the ranking metric (an F1, in every benchmark version) in points with its
    sign: ``+12.3``, ``−4.0``, ``0.0``."""
    text = f"{100 * abs(delta):.1f}"
    return text if float(text) == 0 else ("+" if delta > 0 else "−") + text


def _p_text(p: float) -> str:
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def _sort_value(metric: dict) -> str:
    return "" if metric["value"] is None or not metric["defined"] else repr(metric["value"])


def _th(text: str, sort: str, first: str, title: str | None = None, css: str | None = None, higher_is_better: bool | None = None) -> dict:
    """A sortable header cell: text, sort type, first sort direction, title, class and (metric
    columns) whether higher is better."""
    return {"text": text, "sort": sort, "first": first, "title": title, "css": css, "higher_is_better": higher_is_better}


def _columns(version: int) -> list[dict]:
    """The header cells of a track's table on benchmark ``version``."""
    metric = rank_metric(version)
    cells = [_th("Rank", "num", "ascending"), _th("Entry", "text", "ascending", css="text")]
    for name in table_metrics(version):
        hib = METRICS[name].higher_is_better
        title = f"{label(name)}: {'higher' if hib else 'lower'} is better" + (" · the ranking metric" if name == metric.name else "")
        cells.append(_th(METRICS[name].short, "num", "descending" if hib else "ascending", title, "headline" if name == metric.name else None, hib))
    return cells + [
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


def _reported_columns() -> list[dict]:
    """The header of the reported entries' table: entry, source, test size, averaging, track,
    :data:`REPORTED_METRICS` as quoted, parameters."""
    cells = [
        _th("Entry", "text", "ascending", css="text"),
        _th("Source", "text", "ascending", "where the numbers are quoted from", "text"),
        _th("Test size", "num", "descending", "utterances of the source's own test set (n)"),
        _th("Averaging", "text", "ascending", "how the source averaged its scores (e.g. a mean of per-utterance scores)", "text"),
        _th("Track", "text", "ascending", "the audio the source's numbers were measured on", "text"),
    ]
    for name in REPORTED_METRICS:
        hib = METRICS[name].higher_is_better
        cells.append(_th(METRICS[name].short, "num", "descending" if hib else "ascending", f"{label(name)}, as quoted: {'higher' if hib else 'lower'} is better", None, hib))
    return cells + [_th("Params", "num", "ascending", "parameters (M: millions, B: billions)")]


def _group(standing: Standing) -> str:
    """The table section of a row: verified (ranked), reference (verified reference rows) or reported."""
    return "reference" if standing.reference and standing.entry.verified else standing.entry.meta.kind


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
    ("machine", "Machine"),
    ("notes", "Notes"),
)


def _meta_rows(standing: Standing) -> list[tuple[str, str, object]]:
    """(field, title, value shown) of the entry's stated metadata, in :data:`_META_FIELDS` order."""
    meta = standing.entry.meta
    rows = []
    for key, title in _META_FIELDS:
        value = getattr(meta, key)
        if value is None or (key == "reference" and not value):
            continue
        if key == "params_b":
            value = params_text(value)
        elif key == "in_distribution":
            value = "yes: trained or tuned on this benchmark's train split" if value else "no"
        elif key == "reference":
            value = "yes: shown for comparison, never ranked"
        rows.append((key, title, value))
    return rows


def _per_tag(results: dict) -> list[tuple[str, dict]]:
    """The per-tag rows, most supported first."""
    return sorted(results["per_tag"].items(), key=lambda kv: (-kv[1]["support"], kv[0]))


@lru_cache(maxsize=1)
def _environment() -> Environment:
    if not TEMPLATES.is_dir():
        raise InputError(f"{TEMPLATES}: leaderboard templates not found; build the site from a source checkout (pip install -e .)")
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
    )
    env.filters["repr"] = repr
    env.globals.update(
        number=_number,
        label=label,
        sort_value=_sort_value,
        size_bin=size_bin,
        params_text=params_text,
        paragraphs=paragraphs,
        rank_text=rank_text,
        shared_ranks=shared_ranks,
        track_description=track_description,
        diff_html=diff_html,
        signed=_signed,
        p_text=_p_text,
        zip=zip,
        group=_group,
        per_tag=_per_tag,
        table_view=table_view,
        narrow=plots.narrow,
        narrow_below=plots.NARROW_BELOW_PX,
        narrow_fits=plots.NARROW_FITS,
        plot_keys=plots.keys,
        plot_rows=plots.shown,
        plot_max=plots.PLOT_MAX,
        reported_header=_reported_columns(),
        reported_metrics=REPORTED_METRICS,
        breakdown_metrics=METRIC_NAMES,
        breakdown_header=[f"{METRICS[m].short} {METRICS[m].arrow}" for m in METRIC_NAMES],
    )
    return env


def ranked_by(metric: MetricDef) -> dict:
    """What a page says about its table's ranking metric: ``rank_metric`` (name), ``headline``
    (label), ``headline_short``."""
    return {"rank_metric": metric.name, "headline": label(metric.name), "headline_short": metric.short}


def table_view(table: TrackTable, references: dict) -> dict:
    """What track.html needs beyond the table: its ranking metric (:func:`ranked_by`), metric
    columns, header, column count, plot captions and ``references`` (:func:`.build.references_info`)."""
    metric = table.metric
    shown = table_metrics(table.version)
    return ranked_by(metric) | {
        "metrics": shown, "header": _columns(table.version), "columns": 6 + len(shown), "plots": captions(metric), "references": references,
    }


def _render(template: str, **values: object) -> bytes:
    return _environment().get_template(template).render(**values).encode("utf-8")


def index_page(tables: list[TrackTable], signatures: dict[str, str], references: dict[str, dict], context: Context) -> bytes:
    return _render(
        "index.html",
        title="Evoxtral-Bench leaderboard",
        root="",
        context=context,
        tables=tables,
        signatures=signatures,
        references=references,
        reported=reported_order(list({s.slug: s for t in tables for s in t.reported}.values())),
        n_boot=OPTIONS.n_boot,
        seed=OPTIONS.seed,
        rank_rule=RULE,
    )


def compare_page(table: TrackTable, signature: str, context: Context) -> bytes:
    """The track's matrix of paired differences (:mod:`.pairwise`)."""
    return _render(
        "compare.html",
        title=f"Compare · {table.track} · Evoxtral-Bench",
        root="../",
        context=Context((table.refs.sha256,), context.scorer),
        t=table,
        rows=pairwise.matrix(table.ranked),
        neighbours=pairwise.neighbours(table.ranked) if len(table.ranked.ranked) > pairwise.MATRIX_MAX else [],
        verdict=pairwise.verdict,
        names={s.slug: s.entry.meta.name for s in table.ranked.ranked},
        shared=shared_ranks(table.ranked),
        signature=signature,
        rank_rule=RULE,
        **ranked_by(table.metric),
    )


def compare_href(track: str) -> str:
    """A track's compare view, relative to the site's root."""
    return f"compare/{track}.html"


Remember = Callable[[str, Callable[[], str]], str]
"""``remember(key, make)``: the text stored under ``key`` by an earlier build, or ``make()`` (then stored)."""


def _fresh(key: str, make: Callable[[], str]) -> str:
    return make()


@lru_cache(maxsize=1)
def templates_version() -> str:
    """What renders a page: the templates, this package's leaderboard code and the jinja2 version."""
    from importlib.metadata import version

    digest = hashlib.sha256(f"jinja2 {version('jinja2')}\0".encode())
    for folder in (TEMPLATES, Path(__file__).parent):
        for path in sorted(p for p in folder.iterdir() if p.suffix in (".html", ".py")):
            digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def entry_body(standing: Standing, table: TrackTable, scorer: str, remember: Remember = _fresh, made_of: str | None = None) -> Markup:
    """The part of an entry's page that depends on the entry alone (entry_body.html): about,
    metrics, per tag, grounding, breakdowns, samples, files. Kept by ``remember`` under the sha256
    of everything it shows, so that adding an entry to a table of a thousand re-renders one body;
    ``made_of`` (the key of the cached score: everything its results, samples and texts are
    made of) stands for those in the digest."""
    wanted = {sample["id"] for side in (standing.samples or {}).values() for sample in side}
    texts = {r.id: (r.tagged_text, p) for r, p in zip(standing.entry.refs.rows, standing.entry.system.texts) if r.id in wanted} if standing.entry.verified else {}
    values = {
        "s": standing, "texts": texts, "meta_rows": _meta_rows(standing),
        "quoted": {k: v for k, v in standing.metrics.items() if k != table.metric.name}, **ranked_by(table.metric),
    }
    shown = {
        "templates": templates_version(), "scorer": scorer, "verified": standing.entry.verified,
        **({"made_of": made_of} if made_of else {"results": standing.results, "samples": standing.samples, "metrics": standing.metrics, "texts": texts}),
        "meta_rows": [[k, t, str(v)] for k, t, v in values["meta_rows"]], "ranked_by": ranked_by(table.metric),
    }
    key = sha256_bytes(compact_json(shown).encode("utf-8"))
    return Markup(remember(f"entry-body:{key}", lambda: _environment().get_template("entry_body.html").render(**values)))


def entry_page(
    standing: Standing, table: TrackTable, context: Context, compared: Sequence[tuple[str, bool]] = (), remember: Remember = _fresh, made_of: str | None = None
) -> bytes:
    """An entry's page in the terms of ``table``, the first that shows it (its references, those a
    verified entry is scored on, and its ranking metric); ``compared``: (track, whether ranked
    there) of every table that shows it. Its :func:`entry_body` goes through ``remember``."""
    return _render(
        "entry.html",
        title=f"{standing.entry.meta.name} · Evoxtral-Bench",
        root="../../",
        context=Context((table.refs.sha256,), context.scorer),
        s=standing,
        body=entry_body(standing, table, context.scorer, remember, made_of),
        compared=[(track, compare_href(track), ranked) for track, ranked in compared],
        **ranked_by(table.metric),
    )


def render(
    tables: list[TrackTable], signatures: dict[str, str], references: dict[str, dict], context: Context, remember: Remember = _fresh, made_of: dict[str, str] | None = None
) -> dict[str, bytes]:
    """Relative path -> bytes for the pages and static assets: the index, one compare view per
    track and one page per entry (from the first table that shows it; a reference row made from
    text is shown in every table on its references), which links to the compare view of every
    track whose table shows it; ``remember`` keeps the entry pages' bodies (:func:`entry_body`),
    ``made_of`` has each verified entry's score key (slug -> key)."""
    files = {f"assets/{name}": _asset(f"static/{name}") for name in STATIC}
    files["index.html"] = index_page(tables, signatures, references, context)
    compared: dict[str, list[tuple[str, bool]]] = {}
    for table in tables:
        files[compare_href(table.track)] = compare_page(table, signatures[table.track], context)
        ranked = {s.slug for s in table.ranked.ranked}
        for standing in table.ranked.verified + table.reported:
            compared.setdefault(standing.slug, []).append((table.track, standing.slug in ranked))
    for table in tables:
        for standing in table.ranked.verified + table.reported:
            path = f"entries/{standing.slug}/index.html"
            if path not in files:
                files[path] = entry_page(standing, table, context, compared[standing.slug], remember, (made_of or {}).get(standing.slug))
    return files
