"""Reporters: results as a text table, Markdown or JSON (a registry whose names are the
CLI's ``--format`` choices), and problems as text or JSON. Labels, units and directions are
read from the metric definitions (:data:`~evoxtral_bench.scoring.metrics.METRICS`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from evoxtral_bench.files import json_text
from evoxtral_bench.scoring.metrics import METRICS
from evoxtral_bench.scoring.submission import Problem

MAX_TEXT_PROBLEMS = 50


def label(name: str) -> str:
    """A metric's display label (the name itself for per-tag scores)."""
    return METRICS[name].label if name in METRICS else name


def is_percent(name: str) -> bool:
    """Whether a metric is shown ×100, as % (a fraction) rather than as is (a distance in words)."""
    return name not in METRICS or METRICS[name].unit == "fraction"


to_json = json_text


def _arrow(higher_is_better: bool) -> str:
    return "↑" if higher_is_better else "↓"


def _num(name: str, value: float | None) -> str:
    if value is None:
        return "—"
    return f"{100 * value:.2f}" if is_percent(name) else f"{value:.2f}"


def _interval(name: str, entry: dict, lo_key: str = "ci_low", hi_key: str = "ci_high") -> str:
    if entry.get(lo_key) is None:
        return ""
    return f"[{_num(name, entry[lo_key])}, {_num(name, entry[hi_key])}]"


def _value(name: str, entry: dict) -> str:
    text = _num(name, entry["value"])
    return text if entry["defined"] else f"{text} (undefined)"


def _rows(results: dict) -> list[tuple[str, str, str]]:
    rows = []
    for group in ("metrics", "extras"):
        for name, entry in results[group].items():
            rows.append((f"{label(name)} {_arrow(entry['higher_is_better'])}", _value(name, entry), _interval(name, entry)))
    return rows


def _grid(header: tuple[str, ...], rows: list[tuple[str, ...]], markdown: bool) -> str:
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
        lines += ["| " + " | ".join(r) + " |" for r in rows]
        return "\n".join(lines)
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    fmt = lambda r: "  ".join(str(x).ljust(w) for x, w in zip(r, widths)).rstrip()  # noqa: E731
    return "\n".join([fmt(header), fmt(tuple("-" * w for w in widths))] + [fmt(r) for r in rows])


def _ci_label(results: dict) -> str:
    boot = results["config"]["bootstrap"]
    return f"{100 * boot['ci']:g}% CI" if boot["n"] else "CI (no bootstrap)"


def _versions(results: dict) -> str:
    """The header's two versions, said apart: the benchmark's (bumped when a number's meaning
    changes) and the package's that scored it (the signature's ``version:`` field)."""
    package = dict(part.split(":", 1) for part in results["signature"].split("|")[1:])["version"]
    return f"Evoxtral-Bench benchmark v{results['benchmark']['version']} (scored by evoxtral-bench {package})"


def score_report(results: dict, *, markdown: bool = False) -> str:
    """The human-readable score: the seven metrics and extras, per-tag table, signature."""
    bench, sub, boot = results["benchmark"], results["submission"], results["config"]["bootstrap"]
    head = (
        f"{_versions(results)} · split {bench['split']} · track {results['config']['track']} · n = {bench['n']} · {sub['path']}\n"
        f"values in % (except offsets); {_ci_label(results)} from {boot['n']} bootstrap resamples, seed {boot['seed']}"
    )
    if results["config"]["legacy"]:
        head += "\nLEGACY mode: per-utterance averages with the paper's conventions (docs/spec.md §5)"
    body = _grid(("metric", "value", _ci_label(results)), _rows(results), markdown)
    tags = sorted(results["per_tag"].items(), key=lambda kv: (-kv[1]["support"], kv[0]))
    tag_rows = [
        (
            label + ("" if t["canonical"] else " (OOV)"),
            _value("p", t["precision"]),
            _value("r", t["recall"]),
            _value("f", t["f1"]),
            _interval("f", t["f1"]),
            str(t["support"]),
            str(t["predicted"]),
        )
        for label, t in tags
    ]
    per_tag = _grid(("tag", "P", "R", "F1", f"F1 {_ci_label(results)}", "support", "predicted"), tag_rows, markdown)
    notes = []
    if sub["missing"]:
        notes.append(f"{sub['missing']} ids had no prediction and were scored as empty")
    if sub.get("malformed_spans"):
        notes.append(f"{sub['malformed_spans']} malformed tag spans scored as punctuation (see the warnings; --strict refuses them)")
    if sub["oov_tags"]:
        notes.append(f"{sub['oov_tags']} out-of-vocabulary tags: " + ", ".join(f"[{k}]×{v}" for k, v in sub["oov_labels"].items()))
    parts = [head, "", body, "", "Per tag (support = reference count):", per_tag]
    if results.get("grounding"):
        parts += ["", *grounding_report(results, markdown=markdown)]
    if notes:
        parts += [""] + [f"note: {n}" for n in notes]
    parts += ["", f"signature: {results['signature']}"]
    return "\n".join(parts) + "\n"


def grounding_report(results: dict, *, markdown: bool = False) -> list[str]:
    """Lines of the grounding section: each metric on the full and the masked track, the paired
    gap full − masked with its interval and p-value, and the grounded share 1 − masked / full."""
    section = results["grounding"]
    ci = f"{100 * results['config']['bootstrap']['ci']:g}% CI of gap"
    rows = []
    for name, g in section["metrics"].items():
        gap = g["gap"]
        share = "—" if g["grounded_share"] is None else f"{100 * g['grounded_share']:.1f}"
        rows.append(
            (
                f"{label(name)} {_arrow(gap['higher_is_better'])}",
                _value(name, g["full"]),
                _value(name, g["masked"]),
                ("+" if gap["delta"] > 0 else "") + _num(name, gap["delta"]),
                _interval(name, gap),
                "—" if gap["p_value"] is None else f"{gap['p_value']:.4f}",
                share,
            )
        )
    full = results["config"]["track"]
    head = f"Grounding (full track {full} vs masked track {section['track']}, {section['masked_submission']['path']}; paired bootstrap):"
    return [head, _grid(("metric", "full", "masked", "gap", ci, "p", "grounded share %"), rows, markdown)]


def compare_report(results: dict, *, markdown: bool = False) -> str:
    """Δ = A − B, its interval and the paired-bootstrap p-value for each metric."""
    path_a, path_b = results["a"]["path"], results["b"]["path"]
    ci = f"{100 * results['config']['bootstrap']['ci']:g}% CI of Δ"
    rows = []
    for name, e in results["metrics"].items():
        # as in `score`: an undefined value is marked, and a difference with it means nothing
        value_a = _value(name, {"value": e["a"], "defined": e["a_defined"]})
        value_b = _value(name, {"value": e["b"], "defined": e["b_defined"]})
        if e["defined"]:
            delta, interval = ("+" if e["delta"] > 0 else "") + _num(name, e["delta"]), _interval(name, e)
            p = "—" if e["p_value"] is None else f"{e['p_value']:.4f}"
        else:
            delta, interval, p = "undefined", "", "—"
        rows.append((f"{label(name)} {_arrow(e['higher_is_better'])}", value_a, value_b, delta, interval, p))
    head = f"{_versions(results)}\nA = {path_a}\nB = {path_b}\ntrack {results['config']['track']} · paired bootstrap, {results['config']['bootstrap']['n']} resamples, seed {results['config']['bootstrap']['seed']}"
    body = _grid(("metric", "A", "B", "Δ (A−B)", ci, "p"), rows, markdown)
    return f"{head}\n\n{body}\n\nsignature: {results['signature']}\n"


@dataclass(frozen=True)
class Reporter:
    """How one ``--format`` writes a results document and a comparison document."""

    score: Callable[[dict], str]
    compare: Callable[[dict], str]


REPORTERS: dict[str, Reporter] = {
    "table": Reporter(score_report, compare_report),
    "markdown": Reporter(lambda d: score_report(d, markdown=True), lambda d: compare_report(d, markdown=True)),
    "json": Reporter(to_json, to_json),
}
"""The results reporters by name (the ``--format`` choices of ``score`` and ``compare``)."""


def problems_text(problems: list[Problem], **summary: object) -> str:
    """At most 50 problems, one ``file:line: field: message`` per line (``summary`` is unused)."""
    lines = [str(p) for p in problems[:MAX_TEXT_PROBLEMS]]
    if len(problems) > MAX_TEXT_PROBLEMS:
        lines.append(f"... and {len(problems) - MAX_TEXT_PROBLEMS} more (use --format json to see all)")
    return "\n".join(lines) + ("\n" if lines else "")


def problems_json(problems: list[Problem], **summary: object) -> str:
    errors = [p.as_dict() for p in problems if p.severity == "error"]
    warnings = [p.as_dict() for p in problems if p.severity == "warning"]
    return to_json({"valid": not errors, **summary, "errors": errors, "warnings": warnings})


PROBLEM_REPORTERS: dict[str, Callable[..., str]] = {"text": problems_text, "json": problems_json}
"""The problem reporters by name (the ``--format`` choices of ``validate`` and ``leaderboard check``)."""
