"""``evoxtral-bench run``: a model over a track's test audio and its masked twin, scored
(:mod:`evoxtral_bench.runner`). The model libraries load when the command runs."""

from __future__ import annotations

import argparse
import shlex
import sys

from evoxtral_bench.tracks import TRACKS

FULL_TRACKS = [name for name, track in TRACKS.items() if not track.masked]


def cmd_run(args: argparse.Namespace) -> int:
    from evoxtral_bench.runner.run import run_model

    command = shlex.join(["evoxtral-bench", *args.argv])
    try:
        document = run_model(
            model=args.model,
            track=args.track,
            out=args.out,
            options=args.option,
            split=args.split,
            audio_root=args.audio,
            limit=args.limit,
            progress=not args.no_progress,
            command=command,
        )
    except KeyboardInterrupt:
        print(f"evoxtral-bench run: interrupted; finished clips are kept in {args.out}: run the same command to resume", file=sys.stderr)
        raise
    rates = ", ".join(f"{name} RTFx {t['rtfx']}" for name, t in document["tracks"].items())
    print(f"wrote {args.out}/ (predictions, results.json, run.json); {rates}", file=sys.stderr)
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Register ``run`` on the main parser's subcommands."""
    from evoxtral_bench.runner.backends import options_help

    p = sub.add_parser(
        "run",
        help="run a model over a track's test audio and its masked twin; write predictions, run.json and the results",
        description="Run a model over a track's test audio (found in the cache or rendered) and its masked twin, "
        "then score it. Resumable: rerun the same command after an interruption.",
        epilog="backends and their -o options:\n" + options_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--model", required=True, metavar="KIND:TARGET", help="transformers:PATH, ct2:PATH, openai:URL, elevenlabs:scribe_v1 or python:MODULE:FUNCTION")
    p.add_argument("--track", required=True, choices=FULL_TRACKS, help="the audio track (its masked twin runs too)")
    p.add_argument("--out", required=True, metavar="DIR", help="folder for predictions.jsonl, predictions.masked.jsonl, run.json, results.json")
    p.add_argument("-o", "--option", action="append", default=[], metavar="NAME=VALUE", help="a backend option (repeatable; listed below)")
    p.add_argument("--split", default="test", choices=["train", "validation", "test"], help="the corpus split (default test)")
    p.add_argument("--audio", metavar="DIR", help="root of the rendered audio, DIR/TRACK/SPLIT (default $EVOXTRAL_BENCH_CACHE/audio or ~/.cache/evoxtral-bench/audio)")
    p.add_argument("--limit", type=int, metavar="N", help="only the first N clips (a quick try; scored on those clips, not a leaderboard entry)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(handler=cmd_run)
