"""``transformers:PATH``: a speech-to-text model that transformers loads with
``AutoModelForSpeechSeq2Seq`` and ``AutoProcessor`` (a local folder or a hub id), e.g. Whisper
tiny.en converted by ``python -m training convert``, optionally with a LoRA adapter (peft).

Clips are decoded ``batch_size`` at a time, greedy by default, on CUDA when present (else the
CPU), in ``dtype`` (auto: float16 on CUDA, float32 on the CPU). Whisper's generation config
suppresses the bracket tokens among its non-speech symbols, which would make every ``[tag]``
impossible; with ``allow_brackets`` (the default) those tokens alone are taken off the list
(:func:`generation_config`), as the reference recipe trains them.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from pathlib import Path

from evoxtral_bench.errors import InputError, require
from evoxtral_bench.runner.audio import SAMPLE_RATE, Clip
from evoxtral_bench.runner.backends import Option
from evoxtral_bench.runner.provenance import folder_sha256

OPTIONS = {
    "adapter": Option(str, "", "a LoRA adapter folder (peft) applied to the model"),
    "device": Option(str, "auto", "where the model runs (auto: CUDA when present)", ("auto", "cpu", "cuda")),
    "dtype": Option(str, "auto", "weights and activations (auto: float16 on CUDA, float32 on the CPU)", ("auto", "float32", "float16", "bfloat16")),
    "batch_size": Option(int, 8, "clips decoded together"),
    "num_beams": Option(int, 1, "beam width (1: greedy)"),
    "max_new_tokens": Option(int, 440, "longest transcript, in tokens"),
    "allow_brackets": Option(bool, True, "let a Whisper model write [ and ] (its generation config suppresses them)"),
}


def generation_config(model, tokenizer):
    """The model's generation config, except that no token holding ``[`` or ``]`` is suppressed.

    Whisper suppresses a list of non-speech symbols, the brackets among them; the rest of the
    list and ``begin_suppress_tokens`` stay.
    """
    config = copy.deepcopy(model.generation_config)
    if getattr(config, "suppress_tokens", None):
        config.suppress_tokens = [i for i in config.suppress_tokens if not any(c in tokenizer.decode([i]) for c in "[]")]
    return config


class TransformersBackend:
    deterministic = True

    def __init__(self, target: str, options: dict) -> None:
        torch = require("torch", "the transformers backend", extra="run")
        transformers = require("transformers", "the transformers backend", extra="run")
        self.target, self.options = target, options
        if options["batch_size"] < 1 or options["num_beams"] < 1 or options["max_new_tokens"] < 1:
            raise InputError("-o batch_size, num_beams and max_new_tokens must each be at least 1 (transformers)")
        self.batch_size = options["batch_size"]
        device = options["device"]
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        dtype = options["dtype"]
        if dtype == "auto":
            dtype = "float16" if device == "cuda" else "float32"
        self.device, self.dtype = device, getattr(torch, dtype)
        try:
            self.processor = transformers.AutoProcessor.from_pretrained(target)
            model = transformers.AutoModelForSpeechSeq2Seq.from_pretrained(target, dtype=self.dtype)
        except (OSError, ValueError, KeyError) as err:
            raise InputError(f"transformers:{target}: not a speech-to-text model transformers can load ({err})") from None
        if options["adapter"]:
            peft = require("peft", "-o adapter (a LoRA adapter)", extra="run")
            try:
                model = peft.PeftModel.from_pretrained(model, options["adapter"], is_trainable=False)
            except (OSError, ValueError, KeyError) as err:
                raise InputError(f"-o adapter={options['adapter']}: not a peft adapter of this model ({err})") from None
        self.model = model.to(device).eval()
        base = model.get_base_model() if hasattr(model, "get_base_model") else model
        tokenizer = self.processor.tokenizer
        self.config = generation_config(base, tokenizer) if options["allow_brackets"] else copy.deepcopy(base.generation_config)
        self.config.update(num_beams=options["num_beams"], do_sample=False, max_new_tokens=options["max_new_tokens"])
        self.torch = torch

    def transcribe(self, clips: Sequence[Clip]) -> list[str]:
        features = self.processor.feature_extractor([c.audio() for c in clips], sampling_rate=SAMPLE_RATE, return_tensors="pt")
        inputs = {"input_features": features.input_features.to(self.device, dtype=self.dtype)}
        with self.torch.inference_mode():
            output = self.model.generate(**inputs, generation_config=self.config)
        sequences = output.sequences if hasattr(output, "sequences") else output
        texts = self.processor.tokenizer.batch_decode(sequences, skip_special_tokens=True)
        return [" ".join(t.split()) for t in texts]

    def provenance(self) -> dict:
        local = Path(self.target).expanduser()
        record = {
            "model": str(local) if local.exists() else self.target,
            "model_sha256": folder_sha256(local) if local.exists() else None,
            "revision": getattr(self.model.config, "_commit_hash", None),
            "device": self.device,
            "options": self.options,
            "generation": {k: v for k, v in self.config.to_diff_dict().items() if k != "transformers_version"},
        }
        if self.options["adapter"]:
            record["adapter_sha256"] = folder_sha256(self.options["adapter"])
        return record


def load(target: str, options: dict) -> TransformersBackend:
    return TransformersBackend(target, options)
