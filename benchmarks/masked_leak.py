"""The masked leak of systems' masked-track predictions (docs/spec.md §10.4).

    python benchmarks/masked_leak.py --track neural-v2 submissions/*/predictions.masked.jsonl
    python benchmarks/masked_leak.py --track neural-v2 --references refs.jsonl A.masked.jsonl B.masked.jsonl

For each file: the share of reference tags with a predicted tag within ±1 word gap (at events),
the same share at the utterances' other word gaps, and their difference; then the other gaps'
share matched to the events' punctuation classes (start, sentence end, clause mark, none), and
that difference; each with a 95% bootstrap interval over scripts (a script's renderings resample together) and its paired p. Without
``--references`` the track's shipped test references; with it, those rows (e.g. the clips of an
``evoxtral-bench run --limit`` try). A prediction missing for an id counts as an empty text.
Nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import evoxtral_bench
from evoxtral_bench.scoring.leak import masked_leak


def _predictions(path: Path) -> dict[str, str]:
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = json.loads(line)
            out[record["id"]] = record["prediction"]
    return out


def _share(estimate, hits: int, n: int) -> str:
    return f"{100 * estimate.value:5.1f}% [{100 * estimate.ci_low:5.1f}, {100 * estimate.ci_high:5.1f}] ({hits}/{n})"


def _signed(e) -> str:
    return f"{100 * e.value:+.1f} [{100 * e.ci_low:+.1f}, {100 * e.ci_high:+.1f}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="+", type=Path, help="masked-track predictions JSONL ({id, prediction} per line)")
    parser.add_argument("--track", required=True, help="the full track the files' masked twin belongs to (e.g. neural-v2)")
    parser.add_argument("--references", type=Path, help="reference rows (default: the track's shipped test references)")
    parser.add_argument("--bootstrap", type=int, default=1000)
    args = parser.parse_args()
    missing = [str(path) for path in args.files if not path.is_file()]
    if missing:
        parser.error(f"no such file: {', '.join(missing)} (give masked-track predictions JSONL files)")
    refs = evoxtral_bench.load_references(args.references, split="test", track=args.track)
    texts = [r.tagged_text for r in refs.rows]
    groups = [r.group or r.id for r in refs.rows]
    print(f"{args.track}: {len(texts)} utterances, {len(set(groups))} scripts; B = {args.bootstrap}\n")
    print("| masked predictions | at events | at other gaps | difference [95% CI] | p | at other gaps of the same punctuation | matched difference | p |")
    print("|---|---|---|---|---|---|---|---|")
    for path in args.files:
        found = _predictions(path)
        leak = masked_leak(predictions=[found.get(r.id, "") for r in refs.rows], references=texts, groups=groups, n_boot=args.bootstrap)
        d, m, matched = leak.difference, leak.matched_difference, leak.at_matched_gaps
        print(
            f"| {path} | {_share(leak.at_events, leak.event_hits, leak.events)} | {_share(leak.at_other_gaps, leak.gap_hits, leak.gaps)} "
            f"| {_signed(d)} | {leak.p_value:.3g} | {100 * matched.value:.1f}% [{100 * matched.ci_low:.1f}, {100 * matched.ci_high:.1f}] "
            f"| {_signed(m)} | {leak.matched_p_value:.3g} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
