"""Transcription through an OpenAI-compatible server (``POST /v1/audio/transcriptions``),
e.g. ``vllm serve mistralai/Voxtral-Mini-3B-2507`` with or without a LoRA adapter.

Each clip is sent as a 16 kHz 16-bit WAV in a multipart form with ``model``, ``language`` (if
set), ``temperature=0`` (greedy) and ``response_format=json``; the answer's ``text`` is the
transcript. A batch is sent as concurrent requests.
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import requests
import soundfile as sf

from evoxtral_bench import InputError

from .data import SAMPLING_RATE, Utterance

TRANSCRIPTIONS_PATH = "/v1/audio/transcriptions"


def transcriptions_url(endpoint: str) -> str:
    """The full URL from a server root (``http://host:8000``), its ``/v1``, or the full path."""
    url = endpoint.rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise InputError(f"--endpoint: expected an http(s) URL, got {endpoint!r}")
    if url.endswith("/audio/transcriptions"):
        return url
    if url.endswith("/v1"):
        return url + "/audio/transcriptions"
    return url + TRANSCRIPTIONS_PATH


def wav_bytes(utterance: Utterance) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, utterance.audio, SAMPLING_RATE, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


class EndpointTranscriber:
    """``__call__(utterances)`` -> ``[[transcript], ...]``, one request per utterance."""

    def __init__(self, endpoint: str, *, model: str, language: str | None, timeout_s: float, api_key_env: str) -> None:
        self.url = transcriptions_url(endpoint)
        self.model = model
        self.language = language
        self.timeout_s = timeout_s
        key = os.environ.get(api_key_env)
        self.headers = {"Authorization": f"Bearer {key}"} if key else {}

    def transcribe(self, utterance: Utterance) -> str:
        form = {"model": self.model, "temperature": "0", "response_format": "json"}
        if self.language:
            form["language"] = self.language
        files = {"file": (f"{utterance.id}.wav", wav_bytes(utterance), "audio/wav")}
        try:
            response = requests.post(self.url, data=form, files=files, headers=self.headers, timeout=self.timeout_s)
        except requests.RequestException as err:
            raise InputError(f"{self.url}: request for {utterance.id} failed: {err}") from err
        if response.status_code != 200:
            raise InputError(f"{self.url}: HTTP {response.status_code} for {utterance.id}: {response.text[:300]}")
        try:
            text = response.json()["text"]
        except (ValueError, KeyError, TypeError) as err:
            raise InputError(f"{self.url}: answer for {utterance.id} has no JSON 'text': {response.text[:300]}") from err
        if not isinstance(text, str):
            raise InputError(f"{self.url}: answer for {utterance.id}: 'text' is not a string")
        return text.strip()

    def __call__(self, utterances: Sequence[Utterance]) -> list[list[str]]:
        with ThreadPoolExecutor(max_workers=len(utterances)) as pool:
            return [[text] for text in pool.map(self.transcribe, utterances)]
