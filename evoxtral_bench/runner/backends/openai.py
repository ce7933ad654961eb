"""``openai:URL``: an OpenAI-compatible server (``vllm serve``, a hosted API).

``URL`` is the server root, its ``/v1``, or either endpoint's full URL. Two APIs (``-o api=``):

* ``transcriptions`` (default): ``POST /v1/audio/transcriptions``, a multipart form with the
  clip as 16 kHz 16-bit WAV, ``model``, ``language``, ``temperature`` and
  ``response_format=json``; the answer's ``text`` is the transcript (as ``vllm serve`` exposes
  it for Voxtral and Whisper);
* ``chat``: ``POST /v1/chat/completions`` with one user message holding the clip as
  ``input_audio`` (base64 WAV) and the text ``prompt`` (default :data:`PROMPT`); the answer's
  ``choices[0].message.content`` is the transcript (audio-LLMs).

``concurrency`` requests are in flight at once. A 429, a 5xx, a refused connection or a
request slower than ``timeout_s`` is retried up to ``retries`` times, waiting
``backoff_s · 2^attempt`` seconds (or the server's ``Retry-After``, at most 60 s) in between;
then it is an error. An answer that is not the API's JSON is an error at once, as is a 4xx
(401/403: the key). The key is read from the environment variable ``api_key_env`` (sent as
``Authorization: Bearer``; none when it is unset). ``model`` defaults to the first model of
``GET /v1/models``; the model each answer names is recorded in ``run.json``.
"""

from __future__ import annotations

import base64
import os
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from evoxtral_bench.corpus.synth.audio import wav_bytes
from evoxtral_bench.errors import InputError, require
from evoxtral_bench.runner.audio import SAMPLE_RATE, Clip
from evoxtral_bench.runner.backends import Option

PROMPT = (
    "Transcribe this audio verbatim. Write every audible non-speech sound and expressive delivery as an inline tag "
    "in square brackets where it occurs, using tags such as [sighs], [laughs], [whispers], [nervous], [frustrated], "
    "[clears throat], [pause], [excited], [stammers], [gasps], [sad], [angry], [calm], [crying], [shouts], [confused] "
    "and [scared], and write emphasized words in CAPITAL LETTERS. Output only the tagged transcript."
)
"""The default ``chat`` prompt: the paper's task (tagged transcription with the ElevenLabs v3 tags
of its §4, emphasis in capitals) as an instruction; the paper itself prints no prompt."""
RETRY_AFTER_MAX_S = 60.0

OPTIONS = {
    "api": Option(str, "transcriptions", "which endpoint transcribes", ("transcriptions", "chat")),
    "model": Option(str, "", "the served model's name (default: the first of GET /v1/models)"),
    "prompt": Option(str, PROMPT, "chat: the instruction sent with the audio"),
    "language": Option(str, "en", "transcriptions: the language field ('' to leave it out)"),
    "temperature": Option(float, 0.0, "sampling temperature"),
    "max_tokens": Option(int, 1024, "chat: longest answer, in tokens"),
    "concurrency": Option(int, 4, "requests in flight at once", operational=True),
    "retries": Option(int, 5, "retries of a request after a 429, a 5xx, a refused connection or a timeout", operational=True),
    "backoff_s": Option(float, 1.0, "first wait before a retry, seconds (doubles each time)", operational=True),
    "timeout_s": Option(float, 120.0, "longest wait for one answer, seconds", operational=True),
    "api_key_env": Option(str, "OPENAI_API_KEY", "environment variable holding the key", operational=True),
}


def base_url(url: str) -> str:
    """The ``…/v1`` root of a server given as its root, its ``/v1`` or an endpoint's URL."""
    root = url.rstrip("/")
    if not root.startswith(("http://", "https://")):
        raise InputError(f"openai:{url}: expected an http(s) URL such as http://localhost:8000/v1")
    for suffix in ("/audio/transcriptions", "/chat/completions"):
        root = root.removesuffix(suffix)
    return root if root.endswith("/v1") else root + "/v1"


class OpenAIBackend:
    deterministic = False  # a server's decoding is not ours to pin down

    def __init__(self, target: str, options: dict) -> None:
        self.requests = require("requests", "the openai backend", extra="run")
        self.options = options
        self.root = base_url(target)
        for name in ("concurrency", "max_tokens"):
            if options[name] < 1:
                raise InputError(f"-o {name}: expected at least 1 (openai), got {options[name]}")
        if options["retries"] < 0 or options["timeout_s"] <= 0 or options["backoff_s"] < 0:
            raise InputError("-o retries and backoff_s must be 0 or more and timeout_s more than 0 (openai)")
        self.batch_size = options["concurrency"]
        key = os.environ.get(options["api_key_env"], "").strip()
        self.headers = {"Authorization": f"Bearer {key}"} if key else {}
        self.served: set[str] = set()
        self.lock = threading.Lock()
        self.model = options["model"] or self._first_model()
        self.pool = ThreadPoolExecutor(max_workers=options["concurrency"])

    def _request(self, method: str, path: str, what: str, **kwargs) -> dict:
        """The JSON answer of one request, retried on 429, 5xx, refused connections and timeouts."""
        url = self.root + path
        attempts = self.options["retries"] + 1
        attempt = 0
        while True:
            last = attempt == attempts - 1
            try:
                response = self.requests.request(method, url, headers=self.headers, timeout=self.options["timeout_s"], **kwargs)
            except self.requests.Timeout:
                problem, wait = f"no answer within timeout_s={self.options['timeout_s']} s", None
            except self.requests.ConnectionError as err:
                problem, wait = f"cannot connect ({type(err).__name__})", None
            else:
                status = response.status_code
                if status == 200:
                    try:
                        return response.json()
                    except ValueError:
                        raise InputError(f"{url}: the answer for {what} is not JSON: {response.text[:200]!r}") from None
                if status in (401, 403):
                    env = self.options["api_key_env"]
                    state = "is not set" if not self.headers else "was refused"
                    raise InputError(f"{url}: HTTP {status}: the server wants a key and ${env} {state}; export {env}=YOUR_KEY")
                if status != 429 and status < 500:
                    raise InputError(f"{url}: HTTP {status} for {what}: {response.text[:300]}")
                problem = f"HTTP {status}: {response.text[:200]}"
                wait = _retry_after(response)
            if last:
                raise InputError(f"{url}: {problem} for {what}, after {attempts} attempts; is the server up? (-o retries, -o timeout_s)")
            time.sleep(wait if wait is not None else self.options["backoff_s"] * 2**attempt)
            attempt += 1

    def _first_model(self) -> str:
        answer = self._request("GET", "/models", "the model list")
        try:
            return str(answer["data"][0]["id"])
        except (KeyError, IndexError, TypeError):
            raise InputError(f"{self.root}/models: no model listed ({str(answer)[:200]}); pass -o model=NAME") from None

    def _text(self, answer: object, clip: Clip) -> str:
        try:
            if self.options["api"] == "chat":
                text = answer["choices"][0]["message"]["content"]
            else:
                text = answer["text"]
        except (KeyError, IndexError, TypeError):
            field = "choices[0].message.content" if self.options["api"] == "chat" else "text"
            raise InputError(f"{self.root}: the answer for {clip.id} has no {field}: {str(answer)[:200]}") from None
        if not isinstance(text, str):
            raise InputError(f"{self.root}: the answer for {clip.id}: the transcript is {type(text).__name__}, not a string")
        if isinstance(answer, dict) and isinstance(answer.get("model"), str):
            with self.lock:
                self.served.add(answer["model"])
        return text

    def _one(self, clip: Clip) -> str:
        pcm = (clip.audio() * 32768.0).round().clip(-32768, 32767).astype("<i2")
        wav = wav_bytes(pcm, SAMPLE_RATE)
        o = self.options
        if o["api"] == "chat":
            content = [
                {"type": "input_audio", "input_audio": {"data": base64.b64encode(wav).decode("ascii"), "format": "wav"}},
                {"type": "text", "text": o["prompt"]},
            ]
            body = {"model": self.model, "messages": [{"role": "user", "content": content}], "temperature": o["temperature"], "max_tokens": o["max_tokens"]}
            answer = self._request("POST", "/chat/completions", clip.id, json=body)
        else:
            form = {"model": self.model, "temperature": str(o["temperature"]), "response_format": "json"}
            if o["language"]:
                form["language"] = o["language"]
            answer = self._request("POST", "/audio/transcriptions", clip.id, data=form, files={"file": (f"{clip.id}.wav", wav, "audio/wav")})
        return self._text(answer, clip)

    def transcribe(self, clips: Sequence[Clip]) -> list[str]:
        return list(self.pool.map(self._one, clips))

    def provenance(self) -> dict:
        options = dict(self.options)
        return {"model": self.model, "server": self.root, "served_models": sorted(self.served), "options": options}


def _retry_after(response) -> float | None:
    try:
        return min(float(response.headers.get("Retry-After", "")), RETRY_AFTER_MAX_S)
    except ValueError:
        return None


def load(target: str, options: dict) -> OpenAIBackend:
    return OpenAIBackend(target, options)
