"""What the baselines hear on neural-v2 (issue 21's evidence): headline and tag families, the
grounding gap per family, each system against the text-only prior (paired), the voiced tags,
per-tag headline F1 and the masked leak.

    python benchmarks/neural_v2_baselines.py DIR NAME... [--prior NAME] [--limit N] [--audio FOLDER [--voice VOICE | --without-voice VOICE]]

``DIR`` holds ``NAME.jsonl`` (full track) and ``NAME.masked.jsonl`` (``neural-v2-masked``) for
each system, or is ``submissions`` (``NAME/predictions.jsonl`` and ``NAME/predictions.masked.jsonl``
of each entry). ``--limit N``: scored on the first N test rows by id (the clips of an
``evoxtral-bench run --limit N`` try), a script's two renderings resampled together as on the
whole split. Headline = anchored tag F1 (benchmark version 2, docs/spec.md §3.10); per tag, the
headline of that label alone (every other tag deleted on both sides, as the family columns are
checked in tests/scoring/test_v2.py); the voiced tags (:data:`VOICED`: every tag but pause and
stammers) the same way, with their grounding gap and their paired difference from the prior. ``--audio``: the rendered test folder (its manifest names
each clip's voice) adds the headline per test voice; ``--voice VOICE`` scores everything on that
voice's clips only, ``--without-voice VOICE`` on the other voices' clips (e.g. ``hibari:heart``,
neural-v1's train voice). Values in %, 95% bootstrap intervals, B = 1000, seed 0. Nothing is
asserted.
"""

from __future__ import annotations

import argparse
import json
import warnings
from pathlib import Path

import evoxtral_bench
from evoxtral_bench.runner.audio import reference_records, split_rows
from evoxtral_bench.scoring.leak import masked_leak
from evoxtral_bench.scoring.tags import split_tags, tag_table
from evoxtral_bench.tracks import get_track

TRACK = "neural-v2"
HEADLINES = ("tag_f1_anchored", "tag_f1_anchored_sounds", "tag_f1_anchored_delivery", "tag_f1_anchored_pause", "tag_f1_anchored_stammer")


def _pct(e) -> str:
    return f"{100 * e.value:.1f} [{100 * e.ci_low:.1f}, {100 * e.ci_high:.1f}]"


def _delta(d) -> str:
    return f"{100 * d.delta:+.1f} [{100 * d.ci_low:+.1f}, {100 * d.ci_high:+.1f}], p = {d.p_value:.3g}"


def _signed(e) -> str:
    return f"{100 * e.value:+.1f} [{100 * e.ci_low:+.1f}, {100 * e.ci_high:+.1f}]"


VOICED = ("sounds", "delivery")
"""The voiced tags: the families a speaking voice makes (on neural-v2 test, voiced by the test voice
itself), that is every tag but ``[pause]`` and ``[stammers]``."""


def _only(text: str, keep: frozenset[str]) -> str:
    """``text`` with every tag whose canonical label is not in ``keep`` deleted."""
    chunks, labels, _ = split_tags(text, tag_table())
    return chunks[0] + "".join((f" [{lab}] " if lab in keep else " ") + chunk for lab, chunk in zip(labels, chunks[1:]))


def _restricted(records: list[dict], keep: frozenset[str]) -> list[dict]:
    """The reference records with only the tags in ``keep``."""
    return [{**r, "tagged_text": _only(r["tagged_text"], keep)} for r in records]


def _read(path: Path) -> dict[str, str]:
    return {r["id"]: r["prediction"] for r in map(json.loads, path.read_text(encoding="utf-8").splitlines()) if r}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("names", nargs="+")
    parser.add_argument("--prior", default="prior", help="the text-only prior's NAME in the folder (compared with every other system)")
    parser.add_argument("--limit", type=int)
    parser.add_argument("--audio", type=Path, help="the rendered neural-v2 test folder (manifest.jsonl): the headline per voice")
    voice = parser.add_mutually_exclusive_group()
    voice.add_argument("--voice", help="with --audio: only the clips of this voice (as the manifest names it)")
    voice.add_argument("--without-voice", help="with --audio: leave out the clips of this voice")
    args = parser.parse_args()
    if (args.voice or args.without_voice) and not args.audio:
        parser.error("--voice and --without-voice need --audio (the manifest names each clip's voice)")
    warnings.simplefilter("ignore")  # missing tags and ids are the systems' business here
    rows = split_rows(get_track(TRACK), "test", args.limit)
    records = reference_records(rows)
    voices = {e["id"]: e["voice"] for e in map(json.loads, (args.audio / "manifest.jsonl").read_text(encoding="utf-8").splitlines())} if args.audio else {}
    if args.voice or args.without_voice:
        records = [r for r in records if (voices[r["id"]] == args.voice if args.voice else voices[r["id"]] != args.without_voice)]
        print(f"only the clips of {args.voice}" if args.voice else f"without the clips of {args.without_voice}")
    refs = evoxtral_bench.load_references(records, split="test", track=TRACK)
    print(f"{TRACK}: {len(records)} test clips of {len({r['group'] for r in records})} scripts; B = 1000\n")
    files = {
        name: (entry / "predictions.jsonl", entry / "predictions.masked.jsonl")
        if (entry := args.folder / name).is_dir()
        else (args.folder / f"{name}.jsonl", args.folder / f"{name}.masked.jsonl")
        for name in dict.fromkeys([*args.names, args.prior])
    }
    missing = [str(path) for pair in files.values() for path in pair if not path.is_file()]
    if missing:
        parser.error(f"no such file: {', '.join(missing)} (each NAME needs NAME.jsonl and NAME.masked.jsonl, or an entry folder NAME, in {args.folder})")
    ids = {r["id"] for r in records}
    kept = {path: {k: v for k, v in _read(path).items() if k in ids} for pair in files.values() for path in pair}
    prior = kept[files[args.prior][0]]
    voiced = frozenset(label for family in VOICED for label in tag_table().families[family][1])
    voiced_refs = _restricted(records, voiced)
    voiced_prior = {k: _only(v, voiced) for k, v in prior.items()}
    for name, (full_file, masked_file) in files.items():
        full, masked = kept[full_file], kept[masked_file]
        results = evoxtral_bench.score(predictions=full, references=refs, split="test", track=TRACK)
        gaps = evoxtral_bench.compare(a=full, b=masked, references=refs, split="test", track=TRACK)
        print(f"## {name}: WER {_pct(results['wer'])}, tag F1 {_pct(results['tag_f1'])}")
        for metric in HEADLINES:
            line = f"  {metric}: {_pct(results[metric])}; masked {100 * gaps[metric].b:.1f}, gap {_delta(gaps[metric])}"
            if name != args.prior:
                line += f"; vs {args.prior} {_delta(evoxtral_bench.compare(a=full, b=prior, references=refs, split='test', track=TRACK)[metric])}"
            print(line)
        voiced_full, voiced_masked = ({k: _only(v, voiced) for k, v in side.items()} for side in (full, masked))
        line = f"  voiced tags ({' + '.join(VOICED)}; pause and stammers deleted on both sides): {_pct(evoxtral_bench.score(predictions=voiced_full, references=voiced_refs, split='test', track=TRACK)['tag_f1_anchored'])}"
        line += f"; gap {_delta(evoxtral_bench.compare(a=voiced_full, b=voiced_masked, references=voiced_refs, split='test', track=TRACK)['tag_f1_anchored'])}"
        if name != args.prior:
            line += f"; vs {args.prior} {_delta(evoxtral_bench.compare(a=voiced_full, b=voiced_prior, references=voiced_refs, split='test', track=TRACK)['tag_f1_anchored'])}"
        print(line)
        cells = []
        for label in tag_table().canonical:
            only_refs = _restricted(records, frozenset([label]))
            if any(f"[{label}]" in r["tagged_text"] for r in only_refs):
                alone = evoxtral_bench.score(predictions={k: _only(v, frozenset([label])) for k, v in full.items()}, references=only_refs, split="test", track=TRACK)
                cells.append(f"{label} {_pct(alone['tag_f1_anchored'])}")
        print("  per-tag headline F1:", ", ".join(cells))
        if args.audio:
            cells = []
            for voice in sorted({voices[r["id"]] for r in records}):
                subset = [r for r in records if voices[r["id"]] == voice]
                alone = evoxtral_bench.score(predictions={r["id"]: full.get(r["id"], "") for r in subset}, references=subset, split="test", track=TRACK)
                cells.append(f"{voice} ({len(subset)} clips) {_pct(alone['tag_f1_anchored'])}, pause {_pct(alone['tag_f1_anchored_pause'])}")
            print("  headline (and pause family) per voice:", "; ".join(cells))
        leak = masked_leak(predictions=[masked.get(r.id, "") for r in refs.rows], references=[r.tagged_text for r in refs.rows], groups=[r.group for r in refs.rows])
        print(f"  masked leak: at events {_pct(leak.at_events)} ({leak.event_hits}/{leak.events}), at other gaps {_pct(leak.at_other_gaps)}, "
              f"difference {_signed(leak.difference)}, p = {leak.p_value:.3g}; at gaps of the same punctuation {_pct(leak.at_matched_gaps)}, "
              f"difference {_signed(leak.matched_difference)}, p = {leak.matched_p_value:.3g}\n", flush=True)


if __name__ == "__main__":
    main()
