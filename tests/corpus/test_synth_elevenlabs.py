"""ElevenLabs backend against a local HTTP server that speaks the text-to-speech with-timestamps API."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from tests.helpers import need  # noqa: E402

need("soundfile", "elevenlabs")

import numpy as np
import pytest
import soundfile as sf

from evoxtral_bench.corpus.synth import ElevenLabsError, synthesize
from evoxtral_bench.corpus.synth import elevenlabs as backend
from evoxtral_bench.errors import InputError

CHAR_S = 0.02  # the fake voice speaks one character every 20 ms
ROWS = [
    {"id": "e1", "tagged_text": "[sighs] I waited all MORNING for the bus."},
    {"id": "e2", "tagged_text": "[whispers] Do not tell anyone. [laughs] Really."},
    {"id": "e3", "tagged_text": "We need to talk [pause] about the money."},
]
_PATH = re.compile(r"^/v1/text-to-speech/([^/]+)/with-timestamps$")


class FakeElevenLabs(ThreadingHTTPServer):
    """Answers POST /v1/text-to-speech/{voice}/with-timestamps with 16 kHz PCM and a character alignment.

    ``failures`` holds HTTP statuses to answer, one per request, before answering normally;
    ``requests`` records every request; ``delay_s`` slows every answer down.
    """

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.failures: deque[int] = deque()
        self.requests: list[dict] = []
        self.delay_s = 0.0
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def handle_error(self, request, client_address) -> None:
        """A client killed mid-request (the resume test) is expected; report anything else."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)

    def served(self) -> list[dict]:
        """The requests answered with audio."""
        return [r for r in self.requests if r["status"] == 200]


class _Handler(BaseHTTPRequestHandler):
    server: FakeElevenLabs

    def do_POST(self) -> None:  # noqa: N802 (http.server API)
        url = urlparse(self.path)
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        match = _PATH.match(url.path)
        with self.server.lock:
            status = self.server.failures.popleft() if self.server.failures else (200 if match else 404)
            self.server.requests.append(
                {
                    "voice": match.group(1) if match else None,
                    "model_id": body.get("model_id"),
                    "text": body.get("text"),
                    "seed": body.get("seed"),
                    "output_format": parse_qs(url.query).get("output_format", [None])[0],
                    "api_key": self.headers.get("xi-api-key"),
                    "status": status,
                }
            )
        time.sleep(self.server.delay_s)
        answer = _speech(match.group(1), body["text"]) if status == 200 else {"detail": {"status": f"error {status}"}}
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args) -> None:
        pass


def _speech(voice: str, text: str) -> dict:
    """A tone whose pitch depends on the voice, CHAR_S seconds per character, with its alignment."""
    n = int(len(text) * CHAR_S * 16000)
    pitch = 100 + int(hashlib.sha256(voice.encode()).hexdigest(), 16) % 200
    pcm = (0.3 * np.sin(2 * np.pi * pitch * np.arange(n) / 16000) * 32767).astype("<i2")
    alignment = {
        "characters": list(text),
        "character_start_times_seconds": [round(i * CHAR_S, 3) for i in range(len(text))],
        "character_end_times_seconds": [round((i + 1) * CHAR_S, 3) for i in range(len(text))],
    }
    return {"audio_base64": base64.b64encode(pcm.tobytes()).decode(), "alignment": alignment}


@pytest.fixture
def server():
    fake = FakeElevenLabs()
    thread = threading.Thread(target=fake.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield fake
    fake.shutdown()
    fake.server_close()


@pytest.fixture(autouse=True)
def api_key(monkeypatch):
    monkeypatch.setenv("ELEVENLABS_API_KEY", "test-key")
    monkeypatch.delenv("ELEVENLABS_BASE_URL", raising=False)
    monkeypatch.setattr(backend, "BACKOFF_S", 0.001)


def _run(server: FakeElevenLabs, out: Path, rows=ROWS, **kwargs) -> dict[str, dict]:
    manifest = synthesize(rows=rows, out_dir=out, backend="elevenlabs", base_url=server.url, progress=False, **kwargs)
    return {e["id"]: e for e in map(json.loads, manifest.read_text("utf-8").splitlines())}


def test_happy_path_sends_the_tagged_text_to_eleven_v3_and_writes_wavs_and_spans(server, tmp_path):
    manifest = _run(server, tmp_path, seed=7)
    assert list(manifest) == ["e1", "e2", "e3"]
    requests = {r["text"]: r for r in server.served()}
    assert set(requests) == {row["tagged_text"] for row in ROWS}  # tags sent as they are
    for row in ROWS:
        request, entry = requests[row["tagged_text"]], manifest[row["id"]]
        assert (request["model_id"], request["output_format"], request["api_key"]) == ("eleven_v3", "pcm_16000", "test-key")
        assert request["seed"] == 7 and entry["seed"] == 7
        assert entry["voice"] == request["voice"] and entry["backend"] == "elevenlabs"
        samples, rate = sf.read(tmp_path / entry["file"])
        assert rate == 16000 and samples.ndim == 1
        assert entry["duration"] == pytest.approx(len(row["tagged_text"]) * CHAR_S, abs=1e-3)
        assert entry["sha256"] == hashlib.sha256((tmp_path / entry["file"]).read_bytes()).hexdigest()
    first = manifest["e1"]
    text = ROWS[0]["tagged_text"]
    morning = next(w for w in first["words"] if w["word"] == "MORNING")
    assert morning == {"word": "MORNING", "start": text.index("MORNING") * CHAR_S, "end": (text.index("MORNING") + 7) * CHAR_S}
    assert [w["word"] for w in first["words"]] == ["I", "waited", "all", "MORNING", "for", "the", "bus"]
    assert first["tags"] == [{"label": "sighs", "start": 0.0, "end": 7 * CHAR_S}]
    whispers = manifest["e2"]["tags"][0]
    assert whispers["label"] == "whispers" and whispers["end"] == pytest.approx(len("[whispers] Do not tell anyone") * CHAR_S)


def test_voices_are_assigned_per_id_and_seed_deterministically(server, tmp_path):
    rows = [{"id": f"v{i:02d}", "tagged_text": f"Sentence number {i}."} for i in range(12)]
    pool = ["voice-a", "voice-b", "voice-c"]
    first = _run(server, tmp_path / "one", rows=rows, voices=pool)
    second = _run(server, tmp_path / "two", rows=list(reversed(rows)), voices=pool, concurrency=4)
    assert {k: e["voice"] for k, e in first.items()} == {k: e["voice"] for k, e in second.items()}
    assert {e["voice"] for e in first.values()} == set(pool)
    assert {r["voice"] for r in server.served()} == set(pool)
    for key in first:
        assert (tmp_path / "one" / first[key]["file"]).read_bytes() == (tmp_path / "two" / second[key]["file"]).read_bytes()
    other_seed = _run(server, tmp_path / "three", rows=rows, voices=pool, seed=1)
    assert {k: e["voice"] for k, e in other_seed.items()} != {k: e["voice"] for k, e in first.items()}


def test_429_and_5xx_are_retried_then_succeed(server, tmp_path):
    server.failures.extend([429, 500, 503])
    manifest = _run(server, tmp_path, rows=ROWS[:1])
    assert [r["status"] for r in server.requests] == [429, 500, 503, 200]
    assert len({r["text"] for r in server.requests}) == 1
    assert sf.read(tmp_path / manifest["e1"]["file"])[0].size > 0


def test_gives_up_after_max_attempts_with_a_clear_error(server, tmp_path, monkeypatch):
    monkeypatch.setattr(backend, "MAX_ATTEMPTS", 3)
    server.failures.extend([500] * 10)
    with pytest.raises(ElevenLabsError, match=r"clip 'e1' after 3 attempts \(last: HTTP 500"):
        _run(server, tmp_path, rows=ROWS[:1])
    assert len(server.requests) == 3
    assert not (tmp_path / "manifest.jsonl").exists()


def test_backoff_grows_exponentially_with_a_deterministic_jitter():
    delays = [backend._backoff("clip", attempt) for attempt in range(4)]
    assert delays == [backend._backoff("clip", attempt) for attempt in range(4)]
    for attempt, delay in enumerate(delays):
        assert backend.BACKOFF_S * 2**attempt <= delay <= backend.BACKOFF_S * 2**attempt * 1.25


def test_a_rejected_key_is_an_input_error_without_retries(server, tmp_path):
    server.failures.append(401)
    with pytest.raises(InputError, match="ELEVENLABS_API_KEY"):
        _run(server, tmp_path, rows=ROWS[:1])
    assert len(server.requests) == 1


def test_missing_api_key_names_the_variable(monkeypatch, tmp_path):
    monkeypatch.delenv("ELEVENLABS_API_KEY")
    with pytest.raises(InputError, match="ELEVENLABS_API_KEY"):
        synthesize(rows=ROWS, out_dir=tmp_path, backend="elevenlabs", progress=False)


def test_base_url_from_the_environment(server, tmp_path, monkeypatch):
    monkeypatch.setenv("ELEVENLABS_BASE_URL", server.url)
    synthesize(rows=ROWS[:1], out_dir=tmp_path, backend="elevenlabs", progress=False)
    assert len(server.served()) == 1


RESUME_ROWS = [{"id": f"k{i}", "tagged_text": f"[sighs] Clip number {i} is here."} for i in range(8)]


def test_killed_run_resumes_and_requests_only_unfinished_clips(server, tmp_path):
    reference = _run(server, tmp_path / "reference", rows=RESUME_ROWS)
    server.requests.clear()
    out = tmp_path / "resumed"
    code = (
        "import json, sys; from evoxtral_bench.corpus.synth import synthesize; "
        "synthesize(rows=json.loads(sys.argv[1]), out_dir=sys.argv[2], backend='elevenlabs', base_url=sys.argv[3], "
        "concurrency=1, progress=False)"
    )
    server.delay_s = 0.05
    process = subprocess.Popen([sys.executable, "-c", code, json.dumps(RESUME_ROWS), str(out), server.url])
    deadline = time.monotonic() + 60
    while len(list((out / "records").glob("*.json"))) < 3:
        assert process.poll() is None and time.monotonic() < deadline
        time.sleep(0.005)
    process.send_signal(signal.SIGKILL)
    process.wait()
    server.delay_s = 0.0
    finished = {p.stem for p in (out / "records").glob("*.json")}
    assert 3 <= len(finished) < len(RESUME_ROWS) and not (out / "manifest.jsonl").exists()
    server.requests.clear()
    resumed = _run(server, out, rows=RESUME_ROWS)
    texts = {row["tagged_text"]: row["id"] for row in RESUME_ROWS}
    assert sorted(texts[r["text"]] for r in server.requests) == sorted(set(texts.values()) - finished)
    assert (out / "manifest.jsonl").read_bytes() == (tmp_path / "reference" / "manifest.jsonl").read_bytes()
    for key, entry in reference.items():
        assert (out / resumed[key]["file"]).read_bytes() == (tmp_path / "reference" / entry["file"]).read_bytes()
