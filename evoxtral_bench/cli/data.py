"""``evoxtral-bench data …``: corpus validation, statistics, synthesis, export, legacy import.

Heavy libraries (datasets, soundfile, the ElevenLabs SDK) are imported inside the commands
that need them, so the scoring commands stay light.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

from evoxtral_bench.corpus import scripts as corpus
from evoxtral_bench.corpus.synth import BACKENDS
from evoxtral_bench.errors import InputError, shown
from evoxtral_bench.files import check_not_input, write_text
from evoxtral_bench.reporters import to_json
from evoxtral_bench.tracks import TRACK_NAMES, get_track

CARD_START, CARD_END = "<!-- stats:start -->\n", "<!-- stats:end -->"


def card_path() -> Path:
    return corpus.corpus_path().with_name("DATASET_CARD.md")


def _corpus_rows(path: str | None) -> list:
    return corpus.load(Path(path) if path else None)


def cmd_validate(args: argparse.Namespace) -> int:
    path = Path(args.corpus) if args.corpus else corpus.corpus_path()
    rows = corpus.load(path)
    problems = corpus.validate(rows, path)
    if not args.corpus and corpus.file_sha256(path) != corpus.recorded_sha256():
        problems.append(f"{path}: sha256 {corpus.file_sha256(path)} differs from the recorded {corpus.recorded_sha256()}")
    v2 = None
    if not args.corpus or args.v2:  # the shipped corpus comes with its v2 test set (docs/spec.md §6.9)
        v2_path = Path(args.v2) if args.v2 else corpus.v2_path()
        v2 = corpus.load(v2_path)
        problems += corpus.validate_v2(v2, rows, v2_path)
        if not args.v2 and corpus.file_sha256(v2_path) != corpus.recorded_sha256("test-v2"):
            problems.append(f"{v2_path}: sha256 {corpus.file_sha256(v2_path)} differs from the recorded {corpus.recorded_sha256('test-v2')}")
    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        print(f"{path}: {len(problems)} problems", file=sys.stderr)
        return 2
    stats = corpus.statistics(rows)
    print(
        f"{path}: valid — {len(rows)} scripts; train/validation/test "
        f"{stats['train'].utterances}/{stats['validation'].utterances}/{stats['test'].utterances}; "
        f"sha256 {corpus.file_sha256(path)}"
    )
    if v2 is not None:
        v2_stats = corpus.statistics(v2)["test"]
        print(
            f"v2 test set: valid — {len(v2)} scripts, minimum tag support {min(v2_stats.tags.values())}, "
            f"{v2_stats.emphasis_words} CAPS words"
        )
    return 0


def replace_card_statistics(card: str, markdown: str) -> str:
    """The card text with the block between the statistics markers replaced by ``markdown``."""
    if CARD_START not in card or CARD_END not in card:
        raise InputError(f"the dataset card lacks the markers {CARD_START.strip()} … {CARD_END}")
    head, rest = card.split(CARD_START, 1)
    _, tail = rest.split(CARD_END, 1)
    return head + CARD_START + markdown + CARD_END + tail


def cmd_stats(args: argparse.Namespace) -> int:
    if args.out:
        check_not_input(args.out, [args.corpus or corpus.corpus_path()])
    stats = corpus.statistics(_corpus_rows(args.corpus))
    markdown = corpus.statistics_markdown(stats)
    sys.stdout.write(markdown)
    if args.out:
        write_text(args.out, to_json({k: dataclasses.asdict(v) for k, v in stats.items()}))
        print(f"wrote {args.out}", file=sys.stderr)
    if args.update_card:
        card = card_path()
        write_text(card, replace_card_statistics(card.read_text(encoding="utf-8"), markdown))
        print(f"updated the statistics in {card}", file=sys.stderr)
    return 0


def _split_rows(args: argparse.Namespace) -> list[dict]:
    """The rows to render: those of ``--split``, then of ``--ids`` (in corpus order), then the
    first ``--limit``."""
    corpus_rows = _corpus_rows(args.corpus)
    if args.track and not args.corpus:  # the shipped corpus: the test scripts are those of the track's reference set
        corpus_rows = corpus.track_rows(get_track(args.track), corpus_rows)
    every = [r._asdict() for r in corpus_rows]
    rows = every if args.split == "all" else [r for r in every if args.split in r["splits"]]
    if not rows:
        raise InputError(f"no corpus rows in split {args.split!r}")
    if args.ids is not None:
        wanted = [i.strip() for i in args.ids.split(",") if i.strip()]
        if not wanted:
            raise InputError("--ids needs one or more ids, comma-separated (e.g. --ids evx-00011,evx-00019)")
        kept = {r["id"] for r in rows}
        splits = {r["id"]: r["splits"] for r in every}
        for clip_id in wanted:
            if clip_id not in kept:
                where = f"it is in split {', '.join(splits[clip_id])}: give that --split" if clip_id in splits else "no corpus row has it"
                raise InputError(f"--ids: {shown(clip_id, 40)} is not an id of split {args.split} ({where})")
        chosen = set(wanted)
        rows = [r for r in rows if r["id"] in chosen]
    if args.limit is not None:
        if args.limit < 1:
            raise InputError(f"--limit must be 1 or more, got {args.limit}")
        rows = rows[: args.limit]
    return rows


def cmd_synthesize(args: argparse.Namespace) -> int:
    from evoxtral_bench.corpus.synth import ElevenLabsError, synthesize

    rows = _split_rows(args)
    voices = [v.strip() for v in args.voices.split(",") if v.strip()] if args.voices else None
    if args.track:
        given = [f"--{name}" for name in ("backend", "seed", "voices") if getattr(args, name) is not None]
        if args.masked:
            given.append("--masked")
        if given:
            raise InputError(f"--track {args.track} fixes the recipe; leave out {', '.join(given)} (a masked track has its own name)")
    try:
        manifest = synthesize(
            rows=rows,
            out_dir=args.out,
            backend=args.backend or "offline",
            seed=0 if args.seed is None else args.seed,
            voices=voices,
            concurrency=args.concurrency,
            progress=not args.no_progress,
            base_url=args.base_url,
            masked=args.masked,
            track=args.track,
            inputs=[args.corpus] if args.corpus else [],
        )
    except ElevenLabsError as exc:  # the service kept failing: not the user's input, not our bug
        print(f"evoxtral-bench: ElevenLabs failed: {exc}; rerun the same command to resume", file=sys.stderr)
        return 1
    print(f"{len(rows)} clips; manifest {manifest}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    import logging

    from evoxtral_bench.corpus.export import export_dataset

    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    rows = [  # the rows the track renders: on a v2 track, the test renderings of its own reference set
        {"id": r.id, "tagged_text": r.tagged_text, "split": r.splits[0], "domain": r.domain, "slice": r.slice}
        for r in corpus.track_rows(get_track(args.track), _corpus_rows(args.corpus))
    ]
    out = Path(args.out)
    manifests = [Path(folder) / "manifest.jsonl" for folder in args.audio]
    dataset = export_dataset(
        corpus_rows=rows,
        manifests=manifests,
        out_dir=args.out,
        track=args.track,
        push_to_hub=args.push_to_hub,
        files={"README.md": card_path().read_bytes()},
    )
    if args.push_to_hub:  # push_to_hub wrote a generated card; replace it with ours (one config per track)
        from huggingface_hub import HfApi

        HfApi().upload_file(path_or_fileobj=str(out / "README.md"), path_in_repo="README.md", repo_id=args.push_to_hub, repo_type="dataset")
    sizes = ", ".join(f"{name} {len(split)}" for name, split in dataset.items())
    print(f"saved {out} ({sizes}; track {args.track}) with the dataset card as README.md")
    return 0


def cmd_import_legacy(args: argparse.Namespace) -> int:
    from evoxtral_bench.corpus.paper_import import import_legacy, write_legacy_references

    check_not_input(args.out, [args.scripts_json])
    rows = import_legacy(Path(args.scripts_json))
    write_legacy_references(rows, Path(args.out))
    counts = {s: sum(1 for r in rows if s in (r["split"] if isinstance(r["split"], list) else [r["split"]])) for s in ("train", "validation", "test", "bench50")}
    print(f"wrote {args.out}: " + ", ".join(f"{k} {v}" for k, v in counts.items()) + f"; score with --references {args.out} --split bench50 --legacy")
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Register the ``data`` command group on the main parser's subcommands."""
    data = sub.add_parser("data", help="the benchmark corpus: validate, stats, synthesize, export, import-legacy")
    group = data.add_subparsers(dest="data_command", required=True, parser_class=type(data))

    def corpus_option(p: argparse.ArgumentParser) -> None:
        p.add_argument("--corpus", metavar="FILE", help="a corpus JSONL instead of the shipped one")

    p = group.add_parser(
        "validate", help="check every corpus constraint (sizes, slices, tags, splits, near-duplicates, sha256) and the v2 test set's"
    )
    corpus_option(p)
    p.add_argument("--v2", metavar="FILE", help="a v2 test-set file to check against the corpus (default with the shipped corpus: the shipped one)")
    p.set_defaults(handler=cmd_validate)

    p = group.add_parser("stats", help="print per-split statistics as Markdown tables")
    corpus_option(p)
    p.add_argument("--out", metavar="FILE", help="also write them as JSON")
    p.add_argument("--update-card", action="store_true", help="rewrite the statistics block of the shipped dataset card")
    p.set_defaults(handler=cmd_stats)

    p = group.add_parser("synthesize", help="render audio for a split (resumable; a manifest records every clip)")
    corpus_option(p)
    p.add_argument(
        "--track",
        choices=list(TRACK_NAMES),
        help="render a registered audio track (backend, seed and the voices of each split fixed by its recipe; "
        "docs/spec.md §12); espeak-v1 is what the defaults render",
    )
    p.add_argument(
        "--backend",
        choices=list(BACKENDS),
        help="offline (espeak-ng, default), neural (Piper/hibari voices, the [neural] extra) or elevenlabs (needs ELEVENLABS_API_KEY)",
    )
    p.add_argument("--split", default="test", help="train, validation, test or all (default test)")
    p.add_argument("--ids", metavar="ID[,ID...]", help="render only these ids of the split (comma-separated), e.g. to listen to a few clips")
    p.add_argument("--limit", type=int, metavar="N", help="render only the first N rows of the split (corpus order; after --ids)")
    p.add_argument("--out", required=True, metavar="DIR")
    p.add_argument("--seed", type=int, help="voice assignment and rendering seed (default 0)")
    p.add_argument("--voices", help="comma-separated voice pool (elevenlabs voice ids, or offline voice names)")
    p.add_argument("--concurrency", type=int, default=2, help="clips rendered at once (default 2)")
    p.add_argument("--base-url", help="ElevenLabs API base URL (default: the SDK's, or ELEVENLABS_BASE_URL)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument(
        "--masked",
        action="store_true",
        help="offline or neural: the counterfactual masked track (same voices, seeds and words; sounds -> room tone, "
        "styles and CAPS neutral, no stutters, no pauses); the manifest lists what was masked",
    )
    p.set_defaults(handler=cmd_synthesize)

    p = group.add_parser("export", help="write one audio track as a datasets.DatasetDict (audio + transcripts) with save_to_disk")
    corpus_option(p)
    p.add_argument(
        "--audio",
        required=True,
        nargs="+",
        metavar="DIR",
        help="synthesis output folders (each with manifest.jsonl), e.g. one per split; an id may be in one only",
    )
    p.add_argument(
        "--track",
        required=True,
        choices=list(TRACK_NAMES),
        help="the audio track exported: every clip must have been rendered by its current recipe (data synthesize --track)",
    )
    p.add_argument("--out", required=True, metavar="DIR")
    p.add_argument(
        "--push-to-hub",
        metavar="REPO",
        help="also push to the Hugging Face Hub as the config named after the track (needs HF_TOKEN)",
    )
    p.set_defaults(handler=cmd_export)

    p = group.add_parser("import-legacy", help="the paper's scripts list -> references with its exact splits and bench50")
    p.add_argument("scripts_json", metavar="SCRIPTS_JSON")
    p.add_argument("--out", required=True, metavar="FILE")
    p.set_defaults(handler=cmd_import_legacy)
