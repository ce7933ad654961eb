"""Evoxtral-Bench: scoring for expressive tagged transcription."""

__version__ = "0.1.0"
BENCHMARK_NAME = "evoxtral-bench"
BENCHMARK_VERSION = 1
