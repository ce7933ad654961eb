"""The one typed configuration of the reference training: dataclasses whose defaults are the
paper's (Table 1, §3.2-3.3), loaded from YAML and overridden from the command line.

``training/configs/paper.yaml`` spells out the same values (a test keeps the two equal). A key
is ``section.field`` (``sft.learning_rate``); values are converted to the field's declared type,
so ``2e-4`` is a float and ``null`` is None for optional fields. Unknown keys and values of the
wrong type are an :class:`~evoxtral_bench.errors.InputError`.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from evoxtral_bench import InputError, write_text

CONFIG_DIR = Path(__file__).parent / "configs"
DEFAULT_CONFIG = CONFIG_DIR / "paper.yaml"
CONFIG_FILE = "config.yaml"
"""Name of the resolved configuration written beside every output."""

OPERATIONAL = frozenset({"progress", "stop_after", "dataloader_num_workers"})
"""Fields that do not change a run's results; a run may be resumed with other values."""


def described(default: Any, help: str) -> Any:
    """A dataclass field with a help text (shown by ``--help``)."""
    if isinstance(default, list):
        return field(default_factory=lambda: list(default), metadata={"help": help})
    return field(default=default, metadata={"help": help})


@dataclass
class ModelConfig:
    base: str = described("mistralai/Voxtral-Mini-3B-2507", "base model: hub id or local folder (from_pretrained)")
    language: str | None = described("en", "language of the transcription request (ISO 639-1); null: auto-detect")
    dtype: str = described("auto", "weights and compute: auto (bfloat16 on a GPU that has it, else float32), bfloat16, float16, float32")
    attn_implementation: str = described("sdpa", "attention kernel: sdpa, eager, flash_attention_2")


@dataclass
class LoraSettings:
    r: int = described(64, "LoRA rank")
    alpha: int = described(128, "LoRA alpha (scaling = alpha / r)")
    dropout: float = described(0.05, "dropout on the LoRA input")
    text_modules: list[str] = described(
        ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
        "projections of the language model that get LoRA",
    )
    projector_modules: list[str] = described(["linear_1", "linear_2"], "linear layers of the multi-modal projector that get LoRA")
    audio_encoder_qkv: bool = described(
        False,
        "also put LoRA on the audio encoder's q/k/v_proj; the encoder's own weights stay frozen either way. "
        "true reproduces the paper's 124.8 M trainable parameters (its module names also matched the encoder)",
    )


@dataclass
class DataConfig:
    dataset: str = described("artifacts/dataset", "folder written by `evoxtral-bench data export` (DatasetDict.save_to_disk)")
    train_split: str = described("train", "split to train on (SFT and RAFT)")
    max_target_tokens: int = described(512, "targets longer than this many tokens are cut (EOS kept)")
    train_utterances: int | None = described(None, "train on this many utterances of train_split, evenly spaced in split order; null: all")


@dataclass
class EvalConfig:
    """Scoring a trained adapter with the benchmark, for its model card."""

    split: str | None = described("validation", "split transcribed and scored after training; null: no evaluation")
    batch_size: int = described(8, "utterances per generate() call")
    max_new_tokens: int = described(256, "longest transcript (tokens)")


@dataclass
class TrainConfig:
    """Trainer settings of one training stage (names as in transformers.TrainingArguments)."""

    output_dir: str = described("artifacts/runs/sft", "run folder: checkpoints, config.yaml, adapter/ with its model card")
    learning_rate: float = described(2e-4, "peak learning rate")
    lr_scheduler_type: str = described("cosine", "learning-rate schedule (transformers SchedulerType)")
    warmup_steps: float = described(0, "warm-up: optimizer steps, or a fraction of all steps when < 1 (not stated in the paper)")
    num_train_epochs: float = described(3.0, "epochs over the training split")
    max_steps: int = described(-1, "stop after this many optimizer steps (-1: run the epochs)")
    per_device_train_batch_size: int = described(2, "utterances per device and forward pass")
    gradient_accumulation_steps: int = described(8, "forward passes per optimizer step (effective batch = batch x this x devices)")
    neftune_noise_alpha: float | None = described(5.0, "NEFTune noise alpha on the input embeddings; null: off")
    weight_decay: float = described(0.0, "AdamW weight decay")
    max_grad_norm: float = described(1.0, "gradient clipping norm")
    gradient_checkpointing: bool = described(False, "recompute activations in the backward pass (less memory, slower)")
    logging_steps: int = described(10, "log the loss every this many optimizer steps")
    save_steps: int = described(50, "write a resumable checkpoint every this many optimizer steps")
    save_total_limit: int = described(2, "checkpoints kept in output_dir")
    seed: int = described(42, "seed of initialization, data order, dropout and sampling")
    dataloader_num_workers: int = described(2, "processes that decode audio and build batches while the GPU trains")
    progress: bool = described(True, "show progress bars")


@dataclass
class RaftConfig(TrainConfig):
    """Rejection-sampling fine-tuning: generate -> reward -> select -> train (paper §3.3)."""

    output_dir: str = described("artifacts/runs/raft", "run folder: samples, rewards, selection, checkpoints, adapter/")
    learning_rate: float = described(5e-5, "peak learning rate")
    num_train_epochs: float = described(1.0, "epochs over the selected samples")
    adapter: str = described("artifacts/runs/sft/adapter", "SFT adapter to sample from and to continue training")
    samples_per_utterance: int = described(4, "sampled transcripts per training utterance")
    temperature: float = described(0.7, "sampling temperature")
    top_p: float = described(0.9, "nucleus sampling threshold")
    max_new_tokens: int = described(256, "longest sampled transcript (tokens)")
    generation_batch_size: int = described(8, "utterances per generate() call")
    reward_wer: float = described(0.4, "reward weight of 1 - WER (WER clipped to [0, 1])")
    reward_tag_f1: float = described(0.4, "reward weight of tag F1")
    reward_hallucination: float = described(0.2, "reward weight of 1 - tag hallucination rate")
    drop_fraction: float = described(0.1, "fraction of utterances dropped, lowest best-reward first")
    stop_after: str = described("train", "last step to run: generate, select or train")


@dataclass
class PredictConfig:
    output: str = described("artifacts/preds/preds.jsonl", "submission JSONL to write ({id, prediction} per line)")
    split: str = described("test", "dataset split to transcribe")
    adapter: str | None = described(None, "LoRA adapter folder on top of model.base; null: the base model alone")
    batch_size: int = described(8, "utterances per generate() call")
    max_new_tokens: int = described(256, "longest transcript (tokens)")
    progress: bool = described(True, "show a progress bar")


@dataclass
class Config:
    model: ModelConfig = field(default_factory=ModelConfig)
    lora: LoraSettings = field(default_factory=LoraSettings)
    data: DataConfig = field(default_factory=DataConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    sft: TrainConfig = field(default_factory=TrainConfig)
    raft: RaftConfig = field(default_factory=RaftConfig)
    predict: PredictConfig = field(default_factory=PredictConfig)

    def check(self) -> None:
        """Reject values no stage can run with."""
        if self.raft.stop_after not in ("generate", "select", "train"):
            raise InputError(f"raft.stop_after: expected generate, select or train, got {self.raft.stop_after!r}")
        if not 0 <= self.raft.drop_fraction < 1:
            raise InputError(f"raft.drop_fraction: expected a fraction in [0, 1), got {self.raft.drop_fraction}")
        if self.raft.samples_per_utterance < 1:
            raise InputError(f"raft.samples_per_utterance: expected at least 1, got {self.raft.samples_per_utterance}")
        if self.model.dtype not in ("auto", "bfloat16", "float16", "float32"):
            raise InputError(f"model.dtype: expected auto, bfloat16, float16 or float32, got {self.model.dtype!r}")
        for section in ("eval", "predict"):
            for name in ("batch_size", "max_new_tokens"):
                if getattr(getattr(self, section), name) < 1:
                    raise InputError(f"{section}.{name}: expected at least 1, got {getattr(getattr(self, section), name)}")


SECTIONS: dict[str, type] = {f.name: f.default_factory for f in dataclasses.fields(Config)}  # type: ignore[misc]


def section_fields(section: str) -> list[dataclasses.Field]:
    return list(dataclasses.fields(SECTIONS[section]))


def coerce(value: Any, hint: Any, key: str) -> Any:
    """``value`` (from YAML or a command line string) as the type ``hint``; InputError if it is not one."""
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if value is None or (isinstance(value, str) and value.strip().lower() in ("null", "none", "~")):
            return None
        return coerce(value, args[0], key)
    if typing.get_origin(hint) is list:
        if isinstance(value, str):  # "a,b" or a YAML list "[a, b]"
            value = yaml.safe_load(value) if value.strip().startswith("[") else [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, list):
            raise InputError(f"{key}: expected a list, got {value!r}")
        return [coerce(v, typing.get_args(hint)[0], key) for v in value]
    if hint is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "yes", "1", "false", "no", "0"):
            return value.strip().lower() in ("true", "yes", "1")
        raise InputError(f"{key}: expected true or false, got {value!r}")
    if hint in (int, float):
        if isinstance(value, bool):
            raise InputError(f"{key}: expected a number, got {value!r}")
        try:
            return float(value) if hint is float else int(str(value).strip())
        except (TypeError, ValueError):
            raise InputError(f"{key}: expected {'a number' if hint is float else 'an integer'}, got {value!r}") from None
    if hint is str:
        if isinstance(value, (dict, list)) or value is None:
            raise InputError(f"{key}: expected a string, got {value!r}")
        return str(value)
    raise TypeError(f"unsupported config type {hint!r} for {key}")


def field_types(section: str) -> dict[str, Any]:
    return typing.get_type_hints(SECTIONS[section])


def type_label(hint: Any) -> str:
    """How a value of type ``hint`` is written on the command line (for --help)."""
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        return type_label(next(a for a in typing.get_args(hint) if a is not type(None))) + "|null"
    if typing.get_origin(hint) is list:
        return "A,B,..."
    return {bool: "true|false", int: "INT", float: "NUMBER", str: "TEXT"}[hint]


def assign(config: Any, key: str, value: Any, *, what: str = "config") -> None:
    """Set ``section.field`` of a dataclass made of dataclass sections, converted to the field's type."""
    sections = {f.name: f.default_factory for f in dataclasses.fields(config)}  # type: ignore[misc]
    section, _, name = key.partition(".")
    if section not in sections or not name:
        raise InputError(f"unknown {what} key {key!r}: expected SECTION.FIELD with SECTION one of {', '.join(sections)}")
    hints = typing.get_type_hints(sections[section])
    if name not in hints:
        raise InputError(f"unknown {what} key {key!r}; {section} has: {', '.join(hints)}")
    setattr(getattr(config, section), name, coerce(value, hints[name], key))


def apply(config: Any, path: str | Path | None, overrides: list[tuple[str, Any]], *, what: str = "config") -> Any:
    """``config`` updated from the YAML file ``path`` (sections of fields), then from ``overrides``."""
    sections = [f.name for f in dataclasses.fields(config)]
    if path is not None:
        path = Path(path)
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except OSError as err:
            raise InputError(f"{path}: cannot read the {what}: {err.strerror or err}") from err
        except yaml.YAMLError as err:
            raise InputError(f"{path}: not valid YAML: {err}") from err
        if not isinstance(data, dict):
            raise InputError(f"{path}: expected sections ({', '.join(sections)}), got {type(data).__name__}")
        for section, values in data.items():
            if section not in sections or not isinstance(values, dict):
                raise InputError(f"{path}: {section!r} is not a section with fields; sections: {', '.join(sections)}")
            for name, value in values.items():
                assign(config, f"{section}.{name}", value, what=what)
    for key, value in overrides:
        assign(config, key, value, what=what)
    return config


def set_value(config: Config, key: str, value: Any) -> None:
    """Set ``section.field`` to ``value`` converted to the field's type."""
    assign(config, key, value)


def parse_assignment(text: str) -> tuple[str, str]:
    """``KEY=VALUE`` of ``--set``."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise InputError(f"--set expects KEY=VALUE (e.g. sft.learning_rate=1e-4), got {text!r}")
    return key.strip(), value


def load(path: str | Path | None = None, overrides: list[tuple[str, Any]] = ()) -> Config:
    """The paper's defaults, then the YAML file ``path`` (sections of fields), then ``overrides``."""
    config = apply(Config(), path, list(overrides))
    config.check()
    return config


def to_dict(config: Config) -> dict[str, dict[str, Any]]:
    return dataclasses.asdict(config)


def dump(config: Config) -> str:
    """The resolved configuration as YAML (loadable with :func:`load`)."""
    return yaml.safe_dump(to_dict(config), sort_keys=False, allow_unicode=True)


def claim(config: Config, path: str | Path, sections: tuple[str, ...]) -> Path:
    """Save the resolved configuration at ``path`` (the ``config.yaml`` of a run folder, or
    ``NAME.config.yaml`` beside an output file), refusing to mix two configurations.

    An existing file there means the run is being resumed: that is allowed only when the
    ``sections`` this stage depends on are unchanged (:data:`OPERATIONAL` fields aside);
    otherwise an InputError names the keys that differ.
    """
    path = Path(path)
    if path.is_file():
        saved = to_dict(load(path))
        current = to_dict(config)
        changed = [
            f"{s}.{k}" for s in sections for k in current[s] if k not in OPERATIONAL and saved[s].get(k) != current[s][k]
        ]
        if changed:
            raise InputError(
                f"{path.parent} holds a run with a different configuration ({', '.join(changed)}); "
                "choose another output or delete the old one"
            )
    write_text(path, dump(config))
    return path
