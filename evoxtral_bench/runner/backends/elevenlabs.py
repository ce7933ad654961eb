"""``elevenlabs:MODEL`` (``elevenlabs:scribe_v1``): ElevenLabs speech-to-text through the
``elevenlabs`` SDK, with ``tag_audio_events=True``.

Scribe writes the audio events it hears in parentheses inside its text (``(laughter) I
know``). The transcript goes through the ``parenthesized`` adapter of the tag table
(``evoxtral-bench tags``; docs/spec.md §1.9) into canonical tags: ``(laughter)`` and
``(laughing)`` -> ``[laughs]``, ``(sighing)`` -> ``[sighs]``, a canonical label or alias in
parentheses (``(sighs)``, ``(gasps)``) -> that tag; a label with only a lossy mapping keeps its
own name as an out-of-vocabulary tag (``(coughs)`` -> ``[coughs]``) unless ``-o lenient=true``
maps it (``[clears throat]``; ``(breathing)`` -> ``[sighs]``, …). Any other parenthesized text
stays text (``(applause)``). The raw answer is kept under ``raw`` of each prediction.

The key comes from ``ELEVENLABS_API_KEY``; ``-o base_url=`` (or ``ELEVENLABS_BASE_URL``) points
the SDK at another server. Requests are retried on 429, 5xx and connection errors as the
ElevenLabs renderer does (:func:`evoxtral_bench.corpus.synth.elevenlabs.call_with_retries`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from evoxtral_bench.corpus.synth.audio import wav_bytes
from evoxtral_bench.errors import InputError, require
from evoxtral_bench.runner.audio import SAMPLE_RATE, Clip
from evoxtral_bench.runner.backends import Option, Output
from evoxtral_bench.scoring import adapters

ADAPTER = "parenthesized"
OPTIONS = {
    "language_code": Option(str, "en", "the language_code field ('' for detection)"),
    "lenient": Option(bool, False, f"also apply the lossy mappings of the {ADAPTER} adapter"),
    "concurrency": Option(int, 4, "requests in flight at once", operational=True),
    "timeout_s": Option(float, 240.0, "longest wait for one answer, seconds", operational=True),
    "base_url": Option(str, "", "API base URL (default: ELEVENLABS_BASE_URL, else the SDK's)"),
}


class ScribeBackend:
    deterministic = False

    def __init__(self, target: str, options: dict) -> None:
        require("elevenlabs", "the elevenlabs backend", extra="run")
        from elevenlabs.client import ElevenLabs

        from evoxtral_bench.corpus.synth.elevenlabs import API_KEY_ENV, BASE_URL_ENV

        key = os.environ.get(API_KEY_ENV, "").strip()
        if not key:
            raise InputError(f"elevenlabs:{target}: needs an API key; export {API_KEY_ENV}=YOUR_KEY")
        if options["concurrency"] < 1:
            raise InputError(f"-o concurrency: expected at least 1 (elevenlabs), got {options['concurrency']}")
        self.model_id, self.options = target, options
        self.base_url = options["base_url"] or os.environ.get(BASE_URL_ENV) or None
        self.client = ElevenLabs(api_key=key, base_url=self.base_url, timeout=options["timeout_s"])
        self.adapt = adapters.get(ADAPTER, lenient=options["lenient"])
        self.batch_size = options["concurrency"]
        self.pool = ThreadPoolExecutor(max_workers=options["concurrency"])

    def _one(self, clip: Clip) -> str:
        from evoxtral_bench.corpus.synth.elevenlabs import call_with_retries

        pcm = (clip.audio() * 32768.0).round().clip(-32768, 32767).astype("<i2")
        request = {"model_id": self.model_id, "tag_audio_events": True, "request_options": {"max_retries": 0}}
        if self.options["language_code"]:
            request["language_code"] = self.options["language_code"]

        def rejected(status: int, body: object) -> InputError:
            if status in (401, 403):
                return InputError(f"ElevenLabs refused the API key (HTTP {status}: {body}); check ELEVENLABS_API_KEY")
            return InputError(f"ElevenLabs speech-to-text rejected clip {clip.id!r} (HTTP {status}: {body})")

        answer = call_with_retries(
            lambda: self.client.speech_to_text.convert(file=(f"{clip.id}.wav", wav_bytes(pcm, SAMPLE_RATE), "audio/wav"), **request),
            clip.id,
            rejected,
        )
        text = getattr(answer, "text", None)
        if not isinstance(text, str):
            raise InputError(f"ElevenLabs speech-to-text: the answer for {clip.id!r} has no text ({type(answer).__name__})")
        return text

    def transcribe(self, clips: Sequence[Clip]) -> list[Output]:
        return [Output(self.adapt(text), raw=text) for text in self.pool.map(self._one, clips)]

    def provenance(self) -> dict:
        return {"model": self.model_id, "server": self.base_url or "the SDK's default", "adapter": ADAPTER, "options": self.options}


def load(target: str, options: dict) -> ScribeBackend:
    return ScribeBackend(target, options)
