"""The README's recipe table (the paper's Table 2 analogue) computed from committed entries.

    python scripts/recipe_table.py --prior whisper-base-text-prior-neural-v1 --base whisper-base-neural-v1 \
        --sft whisper-base-sft-neural-v1-s1 --raft whisper-base-raft-neural-v1-s1 \
        --sft whisper-base-sft-neural-v1-s2 --raft whisper-base-raft-neural-v1-s2 --out table.md

Every entry is a folder of ``--root`` (default ``submissions/``) holding ``meta.yaml`` and
``predictions.jsonl`` (and ``predictions.masked.jsonl`` for the grounding gap), scored on the
shipped test references of its ``track`` with the leaderboard's options (1000 resamples,
seed 0, 95% intervals) through the package's API (``evoxtral_bench.score`` / ``compare``).
The i-th ``--raft`` was trained from the i-th ``--sft`` (the same seed). Printed as Markdown:

1. each entry's headline (the track's: tag F1 pos on v1 tracks, anchored on v2) and WER, with
   intervals, and its grounding gap (tag F1 full − masked, paired interval, p) where it has
   masked predictions;
2. paired comparisons on the same resamples: each SFT seed − the text prior, − the base model;
   each RAFT seed − its SFT seed; then RAFT − SFT over seeds: the mean of the per-seed Δ and
   their spread (sample standard deviation, min and max), and the seeds' mean headline each.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import evoxtral_bench  # noqa: E402
from evoxtral_bench.leaderboard.meta import read_meta  # noqa: E402
from evoxtral_bench.scoring.metrics import headline  # noqa: E402
from evoxtral_bench.scoring.options import options_from  # noqa: E402
from evoxtral_bench.scoring.submission import Problems  # noqa: E402

PREDICTIONS, MASKED = "predictions.jsonl", "predictions.masked.jsonl"


def _track(folder: Path) -> str:
    problems = Problems()
    meta = read_meta(folder / "meta.yaml", str(folder / "meta.yaml"), problems)
    if meta is None:
        raise evoxtral_bench.InputError(f"{folder}/meta.yaml: {problems.errors[0].message if problems.errors else 'not readable'}")
    return meta.track


GAP_METRIC = "tag_f1"
"""The metric of the grounding gap column (the package reports the gap for tag F1 and emphasis F1)."""


def _interval(low: float | None, high: float | None, signed: bool = False) -> str:
    if low is None or high is None:
        return ""
    f = "{:+.2f}" if signed else "{:.2f}"
    return f" [{f.format(100 * low)}, {f.format(100 * high)}]"


def _estimate(e) -> str:  # noqa: ANN001 (a results.Estimate, fractions shown in %)
    return f"{100 * e.value:.2f}{_interval(e.ci_low, e.ci_high)}"


def _delta(d) -> str:  # noqa: ANN001 (a results.Delta, fractions shown in points)
    p = "" if d.p_value is None else f", p = {d.p_value:.3f}"
    return f"{100 * d.delta:+.2f}{_interval(d.ci_low, d.ci_high, signed=True)}{p}"


def build(root: Path, *, prior: str | None, base: str | None, sft: list[str], raft: list[str]) -> str:
    """The Markdown tables for these entries (slugs under ``root``)."""
    if raft and len(raft) != len(sft):
        raise evoxtral_bench.InputError(f"--raft: {len(raft)} given for {len(sft)} --sft; give one RAFT entry per SFT seed, in the same order")
    slugs = [s for s in (base, prior, *sft, *raft) if s]
    tracks = {slug: _track(root / slug) for slug in slugs}
    if len(set(tracks.values())) != 1:
        raise evoxtral_bench.InputError(f"the entries are on different tracks ({tracks}); compare entries of one track")
    track = next(iter(tracks.values()))
    metric = headline(options_from(track=track).version).name
    rows = [("base", base), ("text prior", prior)] + [(f"SFT seed {i + 1}", s) for i, s in enumerate(sft)] + [(f"RAFT seed {i + 1}", s) for i, s in enumerate(raft)]
    rows = [(name, slug) for name, slug in rows if slug]

    def path(slug: str, name: str = PREDICTIONS) -> str:
        return str(root / slug / name)

    results = {}
    for slug in dict.fromkeys(slugs):
        masked = path(slug, MASKED) if (root / slug / MASKED).is_file() else None
        results[slug] = evoxtral_bench.score(predictions=path(slug), masked=masked, track=track)
    lines = [
        f"Track `{track}`, test split, headline `{metric}`; values in %, 95% bootstrap intervals (1,000 resamples, seed 0).",
        "",
        f"| entry | | {metric} ↑ | WER ↓ | grounding gap ({GAP_METRIC}, full − masked) |",
        "|---|---|---|---|---|",
    ]
    for name, slug in rows:
        r = results[slug]
        gap = _delta(r.grounding[GAP_METRIC].gap) if r.grounding is not None else "no masked predictions"
        lines.append(f"| {name} | `{slug}` | {_estimate(r[metric])} | {_estimate(r['wer'])} | {gap} |")

    def compare(a: str, b: str):  # noqa: ANN202
        return evoxtral_bench.compare(a=path(a), b=path(b), track=track)

    lines += ["", f"Paired comparisons (same resamples), Δ = A − B in points of `{metric}` and of WER:", "", "| A − B | Δ headline | Δ WER |", "|---|---|---|"]
    per_seed = []
    for i, s in enumerate(sft):
        for name, other in (("text prior", prior), ("base", base)):
            if other:
                c = compare(s, other)
                lines.append(f"| SFT seed {i + 1} − {name} | {_delta(c[metric])} | {_delta(c['wer'])} |")
        if raft:
            c = compare(raft[i], s)
            per_seed.append(100 * c[metric].delta)
            lines.append(f"| RAFT seed {i + 1} − SFT seed {i + 1} | {_delta(c[metric])} | {_delta(c['wer'])} |")
    if per_seed:
        mean = statistics.mean(per_seed)
        spread = f"sd {statistics.stdev(per_seed):.2f}, " if len(per_seed) > 1 else "one seed, no sd; "
        sft_mean = statistics.mean(100 * results[s][metric].value for s in sft)
        raft_mean = statistics.mean(100 * results[s][metric].value for s in raft)
        lines += [
            "",
            f"RAFT − SFT over {len(per_seed)} seed(s): mean Δ {mean:+.2f} points ({spread}min {min(per_seed):+.2f}, max {max(per_seed):+.2f}); "
            f"mean {metric}: SFT {sft_mean:.2f}, RAFT {raft_mean:.2f}.",
        ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", default=str(ROOT / "submissions"), metavar="DIR", help="folder of entries (default: submissions/)")
    parser.add_argument("--prior", metavar="SLUG", help="the text-only prior's entry")
    parser.add_argument("--base", metavar="SLUG", help="the base model's entry (no adapter)")
    parser.add_argument("--sft", action="append", default=[], metavar="SLUG", help="an SFT entry, one per seed (repeatable)")
    parser.add_argument("--raft", action="append", default=[], metavar="SLUG", help="the RAFT entry trained from the SFT entry at the same position (repeatable)")
    parser.add_argument("--out", metavar="FILE", help="also write the Markdown to FILE")
    args = parser.parse_args(argv)
    try:
        if not args.sft:
            raise evoxtral_bench.InputError("--sft: give at least one SFT entry")
        text = build(Path(args.root), prior=args.prior, base=args.base, sft=args.sft, raft=args.raft)
    except evoxtral_bench.InputError as exc:
        print(f"recipe_table: error: {exc}", file=sys.stderr)
        return 2
    sys.stdout.write(text)
    if args.out:
        evoxtral_bench.write_text(Path(args.out), text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
