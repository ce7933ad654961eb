"""Run render jobs on an executor and hand back each clip as soon as it is done."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, as_completed

from evoxtral_bench.corpus.synth.clip import Clip, Job


def completed(
    executor: Executor, render: Callable[[Job, int], Clip], jobs: Sequence[Job], seed: int
) -> Iterator[tuple[Job, Clip]]:
    """Submit every job; yield (job, clip) in completion order. If a job fails or the consumer
    stops early, the jobs not started yet are cancelled and the executor is shut down."""
    with executor:
        futures = {executor.submit(render, job, seed): job for job in jobs}
        try:
            for future in as_completed(futures):
                yield futures[future], future.result()
        finally:
            for future in futures:
                future.cancel()
