"""The ``evoxtral-bench`` command line. :func:`main` returns the exit code:
0 success, 2 bad input, usage or environment (a path that cannot be read or written,
a full disk, a closed output), 1 internal failure (a bug). Only :func:`run` exits the process."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from evoxtral_bench import reporters as report
from evoxtral_bench._version import __version__
from evoxtral_bench.errors import InputError
from evoxtral_bench.files import check_not_input, write_text
from evoxtral_bench.scoring import adapters, normalize
from evoxtral_bench.scoring.core import (
    PARALLEL_MIN_ROWS,
    ReferenceSet,
    System,
    compare,
    default_workers,
    load_references,
    load_system,
    score_with_grounding,
)
from evoxtral_bench.scoring.options import OPTION_NAMES, TRACK_CHOICES, UNSPECIFIED, Options, masked_track, options_from
from evoxtral_bench.scoring.submission import Problems
from evoxtral_bench.scoring.tags import tag_table
from evoxtral_bench.tracks import TEXT_ONLY


class UsageError(Exception):
    """A command-line usage mistake (exit 2)."""


class _Exit(Exception):
    """argparse finished early (--help, --version) with this status."""

    def __init__(self, status: int) -> None:
        self.status = status


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of exiting, so :func:`main` owns the exit code."""

    def error(self, message: str):
        raise UsageError(f"{self.format_usage()}{self.prog}: error: {message}")

    def exit(self, status: int = 0, message: str | None = None):
        if message:
            sys.stderr.write(message)
        raise _Exit(status)


def _add_reference_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--references", metavar="FILE", help="references JSONL (id, tagged_text[, split, domain, slice]); default: the shipped corpus")
    p.add_argument("--split", help="keep reference rows with this split label (default with the shipped corpus: test)")
    p.add_argument("--adapter", choices=adapters.names(), help="convert another system's event markup first")
    p.add_argument("--lenient", action="store_true", help="with --adapter: also apply lossy mappings (e.g. HAPPY -> excited)")
    p.add_argument(
        "--strict",
        action="store_true",
        help="errors, not warnings: ids missing from the predictions, and malformed tag markup (an unbalanced, nested, empty or "
        "over-long [ ] span, otherwise scored as punctuation; not with --legacy)",
    )


def _add_scoring_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--bootstrap", type=int, default=1000, metavar="N", help="bootstrap resamples (0: no intervals; default 1000)")
    p.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    p.add_argument("--ci", type=float, default=0.95, help="interval level (default 0.95)")
    p.add_argument("--legacy", action="store_true", help="the paper's per-utterance averages (docs/spec.md §5)")
    p.add_argument("--normalizer", default="basic", choices=normalize.names(), help="text normalizer for WER/CER (default basic)")
    p.add_argument(
        "--track",
        default=UNSPECIFIED,
        choices=TRACK_CHOICES,
        help=f"the audio track the predictions were made on ({TEXT_ONLY}: made from text, no audio); "
        f"written into the results and the signature (default {UNSPECIFIED}); without --references a track "
        "also picks the reference set its test audio renders (neural-v2: the v2 references)",
    )
    p.add_argument(
        "--benchmark-version",
        type=int,
        metavar="V",
        help="1 or 2: the shipped references and headline of that version (default: the track's, else 1; docs/spec.md §6.9)",
    )
    p.add_argument(
        "--jobs",
        type=int,
        metavar="N",
        help="processes counting the two systems' statistics (compare, score --masked) from "
        f"{PARALLEL_MIN_ROWS:,} utterances; the numbers are the same (default: 2 when 2 CPUs are usable)",
    )
    p.add_argument("--format", default="table", choices=list(report.REPORTERS), help="output format (default table)")
    p.add_argument("--output", metavar="FILE", help="write the output to FILE (atomically) instead of standard output")


def _jobs(args: argparse.Namespace) -> int:
    """``--jobs``, or :func:`.core.default_workers`."""
    if args.jobs is None:
        return default_workers()
    if args.jobs < 1:
        raise InputError(f"--jobs must be 1 or more, got {args.jobs}")
    return args.jobs


CORE_COMMANDS = ("score", "validate", "compare", "tags")
"""Sub-commands defined here; the ``data`` and ``leaderboard`` groups live in their own modules."""


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The command-line parser. ``command``: the sub-command about to run; one of
    :data:`CORE_COMMANDS` leaves the ``data`` and ``leaderboard`` groups (and their imports) out."""
    parser = _Parser(prog="evoxtral-bench", description="Score expressive tagged transcription.")
    parser.add_argument("--version", action="version", version=f"evoxtral-bench {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("score", help="score a predictions JSONL against the references")
    p.add_argument("predictions", metavar="PREDS")
    p.add_argument(
        "--masked",
        metavar="MASKED_PREDS",
        help="the same system's predictions on the masked twin of --track (e.g. neural-v1-masked): adds the grounding gap (full − masked tag F1 "
        "and emphasis F1, paired bootstrap) to the results",
    )
    _add_reference_options(p)
    _add_scoring_options(p)
    p.set_defaults(handler=cmd_score)

    p = sub.add_parser("validate", help="check a predictions JSONL and list every problem")
    p.add_argument("predictions", metavar="PREDS")
    _add_reference_options(p)
    p.add_argument("--format", default="text", choices=list(report.PROBLEM_REPORTERS), help="report format (default text)")
    p.add_argument(
        "--track", choices=TRACK_CHOICES, help="the track the predictions were made on: without --references, its references (espeak-v2: v2)"
    )
    p.set_defaults(handler=cmd_validate)

    p = sub.add_parser("compare", help="paired bootstrap comparison of two prediction files (Δ = A − B)")
    p.add_argument("a", metavar="A")
    p.add_argument("b", metavar="B")
    _add_reference_options(p)
    _add_scoring_options(p)
    p.set_defaults(handler=cmd_compare)

    p = sub.add_parser("tags", help="print the tag vocabulary, aliases and adapters")
    p.add_argument("--format", default="text", choices=["text", "json"])
    p.set_defaults(handler=cmd_tags)

    if command in CORE_COMMANDS:
        return parser
    from evoxtral_bench.cli import data as data_cli

    data_cli.add_commands(sub)
    from evoxtral_bench.cli import leaderboard as leaderboard_cli
    leaderboard_cli.add_commands(sub)
    from evoxtral_bench.cli import runner as runner_cli

    runner_cli.add_commands(sub)
    return parser


def _options(args: argparse.Namespace) -> Options:
    return options_from(**{name: getattr(args, name) for name in OPTION_NAMES})


def _emit(text: str, output: str | None) -> None:
    _interrupt.check()  # a Ctrl-C that something swallowed still stops the output
    if output:
        write_text(output, text)
        print(f"wrote {output}", file=sys.stderr)
    else:
        sys.stdout.write(text)


def _check_paths(args: argparse.Namespace, inputs: list[str]) -> None:
    """Refuse ``--split ""`` and an ``--output`` that is one of the input files."""
    if args.split is not None and not args.split.strip():
        raise UsageError("--split needs a split label (e.g. test); got an empty string")
    output = getattr(args, "output", None)
    if output:
        check_not_input(output, [*inputs, args.references], option="--output")


def _load(args: argparse.Namespace, paths: list[str], options: Options) -> tuple[ReferenceSet, list[System]] | None:
    """References and every system, or None after reporting the problems (exit 2)."""
    _check_paths(args, paths)
    problems = Problems()
    refs = load_references(
        args.references, args.split, problems, legacy=options.legacy, reference_set=options.reference_set, renderings=options.renderings
    )
    systems = [load_system(path, refs, options, problems, strict=args.strict, label=path) for path in paths] if refs else []
    if refs is None or None in systems or problems.errors:
        sys.stderr.write(report.problems_text(problems.errors + problems.warnings))
        return None
    sys.stderr.write(report.problems_text(problems.warnings))
    return refs, systems




def cmd_score(args: argparse.Namespace) -> int:
    options = _options(args)
    workers = _jobs(args)
    if args.masked and options.legacy:
        raise UsageError("--masked: the grounding gap is defined on the corpus-level metrics; drop --legacy")
    if args.masked:
        masked_track(options.track)  # a masked --track, or one without a masked twin: exit 2 before reading
    loaded = _load(args, [args.predictions] + ([args.masked] if args.masked else []), options)
    if loaded is None:
        return 2
    refs, (system, *masked) = loaded
    results = score_with_grounding(system, masked[0] if masked else None, refs, options, workers=workers)
    _emit(report.REPORTERS[args.format].score(results.to_dict()), args.output)
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    options = _options(args)
    workers = _jobs(args)
    loaded = _load(args, [args.a, args.b], options)
    if loaded is None:
        return 2
    refs, (a, b) = loaded
    _emit(report.REPORTERS[args.format].compare(compare(a, b, refs, options, workers=workers).to_dict()), args.output)
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    if args.lenient and not args.adapter:
        raise InputError("--lenient only applies together with --adapter")
    _check_paths(args, [args.predictions])
    problems = Problems()
    options = Options(adapter=args.adapter, lenient=args.lenient, **({"track": args.track} if args.track else {}))
    refs = load_references(args.references, args.split, problems, reference_set=options.reference_set, renderings=options.renderings)
    system = None
    if refs:
        system = load_system(args.predictions, refs, options, problems, strict=args.strict, label=args.predictions, report_oov=True)
    summary = {"path": args.predictions, "predictions": system.n_predictions if system else 0}
    if args.format == "json":
        sys.stdout.write(report.problems_json(problems.items, **summary))
    else:
        sys.stderr.write(report.problems_text(problems.errors + problems.warnings))
        if system and not problems.errors:
            print(f"{args.predictions}: OK, {system.n_predictions} predictions for {len(refs.rows)} reference ids (split {refs.split}), {system.n_missing} missing")
    return 2 if problems.errors else 0


def cmd_tags(args: argparse.Namespace) -> int:
    table = tag_table()
    if args.format == "json":
        sys.stdout.write(
            report.to_json({"version": table.version, "canonical": table.canonical, "aliases": table.aliases, "adapters": table.adapters})
        )
        return 0
    lines = [f"Tag table version {table.version}: {len(table.canonical)} canonical tags", ""]
    lines += [f"  [{label}]  {gloss}" for label, gloss in table.canonical.items()]
    lines += ["", "Aliases (alias -> canonical):"]
    lines += [f"  [{alias}] -> [{label}]" for alias, label in sorted(table.aliases.items())]
    lines += ["", "Adapters (--adapter NAME; lossy mappings need --lenient):"]
    for name in adapters.names():
        spec = table.adapters[name]
        lines.append(f"  {name}: {spec['description']}")
        lines.append("    exact:   " + ", ".join(f"{k} -> {v}" for k, v in spec.get("map", {}).items()))
        lines.append("    lenient: " + ", ".join(f"{k} -> {v}" for k, v in spec.get("lenient", {}).items()))
        if spec.get("drop"):
            lines.append("    dropped: " + ", ".join(spec["drop"]))
    print("\n".join(lines))
    return 0


class _Stream:
    """Wraps standard output or error: a reader that left (closed pipe) ends the output there
    without changing the exit code; a closed stream or a write error (e.g. a full disk) is
    an :class:`InputError` (exit 2)."""

    def __init__(self, stream, name: str) -> None:
        self._stream, self._name, self.closed_pipe = stream, name, False

    def _call(self, method: str, *args):
        if self.closed_pipe:
            return None
        if self._stream is None:
            if method == "flush":
                return None
            raise InputError(f"cannot write standard {self._name}: it is closed")
        try:
            return getattr(self._stream, method)(*args)
        except BrokenPipeError:
            self.closed_pipe = True
            try:  # later writes and the final flush at exit go nowhere
                os.dup2(os.open(os.devnull, os.O_WRONLY), self._stream.fileno())
            except (OSError, ValueError, AttributeError):
                pass
            return None
        except OSError as exc:
            raise InputError(f"cannot write standard {self._name}: {exc.strerror or exc}") from exc

    def write(self, text: str) -> int:
        self._call("write", text)
        return len(text)

    def flush(self) -> None:
        self._call("flush")

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


class _Interrupt:
    """Ctrl-C, made final: while a command runs, SIGINT sets a flag as well as raising
    :class:`KeyboardInterrupt`, so an interrupt that some library code catches and drops (in a
    finalizer, a callback, a pool's shutdown) still stops the output (:func:`_emit` checks it) and
    still ends the run with 130."""

    def __init__(self) -> None:
        self.seen = False

    def _handler(self, signum: int, frame: object) -> None:
        self.seen = True
        raise KeyboardInterrupt

    def check(self) -> None:
        if self.seen:
            raise KeyboardInterrupt

    def install(self):
        """Install the handler (main thread only; otherwise nothing); returns the previous one."""
        import signal
        import threading

        self.seen = False
        if threading.current_thread() is not threading.main_thread() or signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
            return None  # not ours to change: a thread, or a caller with its own handler (or SIGINT ignored)
        return signal.signal(signal.SIGINT, self._handler)

    def restore(self, previous) -> None:
        import signal

        if previous is not None:
            signal.signal(signal.SIGINT, previous)


_interrupt = _Interrupt()


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; return its exit code (never raises for user mistakes; 130 after Ctrl-C)."""
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _Stream(sys.stdout, "output"), _Stream(sys.stderr, "error")
    previous = _interrupt.install()
    try:
        code = _main(argv)
        if _interrupt.seen and code != 130:  # interrupted, and the interrupt was swallowed somewhere
            _error("evoxtral-bench: interrupted\n")
            return 130
        try:
            sys.stdout.flush()
        except InputError as exc:
            _error(f"evoxtral-bench: error: {exc}\n")
            return 2
        return code
    finally:
        _interrupt.restore(previous)
        sys.stdout, sys.stderr = saved


def _error(message: str) -> None:
    """Write to standard error if it is still there."""
    try:
        sys.stderr.write(message)
        sys.stderr.flush()
    except (InputError, OSError):
        pass


def _main(argv: Sequence[str] | None) -> int:
    try:
        argv = sys.argv[1:] if argv is None else list(argv)
        parser = build_parser(argv[0] if argv else None)
        args = parser.parse_args(argv)
        args.argv = argv
        return args.handler(args)
    except _Exit as exc:
        return exc.status
    except UsageError as exc:
        _error(f"{exc}\n")
        return 2
    except InputError as exc:
        _error(f"evoxtral-bench: error: {exc}\n")
        return 2
    except KeyboardInterrupt:
        _error("evoxtral-bench: interrupted\n")
        return 130
    except OSError as exc:  # the user's environment (a missing folder, no permission, a full disk)
        where = f"{exc.filename}: " if exc.filename is not None else ""
        _error(f"evoxtral-bench: error: {where}{exc.strerror or exc}\n")
        return 2
    except Exception as exc:  # an internal failure, not the user's mistake
        if os.environ.get("EVOXTRAL_BENCH_DEBUG"):
            raise
        _error(
            f"evoxtral-bench: internal error: {type(exc).__name__}: {exc}\n"
            "This is a bug; rerun with EVOXTRAL_BENCH_DEBUG=1 for a traceback and report it.\n"
        )
        return 1


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
