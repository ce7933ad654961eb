"""``evoxtral-bench leaderboard …``: new, check, build, summary, oracle. Handlers return the exit code."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
from pathlib import Path

from evoxtral_bench import reporters as report
from evoxtral_bench.errors import InputError, require
from evoxtral_bench.files import write_text
from evoxtral_bench.leaderboard import oracle, scaffold
from evoxtral_bench.leaderboard.entries import Entry, check, load_entries, shipped_test_references
from evoxtral_bench.leaderboard.meta import PLACEHOLDER_LEFT
from evoxtral_bench.scoring.options import TRACK_CHOICES
from evoxtral_bench.scoring.submission import Problems

DEFAULT_SUBMISSIONS = "submissions"
DEFAULT_OUT = "site"


def _checked(folder: str, problems: Problems, refusal: str) -> tuple | None:
    """Check the entries and print every problem; None (after ``refusal``) when any is an error."""
    shelf, entries = check(folder, problems)
    sys.stderr.write(report.problems_text(problems.errors + problems.warnings))
    if shelf is None or problems.errors:
        print(f"{folder}: {len(problems.errors)} problems; {refusal}", file=sys.stderr)
        return None
    return shelf, entries


def _summary(entries: list[Entry]) -> str:
    verified = sum(e.verified for e in entries)
    return f"{len(entries)} {'entry' if len(entries) == 1 else 'entries'} ({verified} verified, {len(entries) - verified} reported)"


def cmd_check(args: argparse.Namespace) -> int:
    problems = Problems()
    _, entries = check(args.submissions, problems)
    if args.format == "json":
        sys.stdout.write(report.problems_json(problems.items, path=args.submissions, entries=sorted(e.slug for e in entries)))
    else:
        sys.stderr.write(report.problems_text(problems.errors + problems.warnings))
        left = sum(w.message.startswith(PLACEHOLDER_LEFT) for w in problems.warnings)
        if problems.errors:
            print(f"{args.submissions}: {len(problems.errors)} problems; {_summary(entries)} valid", file=sys.stderr)
        elif left:
            print(f"{args.submissions}: not ready, {left} TODO: placeholder {'value' if left == 1 else 'values'} left to fill in (listed above); {_summary(entries)} otherwise valid")
        else:
            print(f"{args.submissions}: OK, {_summary(entries)}")
    return 2 if problems.errors else 0


def cmd_new(args: argparse.Namespace) -> int:
    date = args.date or dt.datetime.now(dt.timezone.utc).date().isoformat()
    folder = scaffold.scaffold(args.submissions, args.slug, args.predictions, date, args.track, args.run)
    print(f"wrote {folder}/meta.yaml and {folder}/predictions.jsonl; fill in meta.yaml, then open a pull request", file=sys.stderr)
    return cmd_check(args)


def _require_build_extra() -> None:
    for module in ("matplotlib", "threadpoolctl", "jinja2"):
        require(module, "building the leaderboard", extra="leaderboard")


def cmd_summary(args: argparse.Namespace) -> int:
    _require_build_extra()
    from evoxtral_bench.leaderboard import summary
    from evoxtral_bench.leaderboard.build import rank_entries
    from evoxtral_bench.leaderboard.cache import Cache

    problems = Problems()
    checked = _checked(args.submissions, problems, "see `evoxtral-bench leaderboard check`")
    if checked is None:
        return 2
    shelf, entries = checked
    before_root = Path(args.before) if args.before else None
    touched, removed = summary.changed(before_root, Path(args.submissions))
    with tempfile.TemporaryDirectory() as tmp:
        cache = Cache(Path(tmp))
        after = rank_entries(shelf, entries, cache)
        before = None
        if before_root is not None and before_root.is_dir():
            old_entries = load_entries(before_root, shelf, Problems())  # the base's own problems are not this change's
            before = rank_entries(shelf, old_entries, cache)
    warnings = [str(w).replace("`", "'") for w in problems.warnings]
    sys.stdout.write(summary.markdown(after, before, touched, removed, warnings))
    return 0


def cmd_build(args: argparse.Namespace) -> int:
    _require_build_extra()
    from evoxtral_bench.leaderboard.build import build_site, inputs_digest, up_to_date

    if args.jobs is not None and args.jobs < 1:
        raise InputError(f"--jobs must be 1 or more, got {args.jobs}")
    inputs = inputs_digest(args.submissions) if Path(args.submissions).is_dir() else None
    stamp = up_to_date(args.out, inputs) if inputs else None
    if stamp is not None:  # the same inputs as the last build, whose files are intact: nothing to do
        sys.stderr.write(str(stamp.get("warnings", "")))
        print(f"built {args.out}/index.html: up to date (the same inputs as the last build, its {len(stamp['sha256'])} files intact); 0 files written")
        return 0
    problems = Problems()
    checked = _checked(args.submissions, problems, "nothing built (see `evoxtral-bench leaderboard check`)")
    if checked is None:
        return 2
    shelf, entries = checked
    warnings = report.problems_text(problems.warnings)
    done = build_site(shelf, entries, args.out, workers=args.jobs, progress=not args.no_progress, inputs=inputs, warnings=warnings)
    print(
        f"built {args.out}/index.html: {done.verified} verified and {done.reported} reported entries; "
        f"{done.scored} scored ({done.cached} from the cache), {done.compared} {'pair' if done.compared == 1 else 'pairs'} compared ({done.tested} tested, the rest from the cache); {done.written} files written"
    )
    return 0


def cmd_oracle(args: argparse.Namespace) -> int:
    problems = Problems()
    refs = shipped_test_references(problems)
    if refs is None:
        sys.stderr.write(report.problems_text(problems.items))
        return 2
    write_text(args.out, oracle.plain(refs) if args.kind == "plain" else oracle.misplaced(refs, seed=args.seed))
    print(f"wrote {args.out}: {len(refs.rows)} {args.kind} oracle predictions (split {refs.split})", file=sys.stderr)
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Register the ``leaderboard`` command group on the main parser's subcommands."""
    board = sub.add_parser("leaderboard", help="the leaderboard: check submissions/, build the static site, oracle baselines")
    group = board.add_subparsers(dest="leaderboard_command", required=True, parser_class=type(board))

    def submissions_option(p: argparse.ArgumentParser) -> None:
        p.add_argument("--submissions", default=DEFAULT_SUBMISSIONS, metavar="DIR", help=f"folder of entries (default {DEFAULT_SUBMISSIONS})")

    p = group.add_parser("new", help="scaffold submissions/SLUG/ (predictions.jsonl and a commented meta.yaml), then run check")
    p.add_argument("slug", metavar="SLUG", help="the entry's folder name: 1-64 characters of a-z, 0-9 and '-'")
    p.add_argument("--predictions", metavar="FILE", help="your predictions on the test split (JSONL, as for `score`)")
    p.add_argument(
        "--run", metavar="DIR", help="instead of --predictions and --track: the --out folder of `evoxtral-bench run` (its run.json fills meta.yaml)"
    )
    p.add_argument("--date", metavar="YYYY-MM-DD", help="the entry's date (default: today, UTC)")
    p.add_argument(
        "--track", choices=TRACK_CHOICES, help="the audio track the predictions were made on (none: made from text, no audio; taken from --run)"
    )
    submissions_option(p)
    p.set_defaults(handler=cmd_new, format="text")

    p = group.add_parser("check", help="validate every entry (meta.yaml schema, folder layout, predictions); exit 2 on any problem")
    submissions_option(p)
    p.add_argument("--format", default="text", choices=list(report.PROBLEM_REPORTERS), help="report format (default text)")
    p.set_defaults(handler=cmd_check)

    p = group.add_parser("build", help="re-score verified entries (cached) and write the static site")
    submissions_option(p)
    p.add_argument("--out", default=DEFAULT_OUT, metavar="DIR", help=f"output folder (default {DEFAULT_OUT}); its .cache/ keeps scores between builds")
    p.add_argument("--jobs", type=int, metavar="N", help="scoring processes (default: the number of CPUs)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(handler=cmd_build)

    p = group.add_parser(
        "summary",
        help="Markdown table of every entry's scores and rank, the changed ones marked, with the rank in --before "
        "(a pull request's job summary); exit 2 if any entry has a problem",
    )
    submissions_option(p)
    p.add_argument("--before", metavar="DIR", help="the submissions folder to compare with (e.g. the base branch's)")
    p.set_defaults(handler=cmd_summary)

    p = group.add_parser(
        "oracle",
        help="write oracle predictions for the test split (plain: the references without tags or CAPS; "
        "misplaced: the references with every tag moved to another word gap)",
    )
    p.add_argument("kind", choices=oracle.ORACLES)
    p.add_argument("--seed", type=int, default=0, help="misplaced: the seed of the new positions (default 0)")
    p.add_argument("--out", required=True, metavar="FILE")
    p.set_defaults(handler=cmd_oracle)
