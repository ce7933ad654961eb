"""ElevenLabs backend: the tagged transcript goes to ``eleven_v3`` as is; 16 kHz PCM comes back.

Uses the official SDK's ``text_to_speech.convert_with_timestamps`` (``POST
/v1/text-to-speech/{voice_id}/with-timestamps``), whose character alignment gives the word and
tag spans. The SDK's own retries are switched off; this module retries HTTP 429, 5xx and
connection errors with exponential backoff and a jitter derived from the clip id (deterministic).
"""

from __future__ import annotations

import base64
import os
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, TypeVar

import numpy as np

from evoxtral_bench.corpus.synth.audio import SAMPLE_RATE
from evoxtral_bench.corpus.synth.clip import Clip, Job, Span
from evoxtral_bench.corpus.synth.pool import completed
from evoxtral_bench.corpus.synth.script import Script, read_script
from evoxtral_bench.corpus.synth.voices import pick_voice, stable_int
from evoxtral_bench.errors import InputError
from evoxtral_bench.tracks import ELEVENLABS_VOICES

if TYPE_CHECKING:
    from elevenlabs.types import AudioWithTimestampsResponse, CharacterAlignmentResponseModel

API_KEY_ENV = "ELEVENLABS_API_KEY"
BASE_URL_ENV = "ELEVENLABS_BASE_URL"
MODEL_ID = "eleven_v3"
OUTPUT_FORMAT = "pcm_16000"
DEFAULT_VOICES = ELEVENLABS_VOICES
T = TypeVar("T")

MAX_ATTEMPTS = 6
"""Requests per clip before giving up (HTTP 429, 5xx or a connection error each use one)."""
BACKOFF_S = 1.0
"""First retry delay, seconds; doubled per retry, times 1-1.25 (jitter), or the server's Retry-After."""
_MAX_DELAY_S = 60.0
_TIMEOUT_S = 240.0


class ElevenLabsError(RuntimeError):
    """The service kept failing (429/5xx/connection) for a clip after :data:`MAX_ATTEMPTS` attempts."""


class ElevenLabsBackend:
    """Renders clips through the ElevenLabs API, ``concurrency`` requests at a time."""

    name = "elevenlabs"

    def __init__(self, voices: Sequence[str] | None = None, base_url: str | None = None) -> None:
        api_key = os.environ.get(API_KEY_ENV, "").strip()
        if not api_key:
            raise InputError(f"the elevenlabs backend needs an API key: set the environment variable {API_KEY_ENV}")
        try:
            from elevenlabs.client import ElevenLabs
        except ImportError as exc:
            raise InputError("the elevenlabs backend needs the SDK: pip install 'evoxtral-bench[data]'") from exc
        self.pool = tuple(voices or DEFAULT_VOICES)
        url = base_url or os.environ.get(BASE_URL_ENV) or None
        self.client = ElevenLabs(api_key=api_key, base_url=url, timeout=_TIMEOUT_S)

    def check(self, script: Script) -> None:
        """Every transcript is acceptable: v3 reads the tags itself."""

    def voice_for(self, clip_id: str, seed: int, pool: Sequence[str] | None = None) -> str:
        return pick_voice(pool or self.pool, clip_id, seed)

    def render(self, jobs: Sequence[Job], seed: int, concurrency: int) -> Iterator[tuple[Job, Clip]]:
        """Yield each job with its clip as requests complete (at most ``concurrency`` in flight)."""
        yield from completed(ThreadPoolExecutor(max_workers=concurrency), self._render, jobs, seed)

    def _render(self, job: Job, seed: int) -> Clip:
        response = self._request(job, seed)
        pcm = np.frombuffer(base64.b64decode(response.audio_base_64), dtype="<i2")
        words, tags = _spans(read_script(job.text), response.alignment)
        return Clip(pcm=pcm, sample_rate=SAMPLE_RATE, voice=job.voice, tags=tags, words=words)

    def _request(self, job: Job, seed: int) -> AudioWithTimestampsResponse:
        return call_with_retries(
            lambda: self.client.text_to_speech.convert_with_timestamps(
                job.voice,
                text=job.text,
                model_id=MODEL_ID,
                output_format=OUTPUT_FORMAT,
                seed=seed % 2**32,
                request_options={"max_retries": 0},
            ),
            job.id,
            lambda status, body: _rejected(job, status, body),
        )


def call_with_retries(call: Callable[[], T], clip_id: str, rejected: Callable[[int, object], InputError]) -> T:
    """``call()`` (an SDK request), retried on HTTP 429, 5xx and connection errors with backoff;
    another HTTP error is ``rejected(status, body)``; :class:`ElevenLabsError` after
    :data:`MAX_ATTEMPTS` attempts. Shared by the TTS renderer and the Scribe backend of ``run``."""
    import httpx
    from elevenlabs.core.api_error import ApiError

    problem = ""
    for attempt in range(MAX_ATTEMPTS):
        retry_after = 0.0
        try:
            return call()
        except ApiError as exc:
            status = exc.status_code or 0
            if status != 429 and status < 500:
                raise rejected(status, exc.body) from exc
            problem = f"HTTP {status}: {exc.body}"
            retry_after = _retry_after(exc.headers or {})
        except httpx.TransportError as exc:
            problem = f"{type(exc).__name__}: {exc}"
        if attempt + 1 < MAX_ATTEMPTS:
            time.sleep(max(retry_after, _backoff(clip_id, attempt)))
    raise ElevenLabsError(
        f"ElevenLabs failed for clip {clip_id!r} after {MAX_ATTEMPTS} attempts (last: {problem}); "
        "rerun the same command later to resume"
    )


def _backoff(clip_id: str, attempt: int) -> float:
    """Delay before retry ``attempt + 1``, seconds: exponential, with a jitter fixed by the clip id."""
    jitter = (stable_int("jitter", clip_id, attempt) % 1000) / 4000
    return min(_MAX_DELAY_S, BACKOFF_S * 2**attempt * (1 + jitter))


def _retry_after(headers: dict[str, str]) -> float:
    value = {k.lower(): v for k, v in headers.items()}.get("retry-after", "")
    try:
        return min(_MAX_DELAY_S, max(0.0, float(value)))
    except ValueError:
        return 0.0


def _rejected(job: Job, status: int, body: object) -> InputError:
    if status in (401, 403):
        return InputError(f"ElevenLabs refused the API key (HTTP {status}: {body}); check {API_KEY_ENV}")
    return InputError(f"ElevenLabs rejected clip {job.id!r} (HTTP {status}: {body})")


def _spans(
    script: Script, alignment: CharacterAlignmentResponseModel | None
) -> tuple[tuple[Span, ...] | None, tuple[Span, ...]]:
    """Word and tag spans from the character alignment; None where the alignment does not fit the text."""
    chars = list(alignment.characters) if alignment else []
    if "".join(chars) != script.text or len(chars) != len(script.text):
        return None, tuple(Span(c.label, None, None) for c in script.cues)
    start, end = alignment.character_start_times_seconds, alignment.character_end_times_seconds
    words = tuple(Span(w.text, start[w.start], end[w.end - 1]) for w in script.words)
    tags = tuple(
        Span(c.label, start[c.start], end[script.words[c.words[-1]].end - 1] if c.words else end[c.end - 1])
        for c in script.cues
    )
    return words, tags
